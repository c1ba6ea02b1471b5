"""Your own code, used by the chapters (Part II): which of your exercise answers passed their check in this runtime.

In a chapter's notebook, `check(answer)` is this module's `check`: it prints what `glassbox.checking.check` prints
and also remembers the answer and whether it passed. The cells after the exercises then ask for *your* code:

    DemoTransformer = mine("DemoTransformer")    # yours if it passed check 4.3 here, else the reference
    parts = my_parts()                           # your chapter 3 parts where they passed, the library's otherwise

Each says in one line which it uses when you tried the exercise (so "Run all" on a notebook whose stubs are not
filled in yet reaches the end, on the reference). Where nothing was checked in this runtime — the book's own build —
they return the reference silently. A Colab runtime keeps nothing from one notebook to the next, so each later
chapter's notebook carries your earlier answers forward in cells of its own (`glassbox_build.notebooks`).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from glassbox.checking import find_exercise
from glassbox.checking.judge import NOT_IMPLEMENTED, TIME_LIMIT, run_checks

__all__ = ["check", "check_quietly", "mine", "my_parts", "PARTS"]

PARTS = ("Embed", "PosEmbed", "LayerNorm", "Block", "Unembed")  # what DemoTransformer builds itself from
_checked: dict[str, tuple[Any, bool]] = {}  # exercise name -> (your answer, whether it passed)


def _name_of(answer: Any) -> str | None:
    return getattr(answer, "__name__", None) or getattr(type(answer), "__name__", None)


def _judge(answer: Any, exercise: str | None, time_limit: float | None):
    spec = find_exercise(exercise or _name_of(answer))
    results = run_checks(answer, spec, time_limit)
    passed = all(r.passed for r in results)
    _checked[spec.name] = (answer, passed)
    return spec, results, passed


def check(answer: Any, exercise: str | None = None, time_limit: float | None = TIME_LIMIT) -> None:
    """`glassbox.checking.check`, which also remembers your answer for the chapter's later cells."""
    try:
        spec, results, passed = _judge(answer, exercise, time_limit)
    except ValueError as error:  # a name the book does not know: one line, not a traceback
        print(f"check: {error}")
        return
    if len(results) == 1 and results[0].reason == NOT_IMPLEMENTED:
        print(f"{spec.name}: {NOT_IMPLEMENTED}")
        return
    for result in results:
        print(result)
    print(f"{spec.name}: " + ("all checks passed." if passed else "not yet — see the FAIL above."))


def check_quietly(*answers: Any) -> None:
    """Check answers carried over from an earlier chapter: one line each, whether the chapters will use it."""
    for answer in answers:
        spec, results, passed = _judge(answer, None, TIME_LIMIT)
        if passed:
            print(f"{spec.name}: yours (passes its check)")
        else:
            first = next(r for r in results if not r.passed)
            why = "not written yet" if first.reason == NOT_IMPLEMENTED else f"yours fails: {first.reason or first.name}"
            print(f"{spec.name}: the reference ({why})")


def mine(name: str, say: bool = True) -> Any:
    """Your answer to the exercise `name` if it passed its check in this runtime; the reference otherwise.

    Says in one line which, when you checked an answer here; says nothing where nothing was checked (the book's
    build, whose pages run the references)."""
    reference = find_exercise(name).reference()
    if name not in _checked:
        return reference
    answer, passed = _checked[name]
    if say:
        print(f"{name}: yours" if passed else f"{name}: the reference (yours has not passed its check yet)")
    return answer if passed else reference


def my_parts(say: bool = True) -> SimpleNamespace:
    """Chapter 3's parts for `DemoTransformer(cfg, parts=...)`: each yours where it passed its check, else the
    reference. One line says which are yours (where any was checked here)."""
    chosen = {name: mine(name, say=False) for name in PARTS}
    checked = [name for name in PARTS if name in _checked]
    if checked and say:
        yours = [name for name in PARTS if name in _checked and _checked[name][1]]
        rest = [name for name in PARTS if name not in yours]
        print(f"chapter 3 parts: yours {', '.join(yours) or 'none'}; the reference {', '.join(rest) or 'none'}")
    return SimpleNamespace(**chosen)


def yours_used(name: str) -> bool:
    """Whether `mine(name)` gives your answer (it passed its check here)."""
    return _checked.get(name, (None, False))[1]
