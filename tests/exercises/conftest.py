"""The one assertion every exercise test makes: the chosen implementation passes every check of its exercise."""

import pytest

from glassbox.checking import Exercise, run_checks


@pytest.fixture
def passes(implementation):
    """`passes(exercise)` fails the test with the first failing check's one-line reason."""

    def assert_passes(exercise: Exercise) -> None:
        module = implementation(exercise.module)
        fn = getattr(module, exercise.name, None)
        if fn is None:
            pytest.fail(f"{module.__name__} has no `{exercise.name}`: name your function as in the exercise", pytrace=False)
        failures = [result for result in run_checks(fn, exercise) if not result.passed]
        if failures:
            pytest.fail(f"{exercise.name} — {failures[0]}", pytrace=False)

    return assert_passes
