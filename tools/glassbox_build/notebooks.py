"""Turn the book's chapters (MyST markdown) into Colab notebooks with editable exercises and check cells.

Each chapter gets two notebooks: `chNN_topic.ipynb`, whose exercises are editable stubs each followed by a
`check(...)` cell, and `chNN_topic_solutions.ipynb`, the same with every stub filled in; each links to the other.
Both start with an install cell (the pinned packages from requirements.txt and the book's code at the commit the
notebook was built from), then the chapter's cells, with hint and solution folded away in `<details>`. MyST-only
syntax (glue roles, admonitions, cross-references) is rewritten into plain Jupyter markdown, with links to the
published pages.

    python -m glassbox_build.notebooks --out _build/colab        # every chapter in _toc.yml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import nbformat
from glassbox.glue import glue, glued_values  # noqa: F401 (glue: chapters written before glassbox.glue import it here)
from glassbox.runtime import kernel_set

from glassbox_build.book import (
    REPO_ROOT,
    SOLUTIONS_SUFFIX,
    TRAINED_CHAPTERS,
    book_revision,
    colab_branch,
    colab_url,
    toc_chapters,
)
from glassbox_build.colab import install_source
from glassbox_build.exercise_blocks import EXERCISE_RE, ExerciseBlock, module_imports, parse_exercise
from glassbox_build.myst import BookLinks, myst_to_markdown


def exercise_cells(block: ExerciseBlock, fill_solutions: bool, root: Path = REPO_ROOT) -> list[Any]:
    """The cells that stand for one exercise in a notebook: heading, editable stub, check, hint, solution."""
    code = block.solution(root) if fill_solutions else block.stub(root)
    cells = [
        nbformat.v4.new_markdown_cell(
            f"*{block.heading()}.* Write your `{block.name}` in the next cell, run it, then run the check."
        ),
        nbformat.v4.new_code_cell(code),
        nbformat.v4.new_code_cell(f"check({block.name})", metadata={"tags": ["exercise-check"]}),
    ]
    folded = []
    if block.hint:
        folded.append(f"<details><summary>Hint</summary>\n\n{block.hint}\n\n</details>")
    folded.append(f"<details><summary>Solution</summary>\n\n```python\n{block.solution(root)}\n```\n\n</details>")
    cells.append(nbformat.v4.new_markdown_cell("\n\n".join(folded)))
    return cells


VARYING_NUMBERS = Path("tests") / "robustness_varying.json"  # written by `make robustness`: glued names that moved


def varying_numbers(chapter: str, root: Path = REPO_ROOT) -> tuple[frozenset[str], frozenset[str]]:
    """The glued names of `chapter` that `make robustness` last saw move across CPU kernel sets and training seeds,
    and those it saw stay the same (both empty where it has not measured the chapter)."""
    path = root / VARYING_NUMBERS
    seen = json.loads(path.read_text()).get(chapter, {}) if path.exists() else {}
    return frozenset(seen.get("moved", ())), frozenset(seen.get("steady", ()))


# What a later chapter's notebook carries over from earlier chapters' exercises: a Colab runtime keeps nothing from
# one notebook to the next, and the chapter's last section runs the reader's own model on these (glassbox.yours).
# "module" carries every exercise of that chapter, "module.name" one.
CARRIED = {
    "ch04_model": ("ch03_components",),
    "ch05_training": ("ch03_components", "ch04_model.DemoTransformer"),
    "ch05b_sampling": (
        "ch03_components",
        "ch04_model.DemoTransformer",
        "ch05_training.warmup_cosine_lr",
        "ch05_training.train_step",
        "ch05_training.evaluate_loss",
    ),
}
CARRIED_NOTE = (
    "## Your code from earlier chapters\n\n"
    "A Colab runtime keeps nothing from one notebook to the next, so this notebook carries your answers to the "
    "exercises it builds on: paste your definitions from {chapters} over the stubs below and run the cells. The "
    "chapter's last section runs *your* model on them. A stub you leave as it is, or an answer that does not pass "
    "its check, is replaced by the reference, and the cells say so in one line each."
)


def chapter_exercises(root: Path, module: str) -> list[ExerciseBlock]:
    """The exercise blocks of the chapter whose exercises live in `exercises/{module}.py`, in the book's order."""
    chapter = next(c for c in toc_chapters(root) if c.stem == module)
    return [parse_exercise(m["target"], m["body"]) for m in EXERCISE_RE.finditer(chapter.read_text())]


def carried_cells(stem: str, fill_solutions: bool, root: Path = REPO_ROOT) -> list[Any]:
    """The cells that carry the reader's earlier answers into chapter `stem`'s notebook (none for most chapters)."""
    if stem not in CARRIED:
        return []
    blocks: list[ExerciseBlock] = []
    for item in CARRIED[stem]:
        module, _, name = item.partition(".")
        blocks += [b for b in chapter_exercises(root, module) if not name or b.name == name]
    modules = list(dict.fromkeys(b.module for b in blocks))
    titles = BookLinks.of_book(root).titles
    names = [titles.get(f"book/part2/{m}", m) for m in modules]
    cells = [nbformat.v4.new_markdown_cell(CARRIED_NOTE.format(chapters=", ".join(f"*{n}*" for n in names)))]
    for module in modules:
        mine = [b for b in blocks if b.module == module]
        sources = [root / "exercises" / f"{module}.py"]
        if fill_solutions:
            sources += [b.solution_file() for b in mine]
        code = "\n\n\n".join(b.solution(root) if fill_solutions else b.stub(root) for b in mine)
        cells.append(nbformat.v4.new_code_cell(f"# Yours, from {module}\n{module_imports(*sources)}\n\n\n{code}"))
    names_checked = ", ".join(b.name for b in blocks)
    cells.append(
        nbformat.v4.new_code_cell(f"from glassbox.yours import check_quietly\n\ncheck_quietly({names_checked})")
    )
    return cells


SITE_NUMBERS_NOTE = (
    "*Numbers marked † are the site's run: models trained from seed 0 on one thread of a CPU with {kernels} "
    "kernels. This notebook trains its own on your runtime, whose CPU (or GPU) rounds differently, so a number "
    "your cells print may differ a little from its † twin. What the chapter asserts holds for both.*"
)


def companion_note(docname: str, fill_solutions: bool, root: Path = REPO_ROOT) -> str:
    """The line under the title linking the exercise notebook and its solutions notebook to each other."""
    if fill_solutions:
        return (
            f"*This is the solutions notebook: every exercise is filled in. To write them yourself, open "
            f"[the exercise notebook]({colab_url(docname, root)}).*"
        )
    return (
        f"*The exercises below are yours to fill in, each followed by a check. Stuck? "
        f"[The solutions notebook]({colab_url(docname, root, solutions=True)}) has every one filled in.*"
    )


def chapter_to_notebook(
    chapter: Path,
    *,
    root: Path = REPO_ROOT,
    fill_solutions: bool = False,
    executed: dict | None = None,
    revision: str | None = None,
    links: BookLinks | None = None,
) -> nbformat.NotebookNode:
    """Build the Colab notebook of one chapter (`fill_solutions` puts the reference in the exercise cells).

    `executed`: the chapter as the book build ran it, whose glued values fill the prose; `revision`: the commit
    the install cell installs (git's HEAD by default); `links`: where cross-references point (the published site).
    """
    import jupytext

    source = jupytext.read(chapter, fmt="md:myst")
    chapter_text = chapter.read_text()
    here = chapter.relative_to(root).with_suffix("").as_posix()
    links = links or BookLinks.of_book(root)
    glued = glued_values(executed)
    figures = links.figures

    trains = chapter.stem in TRAINED_CHAPTERS  # its numbers come from models the reader's runtime trains anew
    measured = varying_numbers(chapter.stem, root)

    def markdown(text: str) -> str:
        return myst_to_markdown(
            text, glued, figures, links, here, mark_numbers=trains and bool(glued), measured=measured
        )

    has_exercises = any(EXERCISE_RE.search(c.source) for c in source.cells if c.cell_type == "markdown")
    set_up = [nbformat.v4.new_code_cell(install_source(root, revision), metadata={"tags": ["colab-install"]})]
    if trains and glued:
        set_up.insert(0, nbformat.v4.new_markdown_cell(SITE_NUMBERS_NOTE.format(kernels=kernel_set())))
    if has_exercises:
        set_up = [
            nbformat.v4.new_markdown_cell(companion_note(here, fill_solutions, root)),
            *set_up,
            # glassbox.yours.check prints what glassbox.checking.check prints and remembers what passed
            nbformat.v4.new_code_cell("from glassbox.yours import check"),
            *carried_cells(chapter.stem, fill_solutions, root),
        ]
    cells = []
    imported: set[str] = set()
    for cell in source.cells:
        if cell.cell_type == "markdown":
            position = 0
            for match in EXERCISE_RE.finditer(cell.source):
                before = cell.source[position : match.start()].strip()
                if before:
                    cells.append(nbformat.v4.new_markdown_cell(markdown(before)))
                block = parse_exercise(match["target"], match["body"])
                if block.module not in imported:
                    # a solutions notebook runs the solutions' code, which may use more than the stubs import
                    sources = [root / "exercises" / f"{block.module}.py"]
                    if fill_solutions:
                        blocks = [parse_exercise(m["target"], m["body"]) for m in EXERCISE_RE.finditer(chapter_text)]
                        sources += [b.solution_file() for b in blocks if b.module == block.module]
                    imports = module_imports(*sources)
                    cells.append(nbformat.v4.new_code_cell(f"# What the exercises below use\n{imports}"))
                    imported.add(block.module)
                cells += exercise_cells(block, fill_solutions, root)
                position = match.end()
            rest = cell.source[position:].strip()
            if rest:
                cells.append(nbformat.v4.new_markdown_cell(markdown(rest)))
            if set_up:  # the set-up cells go right under the title
                cells += set_up
                set_up = []
        elif cell.cell_type == "code":
            figure = cell.metadata.get("mystnb", {}).get("figure")
            cells.append(nbformat.v4.new_code_cell(cell.source))
            if figure:
                caption = markdown(str(figure.get("caption", "")).strip())
                cells.append(nbformat.v4.new_markdown_cell(f"**Fig. {figures[figure['name']]}.** {caption}"))
    notebook = nbformat.v4.new_notebook(cells=set_up + cells)
    notebook.metadata.update(
        {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "colab": {"provenance": []},
        }
    )
    return notebook


def executed_notebook(chapter: Path, cache_path: Path) -> dict | None:
    """The chapter with the outputs of its last executed build (from jupyter-cache), or None if it has none."""
    import jupytext
    from jupyter_cache import get_cache

    try:
        _, merged = get_cache(cache_path).merge_match_into_notebook(jupytext.read(chapter, fmt="md:myst"))
    except KeyError:  # never executed with these cells
        return None
    return merged


def notebook_path(out: Path, chapter: Path, root: Path = REPO_ROOT, solutions: bool = False) -> Path:
    """Where a chapter's notebook goes under `out`, mirroring the book's folders (and the Colab links)."""
    relative = chapter.relative_to(root).with_suffix("")
    return out / relative.with_name(relative.name + (SOLUTIONS_SUFFIX if solutions else "") + ".ipynb")


def build_all(
    out: Path, root: Path = REPO_ROOT, cache_path: Path | None = None, revision: str | None = None
) -> list[Path]:
    """Write every chapter's exercise notebook (and, where it has exercises, its solutions notebook) under `out`.

    With the book's execution cache, glued numbers are written into the prose as the site shows them.
    """
    revision = revision or book_revision(root)
    links = BookLinks.of_book(root)
    written = []
    for chapter in toc_chapters(root):
        executed = executed_notebook(chapter, cache_path) if cache_path else None
        for solutions in (False, True):
            notebook = chapter_to_notebook(
                chapter, root=root, executed=executed, revision=revision, links=links, fill_solutions=solutions
            )
            if solutions and not EXERCISE_RE.search(chapter.read_text()):
                continue  # no exercises: the one notebook is the whole chapter
            target = notebook_path(out, chapter, root, solutions)
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "_build" / "colab")
    parser.add_argument(
        "--cache",
        type=Path,
        default=REPO_ROOT / "_build" / ".jupyter_cache",
        help="the book build's execution cache, to fill glued numbers into the prose",
    )
    parser.add_argument("--branch", action="store_true", help="print the branch the notebooks are published to")
    args = parser.parse_args()
    if args.branch:
        print(colab_branch())
        return
    for path in build_all(args.out, cache_path=args.cache if args.cache.exists() else None):
        print(path)


if __name__ == "__main__":
    main()
