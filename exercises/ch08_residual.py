"""Chapter 8, "The residual stream": exercise stubs (fill in each body)."""

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor
from transformer_lens import ActivationCache


def mean_cosine_similarity(
    a: Float[Tensor, "batch pos d_model"], b: Float[Tensor, "batch pos d_model"]
) -> Float[Tensor, ""]:
    """Mean, over batch and positions, of the cosine similarity between a[i, p] and b[i, p]."""
    raise NotImplementedError()


def participation_ratio(x: Float[Tensor, "sample d_model"]) -> Float[Tensor, ""]:
    """(Σ λ)² / Σ λ², where λ are the variances of the centred samples along their principal directions: the
    squared singular values of x minus its mean over samples."""
    raise NotImplementedError()


def top_activating_contexts(
    cache: ActivationCache, tokens: Int[Tensor, "batch pos"], layer: int, neuron: int, k: int, before: int
) -> Int[Tensor, "k context"]:
    """What makes MLP neuron `neuron` of layer `layer` fire: its `k` largest activations (`blocks.{layer}.mlp.hook_post`
    of `cache`, the run on `tokens`, over every sequence and position), largest first; for each, the `before`
    tokens that precede that position and the token at it, as one row of `before + 1` token ids. A context that would
    start before its sequence is padded on the left with −1 (0 is a real token)."""
    raise NotImplementedError()
