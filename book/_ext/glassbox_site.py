"""Sphinx extension for Glass Box: a site that reads offline, moves only when asked, and weighs little.

- Animations (chapter 6's GIFs, written as files by MyST-NB) get a still of their final frame beside them and a
  pause/play button (`_static/glassbox.js`); with `prefers-reduced-motion` the still is shown, even without script.
- Jupyter widgets are dropped from pages: the book shows none on purpose, the only ones were progress bars of
  libraries (tqdm in a kernel ignores `TQDM_DISABLE`), and they pulled require.js and a widget manager from CDNs.
- The thebe configuration (unused: the book has no live-code button) is left out; sphinx-thebe emitted it twice,
  and every page threw "Identifier 'THEBE_JS_URL' has already been declared".
- The theme's icons come from a small stylesheet of the few icons its pages use, drawn from the theme's own
  Font Awesome script, instead of that 1.5 MB script on every page.

`make site-check` (tests/site/) checks the result in a browser.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from docutils import nodes
from PIL import Image
from sphinx.application import Sphinx

# --- animations ----------------------------------------------------------------------------------------------------


def _is_animated(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            return getattr(image, "n_frames", 1) > 1
    except OSError:
        return False


def _still_of(path: Path) -> Path:
    """The final frame of an animated GIF, as a PNG beside it (written once)."""
    still = path.with_name(path.stem + "-final.png")
    if not still.exists() or still.stat().st_mtime < path.stat().st_mtime:
        with Image.open(path) as image:
            image.seek(image.n_frames - 1)
            image.convert("RGB").save(still, optimize=True)
    return still


def wrap_animations(app: Sphinx, doctree: nodes.document) -> None:
    """Each animated GIF becomes: the GIF, a still of its last frame, and a place for the pause/play button."""
    docname = app.env.docname
    for image in list(doctree.findall(nodes.image)):
        uri = image.get("uri", "")
        if not uri.lower().endswith(".gif") or "://" in uri:
            continue
        relative, absolute = app.env.relfn2path(uri, docname)
        path = Path(absolute)
        if not path.exists() or not _is_animated(path):
            continue
        still_path = _still_of(path)
        still_uri = uri[: -len(path.name)] + still_path.name
        moving = image.deepcopy()
        moving["classes"] = [*image.get("classes", []), "glassbox-animation-moving"]
        moving["loading"] = "lazy"
        still = nodes.image(
            uri=still_uri,
            alt=image.get("alt", ""),
            candidates={"*": still_uri},
            classes=["glassbox-animation-still"],
            loading="lazy",
        )
        for key in ("width", "height", "scale", "align"):
            if key in image:
                still[key] = image[key]
        box = nodes.container(classes=["glassbox-animation"])
        box += [moving, still]
        image.replace_self(box)


# --- widgets ---------------------------------------------------------------------------------------------------------


def drop_widgets(app: Sphinx, doctree: nodes.document) -> None:
    """Remove Jupyter widget outputs (progress bars) whole, text fallback included ("0%| | 0/32"), and the widget
    state and CDN scripts MyST-NB adds for them. MyST-NB keeps every form of an output (a `mime_bundle`) until
    it picks one per builder after this event, so the whole bundle goes."""
    for bundle in list(doctree.findall(nodes.container)):
        if bundle.get("nb_element") == "mime_bundle" and any(
            child.get("mime_type") == "application/vnd.jupyter.widget-view+json" for child in bundle.children
        ):
            parent = bundle.parent
            parent.remove(bundle)
            if isinstance(parent, nodes.container) and not parent.children and parent.parent is not None:
                parent.parent.remove(parent)
    metadata = getattr(app.env, "nb_metadata", {}).get(app.env.docname, {})
    for key in [k for k in metadata.get("js_files", {}) if k.startswith("ipywidgets")]:
        del metadata["js_files"][key]


# --- what every page loads -----------------------------------------------------------------------------------------


def trim_page_assets(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Leave out thebe's configuration and script (twice over, and unused) and any widget manager; defer the
    circuitsvis bundle."""

    def keep(asset: Any) -> bool:
        text = f"{getattr(asset, 'filename', asset)} {getattr(asset, 'attributes', {}).get('body', '')}"
        return not any(
            word in text
            for word in ("THEBE_JS_URL", "sphinx-thebe", "require.min.js", "@jupyter-widgets", "widget-state+json")
        )

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if keep(asset)]
    for asset in context.get("script_files", []):
        # circuitsvis's 1.3 MB bundle need not block the page: its widgets draw on DOMContentLoaded, which waits
        # for deferred scripts (book/_ext/glassbox_circuitsvis.py adds the bundle to widget pages).
        if Path(str(getattr(asset, "filename", "") or "")).name.startswith("circuitsvis-"):  # "_static/circuitsvis-…"
            asset.attributes.setdefault("defer", "defer")


NOT_ICONS = {"solid", "regular", "brands", "lg", "xs", "sm", "xl", "2x", "3x", "fw", "spin", "pull-left", "pull-right"}
# An icon in Font Awesome's bundle: name (quoted or bare): [width, height, [aliases], "unicode", "svg path"]
ICON_RE = re.compile(r'(?:"([a-z0-9-]+)"|\b([a-z][a-z0-9]*)):\[(\d+),(\d+),\[[^\]]*\],"[0-9a-f]+","([^"]+)"\]')
FAMILY = {"fa-solid": "fas", "fas": "fas", "fa-regular": "far", "far": "far", "fa-brands": "fab", "fab": "fab"}


def _icons_in(html_files: list[Path]) -> set[tuple[str, str]]:
    icons = set()
    for page in html_files:
        for match in re.finditer(r'class="([^"]*\bfa-[^"]*)"', page.read_text(errors="replace")):
            classes = match.group(1).split()
            family = next((FAMILY[c] for c in classes if c in FAMILY), None)
            for c in classes:
                if family and c.startswith("fa-") and c[3:] not in NOT_ICONS and c not in FAMILY:
                    icons.add((family, c[3:]))
    return icons


def _icon_paths(fontawesome_js: str) -> dict[tuple[str, str], tuple[int, int, str]]:
    """(family, name) -> (width, height, SVG path) for every icon in Font Awesome's JS bundle: each family's
    icons precede the line that registers them, `d("fas", ...)`."""
    marks = sorted((m.start(), m.group(1)) for m in re.finditer(r'\w\("(fa[srb])",\w+\)', fontawesome_js))
    icons, start = {}, 0
    for end, family in marks:
        block = fontawesome_js[start:end]
        for m in ICON_RE.finditer(block):
            icons.setdefault((family, m.group(1) or m.group(2)), (int(m.group(3)), int(m.group(4)), m.group(5)))
        start = end
    return icons


# The theme draws an admonition's icon with a Font Awesome glyph (`--pst-icon-admonition-*`): the same icons here.
ADMONITION_ICONS = {
    "": "bell",
    "note": "circle-info",
    "attention": "circle-exclamation",
    "important": "circle-exclamation",
    "caution": "triangle-exclamation",
    "warning": "triangle-exclamation",
    "danger": "triangle-exclamation",
    "error": "circle-xmark",
    "hint": "lightbulb",
    "tip": "lightbulb",
    "seealso": "share",
    "todo": "pencil",
}


def _mask_url(width: int, height: int, path: str) -> str:
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}'><path d='{path}'/></svg>"
    return 'url("data:image/svg+xml,' + quote(svg, safe=" ='/:") + '")'


def icon_stylesheet(icons: set[tuple[str, str]], paths: dict[tuple[str, str], tuple[int, int, str]]) -> str:
    """CSS that draws each icon as a mask in the current text colour (so it follows the theme and dark mode), and
    keeps every element off Font Awesome's web fonts (270 KB that a page would otherwise load for one glyph)."""
    selectors = {
        "fas": ".fa-solid.fa-{0}::before, .fas.fa-{0}::before",
        "far": ".fa-regular.fa-{0}::before, .far.fa-{0}::before",
        "fab": ".fa-brands.fa-{0}::before, .fab.fa-{0}::before",
    }
    rules = [
        "/* The theme's icons, drawn from its Font Awesome bundle (Font Awesome Free, CC BY 4.0 icons)"
        " by book/_ext/glassbox_site.py */",
        ".fa-solid, .fa-regular, .fa-brands, .fas, .far, .fab {"
        " display: inline-block; line-height: 1; font-style: normal;"
        " font-family: inherit !important; }",
        ".fa-solid::before, .fa-regular::before, .fa-brands::before, .fas::before, .far::before, .fab::before {"
        ' content: ""; display: inline-block; height: 1em; width: var(--gb-icon-w, 1em); vertical-align: -0.125em;'
        " background-color: currentColor; -webkit-mask: var(--gb-icon) center / contain no-repeat;"
        " mask: var(--gb-icon) center / contain no-repeat; }",
        ".fa-lg { font-size: 1.25em; line-height: 0.05em; vertical-align: -0.075em; }",
    ]
    for family, name in sorted(icons):
        found = paths.get((family, name)) or paths.get(("fas", name))
        if found is None:
            continue
        width, height, path = found
        rules.append(
            f"{selectors[family].format(name)} {{ --gb-icon: {_mask_url(width, height, path)};"
            f" --gb-icon-w: {width / height:.4f}em; }}"
        )
    rules.append(
        ".admonition > .admonition-title::after, div.admonition > .admonition-title::after {"
        ' content: "" !important; font: inherit !important; background-color: currentColor;'
        " -webkit-mask: var(--gb-admonition-icon) center / contain no-repeat;"
        " mask: var(--gb-admonition-icon) center / contain no-repeat; }"
    )
    for kind, name in ADMONITION_ICONS.items():
        if ("fas", name) in paths:
            selector = f".admonition.{kind} > .admonition-title" if kind else ".admonition > .admonition-title"
            rules.append(f"{selector} {{ --gb-admonition-icon: {_mask_url(*paths[('fas', name)])}; }}")
    return "\n".join(rules) + "\n"


def replace_fontawesome(app: Sphinx, exception: Exception | None) -> None:
    """Write the icons the built pages use as CSS, and leave a stub where the 1.5 MB Font Awesome script was."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    script = out / "_static" / "scripts" / "fontawesome.js"
    if not script.exists() or script.stat().st_size < 10_000:
        return
    pages = [p for p in out.rglob("*.html") if "_static" not in p.parts]
    paths = _icon_paths(script.read_text(encoding="utf-8"))
    (out / "_static" / "glassbox-icons.css").write_text(icon_stylesheet(_icons_in(pages), paths), encoding="utf-8")
    script.write_text(
        "/* Font Awesome's script is replaced by _static/glassbox-icons.css (book/_ext/glassbox_site.py). */\n",
        encoding="utf-8",
    )
    for source_map in (out / "_static").rglob("*.map"):  # for debugging the theme only; never loaded by a page
        source_map.unlink()


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", wrap_animations, priority=400)  # before Sphinx collects the page's images
    app.connect("doctree-read", drop_widgets, priority=400)
    app.connect("html-page-context", trim_page_assets, priority=900)  # after the extensions that add assets
    app.connect("build-finished", replace_fontawesome)
    app.add_css_file("glassbox-icons.css")
    app.add_js_file("glassbox.js", defer="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
