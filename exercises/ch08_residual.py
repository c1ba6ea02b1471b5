"""Chapter 8, "The residual stream": exercise stubs (fill in each body)."""

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor


def mean_cosine_similarity(
    a: Float[Tensor, "batch pos d_model"], b: Float[Tensor, "batch pos d_model"]
) -> Float[Tensor, ""]:
    """Mean, over batch and positions, of the cosine similarity between a[i, p] and b[i, p]."""
    raise NotImplementedError()


def participation_ratio(x: Float[Tensor, "sample d_model"]) -> Float[Tensor, ""]:
    """(Σ λ)² / Σ λ², where λ are the variances of the centred samples along their principal directions: the
    squared singular values of x minus its mean over samples."""
    raise NotImplementedError()


def top_activating_positions(acts: Float[Tensor, "batch pos"], k: int) -> Int[Tensor, "k 2"]:
    """Where one neuron fires hardest: the (sequence, position) pairs of its `k` largest activations, largest
    first, as a [k, 2] integer tensor."""
    raise NotImplementedError()
