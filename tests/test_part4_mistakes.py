"""The learner's mistakes written into Parts IV–V's newer exercises (each `Exercise.mistakes` variant) fail their
check with one line, and that line names the mistake (that the reference passes them is
tests/exercises/test_exercises.py's test, not repeated here)."""

import pytest
from glassbox.checking.checks import EXERCISES
from glassbox.checking.judge import run_checks

NEW_EXERCISES = [
    "logit_diff_attribution",
    "eigenvalue_copying_score",
    "attribution_patch_estimate",
    "top_activating_contexts",
    "add_edge",
    "patch_head_input",
    "repeated_induction_scores",
    "logit_difference",
    "path_patch_frozen",
    "attention_score_parts",
    "probe_selectivity",
]
CASES = [(name, reason) for name in NEW_EXERCISES for reason in EXERCISES[name].mistakes]


@pytest.mark.parametrize(("name", "reason"), CASES, ids=[f"{n}: {r[:40]}" for n, r in CASES])
def test_each_learner_mistake_fails_with_its_reason(name, reason):
    exercise = EXERCISES[name]
    failures = [result for result in run_checks(exercise.mistakes[reason], exercise, 5.0) if not result.passed]
    assert failures, f"{name}: the mistake {reason!r} passed its check"
    assert reason in str(failures[0]) and "\n" not in str(failures[0]), f"{name}: {failures[0]}"
