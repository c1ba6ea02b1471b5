"""Chapter 3, "Components": each exercise against the hidden reference, TransformerLens on the same weights, and edge cases."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch03_components"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
