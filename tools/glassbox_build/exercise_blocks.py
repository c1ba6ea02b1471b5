"""The `{exercise} module.function` blocks of a chapter: which stub and which solution, how hard, how long, the hint.

One parser for both places an exercise is shown: the site (book/_ext/glassbox_book.py renders the stub, the hint
and the folded solution) and the Colab notebooks (`glassbox_build.notebooks`: an editable stub and a `check(...)` cell).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

from glassbox_build.book import REPO_ROOT


def object_source(path: Path, name: str) -> str:
    """The source code of the top-level function or class `name` in the Python file `path`."""
    text = Path(path).read_text()
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            return "\n".join(text.splitlines()[start - 1 : node.end_lineno])
    raise ValueError(f"{path} has no top-level function or class named {name!r}")


def module_imports(*paths: Path) -> str:
    """The top-level import statements of Python files (each statement once), which their functions need in a
    notebook: the stubs' module, and for a solutions notebook the solutions' module too."""
    statements: list[str] = []
    for path in paths:
        text = Path(path).read_text()
        lines = text.splitlines()
        for node in ast.parse(text).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                statement = "\n".join(lines[node.lineno - 1 : node.end_lineno])
                if statement not in statements:
                    statements.append(statement)
    return "\n".join(statements)


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

    def reference(self) -> object:
        """The reference solution itself (a solution module may re-export the library's own code, as chapter 3 does)."""
        reference = getattr(importlib.import_module(f"glassbox_solutions.{self.module}"), self.name, None)
        if reference is None:
            raise ValueError(f"solutions/{self.module}.py has no {self.name!r}")
        return reference

    def solution(self, root: Path = REPO_ROOT) -> str:
        """The reference's source."""
        return inspect.getsource(self.reference()).rstrip()

    def solution_file(self) -> Path:
        """The file that defines the reference (whose imports its source needs to run)."""
        return Path(inspect.getsourcefile(inspect.unwrap(self.reference())))  # not a checking wrapper

    def heading(self) -> str:
        stars = "★" * self.difficulty + "☆" * (3 - self.difficulty)
        return f"Difficulty {stars} · about {self.minutes} minutes"


EXERCISE_RE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{exercise\}\s+(?P<target>\S+)\n(?P<body>.*?)^(?P=fence)\s*$", re.M | re.S
)


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
