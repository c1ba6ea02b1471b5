"""Colab notebooks generated from the chapters: install cell, stub + check cells, MyST rewritten, and they run."""

import os
import subprocess
from pathlib import Path

import nbformat
import pytest
from glassbox.glue import glue
from glassbox_build.book import toc_chapters
from glassbox_build.colab import colab_requirements, install_source
from glassbox_build.exercise_blocks import EXERCISE_RE, object_source, parse_exercise
from glassbox_build.myst import BookLinks, myst_to_markdown
from glassbox_build.notebooks import build_all, chapter_to_notebook
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CH01 = ROOT / "book" / "part1" / "ch01_attention.md"


def sources(notebook, kind):
    return [cell.source for cell in notebook.cells if cell.cell_type == kind]


@pytest.mark.slow
def test_every_chapter_in_the_toc_exists_and_converts():
    chapters = toc_chapters(ROOT)
    assert CH01 in chapters
    for chapter in chapters:
        assert chapter.exists(), chapter
        notebook = chapter_to_notebook(chapter, root=ROOT)
        assert any(c.metadata.get("tags") == ["colab-install"] for c in notebook.cells[:3])
        assert not any("{exercise}" in source or "{glue" in source for source in sources(notebook, "markdown"))


def test_install_cell_uses_the_pins_and_the_repository_of_the_book_at_this_commit():
    source = install_source(ROOT)
    pins = colab_requirements(ROOT / "requirements.txt")
    assert "transformer-lens==4.3.0" in pins and "einops==0.8.2" in pins
    assert not any(pin.startswith(("torch==", "jupyter-book", "pytest")) for pin in pins), "Colab keeps its own torch"
    assert not any(pin.startswith(("ipython==", "ipywidgets==", "ipykernel==")) for pin in pins), (
        "replacing IPython under Colab's running kernel breaks it"
    )
    assert all(f"'{pin}'" in source for pin in pins)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert f'"https://github.com/glass-box-book/glass-box", "{head}"' in source
    assert "@{REVISION}#subdirectory=code" in source and "os.kill(os.getpid(), 9)" in source
    compile(source, "install", "exec")


def test_install_cell_is_a_no_op_outside_colab_and_when_the_book_is_installed(monkeypatch):
    """Locally (no google.colab) nothing runs; in Colab, a second run after the restart installs nothing."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    namespace = {}
    exec(install_source(ROOT, revision="0" * 40), namespace)
    assert calls == [] and namespace["book_installed"]() is False, "the editable install is no commit's install"


@pytest.mark.slow
def test_exercises_become_an_editable_stub_and_a_check():
    notebook = chapter_to_notebook(CH01, root=ROOT)
    code = sources(notebook, "code")
    stub = object_source(ROOT / "exercises" / "ch01_attention.py", "masked_attention")
    index = code.index(stub)
    assert code[index + 1] == "check(masked_attention)"
    assert sum(source.startswith("check(") for source in code) == 3
    markdown = "\n".join(sources(notebook, "markdown"))
    assert "<details><summary>Solution</summary>" in markdown and "<details><summary>Hint</summary>" in markdown


def test_myst_is_rewritten_for_jupyter():
    text = (
        "(label)=\nWeight {glue:text}`w:.2f` and {glue:text}`missing`, see {numref}`fig-a`.\n\n"
        "```{note}\nBe careful.\n```\n"
    )
    out = myst_to_markdown(text, {"w": "0.29374"}, {"fig-a": 2})
    assert "(label)=" not in out
    assert "Weight 0.29 and `missing`, see Fig. 2." in out
    assert "> **Note.**\n> Be careful." in out


@pytest.mark.slow
def test_cross_references_become_links_to_the_published_pages():
    links = BookLinks.of_book(ROOT)
    here = "book/part1/quiz"
    out = myst_to_markdown(
        "See {doc}`ch01_attention`, {doc}`the quiz <quiz>` and {ref}`3 <ch-components>`; {ref}`ch-positions`.",
        {},
        {},
        links,
        here,
    )
    base = "https://glass-box-book.github.io/glass-box/"
    title = links.titles["book/part1/ch01_attention"]
    assert f"[{title}]({base}book/part1/ch01_attention.html)" in out
    assert f"[the quiz]({base}book/part1/quiz.html)" in out
    assert f"[3]({base}book/part2/ch03_components.html#ch-components)" in out
    assert f"({base}book/part1/ch02_positions.html#ch-positions)" in out and "{" not in out


def test_whole_numbers_glued_without_a_format_stay_whole():
    assert myst_to_markdown("{glue:text}`n` questions", {"n": "8"}, {}) == "8 questions"


@pytest.mark.slow
def test_each_chapter_gets_a_solutions_notebook_linked_both_ways(tmp_path):
    written = build_all(tmp_path, ROOT)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {"book/part1/ch01_attention.ipynb", "book/part1/ch01_attention_solutions.ipynb"} <= names
    assert "book/part1/quiz.ipynb" in names and "book/part1/quiz_solutions.ipynb" not in names
    assert not any("index" in name for name in names)
    exercise = nbformat.read(tmp_path / "book/part1/ch01_attention.ipynb", as_version=4)
    solution = nbformat.read(tmp_path / "book/part1/ch01_attention_solutions.ipynb", as_version=4)
    assert "blob/colab/book/part1/ch01_attention_solutions.ipynb" in exercise.cells[1].source
    assert "blob/colab/book/part1/ch01_attention.ipynb" in solution.cells[1].source
    stub = object_source(ROOT / "exercises" / "ch01_attention.py", "masked_attention")
    assert stub in sources(exercise, "code") and stub not in sources(solution, "code")


def test_exercise_options_are_validated():
    block = parse_exercise("ch01_attention.causal_mask", ":difficulty: 2\n:minutes: 5\n\nA hint.")
    assert (block.difficulty, block.minutes, block.hint) == (2, 5, "A hint.")
    with pytest.raises(ValueError, match="unknown option"):
        parse_exercise("ch01_attention.causal_mask", ":level: 2\n")
    with pytest.raises(ValueError, match="module.function"):
        parse_exercise("causal_mask", "")


@pytest.mark.parametrize(
    "chapter", [CH01, ROOT / "book" / "part2" / "ch03_components.md"], ids=["functions", "classes"]
)
@pytest.mark.slow
def test_generated_notebook_runs_top_to_bottom_with_the_solutions_filled_in(tmp_path, chapter):
    notebook = chapter_to_notebook(chapter, root=ROOT, fill_solutions=True)
    notebook.cells = [c for c in notebook.cells if "colab-install" not in c.metadata.get("tags", [])]
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    check_cells = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("check(")]
    assert len(check_cells) == len(EXERCISE_RE.findall(chapter.read_text()))
    for cell in check_cells:  # what the reader reads: stdout (a stray warning on stderr is shown, not counted)
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        stderr = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
        assert "FAIL" not in text and text.rstrip().endswith("all checks passed."), text + stderr
    nbformat.validate(notebook)


@pytest.mark.slow
def test_glued_numbers_from_an_executed_build_fill_the_prose():
    executed = {
        "cells": [
            {
                "cell_type": "code",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "data": {"application/papermill.record/text/plain": "0.2937394976615906"},
                        "metadata": {"scrapbook": {"name": "w_self_0", "mime_prefix": "application/papermill.record/"}},
                    }
                ],
            }
        ]
    }
    markdown = "\n".join(sources(chapter_to_notebook(CH01, root=ROOT, executed=executed), "markdown"))
    assert "token 0 keeps 0.294 of its attention" in markdown
    assert "`w_03`" in markdown, "a value the build did not record stays a visible name"


def test_glued_integers_keep_their_format_spec():
    out = myst_to_markdown("{glue:text}`n:,d` characters, {glue:text}`x:.1f`", {"n": "116172", "x": "2.25"}, {})
    assert out == "116,172 characters, 2.2"


def test_glue_refuses_a_number_that_went_wrong():
    with pytest.raises(ValueError, match="glue 'loss': the value is nan"):
        glue("loss", float("nan"))


@pytest.mark.slow
def test_figures_are_numbered_through_the_book_as_the_site_numbers_them():
    """Sphinx numbers figures across the whole book in _toc.yml order (chapter 5's first figure is not Fig. 1)."""
    links = BookLinks.of_book(ROOT)
    assert list(links.figures.values()) == list(range(1, len(links.figures) + 1))
    notebook = chapter_to_notebook(ROOT / "book" / "part2" / "ch05_training.md", root=ROOT, links=links)
    captions = [s for s in sources(notebook, "markdown") if s.startswith("**Fig.")]
    earlier = sum(
        1
        for name in links.figures
        if links.figures[name]
        < min(
            links.figures[n]
            for n in links.figures
            if n in "".join(ROOT.joinpath("book/part2/ch05_training.md").read_text())
        )
    )
    assert captions and captions[0].startswith(f"**Fig. {earlier + 1}.**") and earlier > 0


@pytest.mark.slow
def test_a_solutions_notebook_imports_what_the_solutions_use():
    """Chapter 4's next_token_loss solution uses F (torch.nn.functional), which its stub does not import."""
    notebook = chapter_to_notebook(ROOT / "book" / "part2" / "ch04_model.md", root=ROOT, fill_solutions=True)
    imports = next(s for s in sources(notebook, "code") if s.startswith("# What the exercises below use"))
    assert "import torch.nn.functional as F" in imports
    compile(imports, "imports", "exec")
