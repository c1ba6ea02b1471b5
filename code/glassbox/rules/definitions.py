"""Integer-sequence rules for the glass-box models of Part III (chapters 6 and 7).

A rule fixes some positions of a sequence and leaves the rest free. `PlusLastEven`: after every `+` comes the most
recent even number before it. Each rule is a class with

- `generate(n_sequences, rng)`: sequences of token ids (lengths min_length … max_length) that follow the rule;
- `allowed(sequence, i)`: the tokens the rule permits at position i, or None where the position is free;
- `target(sequence, i)`: the one token the rule fixes at i (None where it is free or allows several);
- `constrained_mask(sequence)`: which positions the rule fixes;
- `verify(sequence)`: whether every constrained position holds an allowed token.

Tokens are ids into `rule.vocab` (e.g. "0" … "10", "+"); `rule.encode`/`rule.decode` convert. Randomness comes
only from the `numpy.random.Generator` passed in, so a seed fixes the data.

Longer than 300 lines: it holds all sixteen rules of the gallery (each a few lines), so that one file lists every
rule the book trains, and the rules cache (`glassbox.rules.training.run_folder`) hashes one file.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Tokens = Sequence[int]


class Rule:
    """A rule over a vocabulary of numbers `0 … max_value` and, for some rules, the operator `+`."""

    name = "rule"
    description = ""
    max_value = 10
    has_plus = False
    min_length, max_length = 20, 50
    UNLEARNABLE = ("no even number", "outside the window")  # accuracy groups no model with this context can learn

    def __init__(self) -> None:
        self.vocab = [str(n) for n in range(self.max_value + 1)] + (["+"] if self.has_plus else [])
        self.numbers = list(range(self.max_value + 1))
        self.evens = [n for n in self.numbers if n % 2 == 0]

    # ----------------------------------------------------------------------------------- tokens and text
    @property
    def d_vocab(self) -> int:
        return len(self.vocab)

    @property
    def plus(self) -> int:
        """The id of `+`."""
        if not self.has_plus:
            raise ValueError(f"rule {self.name!r} has no '+' token")
        return len(self.vocab) - 1

    def encode(self, text: str | Sequence[str | int]) -> list[int]:
        """Ids of tokens given as a string ("4 9 + 4") or a list (["4", 9, "+"]); an unknown token is an error."""
        items = text.split() if isinstance(text, str) else [str(t) for t in text]
        unknown = [t for t in items if t not in self.vocab]
        if unknown:
            raise ValueError(f"tokens {unknown} are not in the vocabulary of {self.name!r}: {' '.join(self.vocab)}")
        return [self.vocab.index(t) for t in items]

    def decode(self, tokens: Tokens) -> str:
        return " ".join(self.vocab[int(t)] for t in tokens)

    # ----------------------------------------------------------------------------------------- the rule
    def allowed(self, sequence: Tokens, i: int) -> frozenset[int] | None:
        """The tokens the rule allows at position `i` given `sequence[:i]`; None where position i is free."""
        raise NotImplementedError

    def target(self, sequence: Tokens, i: int) -> int | None:
        """The one token the rule fixes at position i, or None (free, or several tokens allowed)."""
        allowed = self.allowed(sequence, i)
        return next(iter(allowed)) if allowed is not None and len(allowed) == 1 else None

    def scored_tokens(self, sequence: Tokens, i: int) -> frozenset[int] | None:
        """The predictions that count as right at position i when scoring a model (None where i is free): any
        allowed token, unless a rule says otherwise."""
        return self.allowed(sequence, i)

    def accuracy_group(self, sequence: Tokens, i: int, n_ctx: int) -> str:
        """The group constrained position i is scored in, for a model that sees `n_ctx` tokens."""
        return "constrained"

    def constrained_mask(self, sequence: Tokens) -> list[bool]:
        """True at every position the rule constrains."""
        return [self.allowed(sequence, i) is not None for i in range(len(sequence))]

    def verify(self, sequence: Tokens) -> bool:
        """Whether `sequence` is made of the rule's tokens and every constrained position holds an allowed one."""
        if any(not 0 <= int(t) < self.d_vocab for t in sequence):
            return False
        for i in range(len(sequence)):
            allowed = self.allowed(sequence, i)
            if allowed is not None and int(sequence[i]) not in allowed:
                return False
        return True

    # --------------------------------------------------------------------------------------- generation
    def free_token(self, sequence: list[int], rng: np.random.Generator) -> int:
        """The token drawn at a free position (uniform over the vocabulary unless a rule says otherwise)."""
        return int(rng.integers(self.d_vocab))

    def generate(self, n_sequences: int, rng: np.random.Generator) -> list[list[int]]:
        """`n_sequences` sequences of lengths min_length … max_length that follow the rule."""
        if n_sequences <= 0:
            raise ValueError(f"n_sequences must be positive, got {n_sequences}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(
                f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        sequences = []
        for _ in range(n_sequences):
            length = int(rng.integers(self.min_length, self.max_length + 1))
            sequence: list[int] = []
            for i in range(length):
                allowed = self.allowed(sequence, i)
                if allowed is None:
                    sequence.append(self.free_token(sequence, rng))
                else:
                    sequence.append(int(rng.choice(sorted(allowed))))
            sequences.append(sequence)
        return sequences


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


class ParityRule(Rule):
    """The seed project's rules about parity: numbers 0 … 20, no operator, sequences of 16–32 tokens."""

    max_value = 20
    min_length, max_length = 16, 32

    def __init__(self) -> None:
        super().__init__()
        self.odds = [n for n in self.numbers if n % 2 == 1]


class OddEvenIndex(ParityRule):
    """Even positions hold even numbers, odd positions odd numbers (the seed project's default rule)."""

    name = "odd_even_index"
    description = "position i holds a number of i's parity"

    def allowed(self, sequence, i):
        return frozenset(self.odds if i % 2 else self.evens)


class EvenToOdd(ParityRule):
    """After an even number comes an odd one; after an odd number, anything."""

    name = "even_to_odd_transition"
    description = "after an even number, an odd number"

    def allowed(self, sequence, i):
        return frozenset(self.odds) if i > 0 and int(sequence[i - 1]) % 2 == 0 else None


class EvenRepeatLastOdd(ParityRule):
    """After an even number comes the most recent odd number before it (free while no odd number has come)."""

    name = "even_repeat_last_odd"
    description = "after an even number, the most recent odd number"

    def last_odd(self, sequence: Tokens, before: int) -> int | None:
        """The position of the most recent odd number before position `before`, or None."""
        return next((j for j in range(before - 1, -1, -1) if int(sequence[j]) % 2 == 1), None)

    def allowed(self, sequence, i):
        if i == 0 or int(sequence[i - 1]) % 2 == 1:
            return None
        j = self.last_odd(sequence, i - 1)
        return None if j is None else frozenset({int(sequence[j])})

    def accuracy_group(self, sequence, i, n_ctx):
        """Whether the odd number to repeat lies inside the window the prediction sees (the even number and the
        n_ctx - 1 tokens before it) or outside it."""
        j = self.last_odd(sequence, i - 1)
        return "inside the window" if j > (i - 1) - n_ctx else "outside the window"


class EvenAbsDiff(ParityRule):
    """After an even number t comes |t - s|, s the number before t (from the third position on)."""

    name = "even_abs_diff"
    description = "after an even t that follows s, |t - s|"

    def allowed(self, sequence, i):
        if i < 2 or int(sequence[i - 1]) % 2 == 1:
            return None
        return frozenset({abs(int(sequence[i - 1]) - int(sequence[i - 2]))})


class EvenGreaterThan10(ParityRule):
    """After an even number comes a number above 10; after an odd number, a number below 10."""

    name = "even_greater_than_10"
    description = "after an even number, one above 10; after an odd one, one below 10"
    min_length, max_length = 33, 64

    def allowed(self, sequence, i):
        if i == 0:
            return None
        above = int(sequence[i - 1]) % 2 == 0
        return frozenset(n for n in self.numbers if (n > 10 if above else n < 10))


class ParityBased(ParityRule):
    """Two numbers of the same parity are followed by an even number, two of different parity by an odd one."""

    name = "parity_based"
    description = "after two of the same parity, an even number; else an odd one"
    min_length, max_length = 33, 64

    def allowed(self, sequence, i):
        if i < 2:
            return None
        same = int(sequence[i - 1]) % 2 == int(sequence[i - 2]) % 2
        return frozenset(self.evens if same else self.odds)


class TwoTokenParity(ParityRule):
    """Two numbers of the same parity are followed by a number below 10, two of different parity by one of 10 or
    more (the seed project's "paritygt10")."""

    name = "two_token_parity"
    description = "after two of the same parity, a number below 10; else 10 or more"
    min_length, max_length = 33, 64

    def allowed(self, sequence, i):
        if i < 2:
            return None
        same = int(sequence[i - 1]) % 2 == int(sequence[i - 2]) % 2
        return frozenset(n for n in self.numbers if (n < 10 if same else n >= 10))


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
