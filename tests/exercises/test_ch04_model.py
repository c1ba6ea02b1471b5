"""Chapter 4, "The full model": each exercise against the hidden reference, our model and TransformerLens, and edge cases."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch04_model"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
