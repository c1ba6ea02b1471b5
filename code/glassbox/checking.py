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
    """One input to an exercise: a name for the report and the positional arguments.

    For a class exercise (a module), `args` starts with the `TransformerConfig` to build it with; the rest are
    the inputs of `forward`.
    """

    name: str
    args: Args


@dataclass(frozen=True)
class Exercise:
    """What `check` needs to know about one exercise.

    `cases` builds the inputs (seeded, so a failure is reproducible). `mistakes` maps a sentence to a wrong
    variant of the function: when the reader's output matches the variant, the sentence is the reason.
    `properties` are functions `(output, args) -> str | None` returning a reason when a property fails.
    `agrees_with` names independent implementations the reader's must also agree with. `summarize`, for answers
    that may rightly differ from the reference's (a random generator), maps an answer to what must agree (e.g. "how
    many sequences, and does each obey the rule"): reader and reference are compared through it.

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
    atol: float = 1e-5
    rtol: float = 1e-4
    is_module: bool = False
    summarize: Callable[[Any], Any] | None = None  # compare summaries, for answers with many right values

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
    variant_args: Args | None = None,
) -> str | None:
    """Return why `got` is not an acceptable answer (one sentence), or None when it is.

    `args` are the inputs after the call, `pristine` the same inputs untouched; wrong variants are called with
    `variant_args` (by default `pristine`).
    """
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
    is_tensor = isinstance(expected, torch.Tensor)
    differs = not _close(got, expected, exercise.atol, exercise.rtol) if is_tensor else got != expected
    if differs and is_tensor:
        for sentence, wrong in exercise.mistakes.items():
            try:
                variant = wrong(*_clone(pristine if variant_args is None else variant_args))
            except Exception:  # a diagnosis that does not apply to this case (e.g. no LayerNorm to get wrong)
                continue
            if isinstance(variant, torch.Tensor) and _close(got, variant, exercise.atol, exercise.rtol):
                return f"{_value_difference(got, expected)} — {sentence}"
    for prop in exercise.properties:  # a broken property says more than a difference of values
        reason = prop(got, pristine)
        if reason:
            return reason
    if differs:
        return _value_difference(got, expected) if is_tensor else f"expected {expected!r}, got {got!r}"
    return None


def randomize(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every parameter random values (seeded), so that no bias or LayerNorm weight is tested by accident."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            noise = torch.randn(param.shape, generator=generator)
            param.copy_(1 + 0.2 * noise if name.split(".")[-1] == "w" else 0.3 * noise)
    return module


class WeightsMismatch(ValueError):
    """The reader's module has other parameter names or shapes than the reference."""


def build_like(cls: type, reference: torch.nn.Module, cfg: Any) -> torch.nn.Module:
    """Build the reader's module and give it the reference's weights, or raise WeightsMismatch saying what differs."""
    module = cls(cfg)
    ours, theirs = dict(module.named_parameters()), dict(reference.named_parameters())
    missing, unexpected = sorted(theirs.keys() - ours.keys()), sorted(ours.keys() - theirs.keys())
    if missing or unexpected:
        raise WeightsMismatch(f"parameters differ from the reference's: missing {missing}, unexpected {unexpected}")
    for name, param in theirs.items():
        if ours[name].shape != param.shape:
            raise WeightsMismatch(f"{name} has shape {tuple(ours[name].shape)}, the reference's {tuple(param.shape)}")
    module.load_state_dict(reference.state_dict(), strict=False)
    return module.eval()


def _prepare(fn: Callable[..., Any], reference: Callable[..., Any], exercise: Exercise, case: Case, seed: int):
    """The two callables to compare on this case, their inputs, and the arguments of wrong variants."""
    if not exercise.is_module:
        return fn, reference, case.args, case.args
    cfg, *inputs = case.args
    ref_module = randomize(reference(cfg), seed).eval()
    return build_like(fn, ref_module, cfg), ref_module, tuple(inputs), (cfg, ref_module.state_dict(), *inputs)


NOT_IMPLEMENTED = "not implemented yet (the body still raises NotImplementedError)"


def run_checks(fn: Callable[..., Any], exercise: Exercise) -> list[CheckResult]:
    """Run `fn` on every case of `exercise`: compare it to the reference, then to independent implementations."""
    reference = exercise.reference()
    results, passed = [], []
    for seed, case in enumerate(exercise.cases()):
        try:
            mine, theirs, inputs, variant_args = _prepare(fn, reference, exercise, case, seed)
            args = _clone(inputs)
            got = mine(*args)
            if exercise.summarize is not None and got is not None:
                got = exercise.summarize(got)
        except NotImplementedError:
            return [CheckResult(case.name, False, NOT_IMPLEMENTED)]
        except WeightsMismatch as error:
            results.append(CheckResult(case.name, False, str(error)))
            continue
        except Exception as error:  # the reader's code may raise anything: report it in one line
            results.append(CheckResult(case.name, False, f"raised {_first_line(error)}"))
            continue
        with torch.no_grad():
            expected = theirs(*_clone(inputs))
        if exercise.summarize is not None:
            expected = exercise.summarize(expected)
        reason = compare(got, expected, args, inputs, exercise, variant_args)
        results.append(CheckResult(case.name, reason is None, reason or ""))
        passed.append((case, mine, inputs, variant_args))
    if not all(r.passed for r in results):
        return results
    for label, other in exercise.agrees_with.items():
        reason = None
        for case, mine, inputs, variant_args in passed:
            got, independent = mine(*_clone(inputs)), other(*_clone(variant_args))
            if not isinstance(independent, torch.Tensor):
                if got != independent:
                    reason = f"{case.name}: expected {independent!r}, got {got!r}"
                    break
            elif not _close(got, independent, exercise.atol, exercise.rtol):
                reason = f"{case.name}: {_value_difference(got, independent)}"
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
