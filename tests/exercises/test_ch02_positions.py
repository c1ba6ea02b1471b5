"""Chapter 2, "Positions, GELU and LayerNorm": each exercise against the hidden reference, PyTorch, TransformerLens, and edge cases."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch02_positions"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
