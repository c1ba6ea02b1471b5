"""Chapter 7, "A gallery of rules": the lucky7 verifier against the reference and glassbox.tasks, the generator by
the properties every right answer shares."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch07_gallery"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
