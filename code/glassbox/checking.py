"""Exercise checks: compare a reader's function to the hidden reference solution, one line per check.

The same code runs from a Colab cell (`check(my_function)`) and from the test suite
(`pytest tests/exercises --impl exercises`). Every failure is one sentence that names what went wrong —
never the harness's own traceback.

For each input case the checks run in this order (the first failure ends the case):
returned something → type → shape → dtype → NaN/inf → inputs not modified in place → values against the
reference (naming a likely mistake when the output matches a known wrong variant, or a broken property such
as "the upper triangle must be False") → properties. When every case passes, the function is also compared
with independent implementations (PyTorch, TransformerLens).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

import torch

Args = tuple[Any, ...]


@dataclass(frozen=True)
class Case:
    """One input to an exercise: a name for the report and the positional arguments."""

    name: str
    args: Args


@dataclass(frozen=True)
class Exercise:
    """What `check` needs to know about one exercise.

    `cases` builds the inputs (seeded, so a failure is reproducible). `mistakes` maps a sentence to a wrong
    variant of the function: when the reader's output matches the variant, the sentence is the reason.
    `properties` are functions `(output, args) -> str | None` returning a reason when a property fails.
    `agrees_with` names independent implementations the reference must also agree with.
    """

    name: str
    module: str
    cases: Callable[[], list[Case]]
    mistakes: dict[str, Callable[..., Any]] = field(default_factory=dict)
    properties: list[Callable[[Any, Args], str | None]] = field(default_factory=list)
    agrees_with: dict[str, Callable[..., Any]] = field(default_factory=dict)
    atol: float = 1e-5
    rtol: float = 1e-4

    def reference(self) -> Callable[..., Any]:
        """The hidden solution, imported only when a check runs."""
        return getattr(importlib.import_module(f"solutions.{self.module}"), self.name)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: which case, pass or fail, and one sentence of why."""

    check: str
    passed: bool
    reason: str = ""

    def __str__(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return f"{mark}  {self.check}" + (f": {self.reason}" if self.reason else "")


def _clone(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (tuple, list)):
        return type(value)(_clone(v) for v in value)
    return value


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _close(got: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> bool:
    if got.shape != expected.shape:
        return False
    if not expected.is_floating_point():
        return torch.equal(got.to(expected.dtype), expected)
    return torch.allclose(got.to(expected.dtype), expected, atol=atol, rtol=rtol, equal_nan=True)


def _value_difference(got: torch.Tensor, expected: torch.Tensor) -> str:
    got, expected = got.double(), expected.double()
    diff = (got - expected).abs()
    diff = torch.where(torch.isnan(diff), torch.full_like(diff, float("inf")), diff)
    index = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
    where = f" at index {index}" if index else ""
    return (
        f"values differ: max abs diff {diff.max().item():.3g}{where} "
        f"(expected {expected[index].item():.4g}, got {got[index].item():.4g})"
    )


def compare(
    got: Any,
    expected: Any,
    args: Args,
    pristine: Args,
    exercise: Exercise,
) -> str | None:
    """Return why `got` is not an acceptable answer (one sentence), or None when it is."""
    if got is None:
        return "returned None — did you forget the `return` statement?"
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"expected a torch.Tensor, got {type(got).__name__}"
        if got.shape != expected.shape:
            return f"wrong shape: expected {tuple(expected.shape)}, got {tuple(got.shape)}"
        if got.dtype != expected.dtype:
            return f"wrong dtype: expected {expected.dtype}, got {got.dtype}"
        if got.is_floating_point() and not torch.isfinite(got).all() and torch.isfinite(expected).all():
            kind = "NaN" if torch.isnan(got).any() else "inf"
            return (
                f"output contains {kind} where the reference has none "
                "(look for exp() overflowing on large inputs, or 0 * -inf)"
            )
    for i, (now, before) in enumerate(zip(args, pristine)):
        if isinstance(before, torch.Tensor) and not torch.equal(now, before):
            return f"argument {i + 1} was modified in place — work on a copy, or avoid in-place operations"
    if isinstance(expected, torch.Tensor) and not _close(got, expected, exercise.atol, exercise.rtol):
        for sentence, wrong in exercise.mistakes.items():
            variant = wrong(*_clone(pristine))
            if isinstance(variant, torch.Tensor) and _close(got, variant, exercise.atol, exercise.rtol):
                return f"{_value_difference(got, expected)} — {sentence}"
        for prop in exercise.properties:  # a broken property says more than a difference of values
            reason = prop(got, pristine)
            if reason:
                return reason
        return _value_difference(got, expected)
    if not isinstance(expected, torch.Tensor) and got != expected:
        return f"expected {expected!r}, got {got!r}"
    for prop in exercise.properties:
        reason = prop(got, pristine)
        if reason:
            return reason
    return None


def run_checks(fn: Callable[..., Any], exercise: Exercise) -> list[CheckResult]:
    """Run `fn` on every case of `exercise`: compare it to the reference, then to independent implementations."""
    reference = exercise.reference()
    cases = exercise.cases()
    results = []
    for case in cases:
        expected = reference(*_clone(case.args))
        args = _clone(case.args)
        try:
            got = fn(*args)
        except NotImplementedError:
            return [CheckResult(case.name, False, "not implemented yet (the body still raises NotImplementedError)")]
        except Exception as error:  # the reader's code may raise anything: report it in one line
            results.append(CheckResult(case.name, False, f"raised {_first_line(error)}"))
            continue
        reason = compare(got, expected, args, case.args, exercise)
        results.append(CheckResult(case.name, reason is None, reason or ""))
    if not all(r.passed for r in results):
        return results
    for label, other in exercise.agrees_with.items():
        reason = None
        for case in cases:
            got, theirs = fn(*_clone(case.args)), other(*_clone(case.args))
            if not _close(got, theirs, exercise.atol, exercise.rtol):
                reason = f"{case.name}: {_value_difference(got, theirs)}"
                break
        results.append(CheckResult(f"agrees with {label}", reason is None, reason or ""))
    return results


def find_exercise(name: str) -> Exercise:
    """Look an exercise up by its function name (names are unique across the book)."""
    from glassbox.checks import EXERCISES

    if name not in EXERCISES:
        known = ", ".join(sorted(EXERCISES))
        raise ValueError(f"no exercise named {name!r}; exercises are: {known}")
    return EXERCISES[name]


def check(fn: Callable[..., Any], exercise: str | None = None) -> None:
    """Check a function against the reference solution of the exercise of the same name; print one line a check.

    >>> check(scaled_dot_product_attention)          # doctest: +SKIP
    PASS  random batch: ...
    """
    spec = find_exercise(exercise or fn.__name__)
    results = run_checks(fn, spec)
    for result in results:
        print(result)
    passed = all(r.passed for r in results)
    print(f"{spec.name}: " + ("all checks passed." if passed else "not yet — see the first FAIL above."))
