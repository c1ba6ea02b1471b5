"""Turn the book's chapters (MyST markdown) into Colab notebooks with editable exercises and check cells.

Each generated notebook has: an install cell (the pinned packages from requirements.txt and the book's code
from its repository), the chapter's cells, and for every `{exercise}` block an editable cell holding the stub
followed by a `check(...)` cell, with hint and solution folded away in `<details>`. MyST-only syntax (glue
roles, admonitions, cross-references) is rewritten into plain Jupyter markdown.

    python -m glassbox.notebooks --out _build/colab        # every chapter in _toc.yml
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GLUE_PREFIX = "application/papermill.record/"  # what myst-nb looks for in a cell's outputs
COLAB_FOLDER = "glassbox-book"  # where the install cell clones the repository in Colab


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record `value` under `name` for the page's prose (`{glue:text}` in MyST), as myst_nb.glue does.

    The chapters use this one so that their Colab notebooks need no Sphinx packages.
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy or torch scalar → Python number,
        value = value.item()                                            # which {glue:text} formats
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"glue {name!r}: the value is {value}, which no sentence should state — a computation went wrong")

    bundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipy_display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def object_source(path: Path, name: str) -> str:
    """The source code of the top-level function or class `name` in the Python file `path`."""
    text = Path(path).read_text()
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            return "\n".join(text.splitlines()[start - 1 : node.end_lineno])
    raise ValueError(f"{path} has no top-level function or class named {name!r}")


def module_imports(path: Path) -> str:
    """The top-level import statements of a Python file, which its stubs need in a notebook."""
    text = Path(path).read_text()
    lines = text.splitlines()
    imports = [n for n in ast.parse(text).body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return "\n".join("\n".join(lines[n.lineno - 1 : n.end_lineno]) for n in imports)


@dataclass(frozen=True)
class ExerciseBlock:
    """An `{exercise}` directive of a chapter: which function, how hard, how long, and its hint."""

    module: str
    name: str
    difficulty: int
    minutes: int
    hint: str

    def stub(self, root: Path = REPO_ROOT) -> str:
        return object_source(root / "exercises" / f"{self.module}.py", self.name)

    def solution(self, root: Path = REPO_ROOT) -> str:
        """The reference's source; a solution module may re-export the library's own code (chapter 3 does)."""
        reference = getattr(importlib.import_module(f"solutions.{self.module}"), self.name, None)
        if reference is None:
            raise ValueError(f"solutions/{self.module}.py has no {self.name!r}")
        return inspect.getsource(reference).rstrip()

    def heading(self) -> str:
        stars = "★" * self.difficulty + "☆" * (3 - self.difficulty)
        return f"Difficulty {stars} · about {self.minutes} minutes"


EXERCISE_RE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{exercise\}\s+(?P<target>\S+)\n(?P<body>.*?)^(?P=fence)\s*$", re.M | re.S)


def parse_exercise(target: str, body: str) -> ExerciseBlock:
    """Read the argument (`module.function`), options (`:difficulty:`, `:minutes:`) and hint of an exercise."""
    if target.count(".") != 1:
        raise ValueError(f"exercise target must be 'module.function', got {target!r}")
    module, name = target.split(".")
    options, hint_lines = {}, []
    for line in body.splitlines():
        match = re.match(r"^:(\w+):\s*(.*)$", line)
        if match and not hint_lines:
            options[match[1]] = match[2]
        else:
            hint_lines.append(line)
    unknown = set(options) - {"difficulty", "minutes"}
    if unknown:
        raise ValueError(f"exercise {target}: unknown option(s) {sorted(unknown)}")
    return ExerciseBlock(
        module, name, int(options.get("difficulty", 1)), int(options.get("minutes", 10)), "\n".join(hint_lines).strip()
    )


def colab_requirements(requirements: Path = REPO_ROOT / "requirements.txt") -> list[str]:
    """The pins a chapter needs at run time: the library section of requirements.txt (Colab keeps its own torch)."""
    pins, section = [], None
    for line in requirements.read_text().splitlines():
        if line.startswith("# ---"):
            section = line
        elif line and not line.startswith("#") and section and "library" in section:
            pins.append(line.strip())
    return pins


def book_config(root: Path = REPO_ROOT) -> dict[str, Any]:
    return yaml.safe_load((root / "_config.yml").read_text())


def install_source(root: Path = REPO_ROOT) -> str:
    """The first cell of every Colab notebook: clone the book's repository and install the pinned environment."""
    repo = book_config(root)["repository"]
    pins = " ".join(f"'{pin}'" for pin in colab_requirements(root / "requirements.txt"))
    return f"""# Set-up for Colab (about two minutes): the pinned packages and the book's code, from its repository.
# Locally, `make book` or `make test` has already done this; the cell then does nothing.
import importlib, os, subprocess, sys

if "google.colab" in sys.modules and not os.path.isdir("{COLAB_FOLDER}"):
    subprocess.run(["git", "clone", "--depth", "1", "--branch", "{repo.get("branch", "main")}", "{repo["url"]}", "{COLAB_FOLDER}"], check=True)
    subprocess.run(f"pip install -q {pins} ./{COLAB_FOLDER}/code", shell=True, check=True)
    importlib.invalidate_caches()"""


def _glue_values(executed: dict | None) -> dict[str, str]:
    """Glued values (as text) from an executed notebook, keyed by name."""
    values = {}
    for cell in (executed or {}).get("cells", []):
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if record:
                text = output.get("data", {}).get(record["mime_prefix"] + "text/plain")
                if text is not None:
                    values[record["name"]] = str(text).strip("'\"")
    return values


def _format_glued(raw: str, spec: str) -> str:
    """Format a glued value's text as the page does (`{glue:text}` specs like `.3f`, `,d`, `.0f`)."""
    try:
        value = float(raw)
        return format(int(value) if spec.endswith("d") else value, spec)
    except ValueError:
        return raw


def myst_to_markdown(text: str, glued: dict[str, str], figures: dict[str, int]) -> str:
    """Rewrite the MyST-only parts of a markdown cell into Jupyter markdown."""

    def glue_text(match: re.Match) -> str:
        name, _, spec = match[1].partition(":")
        return _format_glued(glued[name], spec) if name in glued else f"`{name}`"

    text = re.sub(r"\{glue(?::text)?\}`([^`]+)`", glue_text, text)
    text = re.sub(r"\{numref\}`([^`]+)`", lambda m: f"Figure {figures[m[1]]}" if m[1] in figures else m[1], text)
    text = re.sub(r"\{(?:ref|doc)\}`([^`<]+?)(?:\s*<[^>]+>)?`", r"*\1*", text)
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


def exercise_cells(block: ExerciseBlock, fill_solutions: bool, root: Path = REPO_ROOT) -> list[Any]:
    """The cells that stand for one exercise in a notebook: heading, editable stub, check, hint, solution."""
    code = block.solution(root) if fill_solutions else block.stub(root)
    cells = [
        nbformat.v4.new_markdown_cell(
            f"*{block.heading()}.* Write your `{block.name}` in the next cell, run it, then run the check."
        ),
        nbformat.v4.new_code_cell(code),
        nbformat.v4.new_code_cell(f"check({block.name})"),
    ]
    folded = []
    if block.hint:
        folded.append(f"<details><summary>Hint</summary>\n\n{block.hint}\n\n</details>")
    folded.append(f"<details><summary>Solution</summary>\n\n```python\n{block.solution(root)}\n```\n\n</details>")
    cells.append(nbformat.v4.new_markdown_cell("\n\n".join(folded)))
    return cells


def chapter_to_notebook(
    chapter: Path,
    *,
    root: Path = REPO_ROOT,
    fill_solutions: bool = False,
    executed: dict | None = None,
) -> nbformat.NotebookNode:
    """Build the Colab notebook of one chapter (`fill_solutions` puts the reference in the exercise cells)."""
    import jupytext

    source = jupytext.read(chapter, fmt="md:myst")
    glued = _glue_values(executed)
    figures = {}
    for cell in source.cells:
        name = cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
        if cell.cell_type == "code" and name:
            figures[name] = len(figures) + 1

    cells = []
    set_up = [
        nbformat.v4.new_code_cell(install_source(root), metadata={"tags": ["colab-install"]}),
        nbformat.v4.new_code_cell("from glassbox.checking import check"),
    ]
    imported: set[str] = set()
    for cell in source.cells:
        if cell.cell_type == "markdown":
            position = 0
            for match in EXERCISE_RE.finditer(cell.source):
                before = cell.source[position : match.start()].strip()
                if before:
                    cells.append(nbformat.v4.new_markdown_cell(myst_to_markdown(before, glued, figures)))
                block = parse_exercise(match["target"], match["body"])
                if block.module not in imported:
                    imports = module_imports(root / "exercises" / f"{block.module}.py")
                    cells.append(nbformat.v4.new_code_cell(f"# What the exercises below use\n{imports}"))
                    imported.add(block.module)
                cells += exercise_cells(block, fill_solutions, root)
                position = match.end()
            rest = cell.source[position:].strip()
            if rest:
                cells.append(nbformat.v4.new_markdown_cell(myst_to_markdown(rest, glued, figures)))
            if set_up:  # the set-up cells go right under the title
                cells += set_up
                set_up = []
        elif cell.cell_type == "code":
            figure = cell.metadata.get("mystnb", {}).get("figure")
            cells.append(nbformat.v4.new_code_cell(cell.source))
            if figure:
                caption = myst_to_markdown(str(figure.get("caption", "")).strip(), glued, figures)
                cells.append(nbformat.v4.new_markdown_cell(f"**Figure {figures[figure['name']]}.** {caption}"))
    notebook = nbformat.v4.new_notebook(cells=set_up + cells)
    notebook.metadata.update(
        {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "colab": {"provenance": []},
        }
    )
    return notebook


def toc_chapters(root: Path = REPO_ROOT) -> list[Path]:
    """Every chapter file listed in _toc.yml under book/, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [root / f"{f}.md" for f in files if f.startswith("book/")]


def executed_notebook(chapter: Path, cache_path: Path) -> dict | None:
    """The chapter with the outputs of its last executed build (from jupyter-cache), or None if it has none."""
    import jupytext
    from jupyter_cache import get_cache

    try:
        _, merged = get_cache(cache_path).merge_match_into_notebook(jupytext.read(chapter, fmt="md:myst"))
    except KeyError:  # never executed with these cells
        return None
    return merged


def build_all(out: Path, root: Path = REPO_ROOT, cache_path: Path | None = None) -> list[Path]:
    """Write the Colab notebook of every chapter under `out`, mirroring the book's folders.

    With the book's execution cache, glued numbers are written into the prose as the site shows them.
    """
    written = []
    for chapter in toc_chapters(root):
        executed = executed_notebook(chapter, cache_path) if cache_path else None
        notebook = chapter_to_notebook(chapter, root=root, executed=executed)
        target = out / chapter.relative_to(root).with_suffix(".ipynb")
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
    args = parser.parse_args()
    for path in build_all(args.out, cache_path=args.cache if args.cache.exists() else None):
        print(path)


if __name__ == "__main__":
    main()
