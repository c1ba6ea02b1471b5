"""Chapter 4, "The full model": exercise stubs (fill in each body)."""

from __future__ import annotations

from glassbox.config import TransformerConfig
from jaxtyping import Float, Int
from torch import Tensor

__all__ = ["count_parameters", "next_token_loss"]


def count_parameters(cfg: TransformerConfig) -> int:
    """The number of trainable parameters of `Transformer(cfg)`, from the config alone.

    Count the embeddings, every block's attention (weights and biases), its MLP unless `attn_only`, the
    LayerNorms (two per block and a final one, unless `normalization_type` is None) and the unembedding.
    Learned positions are parameters; sinusoidal ones are not.
    """
    raise NotImplementedError()


def next_token_loss(logits: Float[Tensor, "batch pos d_vocab"], tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, ""]:
    """Mean cross-entropy of predicting token t+1 from position t (TransformerLens's `lm_cross_entropy_loss`)."""
    raise NotImplementedError()
