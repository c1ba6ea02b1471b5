"""Every exercise of the book, one test each: the implementation chosen with `--impl` passes every check of its
exercise (the same `run_checks` as `check(...)` in a notebook), or the test fails with the first failing check's
one-line reason. Select one exercise with `-k "[name]"`, e.g. `-k "[gelu]"` (the brackets keep `gelu_tanh` out)."""

import pytest

from conftest import ImplementationError
from glassbox.checks import EXERCISES
from glassbox.judge import run_checks


@pytest.mark.parametrize("exercise", list(EXERCISES.values()), ids=lambda ex: ex.name)
def test_exercise(exercise, implementation, time_limit):
    try:
        module = implementation(exercise.module)
    except ImplementationError as error:
        pytest.fail(str(error), pytrace=False)
    answer = getattr(module, exercise.name, None)
    if answer is None:
        pytest.fail(f"{module.__name__} has no `{exercise.name}`: name your function as in the exercise", pytrace=False)
    failures = [result for result in run_checks(answer, exercise, time_limit) if not result.passed]
    if failures:
        pytest.fail(f"{exercise.name} — {failures[0]}", pytrace=False)
