"""Sphinx extension for Glass Box: circuitsvis's browser bundle, copied once into `_static/` and loaded only by
the pages that show a circuitsvis widget (chapter 12).

circuitsvis inlines its 1.3 MB bundle into every figure when the building machine is offline; the book's widgets
(`glassbox.plots.gpt2.attention_heads_widget`) leave it out and expect `window.CircuitsVis` instead. This
extension provides it: the bundle of the installed circuitsvis (so the JavaScript always matches the Python
package) is written to `_static/circuitsvis-<version>.js`, and a `<script>` tag for it goes into the head of each
page whose body holds a widget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import circuitsvis
from glassbox.plots.gpt2 import circuitsvis_bundle_path
from sphinx.application import Sphinx

MARKER = 'class="glassbox-circuitsvis"'  # what glassbox.plots.gpt2.AttentionHeadsWidget's HTML carries


def bundle_name() -> str:
    """File name of the bundle in the built site's `_static/`: versioned, so a new circuitsvis is a new file."""
    return f"circuitsvis-{circuitsvis.__version__}.js"


def bundle_source() -> str:
    """The installed circuitsvis's browser bundle (IIFE: defines `window.CircuitsVis`), without its source-map line."""
    lines = circuitsvis_bundle_path().read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.startswith("//# sourceMappingURL=")) + "\n"


def write_bundle(app: Sphinx) -> None:
    """Put the bundle in the output's `_static/` (once a build, before any page is written)."""
    if app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / bundle_name()).write_text(bundle_source(), encoding="utf-8")


def load_on_widget_pages(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Add the bundle's script tag to this page only if it shows a circuitsvis widget."""
    if MARKER in context.get("body", ""):
        app.add_js_file(bundle_name())


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", write_bundle)
    app.connect("html-page-context", load_on_widget_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
