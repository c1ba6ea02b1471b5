"""How one answer to an exercise is judged against the hidden reference solution: `Case`, `Exercise`, `run_checks`.

The chapters' checks (`glassbox.checking.checks.chNN_*`) describe each exercise with these types;
`glassbox.checking.check` (a Colab cell) and the exercise test (`pytest tests/exercises --impl ...`) both call
`run_checks`, so the two paths give the same verdict and the same one-line reason.

For each input case, in this order (the first failure ends the check):
the reference runs first (a case where it raises, the reader's answer must raise the same kind of error) → the
reader's code runs under a time limit → returned something → type → device → shape → dtype → NaN/inf → inputs not
modified in place → values (naming a likely mistake when the output matches a known wrong variant) → properties.
When every case passes, the answer is compared with independent implementations, then its behaviours are checked
(hooks, step methods, seeds…). Nothing the reader returns can crash the checker: a failure of the checker's own
code on a strange answer reads "could not read your answer: …".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from glassbox.checking.answer import NOT_IMPLEMENTED, TIME_LIMIT, Answer, ReaderFailed, preserved_random_state
from glassbox.checking.diagnose import (
    clone,
    close,
    describe,
    first_line,
    modified_argument,
    non_finite_problem,
    plain_problem,
    tensor_problem,
    value_difference,
)

Args = tuple[Any, ...]


@dataclass(frozen=True)
class Case:
    """One input to an exercise: a name for the report and the positional arguments.

    For a class exercise (a module), `args` starts with the `TransformerConfig` to build it with; the rest are
    the inputs of `forward`. `independent=False` leaves the case out of the comparison with independent
    implementations (a configuration they do not support).
    """

    name: str
    args: Args
    independent: bool = True


@dataclass(frozen=True)
class Exercise:
    """What `run_checks` needs to know about one exercise.

    `cases` builds the inputs (seeded, so a failure is reproducible). `mistakes` maps a sentence to a wrong
    variant of the function: when the reader's output matches the variant, the sentence is the reason.
    `properties` are functions `(output, args) -> str | None` returning a reason when a property fails.
    `agrees_with` names independent implementations the reader's must also agree with. `compare_values=False`
    is for answers that may rightly differ from the reference's (a random generator): the properties and
    behaviours say what every right answer shares. `behaviours` check the answer as a whole once every case
    passes (`(Answer) -> str | None`): hooks that fire, step methods, determinism.

    A class exercise (`is_module=True`) is built from the case's config, given the reference's (random)
    weights, and its `forward` compared; its wrong variants and independent implementations take
    `(cfg, state_dict, *inputs)`.
    """

    name: str
    module: str
    cases: Callable[[], list[Case]]
    mistakes: dict[str, Callable[..., Any]] = field(default_factory=dict)
    properties: list[Callable[[Any, Args], str | None]] = field(default_factory=list)
    agrees_with: dict[str, Callable[..., Any]] = field(default_factory=dict)
    behaviours: dict[str, Callable[[Answer], str | None]] = field(default_factory=dict)
    atol: float = 1e-5
    rtol: float = 1e-4
    is_module: bool = False
    compare_values: bool = True
    non_finite_hint: str = "look for exp() overflowing on large inputs, a division by zero, or 0 · inf"

    def reference(self) -> Any:
        """The hidden solution, imported only when a check runs."""
        return getattr(importlib.import_module(f"glassbox_solutions.{self.module}"), self.name)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: which case, pass or fail, and one sentence of why."""

    check: str
    passed: bool
    reason: str = ""

    def __str__(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return f"{mark}  {self.check}" + (f": {self.reason}" if self.reason else "")


def compare(got: Any, expected: Any, args: Args, pristine: Args, exercise: Exercise, variant_args: Args) -> str | None:
    """Return why `got` is not an acceptable answer (one sentence), or None when it is.

    `args` are the inputs after the call, `pristine` the same inputs untouched; wrong variants are called with
    `variant_args`.
    """
    if got is None:
        return "returned None — did you forget the `return` statement?"
    is_tensor = isinstance(expected, torch.Tensor)
    problem = tensor_problem(got, expected) if is_tensor else plain_problem(got, expected)
    if problem:
        return problem
    problem = modified_argument(args, pristine)
    if problem:
        return problem
    if is_tensor:
        differs = exercise.compare_values and not close(got, expected, exercise.atol, exercise.rtol)
        non_finite = non_finite_problem(got, expected, exercise.non_finite_hint)
        if differs or non_finite:
            mistake = _named_mistake(got, exercise, variant_args)
            if mistake:
                return f"{non_finite or value_difference(got, expected)} — {mistake}"
        if non_finite:
            return non_finite
    else:
        differs = exercise.compare_values and got != expected
    for prop in exercise.properties:  # a broken property says more than a difference of values
        reason = prop(got, pristine)
        if reason:
            return reason
    if differs:
        return value_difference(got, expected) if is_tensor else f"expected {expected!r}, got {got!r}"
    return None


def _named_mistake(got: torch.Tensor, exercise: Exercise, variant_args: Args) -> str | None:
    for sentence, wrong in exercise.mistakes.items():
        try:
            with torch.no_grad():
                variant = wrong(*clone(variant_args))
        except Exception:  # a diagnosis that does not apply to this case (e.g. no LayerNorm to get wrong)
            continue
        if isinstance(variant, torch.Tensor) and close(got, variant, exercise.atol, exercise.rtol):
            return sentence
    return None


@dataclass
class _Passed:
    case: Case
    got: Any
    variant_args: Args


def run_checks(answer: Any, exercise: Exercise, time_limit: float | None = TIME_LIMIT) -> list[CheckResult]:
    """Check `answer` (a function; for a class exercise a class or an instance) on every case of `exercise`, then
    against independent implementations, then its behaviours. The results end at the first failure."""
    with preserved_random_state():
        return _run(answer, exercise, time_limit)


def _run(answer: Any, exercise: Exercise, time_limit: float | None) -> list[CheckResult]:
    if exercise.is_module and isinstance(answer, torch.nn.Module):
        answer = type(answer)
    if exercise.is_module and not (isinstance(answer, type) and issubclass(answer, torch.nn.Module)):
        return [CheckResult(exercise.name, False, f"expected a class (a torch.nn.Module), got {describe(answer)}")]
    if not callable(answer):
        return [CheckResult(exercise.name, False, f"expected a function, got {describe(answer)}")]
    reader = Answer(answer, exercise.reference(), time_limit)
    results: list[CheckResult] = []
    passed: list[_Passed] = []
    for seed, case in enumerate(exercise.cases()):
        try:
            got, variant_args = _run_case(reader, exercise, case, seed, first=not results)
        except ReaderFailed as failure:
            if failure.reason == NOT_IMPLEMENTED:
                return [CheckResult(case.name, False, NOT_IMPLEMENTED)]
            return [*results, CheckResult(case.name, False, failure.reason)]
        results.append(CheckResult(case.name, True))
        passed.append(_Passed(case, got, variant_args))
    for label, other in exercise.agrees_with.items():
        reason = _disagreement(other, passed, exercise)
        results.append(CheckResult(f"agrees with {label}", reason is None, reason or ""))
        if reason:
            return results
    for label, behaviour in exercise.behaviours.items():
        try:
            reason = behaviour(reader)
        except ReaderFailed as failure:
            reason = failure.reason
        except Exception as error:  # the checker's own code, on an answer it did not foresee
            reason = f"could not read your answer: {first_line(error)}"
        results.append(CheckResult(label, reason is None, reason or ""))
        if reason:
            return results
    return results


def _run_case(reader: Answer, exercise: Exercise, case: Case, seed: int, first: bool) -> tuple[Any, Args]:
    """Run the reader's code and the reference on one case; return the reader's answer, or raise ReaderFailed."""
    if exercise.is_module:
        cfg, *rest = case.args
        mine, theirs = reader.build(cfg, seed, first=first)
        call, inputs = mine, tuple(rest)
        variant_args = (cfg, theirs.state_dict(), *rest)
    else:
        call, theirs, inputs = reader.obj, reader.reference, case.args
        variant_args = inputs
    try:
        with torch.no_grad():
            expected, expected_error = theirs(*clone(inputs)), None
    except Exception as error:  # a documented error, e.g. ValueError for a negative temperature
        expected, expected_error = None, error
    args = clone(inputs)
    try:
        got = reader.call(call, *args, first=first)
    except ReaderFailed as failure:
        if expected_error is not None and isinstance(failure.error, type(expected_error)):
            return None, variant_args
        if expected_error is not None and failure.reason != NOT_IMPLEMENTED:
            raise ReaderFailed(
                f"{failure.reason}, where the reference raises {type(expected_error).__name__}"
            ) from None
        raise
    if expected_error is not None:
        raise ReaderFailed(
            f"should raise {type(expected_error).__name__} ({first_line(expected_error).split(': ', 1)[-1]}), "
            f"but returned {'None' if got is None else describe(got)}"
        )
    try:
        reason = compare(got, expected, args, inputs, exercise, variant_args)
    except Exception as error:  # the checker's own code, on an answer it did not foresee
        reason = f"could not read your answer: {first_line(error)}"
    if reason:
        raise ReaderFailed(reason)
    return got, variant_args


def _disagreement(other: Callable[..., Any], passed: list[_Passed], exercise: Exercise) -> str | None:
    for item in passed:
        if not item.case.independent or item.got is None:
            continue
        try:
            with torch.no_grad():
                independent = other(*clone(item.variant_args))
        except Exception as error:
            return f"{item.case.name}: the checker could not run it ({first_line(error)})"
        if isinstance(independent, torch.Tensor):
            if not close(item.got, independent.to(item.got.dtype), exercise.atol, exercise.rtol):
                return f"{item.case.name}: {value_difference(item.got, independent)}"
        elif item.got != independent:
            return f"{item.case.name}: expected {independent!r}, got {item.got!r}"
    return None
