"""A rule's sequences as training data: seeded sequences split by sequence, and windows of n_ctx + 1 tokens.

Part III's models see `n_ctx` tokens; training reads windows of n_ctx + 1 (n_ctx to read, each with its next token),
picked as the seed project picked them: a sequence at random, then a window in it at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor

from glassbox.model import Transformer
from glassbox.rules.definitions import Rule


@dataclass
class RuleData:
    """Sequences of one rule, split 90/10 by sequence (a validation sequence is never seen in training)."""

    rule: Rule
    train: list[list[int]]
    val: list[list[int]]


def make_data(rule: Rule, n_sequences: int = 2000, seed: int = 0, val_fraction: float = 0.1) -> RuleData:
    """`n_sequences` seeded sequences of `rule`, the last `val_fraction` of them held out."""
    sequences = rule.generate(n_sequences, np.random.default_rng(seed))
    cut = int(round(n_sequences * (1 - val_fraction)))
    return RuleData(rule, sequences[:cut], sequences[cut:])


def padded(sequences: list[list[int]]) -> tuple[Tensor, Tensor]:
    """The sequences as one [n_sequences, max_length] tensor (padded with 0) and their lengths."""
    lengths = torch.tensor([len(s) for s in sequences])
    tokens = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.long)
    for row, sequence in zip(tokens, sequences, strict=True):
        row[: len(sequence)] = torch.tensor(sequence)
    return tokens, lengths


def window_sampler(sequences: list[list[int]], n_ctx: int, batch_size: int):
    """A batch function for `train`: pick a sequence at random, then a window of n_ctx + 1 tokens in it at random
    (as the seed project did), `batch_size` times, from the generator `train` passes in.

    n_ctx + 1, not n_ctx: the model reads the first n_ctx tokens and is scored on all n_ctx predictions, the last
    one included (see `window_loss`). Train on windows of n_ctx and the prediction at the last position is never
    trained — yet every prediction past the first window is made there.
    """
    tokens, lengths = padded(sequences)
    if int(lengths.min()) < n_ctx + 1:
        raise ValueError(f"every sequence must hold at least one window of {n_ctx + 1} tokens")
    offsets = torch.arange(n_ctx + 1)

    def batch(generator: torch.Generator) -> Tensor:
        rows = torch.randint(len(sequences), (batch_size,), generator=generator)
        starts = (torch.rand(batch_size, generator=generator) * (lengths[rows] - n_ctx)).long()
        return tokens[rows[:, None], starts[:, None] + offsets]

    return batch


def window_loss(model: Transformer, windows: Int[Tensor, "batch n_ctx_plus_1"]) -> Float[Tensor, ""]:
    """Mean cross-entropy of the model reading windows[:, :-1] and predicting windows[:, 1:] (every position)."""
    logits = model(windows[:, :-1])
    return F.cross_entropy(logits.flatten(0, 1), windows[:, 1:].flatten())


def all_windows(sequences: list[list[int]], n_ctx: int) -> Tensor:
    """Every window of n_ctx + 1 consecutive tokens of every sequence (n_ctx to read, each with its next token)."""
    return torch.cat([torch.tensor(s).unfold(0, n_ctx + 1, 1) for s in sequences])
