"""Pytest options for the whole suite: `--impl` chooses whose exercise code the exercise tests check, and
`--time-limit` how long one call of it may run.

A wrong `--impl` (no such file or module, a syntax error, an import that fails) is one line: the whole run stops
with it when the module named cannot be loaded at all, and each exercise of a chapter module that cannot be
imported fails with it (imported once a session).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType

import pytest
import torch
from glassbox.checking.judge import TIME_LIMIT
from glassbox.checking.time_limit import TimeLimitExceeded, call_with_time_limit

IMPORT_TIME_LIMIT = 60.0  # seconds to import the reader's module (torch and friends included)
collect_ignore = ["_build", ".venv", "book", "exercises", "solutions", "code", "mutants"]


class ImplementationError(Exception):
    """The `--impl` module (or one chapter module of it) cannot be loaded; the message is one line."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--impl",
        default="solutions",
        help="whose exercise code to check: 'solutions' (default, what CI runs), 'exercises' (the stubs you fill "
        "in), any importable module or package (e.g. my_answers), or a path to a .py file; several, separated by "
        "commas, are each checked",
    )
    parser.addoption(
        "--time-limit",
        type=float,
        default=TIME_LIMIT,
        help=f"seconds one call of the checked code may run before it counts as an infinite loop (default "
        f"{TIME_LIMIT:g})",
    )


def _why(error: BaseException, impl: str) -> str:
    """One line for an import that failed: the error, and where in the reader's file when it is there."""
    if isinstance(error, SyntaxError):
        return f"{error.filename}, line {error.lineno}: SyntaxError: {error.msg}"
    if isinstance(error, TimeLimitExceeded):
        return f"--impl {impl}: importing it was {error} (a loop at the top level of the file?)"
    text = str(error).strip().splitlines()
    what = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if "importlib" not in f.filename and f.filename != __file__
    ]
    where = f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    return f"--impl {impl}: importing it raised {what}{where}"


@functools.cache
def _load_file(impl: str) -> ModuleType:
    path = Path(impl).resolve()
    if not path.is_file():
        raise ImplementationError(f"--impl {impl}: no such file")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses and pickling look their module up by name
    try:
        call_with_time_limit(spec.loader.exec_module, IMPORT_TIME_LIMIT, module)
    except (Exception, TimeLimitExceeded) as error:  # the reader's file: any error is one line
        del sys.modules[path.stem]
        raise ImplementationError(_why(error, impl)) from None
    return module


@functools.cache
def _import(name: str, impl: str) -> ModuleType:
    try:
        return call_with_time_limit(importlib.import_module, IMPORT_TIME_LIMIT, name)
    except ModuleNotFoundError as error:
        if error.name is not None and (name == error.name or name.startswith(error.name + ".")):
            raise  # the module itself is not there: the caller decides what that means
        raise ImplementationError(_why(error, impl)) from None
    except (Exception, TimeLimitExceeded) as error:  # the reader's module: any error is one line
        raise ImplementationError(_why(error, impl)) from None


_FAILED: dict[tuple[str, str], ImplementationError] = {}  # tried once a session: a broken import is not re-run


def load_implementation(impl: str, chapter: str) -> ModuleType:
    """The module holding the functions of `chapter` (e.g. "ch01_attention") for the `--impl` choice; raises
    ImplementationError (one line) when it cannot be loaded."""
    if (impl, chapter) in _FAILED:
        raise _FAILED[impl, chapter]
    try:
        return _load(impl, chapter)
    except ImplementationError as error:
        _FAILED[impl, chapter] = error
        raise


def _load(impl: str, chapter: str) -> ModuleType:
    if impl.endswith(".py"):
        return _load_file(impl)
    try:
        return _import(f"{impl}.{chapter}", impl)
    except ModuleNotFoundError:
        pass
    try:
        return _import(impl, impl)  # a single module holding the reader's functions
    except ModuleNotFoundError:
        raise ImplementationError(
            f"--impl {impl}: no module or package named {impl!r} here (run pytest from the repository, or give a "
            "path to a .py file)"
        ) from None


def implementations(config: pytest.Config) -> list[str]:
    """The `--impl` choices (one, or several separated by commas)."""
    chosen = [impl.strip() for impl in config.getoption("--impl", default="solutions").split(",") if impl.strip()]
    return [ALIASES.get(impl, impl) for impl in chosen]


ALIASES = {"solutions": "glassbox_solutions", "exercises": "glassbox_exercises"}  # the installed packages' names


def pytest_configure(config: pytest.Config) -> None:
    """Share the cores among pytest-xdist workers; stop at once, in one line, when an `--impl` module cannot be
    loaded at all."""
    config.addinivalue_line("markers", "xdist_group(name): pytest-xdist runs the group's tests on one worker")
    _share_cores()
    try:
        for impl in implementations(config):
            if impl.endswith(".py"):
                _load_file(impl)
            elif importlib.util.find_spec(impl.split(".")[0]) is None:
                raise ImplementationError(
                    f"--impl {impl}: no module or package named {impl!r} here (run pytest from the repository, or "
                    "give a path to a .py file)"
                )
    except ImplementationError as error:
        raise pytest.UsageError(str(error)) from None


def _share_cores() -> None:
    """In a pytest-xdist worker, compute with this worker's share of the cores (one each on two cores, `make test`).
    Each worker's PyTorch would otherwise start a thread per core: two workers on two cores then run four busy
    threads, and the small operations of a probe's or a tiny model's training wait on each other's spinning threads,
    up to a hundred times slower (CI saw chapter 15's selectivity check, 0.1 s alone, pass its 10 s limit)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers:
        share = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = str(share)  # the subprocesses a test starts (notebooks, the CLI) too
        torch.set_num_threads(share)


# Tests that need the same trained model run on one pytest-xdist worker, one after the other (`make test` runs
# `-n 2 --dist loadgroup`): the first trains it into the run's shared cache, the next ones load it, instead of each
# worker training it at the same time. Without xdist the marks do nothing.
SHARED_MODELS = {
    "chapter 5's model": (
        "tests/test_readme.py::test_use_the_library_snippet_runs_and_prints_what_it_promises",
        "tests/test_pretrained.py::test_chapter_12_runs_end_to_end_on_a_gpt2",
    ),
    "the induction model": (
        "tests/test_analysis_attention.py::test_detection_finds_the_heads_the_induction_model_trains",
        "tests/test_analysis_circuits.py::test_k_composition_circuit_equals_its_product_and_is_diagonal_for_the_"
        "induction_model",
    ),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    group_of = {test: group for group, tests in SHARED_MODELS.items() for test in tests}
    for item in items:
        group = group_of.get(item.nodeid.split("[")[0])
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory):
    """Every test session trains into a model cache of its own, never the developer's `$GLASSBOX_CACHE`: a stale or
    corrupt model there would make a test pass on old weights, or fail for a reason outside the code. A model a
    test needs is trained once a session and reused by the tests after it (subprocesses inherit the variable). Under
    pytest-xdist the workers of one run share one cache (the run's temporary folder), so a model one worker trained
    is loaded by the other (the cache writes atomically)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.getbasetemp().parent / "glassbox-cache"  # the run's folder, above each worker's
        folder.mkdir(exist_ok=True)
    else:
        folder = tmp_path_factory.mktemp("glassbox-cache")
    before = os.environ.get("GLASSBOX_CACHE")
    os.environ["GLASSBOX_CACHE"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("GLASSBOX_CACHE", None)
    else:
        os.environ["GLASSBOX_CACHE"] = before


@pytest.fixture
def time_limit(request: pytest.FixtureRequest) -> float:
    """Seconds one call of the checked code may run (`--time-limit`)."""
    return request.config.getoption("--time-limit")
