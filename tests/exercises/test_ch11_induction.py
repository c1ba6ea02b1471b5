"""Chapter 11, "Induction heads, trained here": each exercise against the hidden reference, PyTorch, and edge cases."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch11_induction"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
