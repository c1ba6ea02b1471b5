"""The layers of the code, enforced (issue: a library readers can use). A module may import its own layer and the
layers below it, never one above:

    library    glassbox.*  (model, training, text, analysis, features, rules, plots, pretrained): knows nothing of
               the exercises, their checks or the book
    checking   glassbox.checking.* and glassbox.yours: the exercise checks and quizzes; may read the reference
               solutions and the stubs (glassbox_solutions, glassbox_exercises)
    answers    glassbox_exercises, glassbox_solutions: the stubs and the reference solutions, written with the library
    build      glassbox_build (../tools): the book's build machinery, never installed for readers

The import-graph test (tests/test_layers.py) checks for cycles; this one checks direction.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "glassbox": ROOT / "code" / "glassbox",
    "glassbox_exercises": ROOT / "exercises",
    "glassbox_solutions": ROOT / "solutions",
    "glassbox_build": ROOT / "tools" / "glassbox_build",
}
RANK = {"library": 0, "answers": 1, "checking": 2, "build": 3}
MAY_IMPORT = {
    "library": {"library"},
    "answers": {"library", "answers"},
    "checking": {"library", "answers", "checking"},
    "build": {"library", "answers", "checking", "build"},
}


def layer(module: str) -> str | None:
    """The layer of a module of ours by its dotted name, None for anything else (the standard library, torch...)."""
    top = module.split(".")[0]
    if top == "glassbox_build":
        return "build"
    if top in ("glassbox_exercises", "glassbox_solutions"):
        return "answers"
    if module == "glassbox.yours" or module == "glassbox.checking" or module.startswith("glassbox.checking."):
        return "checking"
    return "library" if top == "glassbox" else None


def imports(source: str, package: str) -> set[str]:
    """The modules a file imports, anywhere in it (an import inside a function is an edge too)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if layer(f"{base}.{alias.name}") != layer(base)}
    return found


def forbidden(module: str, source: str, package: str) -> list[str]:
    """The imports of `module` that reach a layer it may not import."""
    own = layer(module)
    return sorted(name for name in imports(source, package) if layer(name) and layer(name) not in MAY_IMPORT[own])


def modules() -> list[tuple[str, Path]]:
    found = []
    for top, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            dotted = ".".join((top, *parts[:-1])) if parts[-1] == "__init__" else ".".join((top, *parts))
            found.append((dotted, path))
    return found


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_no_module_imports_a_layer_above_its_own(module, path):
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    assert not forbidden(module, path.read_text(), package), f"{module} imports above its layer"


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("glassbox.model", "from glassbox.checking import check"),
        ("glassbox.plots.core", "import glassbox_build.book"),
        ("glassbox.train", "def f():\n    from glassbox_solutions.ch05_training import train_step"),
        ("glassbox.sampling", "from glassbox import yours"),
        ("glassbox_solutions.ch01_attention", "from glassbox.checking.judge import Case"),
        ("glassbox.checking.judge", "from glassbox_build.notebooks import glue"),
    ],
)
def test_the_layer_test_fails_on_a_forbidden_import(module, line):
    assert forbidden(module, line, module.rpartition(".")[0]), f"{module}: {line!r} should be refused"


def test_allowed_imports_pass():
    assert not forbidden("glassbox_build.notebooks", "from glassbox.checking import check", "glassbox_build")
    assert not forbidden("glassbox.checking.judge", "from glassbox.model import Transformer", "glassbox.checking")
    assert not forbidden("glassbox.yours", "from glassbox_solutions import ch03_components", "glassbox")
    assert not forbidden("glassbox.rules.cli", "from . import settings", "glassbox.rules")
