"""Chapter 1, "Attention by hand": each exercise against the hidden reference, PyTorch, and edge cases."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch01_attention"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
