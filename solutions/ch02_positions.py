"""Chapter 2, "Positions, GELU and LayerNorm": reference solutions."""

import math

import torch
from jaxtyping import Float
from torch import Tensor


def sinusoidal_positions(n_ctx: int, d_model: int) -> Float[Tensor, "n_ctx d_model"]:
    """The fixed position encodings of "Attention Is All You Need".

    PE[p, 2i] = sin(p / 10000^(2i / d_model)) and PE[p, 2i + 1] = cos(p / 10000^(2i / d_model)).
    `d_model` must be even.
    """
    if d_model % 2:
        raise ValueError(f"d_model must be even for sinusoidal positions, got {d_model}")
    position = torch.arange(n_ctx, dtype=torch.float32)[:, None]  # [n_ctx 1]
    frequency = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)  # [d_model/2]
    angle = position * frequency  # [n_ctx d_model/2]
    encoding = torch.empty(n_ctx, d_model)
    encoding[:, 0::2] = torch.sin(angle)
    encoding[:, 1::2] = torch.cos(angle)
    return encoding


def gelu(x: Float[Tensor, "..."]) -> Float[Tensor, "..."]:
    """The exact GELU: x · Φ(x), where Φ is the standard normal CDF, written with erf."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x: Float[Tensor, "..."]) -> Float[Tensor, "..."]:
    """The tanh approximation of GELU used by GPT-2 (TransformerLens calls it `gelu_new`)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def layer_norm(
    x: Float[Tensor, "... d_model"],
    w: Float[Tensor, "d_model"],
    b: Float[Tensor, "d_model"],
    eps: float = 1e-5,
) -> Float[Tensor, "... d_model"]:
    """Normalise each vector over its last dimension to mean 0 and variance 1, then scale by w and shift by b.

    The variance is the biased one (divide by d_model) and eps sits inside the square root.
    """
    centred = x - x.mean(dim=-1, keepdim=True)
    scale = (centred.pow(2).mean(dim=-1, keepdim=True) + eps).sqrt()
    return centred / scale * w + b
