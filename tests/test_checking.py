"""The exercise harness reports each kind of mistake in one sentence, in the documented order."""

import math
from dataclasses import replace

import pytest
import torch

from glassbox.checking import CheckResult, check, find_exercise, run_checks
from glassbox.checks import EXERCISES, exercises_of
from solutions.ch01_attention import scaled_dot_product_attention as reference_sdpa
from solutions.ch02_positions import layer_norm as reference_layer_norm

SDPA = find_exercise("scaled_dot_product_attention")


def first_failure(fn, exercise=SDPA) -> str:
    failures = [r for r in run_checks(fn, exercise) if not r.passed]
    assert failures, "expected at least one failing check"
    return failures[0].reason


def test_reference_passes_every_check_including_independent_implementations():
    results = run_checks(reference_sdpa, SDPA)
    assert all(r.passed for r in results)
    assert any(r.check.startswith("agrees with torch.nn.functional") for r in results)


def test_not_implemented_is_reported_once():
    def stub(q, k, v):
        raise NotImplementedError()

    results = run_checks(stub, SDPA)
    assert len(results) == 1 and "not implemented yet" in results[0].reason


def test_returned_none():
    assert "returned None" in first_failure(lambda q, k, v: None)


def test_wrong_type_and_shape_and_dtype():
    assert "expected a torch.Tensor, got list" in first_failure(lambda q, k, v: [1.0])
    assert first_failure(lambda q, k, v: reference_sdpa(q, k, v).transpose(-2, -1)).startswith("wrong shape: expected (2, 3, 5, 8), got (2, 3, 8, 5)")
    assert "wrong dtype: expected torch.float32, got torch.float64" in first_failure(lambda q, k, v: reference_sdpa(q, k, v).double())


def test_nan_from_overflowing_exp_is_named():
    def naive(q, k, v):
        scores = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).exp()
        return scores / scores.sum(-1, keepdim=True) @ v

    assert "output contains NaN" in first_failure(naive)


def test_input_modified_in_place():
    def in_place(q, k, v):
        q /= math.sqrt(q.shape[-1])
        return (q @ k.transpose(-2, -1)).softmax(-1) @ v

    assert "argument 1 was modified in place" in first_failure(in_place)


def test_values_differ_names_index_and_the_likely_mistake():
    reason = first_failure(lambda q, k, v: (q @ k.transpose(-2, -1)).softmax(-1) @ v)
    assert reason.startswith("values differ: max abs diff")
    assert "at index (" in reason and "did you forget to divide the scores by √d_head?" in reason


def test_epsilon_outside_the_root_is_named():
    def eps_outside(x, w, b, eps=1e-5):
        centred = x - x.mean(-1, keepdim=True)
        return centred / (centred.pow(2).mean(-1, keepdim=True).sqrt() + eps) * w + b

    assert "epsilon inside the square root" in first_failure(eps_outside, find_exercise("layer_norm"))


def test_unknown_mistake_still_reports_the_difference():
    reason = first_failure(lambda q, k, v: reference_sdpa(q, k, v) + 0.5)
    assert reason.startswith("values differ: max abs diff 0.5") and "—" not in reason


def test_exception_is_named_in_one_line():
    def broken(q, k, v):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied\nsecond line")

    reason = first_failure(broken)
    assert reason == "raised RuntimeError: mat1 and mat2 shapes cannot be multiplied"


def test_property_failure_is_reported():
    assert "upper triangle" in first_failure(lambda n: torch.ones(n, n, dtype=torch.bool), find_exercise("causal_mask"))


def test_disagreement_with_an_independent_implementation_fails():
    lying = replace(
        find_exercise("layer_norm"),
        agrees_with={"a shifted layer norm": lambda x, w, b: reference_layer_norm(x, w, b) + 1},
    )
    results = run_checks(reference_layer_norm, lying)
    assert not results[-1].passed and results[-1].check == "agrees with a shifted layer norm"


def test_check_prints_one_line_per_case_and_a_verdict(capsys):
    check(reference_sdpa)
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith("PASS  ") for line in lines[:-1])
    assert lines[-1] == "scaled_dot_product_attention: all checks passed."


def test_unknown_exercise_is_a_clear_error():
    with pytest.raises(ValueError, match="no exercise named 'attention'"):
        check(lambda: None, exercise="attention")
    with pytest.raises(ValueError, match="no exercises for module 'ch99'"):
        exercises_of("ch99")


def test_result_formatting():
    assert str(CheckResult("case", False, "why")) == "FAIL  case: why"
    assert str(CheckResult("case", True)) == "PASS  case"


def test_every_exercise_has_edge_cases():
    for exercise in EXERCISES.values():
        assert len(exercise.cases()) >= 3, exercise.name
