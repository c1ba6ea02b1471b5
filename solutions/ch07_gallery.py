"""Reference solutions for chapter 7, "A gallery of rules": the lucky7 rule, checked and generated."""

from __future__ import annotations

import numpy as np


def lucky7_verify(sequence: list[int]) -> bool:
    """Whether `sequence` (numbers 0–10) obeys lucky7: every token right after a 7 equals the token just before
    that 7. A 7 at the very start has no token before it, so the token after it is free."""
    if any(not 0 <= t <= 10 for t in sequence):
        return False
    return all(sequence[i] == sequence[i - 2] for i in range(2, len(sequence)) if sequence[i - 1] == 7)


def lucky7_generate(n_sequences: int, seed: int) -> list[list[int]]:
    """`n_sequences` lucky7 sequences of 20 to 50 tokens: free tokens uniform over 0–10, and after every 7 (except
    at position 0) the token before the 7. Seeded with `np.random.default_rng(seed)`."""
    rng = np.random.default_rng(seed)
    sequences = []
    for _ in range(n_sequences):
        sequence: list[int] = []
        for i in range(int(rng.integers(20, 51))):
            if i >= 2 and sequence[i - 1] == 7:
                sequence.append(sequence[i - 2])
            else:
                sequence.append(int(rng.integers(11)))
        sequences.append(sequence)
    return sequences
