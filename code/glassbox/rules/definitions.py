"""Integer-sequence rules for the glass-box models of Part III (chapters 6 and 7), and `RULES`, every rule the
book trains (chapter 7b's parity rules live in `glassbox.rules.parity`; their base class `Rule` in
`glassbox.rules.base`, re-exported here).

A rule fixes some positions of a sequence and leaves the rest free. `PlusLastEven`: after every `+` comes the most
recent even number before it. What every rule offers (`generate`, `allowed`, `target`, `constrained_mask`,
`verify`, `encode`/`decode`) is described in `glassbox.rules.base`.
"""

from __future__ import annotations

import numpy as np

from glassbox.rules.base import Rule, Tokens
from glassbox.rules.parity import (
    EvenAbsDiff,
    EvenGreaterThan10,
    EvenRepeatLastOdd,
    EvenToOdd,
    OddEvenIndex,
    ParityBased,
    TwoTokenParity,
)


class PlusLastEven(Rule):
    """After every `+` comes the most recent even number before it (any even number when there is none)."""

    name = "plus_last_even"
    description = "after +, the most recent even number before it"
    has_plus = True
    plus_probability = 0.3

    def last_even(self, sequence: Tokens, before: int) -> int | None:
        """The position of the most recent even number before position `before`, or None."""
        for j in range(before - 1, -1, -1):
            token = int(sequence[j])
            if token != self.plus and token % 2 == 0:
                return j
        return None

    def allowed(self, sequence, i):
        if i == 0 or int(sequence[i - 1]) != self.plus:
            return None
        j = self.last_even(sequence, i - 1)
        return frozenset(self.evens) if j is None else frozenset({int(sequence[j])})

    def free_token(self, sequence, rng):
        return self.plus if rng.random() < self.plus_probability else int(rng.integers(self.max_value + 1))

    def scored_tokens(self, sequence, i):
        # with no even number before the `+` the target was drawn at random: only the drawn token counts (chance 1/6)
        allowed = self.allowed(sequence, i)
        if allowed is not None and self.last_even(sequence, i - 1) is None:
            return frozenset({int(sequence[i])})
        return allowed

    def accuracy_group(self, sequence, i, n_ctx):
        """Whether the most recent even number before the `+` lies inside the window the prediction sees (the
        `+` and the n_ctx - 1 tokens before it), outside it, or does not exist."""
        j = self.last_even(sequence, i - 1)
        if j is None:
            return "no even number"
        return "inside the window" if j > (i - 1) - n_ctx else "outside the window"


class PlusMeansEven(PlusLastEven):
    """After `+` comes any even number (numbers 0 … 20, `+` drawn with probability 0.25, as the seed project did)."""

    name = "plus_means_even"
    description = "after +, any even number"
    max_value = 20
    plus_probability = 0.25
    scored_tokens = Rule.scored_tokens  # any even number is right, always
    accuracy_group = Rule.accuracy_group

    def allowed(self, sequence, i):
        return frozenset(self.evens) if i > 0 and int(sequence[i - 1]) == self.plus else None


class PlusMaxOfTwo(PlusLastEven):
    """After `+` comes the larger of the two numbers just before it (`+` only follows two numbers)."""

    name = "plus_max_of_two"
    description = "after +, the larger of the two numbers before it"
    max_value = 20
    scored_tokens = Rule.scored_tokens
    accuracy_group = Rule.accuracy_group

    def allowed(self, sequence, i):
        if i < 3 or int(sequence[i - 1]) != self.plus:
            return None
        return frozenset({max(int(sequence[i - 2]), int(sequence[i - 3]))})

    def free_token(self, sequence, rng):
        two_numbers = len(sequence) >= 2 and self.plus not in (sequence[-1], sequence[-2])
        if two_numbers and rng.random() < self.plus_probability:
            return self.plus
        return int(rng.integers(self.max_value + 1))

    def verify(self, sequence):
        # `+` must follow two numbers, or the rule would have nothing to take the maximum of
        plus_ok = all(
            i >= 2 and self.plus not in (sequence[i - 1], sequence[i - 2])
            for i, t in enumerate(sequence)
            if int(t) == self.plus
        )
        return plus_ok and super().verify(sequence)


class Lucky7(Rule):
    """After a 7 comes the token that came just before the 7."""

    name = "lucky7"
    description = "after 7, the token before the 7"

    def allowed(self, sequence, i):
        return frozenset({int(sequence[i - 2])}) if i >= 2 and int(sequence[i - 1]) == 7 else None


class StepBack(Rule):
    """After a 9 comes the value three positions before the 9 (a 9 at position 3 or later; a free token is a 9 with
    probability 0.4, else uniform, as in the seed project)."""

    name = "step_back"
    description = "after 9, the value three positions before the 9"
    back = 3
    min_length, max_length = 30, 80
    trigger_probability = 0.4

    def allowed(self, sequence, i):
        if i < self.back + 1 or int(sequence[i - 1]) != 9:
            return None
        return frozenset({int(sequence[i - 1 - self.back])})

    def free_token(self, sequence, rng):
        return 9 if rng.random() < self.trigger_probability else int(rng.integers(self.d_vocab))


class CopyModulo(Rule):
    """Token i copies token i mod k: the first k tokens are free, then the sequence repeats them."""

    name = "copy_modulo"
    description = "token i copies token i mod 4 (the first four repeat)"
    max_value = 9
    k = 4

    def allowed(self, sequence, i):
        return frozenset({int(sequence[i % self.k])}) if i >= self.k else None


class Successor(Rule):
    """Every token is the previous one plus one, modulo the vocabulary size."""

    name = "successor"
    description = "each token is (previous + 1) mod 10"
    max_value = 9

    def allowed(self, sequence, i):
        return frozenset({(int(sequence[i - 1]) + 1) % self.d_vocab}) if i > 0 else None


class ConditionalTransform(Rule):
    """Even t is followed by t // 2, odd t by (t + 1) mod 10 (ten tokens, so 9 is followed by 0, as in the seed)."""

    name = "conditional_transform"
    description = "after an even t comes t // 2, after an odd t comes (t + 1) mod 10"
    max_value = 9

    def allowed(self, sequence, i):
        if i == 0:
            return None
        t = int(sequence[i - 1])
        return frozenset({t // 2 if t % 2 == 0 else (t + 1) % self.d_vocab})


class LookupPermutation(Rule):
    """Every token is a fixed permutation of the previous one (the permutation is part of the rule)."""

    name = "lookup_permutation"
    description = "each token is a fixed permutation of the previous one"
    max_value = 9

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.permutation = [int(t) for t in np.random.default_rng(seed).permutation(self.d_vocab)]

    def allowed(self, sequence, i):
        return frozenset({self.permutation[int(sequence[i - 1])]}) if i > 0 else None


RULES: dict[str, type[Rule]] = {
    rule.name: rule
    for rule in (
        PlusLastEven,
        Lucky7,
        StepBack,
        PlusMaxOfTwo,
        PlusMeansEven,
        CopyModulo,
        Successor,
        ConditionalTransform,
        LookupPermutation,
        OddEvenIndex,
        EvenToOdd,
        EvenRepeatLastOdd,
        EvenAbsDiff,
        EvenGreaterThan10,
        ParityBased,
        TwoTokenParity,
    )
}


def get_rule(name: str) -> Rule:
    """The rule called `name`; an unknown name is an error that lists the known ones."""
    if name not in RULES:
        raise ValueError(f"unknown rule {name!r}; known rules: {', '.join(RULES)}")
    return RULES[name]()
