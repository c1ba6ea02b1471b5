"""The library's layers import downward only: the import graph of glassbox is a DAG, and every module imports alone.

Imports inside functions count as edges too: a lazy import that hides a cycle is still a cycle.
"""

from __future__ import annotations

import ast
import importlib
import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # imports every module in a process of its own

PACKAGE = Path(__file__).resolve().parents[1] / "code" / "glassbox"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def imported_modules(name: str, path: Path) -> set[str]:
    """The glassbox modules `name` imports anywhere in its file (resolved to modules, not names inside them)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                found.add(target)  # a module importing its own package's __init__ is not an edge
    return found


def test_the_import_graph_is_a_dag():
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                cycles.append(trail[trail.index(child) :] + [node, child] if child in trail else [node, child])
            elif child not in state:
                visit(child, trail + [node])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_every_module_imports_alone():
    """Each module imported first in a fresh child process (third-party packages preloaded once, to be quick)."""
    for heavy in ("torch", "numpy", "matplotlib.pyplot", "transformer_lens", "einops", "jaxtyping", "yaml"):
        importlib.import_module(heavy)
    failures = []
    for name in MODULES:
        if name.endswith(".__main__"):
            continue  # runs a command line when imported
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: no glassbox module loaded yet
            os.close(read)
            for loaded in [m for m in sys.modules if m == "glassbox" or m.startswith("glassbox.")]:
                del sys.modules[loaded]
            try:
                importlib.import_module(name)
                message = b""
            except BaseException as error:  # noqa: BLE001 — reported to the parent, which fails the test
                message = f"{type(error).__name__}: {error}".encode()
            os.write(write, message)
            os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            message = pipe.read().decode()
        os.waitpid(pid, 0)
        if message:
            failures.append(f"{name}: {message}")
    assert not failures, "\n".join(failures)


def test_no_module_is_far_past_one_concept_without_saying_why():
    """~300 lines per module; a longer one states its reason in its docstring ("Longer than 300 lines: …")."""
    long = [
        name
        for name, path in MODULES.items()
        if len(path.read_text().splitlines()) > 320
        and "Longer than 300 lines" not in (ast.get_docstring(ast.parse(path.read_text())) or "")
    ]
    assert not long, f"modules over 300 lines without a stated reason: {long}"
