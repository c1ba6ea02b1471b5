"""Chapter 12, "GPT-2 small": each exercise against the hidden reference, an independent version, and its properties."""

import pytest

from glassbox.checks import exercises_of


@pytest.mark.parametrize("exercise", exercises_of("ch12_gpt2"), ids=lambda ex: ex.name)
def test_exercise(exercise, passes):
    passes(exercise)
