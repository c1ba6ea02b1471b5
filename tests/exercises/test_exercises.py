"""Every exercise of the book, one test each: the implementation chosen with `--impl` passes every check of its
exercise (the same `run_checks` as `check(...)` in a notebook), or the test fails with the first failing check's
one-line reason. Select one exercise with `-k "[name]"`, e.g. `-k "[gelu]"` (the brackets keep `gelu_tanh` out).
With several implementations (`--impl a,b`) each is checked, as `test_exercise[name@a]`."""

import pytest
from glassbox.checking.checks import EXERCISES
from glassbox.checking.judge import run_checks

from conftest import ImplementationError, implementations, load_implementation


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    impls = implementations(metafunc.config)
    params = [(impl, exercise) for impl in impls for exercise in EXERCISES.values()]
    ids = [exercise.name if len(impls) == 1 else f"{exercise.name}@{impl}" for impl, exercise in params]
    metafunc.parametrize(("impl", "exercise"), params, ids=ids)


def test_exercise(impl, exercise, time_limit):
    try:
        module = load_implementation(impl, exercise.module)
    except ImplementationError as error:
        pytest.fail(str(error), pytrace=False)
    answer = getattr(module, exercise.name, None)
    if answer is None:
        pytest.fail(f"{module.__name__} has no `{exercise.name}`: name your function as in the exercise", pytrace=False)
    failures = [result for result in run_checks(answer, exercise, time_limit) if not result.passed]
    if failures:
        pytest.fail(f"{exercise.name} — {failures[0]}", pytrace=False)
