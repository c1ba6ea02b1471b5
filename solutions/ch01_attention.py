"""Chapter 1, "Attention by hand": reference solutions."""

import math

import torch
from jaxtyping import Bool, Float
from torch import Tensor


def scaled_dot_product_attention(
    q: Float[Tensor, "... query_pos d_head"],
    k: Float[Tensor, "... key_pos d_head"],
    v: Float[Tensor, "... key_pos d_head"],
) -> Float[Tensor, "... query_pos d_head"]:
    """Attend from every query to every key: softmax(q kᵀ / √d_head) v.

    Leading dimensions (batch, head) are shared by q, k and v. No mask: every query sees every key.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # [... query_pos key_pos]
    pattern = scores.softmax(dim=-1)
    return pattern @ v


def causal_mask(n_pos: int) -> Bool[Tensor, "query_pos key_pos"]:
    """A boolean mask that is True where a query may attend: key position ≤ query position."""
    return torch.ones(n_pos, n_pos, dtype=torch.bool).tril()


def masked_attention(
    q: Float[Tensor, "... pos d_head"],
    k: Float[Tensor, "... pos d_head"],
    v: Float[Tensor, "... pos d_head"],
) -> Float[Tensor, "... pos d_head"]:
    """Causal scaled dot-product attention: each query attends only to its own and earlier positions."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # [... query_pos key_pos]
    allowed = causal_mask(q.shape[-2]).to(q.device)
    scores = scores.masked_fill(~allowed, float("-inf"))
    pattern = scores.softmax(dim=-1)
    return pattern @ v
