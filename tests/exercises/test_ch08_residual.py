"""Chapter 8, "The residual stream": each exercise against the hidden reference, PyTorch, and edge cases."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch08_residual"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
