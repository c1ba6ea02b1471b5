"""Chapter 2, "Positions, GELU and LayerNorm": exercise stubs (fill in each body)."""

import math

import torch
from jaxtyping import Float
from torch import Tensor


def sinusoidal_positions(n_ctx: int, d_model: int) -> Float[Tensor, "n_ctx d_model"]:
    """The fixed position encodings of "Attention Is All You Need".

    PE[p, 2i] = sin(p / 10000^(2i / d_model)) and PE[p, 2i + 1] = cos(p / 10000^(2i / d_model)).
    `d_model` must be even.
    """
    raise NotImplementedError()


def gelu(x: Float[Tensor, "..."]) -> Float[Tensor, "..."]:
    """The exact GELU: x · Φ(x), where Φ is the standard normal CDF, written with erf."""
    raise NotImplementedError()


def gelu_tanh(x: Float[Tensor, "..."]) -> Float[Tensor, "..."]:
    """The tanh approximation of GELU used by GPT-2 (TransformerLens calls it `gelu_new`)."""
    raise NotImplementedError()


def layer_norm(
    x: Float[Tensor, "... d_model"],
    w: Float[Tensor, "d_model"],
    b: Float[Tensor, "d_model"],
    eps: float = 1e-5,
) -> Float[Tensor, "... d_model"]:
    """Normalise each vector over its last dimension to mean 0 and variance 1, then scale by w and shift by b.

    The variance is the biased one (divide by d_model) and eps sits inside the square root.
    """
    raise NotImplementedError()
