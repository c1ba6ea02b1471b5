"""Chapter 5, "Training a small language model": each exercise against the hidden reference, PyTorch, and edge cases."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch05_training"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
