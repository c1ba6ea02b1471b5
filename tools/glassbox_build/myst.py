"""MyST markdown rewritten as plain Jupyter markdown, for the Colab notebooks: glued numbers filled in as the page shows
them, admonitions as quotes and `<details>`, cross-references as links to the published pages, figures numbered as
the site numbers them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from glassbox_build.book import REPO_ROOT, site_url, toc_chapters


def format_glued(raw: str, spec: str) -> str:
    """Format a glued value's text as the page does (`{glue:text}` specs like `.3f`, `,d`, `.0f`; none: as recorded)."""
    if not spec:
        return raw  # a whole number stays "8", never "8.0"
    try:
        value = float(raw)
        return format(int(value) if spec.endswith("d") else value, spec)
    except ValueError:
        return raw


@dataclass(frozen=True)
class BookLinks:
    """What cross-references point to on the published site: each page's title, and each label's page and title."""

    base: str  # the site's address, ending in "/"
    titles: dict[str, str]  # docname ("book/part1/ch01_attention") -> the page's title
    labels: dict[str, tuple[str, str]]  # "(label)=" -> (docname, title of the heading under it)
    figures: dict[str, int]  # a figure's name -> its number, counted through the whole book as the site counts

    @classmethod
    def of_book(cls, root: Path = REPO_ROOT) -> BookLinks:
        import jupytext

        titles, labels, figures = {}, {}, {}
        for path in [root / "book" / "index.md", *toc_chapters(root)]:
            docname = path.relative_to(root).with_suffix("").as_posix()
            text = path.read_text()
            heading = re.search(r"^# (.+)$", text, re.M)
            titles[docname] = heading[1].strip() if heading else docname
            for match in re.finditer(r"^\(([\w-]+)\)=\s*\n+#+ (.+)$", text, re.M):
                labels[match[1]] = (docname, match[2].strip())
            for cell in jupytext.reads(text, fmt="md:myst").cells:
                name = cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
                if cell.cell_type == "code" and name:
                    figures[name] = len(figures) + 1
        return cls(site_url(root), titles, labels, figures)

    def doc(self, target: str, here: str) -> tuple[str, str]:
        """(url, title) of a `{doc}` target written relative to the page `here`."""
        parts = [*here.split("/")[:-1]]
        for part in target.split("/"):
            parts = parts[:-1] if part == ".." else [*parts, part]
        docname = "/".join(parts)
        return f"{self.base}{docname}.html", self.titles.get(docname, target)

    def ref(self, label: str) -> tuple[str, str]:
        docname, title = self.labels[label]
        return f"{self.base}{docname}.html#{label}", title


SITE_MARK = "<sup>†</sup>"  # after a number quoted from the site's run, where a reader's own run may differ


def may_vary(name: str, raw: str, measured: tuple[frozenset[str], frozenset[str]]) -> bool:
    """Whether a glued value may read differently in a reader's run. `measured`: the names `make robustness` saw
    move across CPU kernels and seeds, and those it saw stay put. A name it did not measure: any number with a
    fractional part (a loss, a share, a time); a whole number (a size, a count, a setting) is taken as fixed."""
    moved, steady = measured
    try:
        value = float(raw)
    except ValueError:
        return False
    if name in moved or name in steady:
        return name in moved
    return not value.is_integer()


def myst_to_markdown(
    text: str,
    glued: dict[str, str],
    figures: dict[str, int],
    links: BookLinks | None = None,
    here: str = "",
    mark_numbers: bool = False,
    measured: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset()),
) -> str:
    """Rewrite the MyST-only parts of a markdown cell into Jupyter markdown (`here`: the page's docname). With
    `mark_numbers`, each glued number that `may_vary` is followed by `SITE_MARK`: it is the site's run's, and the
    reader's run may print another."""

    def glue_text(match: re.Match) -> str:
        name, _, spec = match[1].partition(":")
        if name not in glued:
            return f"`{name}`"
        shown = format_glued(glued[name], spec)
        return shown + SITE_MARK if mark_numbers and may_vary(name, glued[name], measured) else shown

    def cross_reference(match: re.Match) -> str:
        role, content = match[1], match[2]
        explicit = re.fullmatch(r"(.*?)\s*<([^>]+)>", content)  # `title <target>`, or a bare target
        title, target = (explicit[1], explicit[2]) if explicit else (None, content.strip())
        if links is None or (role == "ref" and target not in links.labels):
            return f"*{title or target}*"
        url, found = links.ref(target) if role == "ref" else links.doc(target, here)
        return f"[{title or found}]({url})"

    text = re.sub(r"\{glue(?::text)?\}`([^`]+)`", glue_text, text)
    text = re.sub(r"\{numref\}`([^`]+)`", lambda m: f"Fig. {figures[m[1]]}" if m[1] in figures else m[1], text)
    text = re.sub(r"\{(ref|doc)\}`([^`]+)`", cross_reference, text)
    text = re.sub(r"^\([\w-]+\)=\s*$\n?", "", text, flags=re.M)

    def admonition(match: re.Match) -> str:
        kind, title, body = match["kind"], match["title"].strip(), match["body"]
        body = "\n".join(line for line in body.splitlines() if not re.match(r"^:\w+:", line)).strip()
        if kind == "dropdown":
            return f"<details><summary>{title or 'Details'}</summary>\n\n{body}\n\n</details>"
        label = title or kind.capitalize()
        return "\n".join(f"> {line}" if line else ">" for line in [f"**{label}.**", *body.splitlines()])

    return re.sub(
        r"^(?P<fence>`{3,}|:{3,})\{(?P<kind>note|tip|warning|important|admonition|dropdown|seealso)\}(?P<title>[^\n]*)\n"
        r"(?P<body>.*?)^(?P=fence)\s*$",
        admonition,
        text,
        flags=re.M | re.S,
    )
