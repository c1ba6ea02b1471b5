"""What mutation testing (`make mutation MODULE=checking`) found the fast tier did not notice in the exercise checker
(diagnose, judge, answer, checking): the wrong-answer catalogue (tests/test_wrong_answers.py, slow) reads these
sentences end to end; here each one is pinned by hand, at its boundary, in the fast tier."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from glassbox import checking
from glassbox.checking import answer, diagnose, judge

INF, NAN = float("inf"), float("nan")


def test_first_line_of_an_error_and_of_an_empty_one():
    assert diagnose.first_line(ValueError("bad shape\nsecond line")) == "ValueError: bad shape"
    assert diagnose.first_line(KeyError()) == "KeyError"
    assert diagnose.first_line(RuntimeError("   \n")) == "RuntimeError"


def test_describe_names_a_type_as_a_reader_knows_it():
    assert diagnose.describe(torch.zeros(2)) == "Tensor"
    assert diagnose.describe(np.zeros(2)) == "numpy.ndarray"
    assert diagnose.describe([1]) == "list"
    assert diagnose.describe(2.0) == "float"
    assert diagnose.describe(np.float32(1)) == "numpy.float32"
    assert diagnose.describe(torch.nn.Linear(1, 1)) == "torch.Linear"  # the package, not torch.nn.modules.linear


@pytest.mark.parametrize(
    ("got", "expected", "message"),
    [
        (1, True, "expected True or False (a bool), got int"),
        (torch.tensor(True), True, "expected True or False (a bool), got Tensor (use bool(...) or .item())"),
        (np.array(True), False, "expected True or False (a bool), got numpy.ndarray (use bool(...) or .item())"),
        (np.bool_(True), True, None),
        (True, 3, "expected an int, got bool"),
        (3.0, 3, "expected an int, got float (use int(...) or .item())"),
        (torch.tensor(3), 3, "expected an int, got Tensor (use int(...) or .item())"),
        ("3", 3, "expected an int, got str"),
        (np.int64(3), 3, None),
        (True, 0.5, "expected a number (a float), got bool"),
        ("0.5", 0.5, "expected a number (a float), got str"),
        (np.float32(0.5), 0.5, None),
        (2, 0.5, None),  # an int is a number
        ("ab", ["a", "b"], "expected a list, got str"),
        (("a", "b"), ["a", "b"], None),
        ("anything", "a string", None),
    ],
)
def test_plain_problem_names_the_kind_and_how_to_convert(got, expected, message):
    assert diagnose.plain_problem(got, expected) == message


def test_tensor_problem_checks_type_then_device_then_shape_then_dtype():
    x = torch.zeros(2, 3)
    assert diagnose.tensor_problem(np.zeros((2, 3)), x) == (
        "expected a torch.Tensor, got numpy.ndarray — convert with torch.from_numpy(...), or keep to torch operations"
    )
    assert (
        diagnose.tensor_problem([1.0], x)
        == "expected a torch.Tensor, got list — build one tensor (torch.tensor, torch.stack)"
    )
    assert diagnose.tensor_problem(None, x) == "expected a torch.Tensor, got NoneType"
    assert diagnose.tensor_problem(torch.zeros(2, 3, device="meta"), x) == (
        "your answer is on device meta, the inputs are on cpu: make new tensors on the inputs' device (device=x.device)"
    )
    assert (
        diagnose.tensor_problem(torch.zeros(3, 2, dtype=torch.int64), x) == "wrong shape: expected (2, 3), got (3, 2)"
    )
    assert diagnose.tensor_problem(torch.zeros(2, 3, dtype=torch.float64), x) == (
        "wrong dtype: expected torch.float32, got torch.float64"
    )
    assert diagnose.tensor_problem(torch.ones(2, 3), x) is None


def test_non_finite_problem_points_at_the_first_bad_element_the_reference_does_not_share():
    expected = torch.tensor([[1.0, NAN], [INF, 2.0]])
    assert diagnose.non_finite_problem(torch.tensor([[1.0, NAN], [INF, 2.0]]), expected) is None
    assert diagnose.non_finite_problem(torch.tensor([[1.0, 0.0], [INF, NAN]]), expected) == (
        f"output contains NaN (first at index (1, 1)) where the reference has a number — {diagnose.SOFTMAX_HINT}"
    )
    assert diagnose.non_finite_problem(torch.tensor([[-INF, NAN], [INF, 2.0]]), expected, hint="h") == (
        "output contains inf (first at index (0, 0)) where the reference has a number — h"
    )
    assert diagnose.non_finite_problem(torch.tensor(NAN), torch.tensor(1.0), hint="h") == (
        "output contains NaN where the reference has a number — h"
    )
    assert diagnose.non_finite_problem(torch.tensor([1, 2]), torch.tensor([1, 2])) is None  # integers: nothing to say


def test_value_difference_names_the_largest_difference_and_where():
    expected = torch.tensor([[1.0, 2.0], [3.0, NAN]])
    got = torch.tensor([[1.0, 2.5], [2.0, NAN]])
    assert diagnose.value_difference(got, expected) == (
        "values differ: max abs diff 1 at index (1, 0) (expected 3, got 2)"
    )
    assert diagnose.value_difference(torch.tensor([1.0, NAN]), torch.tensor([1.0, 5.0])) == (
        "values differ: max abs diff inf at index (1,) (expected 5, got nan)"
    )
    assert diagnose.value_difference(torch.tensor(2.0), torch.tensor(1.5)) == (
        "values differ: max abs diff 0.5 (expected 1.5, got 2)"
    )


def test_close_needs_the_same_shape_and_device_and_compares_integers_exactly():
    assert diagnose.close(torch.tensor([1.0, NAN]), torch.tensor([1.0, NAN]), 0.0, 0.0)
    assert diagnose.close(torch.tensor([1.05]), torch.tensor([1.0]), 0.1, 0.0)
    assert not diagnose.close(torch.tensor([1.2]), torch.tensor([1.0]), 0.1, 0.0)
    assert diagnose.close(torch.tensor([1.05]), torch.tensor([1.0]), 0.0, 0.1)  # relative tolerance
    assert not diagnose.close(torch.tensor([1.2]), torch.tensor([1.0]), 0.0, 0.1)
    assert not diagnose.close(torch.tensor([1.0]), torch.tensor([[1.0]]), 1.0, 1.0)
    assert not diagnose.close(torch.tensor([1.0], device="meta"), torch.tensor([1.0]), 1.0, 1.0)
    assert diagnose.close(torch.tensor([2.0]), torch.tensor([2]), 0.0, 0.0)
    assert not diagnose.close(torch.tensor([3.0]), torch.tensor([2]), 1.0, 1.0)  # int reference: exact, no tolerance


def test_same_and_clone_see_changes_inside_lists_dicts_and_tensors():
    x = torch.tensor([1.0, 2.0])
    copy = diagnose.clone([x, (x, 3)])
    x[0] = 9.0
    assert copy[0].tolist() == [1.0, 2.0] and isinstance(copy[1], tuple) and copy[1][1] == 3
    assert diagnose.same(torch.tensor([1, 2]), torch.tensor([1, 2]))
    assert not diagnose.same(torch.tensor([1, 2]), torch.tensor([1.0, 2.0]))  # dtype
    assert not diagnose.same(torch.tensor([[1, 2]]), torch.tensor([1, 2]))  # shape
    assert (
        not diagnose.same([1, 2], (1, 2)) and not diagnose.same([1, 2], [1, 2, 3]) and diagnose.same([1, [2]], [1, [2]])
    )
    assert diagnose.same({"a": [1]}, {"a": [1]}) and not diagnose.same({"a": [1]}, {"a": [2]})
    assert not diagnose.same({"a": 1}, {"b": 1}) and not diagnose.same([1], {"a": 1})
    assert diagnose.same(NAN, NAN) and not diagnose.same(float("nan"), float("nan")) and diagnose.same(x, x)


def test_modified_argument_names_the_first_changed_argument_counting_from_one():
    before = (torch.tensor([1.0]), [1, 2], 3)
    assert diagnose.modified_argument(diagnose.clone(before), before) is None
    changed = (torch.tensor([1.0]), [1, 5], 4)
    assert diagnose.modified_argument(changed, before) == (
        "argument 2 was modified in place — work on a copy, or avoid in-place operations"
    )


# ------------------------------------------------------------------------------------------------------- answer
class Lin(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.proj = torch.nn.Linear(cfg, 2)
        self.w = torch.nn.Parameter(torch.ones(2))


def test_reader_failed_reads_as_its_reason():
    assert str(answer.ReaderFailed("ran too long")) == "ran too long"


def test_build_gives_both_modules_the_references_weights_drawn_from_the_seed():
    reader, reference = answer.Answer(Lin, Lin).build(3)
    expected = answer.randomize(Lin(3), 0)  # the default seed is 0
    for ours, theirs, drawn in zip(reader.parameters(), reference.parameters(), expected.parameters(), strict=True):
        assert torch.equal(ours, theirs) and torch.equal(theirs, drawn)
    _, seeded = answer.Answer(Lin, Lin).build(3, seed=4)
    assert torch.equal(seeded.proj.weight, answer.randomize(Lin(3), 4).proj.weight)
    assert not reader.training and not reference.training
    assert torch.allclose(
        answer.randomize(Lin(3)).w, 1 + 0.2 * torch.randn(2, generator=torch.Generator().manual_seed(0))
    )


def test_a_stub_reads_as_not_implemented_only_on_the_first_call():
    class Stub(torch.nn.Module):
        def __init__(self, cfg):
            raise NotImplementedError

    with pytest.raises(answer.ReaderFailed, match="^raised NotImplementedError$"):
        answer.Answer(Stub, Lin).build(3)
    with pytest.raises(answer.ReaderFailed, match=f"^{re.escape(answer.NOT_IMPLEMENTED)}$"):
        answer.Answer(Stub, Lin).build(3, first=True)
    with pytest.raises(answer.ReaderFailed, match="^raised NotImplementedError$"):
        answer.build_like(answer.Answer(Stub, Lin), Lin(3), 3)


def test_build_like_says_what_differs_from_the_reference():
    class NotAModule:
        def __init__(self, cfg):
            pass

    class Fewer(torch.nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.proj = torch.nn.Linear(cfg, 2)

    class Wider(Lin):
        def __init__(self, cfg):
            super().__init__(cfg)
            self.proj = torch.nn.Linear(cfg, 5)

    class Elsewhere(Lin):
        def __init__(self, cfg):
            super().__init__(cfg)
            self.w = torch.nn.Parameter(torch.ones(2, device="meta"))

    cases = {
        NotAModule: "NotAModule(cfg) built a test_mutants_checking.NotAModule, not a torch.nn.Module",
        Fewer: "parameters differ from the reference's: missing ['w'], unexpected []",
        Wider: "proj.weight has shape (5, 3), the reference's (2, 3)",
        Elsewhere: "parameter w is on device meta, the inputs on cpu",
    }
    for cls, message in cases.items():
        with pytest.raises(answer.ReaderFailed) as error:
            answer.build_like(answer.Answer(cls, Lin), Lin(3), 3)
        assert str(error.value) == message


# -------------------------------------------------------------------------------------------------------- judge
def _exercise(**fields) -> judge.Exercise:
    return judge.Exercise(name="double", module="none", cases=list, **fields)


def test_a_named_mistake_is_found_after_a_mistake_that_does_not_apply():
    def raises(x):
        raise ValueError("does not apply here")

    exercise = _exercise(mistakes={"raises": raises, "halved": lambda x: x / 2})
    assert judge._named_mistake(torch.tensor([1.0]), exercise, (torch.tensor([2.0]),)) == "halved"
    assert judge._named_mistake(torch.tensor([3.0]), exercise, (torch.tensor([2.0]),)) is None


def test_disagreement_with_an_independent_implementation():
    def passed(got, independent=True):
        return judge._Passed(judge.Case("case", (), independent), got, (torch.tensor([2.0]),))

    double = lambda x: 2 * x  # noqa: E731
    exercise = _exercise()
    # a case left out of the comparison does not stop the ones after it
    assert judge._disagreement(double, [passed(torch.tensor([9.0]), False), passed(torch.tensor([5.0]))], exercise) == (
        "case: values differ: max abs diff 1 at index (0,) (expected 4, got 5)"
    )
    assert judge._disagreement(lambda x: (2 * x).double(), [passed(torch.tensor([4.0]))], exercise) is None  # dtype
    assert judge._disagreement(lambda x: 4, [passed(4)], exercise) is None
    assert judge._disagreement(lambda x: 4, [passed(5)], exercise) == "case: expected 4, got 5"

    def broken(x):
        raise KeyError("oops")

    assert judge._disagreement(broken, [passed(torch.tensor([4.0]))], exercise) == (
        "case: the checker could not run it (KeyError: 'oops')"
    )


# ----------------------------------------------------------------------------------------------------- checking
def test_check_finds_the_exercise_by_the_name_of_a_function_a_class_or_an_instance(capsys):
    from glassbox.components import Embed

    def my_answer(n):
        return n

    checking.check(my_answer)
    assert capsys.readouterr().out.startswith("check: no exercise named 'my_answer'; exercises are: ")

    class Unknown:
        pass

    checking.check(Unknown())
    assert capsys.readouterr().out.startswith("check: no exercise named 'Unknown'")
    named = Embed.__new__(Embed)
    named.__dict__["__name__"] = "my_embedding"  # an instance that has a name of its own: its class names it
    assert checking._name_of(named) == "Embed"
    assert checking._name_of(Embed) == "Embed"


def test_check_prints_each_failure_and_the_verdict(capsys):
    def causal_mask(n_pos):
        return torch.ones(n_pos, n_pos, dtype=torch.bool).triu()  # the wrong triangle

    checking.check(causal_mask)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].startswith("FAIL  ") and lines[-1] == "causal_mask: not yet — see the FAIL above."

    def causal_mask(n_pos):  # noqa: F811
        return torch.ones(n_pos, n_pos, dtype=torch.bool).tril()

    checking.check(causal_mask)
    assert capsys.readouterr().out.splitlines()[-1] == "causal_mask: all checks passed."


def test_check_gives_each_call_the_time_limit_it_is_given(capsys):
    import time

    def causal_mask(n_pos):
        time.sleep(0.5)
        return torch.ones(n_pos, n_pos, dtype=torch.bool).tril()

    checking.check(causal_mask, time_limit=0.1)
    out = capsys.readouterr().out
    assert "FAIL" in out and "0.1" in out, out


# ------------------------------------------------------------------------------------- run_checks, case by case
def _reference(x):
    if isinstance(x, torch.Tensor) and (x < 0).any():
        raise ValueError("negative input")
    return 2 * x


def _judged(monkeypatch, answer_fn, **fields):
    """run_checks on a made-up exercise whose reference doubles a tensor (and refuses a negative one)."""
    monkeypatch.setattr(judge.Exercise, "reference", lambda self: _reference)
    cases = fields.pop("cases", [judge.Case("one", (torch.tensor([1.0]),)), judge.Case("two", (torch.tensor([3.0]),))])
    exercise = judge.Exercise(name="double", module="none", cases=lambda: cases, **fields)
    return [str(result) for result in judge.run_checks(answer_fn, exercise, time_limit=None)]


def test_run_checks_reports_each_case_and_stops_at_the_first_failure(monkeypatch):
    assert _judged(monkeypatch, lambda x: 2 * x) == ["PASS  one", "PASS  two"]
    assert _judged(monkeypatch, lambda x: 2 * x if x.item() < 2 else x) == [
        "PASS  one",
        "FAIL  two: values differ: max abs diff 3 at index (0,) (expected 6, got 3)",
    ]
    assert _judged(monkeypatch, 3) == ["FAIL  double: expected a function, got int"]
    assert _judged(monkeypatch, lambda x: None) == ["FAIL  one: returned None — did you forget the `return` statement?"]


def test_a_stub_is_one_line_only_when_the_first_case_raises_not_implemented(monkeypatch):
    def stub(x):
        raise NotImplementedError

    def late_stub(x):
        if x.item() > 2:
            raise NotImplementedError
        return 2 * x

    assert _judged(monkeypatch, stub) == [f"FAIL  one: {answer.NOT_IMPLEMENTED}"]
    assert _judged(monkeypatch, late_stub) == ["PASS  one", "FAIL  two: raised NotImplementedError"]


def test_an_input_the_reference_refuses_must_be_refused_with_the_same_kind_of_error(monkeypatch):
    cases = [judge.Case("negative", (torch.tensor([-1.0]),))]

    def refuses(x):
        raise ValueError("no")

    def wrong_error(x):
        raise TypeError("no")

    assert _judged(monkeypatch, refuses, cases=cases) == ["PASS  negative"]
    assert _judged(monkeypatch, wrong_error, cases=cases) == [
        "FAIL  negative: raised TypeError: no, where the reference raises ValueError"
    ]
    assert _judged(monkeypatch, lambda x: 2 * x, cases=cases) == [
        "FAIL  negative: should raise ValueError (negative input), but returned Tensor"
    ]
    assert _judged(monkeypatch, lambda x: None, cases=cases) == [
        "FAIL  negative: should raise ValueError (negative input), but returned None"
    ]


def test_independent_implementations_then_behaviours_each_stop_the_check_when_they_fail(monkeypatch):
    def failing(reader):
        raise answer.ReaderFailed("your step method raised")

    def crashing(reader):
        raise KeyError("checker")

    fields = dict(
        agrees_with={"PyTorch": lambda x: 2 * x, "by hand": lambda x: x + x},
        behaviours={"fine": lambda reader: None, "fails": failing, "never run": crashing},
    )
    assert _judged(monkeypatch, lambda x: 2 * x, **fields) == [
        "PASS  one",
        "PASS  two",
        "PASS  agrees with PyTorch",
        "PASS  agrees with by hand",
        "PASS  fine",
        "FAIL  fails: your step method raised",
    ]
    fields["behaviours"] = {"crashes": crashing, "never run": failing}
    assert (
        _judged(monkeypatch, lambda x: 2 * x, **fields)[-1]
        == "FAIL  crashes: could not read your answer: KeyError: 'checker'"
    )
    fields["agrees_with"] = {"triple": lambda x: 3 * x, "never run": lambda x: x}
    assert _judged(monkeypatch, lambda x: 2 * x, **fields)[-1] == (
        "FAIL  agrees with triple: one: values differ: max abs diff 1 at index (0,) (expected 3, got 2)"
    )


def test_compare_names_a_mistake_puts_a_property_first_and_reads_a_crash_as_one_line(monkeypatch):
    mistakes = {"you added instead of multiplying": lambda x: x + 2}
    assert _judged(monkeypatch, lambda x: x + 2, mistakes=mistakes)[0] == (
        "FAIL  one: values differ: max abs diff 1 at index (0,) (expected 2, got 3) — you added instead of multiplying"
    )
    nan_mistakes = {"you divided by zero": lambda x: x / 0 * 0}
    assert _judged(monkeypatch, lambda x: x / 0 * 0, mistakes=nan_mistakes)[0] == (
        "FAIL  one: output contains NaN (first at index (0,)) where the reference has a number — look for exp() "
        "overflowing on large inputs, a division by zero, or 0 · inf — you divided by zero"
    )
    assert _judged(monkeypatch, lambda x: x / 0 * 0)[0].startswith("FAIL  one: output contains NaN")
    positive = [lambda got, args: None if (got > 0).all() else "must be positive"]
    assert _judged(monkeypatch, lambda x: -x, properties=positive)[0] == "FAIL  one: must be positive"
    crash = [lambda got, args: 1 / 0]
    assert _judged(monkeypatch, lambda x: 2 * x, properties=crash)[0] == (
        "FAIL  one: could not read your answer: ZeroDivisionError: division by zero"
    )
    assert _judged(monkeypatch, lambda x: 5 * x, compare_values=False) == ["PASS  one", "PASS  two"]
    plain = [judge.Case("int", (3,))]
    assert _judged(monkeypatch, lambda x: x + 3, cases=plain) == ["PASS  int"]
    assert _judged(monkeypatch, lambda x: 7, cases=plain) == ["FAIL  int: expected 6, got 7"]


def test_a_class_exercise_takes_a_class_or_an_instance_and_nothing_else():
    from glassbox.components import LayerNorm
    from glassbox.config import TransformerConfig

    exercise = checking.find_exercise("LayerNorm")
    for given in (LayerNorm, LayerNorm(TransformerConfig())):
        assert all(result.passed for result in judge.run_checks(given, exercise))
    assert [str(r) for r in judge.run_checks(lambda cfg: None, exercise)] == [
        "FAIL  LayerNorm: expected a class (a torch.nn.Module), got function"
    ]


def test_answer_call_keeps_the_error_and_reads_a_bare_not_implemented_as_a_stub_only_when_first():
    from glassbox.checking.time_limit import TimeLimitExceeded

    def stub(x):
        raise NotImplementedError

    reader = answer.Answer(stub, _reference)
    with pytest.raises(answer.ReaderFailed) as later:
        reader.call(stub, 1)  # not the first call: a bare NotImplementedError is an error like any other
    assert later.value.reason == "raised NotImplementedError" and isinstance(later.value.error, NotImplementedError)
    with pytest.raises(answer.ReaderFailed) as first:
        reader.call(stub, 1, first=True)
    assert first.value.reason == answer.NOT_IMPLEMENTED and isinstance(first.value.error, NotImplementedError)
    slow = answer.Answer(lambda: __import__("time").sleep(1), None, time_limit=0.05)
    with pytest.raises(answer.ReaderFailed) as timed_out:
        slow.call(slow.obj)
    assert isinstance(timed_out.value.error, TimeLimitExceeded)


def test_randomize_draws_gains_around_one_and_everything_else_around_zero():
    module = answer.randomize(Lin(3), seed=2)
    generator = torch.Generator().manual_seed(2)  # one draw a parameter, in order: w (its own), proj.weight, proj.bias
    w, weight, bias = (torch.randn(shape, generator=generator) for shape in ((2,), (2, 3), (2,)))
    torch.testing.assert_close(module.proj.weight.data, 0.3 * weight)
    torch.testing.assert_close(module.proj.bias.data, 0.3 * bias)
    torch.testing.assert_close(module.w.data, 1 + 0.2 * w)


def test_a_failed_check_is_passed_false_and_a_class_stub_is_one_line(monkeypatch):
    from glassbox.components import LayerNorm

    class StubLayerNorm(LayerNorm):
        def __init__(self, cfg):
            raise NotImplementedError

    StubLayerNorm.__name__ = "LayerNorm"
    results = judge.run_checks(StubLayerNorm, checking.find_exercise("LayerNorm"))
    assert len(results) == 1 and results[0].passed is False and results[0].reason == answer.NOT_IMPLEMENTED
    for fn in (3, lambda x: None):
        assert all(result.passed is False for result in judge.run_checks(fn, checking.find_exercise("causal_mask")))
    assert judge.run_checks(lambda cfg: 1, checking.find_exercise("LayerNorm"))[0].passed is False
    monkeypatch.setattr(judge.Exercise, "reference", lambda self: _reference)
    exercise = judge.Exercise(name="double", module="none", cases=lambda: [judge.Case("one", (torch.tensor([1.0]),))])
    stubbed = judge.run_checks(lambda x: (_ for _ in ()).throw(NotImplementedError()), exercise)
    assert stubbed[0].passed is False and stubbed[0].reason == answer.NOT_IMPLEMENTED


def test_the_should_raise_sentence_quotes_the_references_whole_message(monkeypatch):
    def reference(x):
        if x.isnan().any():
            raise ValueError
        raise ValueError("bad input: -1: refused")

    monkeypatch.setattr(judge.Exercise, "reference", lambda self: reference)
    exercise = judge.Exercise(
        name="double",
        module="none",
        cases=lambda: [judge.Case("colons", (torch.tensor([1.0]),)), judge.Case("bare", (torch.tensor([NAN]),))],
    )
    assert str(judge.run_checks(lambda x: x, exercise)[0]) == (
        "FAIL  colons: should raise ValueError (bad input: -1: refused), but returned Tensor"
    )
    exercise = judge.Exercise(name="double", module="none", cases=lambda: [judge.Case("bare", (torch.tensor([NAN]),))])
    assert (
        str(judge.run_checks(lambda x: x, exercise)[0])
        == "FAIL  bare: should raise ValueError (ValueError), but returned Tensor"
    )
