"""The exercise harness reports each kind of mistake in one sentence, in the documented order."""

import math
import re
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from glassbox.checking import CheckResult, check, find_exercise, run_checks
from glassbox.checking.checks import EXERCISES, exercises_of
from glassbox_solutions.ch01_attention import scaled_dot_product_attention as reference_sdpa
from glassbox_solutions.ch02_positions import layer_norm as reference_layer_norm

SDPA = find_exercise("scaled_dot_product_attention")
CHECKS = Path(__file__).resolve().parents[1] / "code" / "glassbox" / "checking" / "checks"


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
    assert first_failure(lambda q, k, v: reference_sdpa(q, k, v).transpose(-2, -1)).startswith(
        "wrong shape: expected (2, 3, 5, 8), got (2, 3, 8, 5)"
    )
    assert "wrong dtype: expected torch.float32, got torch.float64" in first_failure(
        lambda q, k, v: reference_sdpa(q, k, v).double()
    )


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
    assert len(lines) == len(SDPA.cases()) + len(SDPA.agrees_with) + 1


def test_unknown_exercise_is_a_clear_error(capsys):
    check(lambda: None, exercise="attention")
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("check: no exercise named 'attention'; exercises are: Attention, Block")
    with pytest.raises(ValueError, match="no exercise named 'attention'"):
        find_exercise("attention")
    with pytest.raises(ValueError, match="no exercises for module 'ch99'"):
        exercises_of("ch99")


def test_result_formatting():
    assert str(CheckResult("case", False, "why")) == "FAIL  case: why"
    assert str(CheckResult("case", True)) == "PASS  case"


def test_every_exercise_has_edge_cases():
    for exercise in EXERCISES.values():
        assert len(exercise.cases()) >= 3, exercise.name


def test_a_stub_prints_exactly_one_line(capsys):
    from glassbox_exercises.ch01_attention import masked_attention

    check(masked_attention)
    assert capsys.readouterr().out.splitlines() == [
        "masked_attention: not implemented yet (the body still raises NotImplementedError)"
    ]


def test_check_takes_a_class_or_an_instance_and_names_a_function_given_for_a_class(capsys):
    from glassbox.config import TransformerConfig
    from glassbox_solutions.ch03_components import Embed

    check(Embed)
    check(Embed(TransformerConfig(d_model=8, n_heads=2, d_vocab=5, n_ctx=4)))
    lines = capsys.readouterr().out.splitlines()
    assert lines.count("Embed: all checks passed.") == 2
    reason = run_checks(lambda cfg: None, find_exercise("Embed"))[0].reason
    assert reason == "expected a class (a torch.nn.Module), got function"


def test_check_leaves_the_global_random_state_as_it_was(capsys):
    from glassbox_solutions.ch03_components import Block

    torch.manual_seed(3)
    before = torch.random.get_rng_state()
    check(Block)
    assert torch.equal(before, torch.random.get_rng_state())
    assert capsys.readouterr().out.rstrip().endswith("Block: all checks passed.")


def test_an_infinite_loop_is_stopped_in_one_line_in_the_main_thread_and_in_another():
    def loops(q, k, v):
        while True:
            pass

    assert first_failure_within(loops, 0.2) == "still running after 0.2 s: an infinite loop?"
    found = {}
    worker = threading.Thread(target=lambda: found.setdefault("reason", first_failure_within(loops, 0.2)))
    worker.start()
    worker.join(10)
    assert found["reason"] == "still running after 0.2 s: an infinite loop?"


def first_failure_within(fn, seconds, exercise=SDPA) -> str:
    return next(r for r in run_checks(fn, exercise, time_limit=seconds) if not r.passed).reason


def test_not_implemented_on_a_later_case_keeps_the_readers_message():
    def partial(q, k, v):
        if q.dim() < 4:
            raise NotImplementedError("only 4-d inputs for now")
        return reference_sdpa(q, k, v)

    assert first_failure(partial) == "raised NotImplementedError: only 4-d inputs for now"


def test_a_tensor_where_a_number_is_expected_is_named_not_crashed_on():
    assert first_failure(lambda cfg: torch.tensor([1, 2]), find_exercise("count_parameters")).startswith(
        "expected an int, got Tensor"
    )
    assert first_failure(lambda s: torch.tensor([True, False]), find_exercise("lucky7_verify")).startswith(
        "expected True or False (a bool), got Tensor"
    )


def test_a_malformed_generator_answer_is_described_not_reported_as_raising():
    reason = first_failure(lambda n, seed: [["a"] * 20] * n, find_exercise("lucky7_generate"))
    assert reason == "sequence 0 holds a str at position 0, not an int"


def test_a_failure_of_the_checkers_own_code_is_one_line():
    broken = replace(SDPA, properties=[lambda out, args: 1 / 0])
    assert first_failure(reference_sdpa, broken) == "could not read your answer: ZeroDivisionError: division by zero"


def test_masking_the_diagonal_is_named_as_a_fully_masked_row():
    def diagonal_masked(q, k, v):
        n = q.shape[-2]
        scores = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(
            torch.ones(n, n, dtype=torch.bool).triu(), float("-inf")
        )
        return scores.softmax(-1) @ v

    reason = first_failure(diagonal_masked, find_exercise("masked_attention"))
    assert reason.startswith("output contains NaN") and "its own position" in reason


def test_a_documented_error_must_be_raised():
    probs = find_exercise("temperature_probs")
    reason = first_failure(lambda logits, t: torch.softmax(logits / t, -1) if t else reference(probs)(logits, t), probs)
    assert reason.startswith("should raise ValueError (temperature must be ≥ 0, got -1.0), but returned Tensor")


def reference(exercise):
    return exercise.reference()


@pytest.mark.slow  # imports the library in a fresh process
def test_checks_import_downward_only():
    """judge ← checks ← check (the package's lookup): the checks import judge and its helpers, never the names the
    package defines to look them up, and importing the checks first in a fresh process works (no cycle)."""
    code = (
        "import glassbox.checking.checks as c, glassbox.checking as p; print(len(c.EXERCISES) > 0, callable(p.check))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True True"
    for path in [*CHECKS.glob("*.py"), CHECKS.parent / "judge.py", CHECKS.parent / "time_limit.py"]:
        imports = re.findall(
            r"^\s*(?:from\s+glassbox\.checking\s+import\b|import\s+glassbox\.checking\s*$|from\s+glassbox\s+import\s+checking\b)",
            path.read_text(),
            re.M,
        )
        assert not imports, path
