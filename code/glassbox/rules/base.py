"""`Rule`: the base class of Part III's integer-sequence rules (`glassbox.rules.definitions` lists them all).

A rule fixes some positions of a sequence and leaves the rest free. Each rule is a subclass with

- `generate(n_sequences, rng)`: sequences of token ids (lengths min_length … max_length) that follow the rule;
- `allowed(sequence, i)`: the tokens the rule permits at position i, or None where the position is free;
- `target(sequence, i)`: the one token the rule fixes at i (None where it is free or allows several);
- `constrained_mask(sequence)`: which positions the rule fixes;
- `verify(sequence)`: whether every constrained position holds an allowed token.

Tokens are ids into `rule.vocab` (e.g. "0" … "10", "+"); `rule.encode`/`rule.decode` convert. Randomness comes
only from the `numpy.random.Generator` passed in, so a seed fixes the data.
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
