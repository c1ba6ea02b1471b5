"""Sphinx extension for Glass Box: the live models of chapters 6 and 7 (`glassbox.rules.widget`) load their script
once, from `_static/`, and only on the pages that show one (a page with several loads it once).

The widget's notebook output carries everything it needs (its weights as JSON, and the script inline), so that it
also runs in Jupyter and Colab. On the site, the script (`glassbox/rules/widget.js`, shipped with the library, so
the page always runs the script its weights were exported for) is written once to `_static/glassbox-touch.js`; a
page that shows the widget gets a deferred `<script>` tag for it and loses the inline copy.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from glassbox.rules.widget import MARKER, SCRIPT
from sphinx.application import Sphinx

STATIC_NAME = "glassbox-touch.js"
INLINE = re.compile(r'<script class="glassbox-touch-inline">.*?</script>\n?', re.DOTALL)


def write_script(app: Sphinx) -> None:
    """Put the widget's script in the output's `_static/` (once a build, before any page is written)."""
    if app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / STATIC_NAME).write_text(SCRIPT.read_text(encoding="utf-8"), encoding="utf-8")


def load_on_widget_pages(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """On a page that shows a widget: the script from `_static/`, deferred, instead of its inline copies (one a
    widget)."""
    body = context.get("body", "")
    if MARKER in body:
        context["body"] = INLINE.sub("", body)
        app.add_js_file(STATIC_NAME, loading_method="defer")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", write_script)
    app.connect("html-page-context", load_on_widget_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
