"""Chapter 10, "Interventions": each exercise against the hidden reference, PyTorch, and edge cases."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch10_interventions"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
