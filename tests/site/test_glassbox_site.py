"""The site extension (book/_ext/glassbox_site.py): animations get a still and a place for their button, widget
outputs go whole, the theme's icons come from its own Font Awesome data without the 1.5 MB script, thebe's
duplicated configuration is left out."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

from docutils import nodes
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def load_extension():
    spec = importlib.util.spec_from_file_location("glassbox_site", ROOT / "book/_ext/glassbox_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


site = load_extension()

# Two families as Font Awesome's bundle lays them out: each family's icons, then the call that registers them.
FONTAWESOME = (
    'var a={github:[496,512,[],"f09b","M165.9 397.4z"]};d("fab",a),d("fa-brands",a);'
    'var b={"magnifying-glass":[512,512,[128269,"search"],"f002","M416 208z"],bars:[448,512,[],"f0c9","M0 96z"],'
    '"circle-info":[512,512,[],"f05a","M256 512z"]};d("fas",b),d("fa-solid",b);'
)


def test_icons_are_read_per_family_and_drawn_as_masks():
    paths = site._icon_paths(FONTAWESOME)
    assert paths[("fab", "github")] == (496, 512, "M165.9 397.4z")
    assert paths[("fas", "magnifying-glass")] == (512, 512, "M416 208z") and ("fab", "bars") not in paths
    css = site.icon_stylesheet({("fab", "github"), ("fas", "bars"), ("fas", "no-such-icon")}, paths)
    assert ".fa-brands.fa-github::before" in css and "viewBox='0 0 496 512'" in css and "0.9688em" in css
    assert ".fa-solid.fa-bars::before" in css and "no-such-icon" not in css
    assert "font-family: inherit !important" in css  # no element asks for Font Awesome's web fonts
    assert ".admonition.note > .admonition-title" in css  # the admonition icon, circle-info


def test_the_icons_a_page_uses_are_found_in_its_classes(tmp_path):
    page = tmp_path / "p.html"
    page.write_text('<i class="fa-brands fa-github fa-lg"></i><span class="fa-solid fa-bars"></span><i class="x"></i>')
    assert site._icons_in([page]) == {("fab", "github"), ("fas", "bars")}


def test_the_fontawesome_script_is_replaced_by_a_stub_and_a_stylesheet(tmp_path):
    scripts = tmp_path / "_static" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "fontawesome.js").write_text(FONTAWESOME + " " * 20_000)
    (scripts / "fontawesome.js.map").write_text("{}")
    (tmp_path / "index.html").write_text('<i class="fa-solid fa-bars"></i>')
    app = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="html"))
    site.replace_fontawesome(app, None)
    assert (scripts / "fontawesome.js").stat().st_size < 200 and not (scripts / "fontawesome.js.map").exists()
    assert ".fa-solid.fa-bars::before" in (tmp_path / "_static" / "glassbox-icons.css").read_text()


def bundle(*mime_types):
    box = nodes.container(nb_element="mime_bundle")
    for mime in mime_types:
        child = nodes.container(mime_type=mime)
        child += nodes.raw("", f"<p>{mime}</p>", format="html")
        box += child
    return box


def test_a_widget_output_goes_whole_other_outputs_stay():
    doctree = nodes.document(None, None)
    output = nodes.container(classes=["cell_output"])
    output += [bundle("application/vnd.jupyter.widget-view+json", "text/plain"), bundle("text/plain")]
    doctree += output
    metadata = {"js_files": {"ipywidgets_state": ("", {}), "ipywidgets_0": ("require.js", {}), "other": ("x.js", {})}}
    app = SimpleNamespace(env=SimpleNamespace(docname="ch", nb_metadata={"ch": metadata}))
    site.drop_widgets(app, doctree)
    assert "widget-view" not in doctree.astext() and doctree.astext().count("text/plain") == 1
    assert list(metadata["js_files"]) == ["other"]


def test_an_animated_gif_gets_a_still_of_its_last_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "green", "blue")]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    doctree = nodes.document(None, None)
    doctree += nodes.image(uri="a.gif", alt="Animation of three colours")
    env = SimpleNamespace(docname="ch", relfn2path=lambda uri, doc: (uri, str(tmp_path / uri)))
    site.wrap_animations(SimpleNamespace(env=env), doctree)
    box = next(iter(doctree.findall(nodes.container)))
    moving, still = list(box.findall(nodes.image))
    assert "glassbox-animation" in box["classes"] and moving["uri"] == "a.gif" and still["uri"] == "a-final.png"
    assert still["alt"] == moving["alt"] == "Animation of three colours" and moving["loading"] == "lazy"
    with Image.open(tmp_path / "a-final.png") as image:
        assert image.convert("RGB").getpixel((4, 4)) == (0, 0, 255)


def test_thebe_config_and_widget_managers_are_left_out_and_circuitsvis_is_deferred():
    class Asset:
        def __init__(self, filename, **attributes):
            self.filename, self.attributes = filename, attributes

    scripts = [
        Asset(None, body='const THEBE_JS_URL = "https://unpkg.com/thebe"'),
        Asset("sphinx-thebe.js"),
        Asset("https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.4/require.min.js"),
        Asset("_static/circuitsvis-1.43.3.js"),
        Asset("_static/glassbox.js"),
    ]
    context = {"script_files": scripts, "css_files": [Asset("_static/sphinx-thebe.css"), Asset("_static/glassbox.css")]}
    site.trim_page_assets(None, "p", "page.html", context, None)
    assert [a.filename for a in context["script_files"]] == ["_static/circuitsvis-1.43.3.js", "_static/glassbox.js"]
    assert context["script_files"][0].attributes == {"defer": "defer"}
    assert [a.filename for a in context["css_files"]] == ["_static/glassbox.css"]
