"""Checks for chapter 7, "A gallery of rules": a verifier that accepts exactly the lucky7 sequences, and a generator
whose sequences all obey the rule (compared through a summary: any correct random generator passes)."""

from __future__ import annotations

import numpy as np

from glassbox.checking import Case, Exercise
from glassbox.tasks import Lucky7

RULE = Lucky7()


def _verify_cases() -> list[Case]:
    good = RULE.generate(3, np.random.default_rng(0))
    corrupted = [list(s) for s in good]
    for s in corrupted:  # break the first constrained position of each sequence
        i = next(i for i, fixed in enumerate(RULE.constrained_mask(s)) if fixed)
        s[i] = (s[i] + 1) % 11
    return [
        *(Case(f"a generated sequence ({k})", (s,)) for k, s in enumerate(good)),
        *(Case(f"the same sequence with one constrained token changed ({k})", (s,)) for k, s in enumerate(corrupted)),
        Case("7 at position 0: the next token is free", ([7, 3, 5, 7, 5, 1],)),
        Case("7 7: the second 7 repeats the token before the first", ([4, 7, 4, 7, 7, 7],)),
        Case("7 7 wrongly followed", ([4, 7, 4, 7, 7, 4],)),
        Case("a 7 at the end has nothing after it", ([1, 2, 7],)),
        Case("a token outside 0–10", ([1, 11, 3],)),
        Case("no 7 at all", ([1, 2, 3, 4],)),
    ]


def _generate_cases() -> list[Case]:
    return [Case("20 sequences, seed 0", (20, 0)), Case("200 sequences, seed 1", (200, 1)),
            Case("10 sequences, seed 2", (10, 2))]


def _summary(sequences) -> dict[str, object]:
    """What any right answer shares: the count, lengths 20–50, tokens 0–10, the rule everywhere, and enough 7s."""
    flat = [t for s in sequences for t in s]
    return {
        "number of sequences": len(sequences),
        "every length in 20–50": all(20 <= len(s) <= 50 for s in sequences),
        "every sequence obeys lucky7": all(RULE.verify(s) for s in sequences),
        "a 7 in at least 5% of positions (the rule is exercised)": flat.count(7) >= 0.05 * len(flat),
        "at least ten distinct tokens (free positions vary)": len(set(flat)) >= 10,
    }


EXERCISES = [
    Exercise(
        name="lucky7_verify",
        module="ch07_gallery",
        cases=_verify_cases,
        agrees_with={"glassbox.tasks.Lucky7().verify": RULE.verify},
    ),
    Exercise(
        name="lucky7_generate",
        module="ch07_gallery",
        cases=_generate_cases,
        summarize=_summary,
    ),
]
