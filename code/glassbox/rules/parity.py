"""Chapter 7b's rules: the seed project's seven rules about the parity of numbers 0 … 20 (`ParityRule` and its
subclasses). Some need only the current token, some the two last tokens, some reach back a varying distance.
"""

from __future__ import annotations

from glassbox.rules.base import Rule, Tokens


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
