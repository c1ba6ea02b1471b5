"""Chapter 1, "Attention by hand": exercise stubs (fill in each body)."""

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
    raise NotImplementedError()


def causal_mask(n_pos: int) -> Bool[Tensor, "query_pos key_pos"]:
    """A boolean mask that is True where a query may attend: key position ≤ query position."""
    raise NotImplementedError()


def masked_attention(
    q: Float[Tensor, "... pos d_head"],
    k: Float[Tensor, "... pos d_head"],
    v: Float[Tensor, "... pos d_head"],
) -> Float[Tensor, "... pos d_head"]:
    """Causal scaled dot-product attention: each query attends only to its own and earlier positions."""
    raise NotImplementedError()
