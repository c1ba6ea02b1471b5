"""Chapter 6, "A transformer you can see": each exercise against the hidden reference, PyTorch, and edge cases."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch06_glass_box"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
