"""Turn the book's chapters (MyST markdown) into Colab notebooks with editable exercises and check cells.

Each chapter gets two notebooks: `chNN_topic.ipynb`, whose exercises are editable stubs each followed by a
`check(...)` cell, and `chNN_topic_solutions.ipynb`, the same with every stub filled in; each links to the other.
Both start with an install cell (the pinned packages from requirements.txt and the book's code at the commit the
notebook was built from), then the chapter's cells, with hint and solution folded away in `<details>`. MyST-only
syntax (glue roles, admonitions, cross-references) is rewritten into plain Jupyter markdown, with links to the
published pages.

    python -m glassbox.notebooks --out _build/colab        # every chapter in _toc.yml
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GLUE_PREFIX = "application/papermill.record/"  # what myst-nb looks for in a cell's outputs
SOLUTIONS_SUFFIX = "_solutions"  # chNN_topic_solutions.ipynb: the chapter with every exercise filled in


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
    """The pins a chapter needs at run time: the library section of requirements.txt.

    Colab keeps its own torch (pinned on the first line, outside every section) and its own kernel packages (IPython,
    ipywidgets: a section of their own), which its running kernel depends on.
    """
    pins, section = [], None
    for line in requirements.read_text().splitlines():
        if line.startswith("# ---"):
            section = line
        elif line and not line.startswith("#") and section and "library" in section:
            pins.append(line.split("#")[0].strip())
    return pins


def book_config(root: Path = REPO_ROOT) -> dict[str, Any]:
    return yaml.safe_load((root / "_config.yml").read_text())


def colab_branch(root: Path = REPO_ROOT) -> str:
    """The branch the workflow publishes the notebooks to, named once in _config.yml (`glassbox_colab_branch`)."""
    return book_config(root)["sphinx"]["config"]["glassbox_colab_branch"]


def colab_url(docname: str, root: Path = REPO_ROOT, solutions: bool = False) -> str:
    """Where Colab opens the notebook of a page (`book/part1/ch01_attention`) from the published branch."""
    github = book_config(root)["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    suffix = SOLUTIONS_SUFFIX if solutions else ""
    return f"https://colab.research.google.com/github/{github}/blob/{colab_branch(root)}/{docname}{suffix}.ipynb"


def site_url(root: Path = REPO_ROOT) -> str:
    """The published site's address (`html.baseurl` in _config.yml), ending in a slash."""
    return book_config(root)["html"]["baseurl"].rstrip("/") + "/"


def book_revision(root: Path = REPO_ROOT) -> str:
    """The commit the notebooks are built from (git's HEAD): the install cell installs exactly that code."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        raise RuntimeError(f"{root} is not a git checkout, so there is no commit for the install cell: {error}") from None


INSTALL_CELL = """# Colab set-up, once per session (about {minutes} minutes): installs the book's code as of commit {short} and the
# packages it pins, then restarts Python so it loads them (Colab reports a crash: that is the restart). Then run the
# notebook again from the top: this cell does nothing the second time, nor outside Colab.
import importlib.metadata, json, os, subprocess, sys

REPOSITORY, REVISION = "{url}", "{revision}"
PINS = {pins}


def book_installed() -> bool:
    \"\"\"True when the book's code at REVISION and every pinned package are what is installed.\"\"\"
    try:
        source = json.loads(importlib.metadata.distribution("glassbox").read_text("direct_url.json") or "{{}}")
        versions = [importlib.metadata.version(pin.split("==")[0]) == pin.split("==")[1] for pin in PINS]
    except importlib.metadata.PackageNotFoundError:
        return False
    return source.get("vcs_info", {{}}).get("commit_id") == REVISION and all(versions)


if "google.colab" in sys.modules and not book_installed():
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *PINS], check=True)
    subprocess.run([*pip, "--no-deps", "--force-reinstall", f"git+{{REPOSITORY}}@{{REVISION}}#subdirectory=code"],
                   check=True)
    print("Installed. Restarting Python so that it loads the new packages: now run the notebook again from the top.")
    os.kill(os.getpid(), 9)"""
INSTALL_MINUTES = 2  # measured by tests/colab_simulation.py, which prints the install cell's time


def install_source(root: Path = REPO_ROOT, revision: str | None = None) -> str:
    """The first cell of every Colab notebook: install the pinned packages and the book's code at `revision`."""
    revision = revision or book_revision(root)
    pins = "[\n" + "".join(f"    {pin!r},\n" for pin in colab_requirements(root / "requirements.txt")) + "]"
    return INSTALL_CELL.format(minutes=INSTALL_MINUTES, short=revision[:7], url=book_config(root)["repository"]["url"],
                               revision=revision, pins=pins)


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


def myst_to_markdown(
    text: str, glued: dict[str, str], figures: dict[str, int], links: BookLinks | None = None, here: str = ""
) -> str:
    """Rewrite the MyST-only parts of a markdown cell into Jupyter markdown (`here`: the page's docname)."""

    def glue_text(match: re.Match) -> str:
        name, _, spec = match[1].partition(":")
        return _format_glued(glued[name], spec) if name in glued else f"`{name}`"

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


def companion_note(docname: str, fill_solutions: bool, root: Path = REPO_ROOT) -> str:
    """The line under the title linking the exercise notebook and its solutions notebook to each other."""
    if fill_solutions:
        return (f"*This is the solutions notebook: every exercise is filled in. To write them yourself, open "
                f"[the exercise notebook]({colab_url(docname, root)}).*")
    return (f"*The exercises below are yours to fill in, each followed by a check. Stuck? "
            f"[The solutions notebook]({colab_url(docname, root, solutions=True)}) has every one filled in.*")


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
    here = chapter.relative_to(root).with_suffix("").as_posix()
    links = links or BookLinks.of_book(root)
    glued = _glue_values(executed)
    figures = links.figures

    def markdown(text: str) -> str:
        return myst_to_markdown(text, glued, figures, links, here)

    has_exercises = any(EXERCISE_RE.search(c.source) for c in source.cells if c.cell_type == "markdown")
    set_up = [nbformat.v4.new_code_cell(install_source(root, revision), metadata={"tags": ["colab-install"]})]
    if has_exercises:
        set_up = [nbformat.v4.new_markdown_cell(companion_note(here, fill_solutions, root)), *set_up,
                  nbformat.v4.new_code_cell("from glassbox.checking import check")]
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
                    imports = module_imports(root / "exercises" / f"{block.module}.py")
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
            notebook = chapter_to_notebook(chapter, root=root, executed=executed, revision=revision, links=links,
                                           fill_solutions=solutions)
            if solutions and not any(c.source.startswith("check(") for c in notebook.cells):
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
