"""Chapter 8, "The residual stream": exercise stubs (fill in each body)."""

import torch
import torch.nn.functional as F
from jaxtyping import Float
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


def neuron_write_sizes(
    acts: Float[Tensor, "batch pos neuron"], W_out: Float[Tensor, "neuron d_model"]
) -> Float[Tensor, " neuron"]:
    """How much each MLP neuron writes into the residual stream on average: the mean of its |activation| over every
    sequence and position, times the length (L2 norm) of the row of W_out it adds to the stream."""
    raise NotImplementedError()
