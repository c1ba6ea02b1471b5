"""Chapter 8, "The residual stream": reference solutions."""

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor


def mean_cosine_similarity(
    a: Float[Tensor, "batch pos d_model"], b: Float[Tensor, "batch pos d_model"]
) -> Float[Tensor, ""]:
    """Mean, over batch and positions, of the cosine similarity between a[i, p] and b[i, p]."""
    return F.cosine_similarity(a, b, dim=-1).mean()


def participation_ratio(x: Float[Tensor, "sample d_model"]) -> Float[Tensor, ""]:
    """(Σ λ)² / Σ λ², where λ are the variances of the centred samples along their principal directions: the
    squared singular values of x minus its mean over samples."""
    variances = torch.linalg.svdvals(x - x.mean(dim=0, keepdim=True)) ** 2
    return variances.sum() ** 2 / (variances**2).sum()


def neuron_write_sizes(
    acts: Float[Tensor, "batch pos neuron"], W_out: Float[Tensor, "neuron d_model"]
) -> Float[Tensor, " neuron"]:
    """How much each MLP neuron writes into the residual stream on average: the mean of its |activation| over every
    sequence and position, times the length (L2 norm) of the row of W_out it adds to the stream."""
    return acts.abs().mean(dim=(0, 1)) * W_out.norm(dim=-1)  # how often and how hard × how long its write is
