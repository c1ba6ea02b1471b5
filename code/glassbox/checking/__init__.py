"""`check(answer)`: the exercise check a reader runs in a Colab cell — one line a check, then a verdict.

`check` finds the exercise by the name of the function or class (`glassbox.checking.checks`) and runs the same
`glassbox.checking.judge.run_checks` as the exercise test (`pytest tests/exercises --impl exercises`), so the two paths
agree on every answer. Every failure is one sentence that names what went wrong — never the harness's own
traceback; a stub that still raises `NotImplementedError` prints exactly one line.
"""

from __future__ import annotations

from typing import Any

from glassbox.checking.checks import EXERCISES, exercises_of
from glassbox.checking.judge import NOT_IMPLEMENTED, TIME_LIMIT, Case, CheckResult, Exercise, run_checks

__all__ = ["Case", "CheckResult", "Exercise", "check", "exercises_of", "find_exercise", "run_checks"]


def find_exercise(name: str) -> Exercise:
    """Look an exercise up by its function or class name (names are unique across the book)."""
    if name not in EXERCISES:
        known = ", ".join(sorted(EXERCISES))
        raise ValueError(f"no exercise named {name!r}; exercises are: {known}")
    return EXERCISES[name]


def _name_of(answer: Any) -> str:
    name = getattr(answer, "__name__", None) or getattr(type(answer), "__name__", None)
    if name not in EXERCISES and name is not None and getattr(type(answer), "__name__", None) in EXERCISES:
        name = type(answer).__name__  # an instance, e.g. check(Embed(cfg))
    if name is None:
        raise ValueError("cannot tell which exercise this is: pass its name, e.g. check(fn, 'layer_norm')")
    return name


def check(answer: Any, exercise: str | None = None, time_limit: float | None = TIME_LIMIT) -> None:
    """Check a function, a class or an instance against the reference solution of the exercise of the same name.

    Prints one line a check and a verdict (and returns nothing, so a notebook cell shows only those lines). Each
    call of your code may run `time_limit` seconds.

    >>> check(scaled_dot_product_attention)          # doctest: +SKIP
    PASS  random batch × heads × 5 positions
    ...
    scaled_dot_product_attention: all checks passed.
    """
    try:
        spec = find_exercise(exercise or _name_of(answer))
    except ValueError as error:  # a name the book does not know: one line, not a traceback
        print(f"check: {error}")
        return
    results = run_checks(answer, spec, time_limit)
    if len(results) == 1 and results[0].reason == NOT_IMPLEMENTED:
        print(f"{spec.name}: {NOT_IMPLEMENTED}")
        return
    for result in results:
        print(result)
    passed = all(r.passed for r in results)
    print(f"{spec.name}: " + ("all checks passed." if passed else "not yet — see the FAIL above."))
