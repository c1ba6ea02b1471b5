"""Checks for chapter 7, "A gallery of rules": a verifier that accepts exactly the lucky7 sequences, and a generator
checked by what every right answer shares — its structure, the rule, the spread of lengths and tokens, the same
sequences for the same seed and others for another seed (any correct random generator passes)."""

from __future__ import annotations

import numbers

import numpy as np

from glassbox.checking.answer import Answer
from glassbox.checking.diagnose import describe
from glassbox.checking.judge import Case, Exercise
from glassbox.rules import Lucky7

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
    return [
        Case("20 sequences, seed 0", (20, 0)),
        Case("200 sequences, seed 1 (lengths and tokens spread out)", (200, 1)),
        Case("10 sequences, seed 2", (10, 2)),
        Case("one sequence, seed 3", (1, 3)),
    ]


def _malformed(sequences, n: int) -> str | None:
    """What is wrong with the structure of a generator's answer: a list of n lists of ints from 0 to 10."""
    if not isinstance(sequences, (list, tuple)):
        return f"expected a list of {n} sequences, got {describe(sequences)}"
    if len(sequences) != n:
        return f"expected {n} sequences, got {len(sequences)}"
    for i, sequence in enumerate(sequences):
        if not isinstance(sequence, (list, tuple)):
            hint = " (convert with .tolist())" if hasattr(sequence, "tolist") else ""
            return f"sequence {i} is a {describe(sequence)}, not a list of ints{hint}"
        for j, token in enumerate(sequence):
            if isinstance(token, (bool, np.bool_)) or not isinstance(token, numbers.Integral):
                return f"sequence {i} holds a {describe(token)} at position {j}, not an int"
            if not 0 <= token <= 10:
                return f"sequence {i} holds {token} at position {j}: tokens are 0–10"
    return None


def _obeys_lucky7(sequences, args) -> str | None:
    n, _ = args
    problem = _malformed(sequences, n)
    if problem:
        return problem
    for i, sequence in enumerate(sequences):
        if not 20 <= len(sequence) <= 50:
            return f"sequence {i} has {len(sequence)} tokens; every length must be 20–50"
        for j in range(2, len(sequence)):
            if sequence[j - 1] == 7 and sequence[j] != sequence[j - 2]:
                return (
                    f"sequence {i} breaks lucky7 at position {j}: after the 7 comes {sequence[j]}, "
                    f"but the token before the 7 is {sequence[j - 2]}"
                )
    return None


def _spread(sequences, args) -> str | None:
    """Every right generator draws each sequence afresh, with lengths over 20–50 and free tokens over 0–10."""
    keys = [tuple(int(t) for t in s) for s in sequences]
    if len(set(keys)) < len(keys):
        i = keys.index(next(k for k in keys if keys.count(k) > 1))
        return f"sequence {i} appears more than once: draw every sequence afresh from the generator"
    if len(sequences) < 100:
        return None
    lengths = [len(s) for s in sequences]
    if len(set(lengths)) < 10 or min(lengths) > 25 or max(lengths) < 45:
        return (
            f"200 sequences have only {len(set(lengths))} different lengths, from {min(lengths)} to "
            f"{max(lengths)}: draw each length uniformly from 20–50"
        )
    flat = [int(t) for s in sequences for t in s]
    missing = sorted(set(range(11)) - set(flat))
    if missing:
        return f"token {missing[0]} never appears in 200 sequences: free tokens are uniform over 0–10"
    if flat.count(7) < 0.05 * len(flat):
        return f"7 is only {flat.count(7) / len(flat):.1%} of the tokens: free tokens are uniform over 0–10 (≈ 9 %)"
    return None


def _same_seed_same_sequences(answer: Answer) -> str | None:
    first, again = answer.call(answer.obj, 10, 5), answer.call(answer.obj, 10, 5)
    problem = _malformed(first, 10) or _malformed(again, 10)
    if problem:
        return problem
    if [list(map(int, s)) for s in first] != [list(map(int, s)) for s in again]:
        return (
            "two calls with seed 5 gave different sequences: draw every number from "
            "np.random.default_rng(seed), not from a global generator"
        )
    return None


def _other_seed_other_sequences(answer: Answer) -> str | None:
    five, six = answer.call(answer.obj, 10, 5), answer.call(answer.obj, 10, 6)
    problem = _malformed(five, 10) or _malformed(six, 10)
    if problem:
        return problem
    if [list(map(int, s)) for s in five] == [list(map(int, s)) for s in six]:
        return "seeds 5 and 6 gave the same sequences: seed the generator with `seed`"
    return None


EXERCISES = [
    Exercise(
        name="lucky7_verify",
        module="ch07_gallery",
        cases=_verify_cases,
        agrees_with={"glassbox.rules.Lucky7().verify": RULE.verify},
    ),
    Exercise(
        name="lucky7_generate",
        module="ch07_gallery",
        cases=_generate_cases,
        compare_values=False,  # any generator of right sequences is right: the properties say what they share
        properties=[_obeys_lucky7, _spread],
        behaviours={
            "the same seed gives the same sequences": _same_seed_same_sequences,
            "another seed gives other sequences": _other_seed_other_sequences,
        },
    ),
]
