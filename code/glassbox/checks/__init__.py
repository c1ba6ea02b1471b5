"""The exercises of the book, one module a chapter, collected by function name for `glassbox.checking.check`."""

from glassbox.checking import Exercise
from glassbox.checks import ch01_attention, ch02_positions, ch03_components, ch04_model, ch05_training

_CHAPTERS = [ch01_attention, ch02_positions, ch03_components, ch04_model, ch05_training]

EXERCISES: dict[str, Exercise] = {ex.name: ex for chapter in _CHAPTERS for ex in chapter.EXERCISES}


def exercises_of(module: str) -> list[Exercise]:
    """The exercises of one chapter module, e.g. `exercises_of("ch01_attention")`, in the book's order."""
    found = [ex for ex in EXERCISES.values() if ex.module == module]
    if not found:
        raise ValueError(f"no exercises for module {module!r}")
    return found
