"""Single MLP neurons (chapter 8): where in a text each neuron fires hardest, and the context around each place.

A neuron's activation is one coordinate of `blocks.L.mlp.hook_post`; reading the inputs that drive it highest is the
first thing the field does with a neuron (a "top-activating examples" view). It shows what a neuron *responds* to,
not what it does downstream, and a neuron may respond to several unrelated things (polysemanticity).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor


@dataclass(frozen=True)
class TopActivations:
    """The `k` largest activations of one neuron: their values and where they are (sequence, position)."""

    values: Float[Tensor, "k"]
    batch: Int[Tensor, "k"]
    pos: Int[Tensor, "k"]


def top_activations(acts: Float[Tensor, "batch pos neuron"], neuron: int, k: int) -> TopActivations:
    """The `k` largest activations of `neuron` over every sequence and position, largest first."""
    if acts.ndim != 3 or not 0 <= neuron < acts.shape[-1]:
        raise ValueError(f"acts must be [batch, pos, neuron] with neuron < {acts.shape[-1]}, got {neuron}")
    if not 0 < k <= acts.shape[0] * acts.shape[1]:
        raise ValueError(f"k must lie in 1 … {acts.shape[0] * acts.shape[1]}, got {k}")
    top = acts[..., neuron].flatten().topk(k)
    return TopActivations(top.values, top.indices // acts.shape[1], top.indices % acts.shape[1])


def contexts(
    tokens: Int[Tensor, "batch pos"], where: TopActivations, decode, before: int = 12, after: int = 2
) -> list[str]:
    """The text around each place in `where`: `before` tokens, the token itself in ⟦ ⟧, then `after` tokens."""
    texts = []
    for b, p in zip(where.batch.tolist(), where.pos.tolist(), strict=True):
        left = decode(tokens[b, max(0, p - before) : p])
        right = decode(tokens[b, p + 1 : p + 1 + after])
        texts.append(f"{left}⟦{decode(tokens[b, p : p + 1])}⟧{right}".replace("\n", "⏎"))
    return texts


def write_sizes(
    acts: Float[Tensor, "batch pos neuron"], W_out: Float[Tensor, "neuron d_model"]
) -> Float[Tensor, "neuron"]:
    """How much each neuron writes into the residual stream on average: mean |activation| times ‖its W_out row‖."""
    return acts.abs().mean(dim=(0, 1)) * W_out.norm(dim=-1)


def context_tokens(tokens: Int[Tensor, "batch pos"], where: TopActivations, before: int) -> Int[Tensor, "k context"]:
    """The `before` tokens up to and including each place in `where`, one row per place ([k, before + 1]); a context
    that would start before its sequence is padded on the left with −1."""
    padded = torch.cat([torch.full((tokens.shape[0], before), -1, dtype=tokens.dtype), tokens], dim=1)
    starts = where.pos[:, None] + torch.arange(before + 1)  # in `padded`, position p sits at p + before
    return padded[where.batch[:, None], starts]
