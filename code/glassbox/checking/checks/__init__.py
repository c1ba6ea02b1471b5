"""The exercises of the book, one module a chapter (`chNN_topic.py`), collected by function name for
`glassbox.checking.check`. A new chapter's module is found by its name: no list to edit here."""

import importlib
import pkgutil

from glassbox.checking.judge import Exercise

_CHAPTERS = [
    importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    if info.name.startswith("ch")
]

EXERCISES: dict[str, Exercise] = {ex.name: ex for chapter in _CHAPTERS for ex in chapter.EXERCISES}


def exercises_of(module: str) -> list[Exercise]:
    """The exercises of one chapter module, e.g. `exercises_of("ch01_attention")`, in the book's order."""
    found = [ex for ex in EXERCISES.values() if ex.module == module]
    if not found:
        raise ValueError(f"no exercises for module {module!r}")
    return found
