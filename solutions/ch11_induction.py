"""Chapter 11, "Induction heads, trained here": reference solutions."""

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor


def induction_score(pattern: Float[Tensor, "batch head query key"]) -> Float[Tensor, "head"]:
    """Each head's mean attention, on sequences whose second half repeats the first, from every second-half query
    q to the key just after the first occurrence of its token: q − half + 1 (half = sequence length / 2)."""
    half = pattern.shape[-1] // 2
    queries = torch.arange(half, 2 * half)
    return pattern[:, :, queries, queries - half + 1].mean(dim=(0, 2))


def second_half_loss(logits: Float[Tensor, "batch pos d_vocab"], tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, ""]:
    """Mean next-token loss of the predictions made at positions half … 2·half − 2, whose targets (the tokens at
    half + 1 … 2·half − 1) are copies of tokens the model has already seen."""
    half = tokens.shape[-1] // 2
    return F.cross_entropy(logits[:, half:-1].flatten(0, 1), tokens[:, half + 1 :].flatten())


def attention_score_parts(
    q_parts: Float[Tensor, "q_source batch pos d_head"], k_parts: Float[Tensor, "k_source batch pos d_head"]
) -> Float[Tensor, "q_source k_source batch query key"]:
    """A head's attention score split by source: its query is the sum of `q_parts` over the first axis (one part
    per source of the residual stream, projected by W_Q) and its key the sum of `k_parts`. Entry [i, j, b, q, k] is
    query part i at position q dotted with key part j at position k, divided by √d_head, so that the entries summed
    over i and j give the score q·k / √d_head (before the causal mask)."""
    d_head = q_parts.shape[-1]
    return torch.einsum("ibqd,jbkd->ijbqk", q_parts, k_parts) / d_head**0.5
