"""Sphinx extension for Glass Box: the `{exercise}` directive and a Colab badge on every chapter.

`{exercise} module.function` shows the stub from exercises/, how to check it, and the hint and the solution
(from solutions/) folded away. The same directive becomes editable cells in the Colab notebooks
(glassbox_build.notebooks, through glassbox_build.exercise_blocks), so a chapter names each exercise once and never
copies code.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from glassbox_build.book import colab_url, toc_chapters
from glassbox_build.exercise_blocks import ExerciseBlock
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

# Shipped with the site (book/_static/), so that a page makes no request outside it until the reader clicks.
COLAB_BADGE = "_static/colab-badge.svg"


class ExerciseDirective(SphinxDirective):
    """Render an exercise: difficulty and time, the stub, how to check it, hint and solution in dropdowns."""

    required_arguments = 1
    has_content = True
    option_spec = {"difficulty": directives.positive_int, "minutes": directives.positive_int}

    def run(self) -> list[nodes.Node]:
        target = self.arguments[0]
        if target.count(".") != 1:
            raise self.error(f"exercise target must be 'module.function', got {target!r}")
        module, name = target.split(".")
        block = ExerciseBlock(
            module, name, self.options.get("difficulty", 1), self.options.get("minutes", 10), "\n".join(self.content)
        )
        root = Path(self.env.srcdir)
        for folder in ("exercises", "solutions"):
            self.env.note_dependency(str(root / folder / f"{module}.py"))
        try:
            stub, solution = block.stub(root), block.solution(root)
        except (OSError, ValueError) as error:
            raise self.error(f"exercise {target}: {error}") from None
        lines = [
            f"*{block.heading()}*",
            "",
            "```python",
            *stub.splitlines(),
            "```",
            "",
            f"Check your version: in the chapter's Colab notebook run `check({name})`; on your machine fill in "
            f'`exercises/{module}.py` and run `pytest tests/exercises --impl exercises -k "[{name}]"` (the brackets '
            "select this exercise alone).",
            "",
        ]
        if block.hint:
            lines += ["````{dropdown} Hint", *block.hint.splitlines(), "````", ""]
        lines += ["````{dropdown} Solution", "```python", *solution.splitlines(), "```", "````"]
        container = nodes.container(classes=["glassbox-exercise"])
        self.state.nested_parse(StringList(lines, source=self.get_source_info()[0]), self.content_offset, container)
        return [container]


def add_colab_badge(app: Sphinx, doctree: nodes.document) -> None:
    """Put an "Open in Colab" badge under the title of every page that has a generated notebook (see
    glassbox_build.notebooks: the chapters and quizzes in _toc.yml, not the index)."""
    root = Path(app.srcdir)
    docname = app.env.docname
    if docname not in {path.relative_to(root).with_suffix("").as_posix() for path in toc_chapters(root)}:
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    badge = "../" * docname.count("/") + COLAB_BADGE  # relative to this page, as the html builder lays pages out
    html = (
        f'<p class="glassbox-colab"><a href="{colab_url(docname, root)}" target="_blank" rel="noopener">'
        f'<img src="{badge}" alt="Open this chapter in Colab" width="117" height="20"></a></p>'
    )
    section.insert(1, nodes.raw("", html, format="html"))


def setup(app: Sphinx) -> dict:
    app.add_config_value("glassbox_colab_branch", "colab", "html")
    app.add_directive("exercise", ExerciseDirective)
    app.connect("doctree-read", add_colab_badge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
