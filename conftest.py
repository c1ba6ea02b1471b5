"""Pytest options for the whole suite: `--impl` chooses whose exercise code the exercise tests check."""

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

collect_ignore = ["_build", ".venv", "book", "exercises", "solutions", "code"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--impl",
        default="solutions",
        help="whose exercise code to check: 'solutions' (default, what CI runs), 'exercises' (the stubs you fill "
        "in), any importable module or package (e.g. my_answers), or a path to a .py file",
    )


def load_implementation(impl: str, chapter: str) -> ModuleType:
    """The module holding the functions of `chapter` (e.g. "ch01_attention") for the `--impl` choice."""
    if impl.endswith(".py"):
        path = Path(impl).resolve()
        if not path.is_file():
            raise pytest.UsageError(f"--impl {impl}: no such file")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(f"{impl}.{chapter}")
    except ModuleNotFoundError as error:
        if error.name not in (f"{impl}.{chapter}", impl):
            raise
    try:
        return importlib.import_module(impl)  # a single module holding the reader's functions
    except ModuleNotFoundError:
        raise pytest.UsageError(f"--impl {impl}: cannot import {impl!r} or {impl}.{chapter}") from None


@pytest.fixture
def implementation(request: pytest.FixtureRequest):
    """Return `chapter -> module` for the implementation chosen with `--impl`."""
    impl = request.config.getoption("--impl")
    return lambda chapter: load_implementation(impl, chapter)
