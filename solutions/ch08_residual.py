"""Chapter 8, "The residual stream": reference solutions."""

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
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


def top_activating_positions(acts: Float[Tensor, "batch pos"], k: int) -> Int[Tensor, "k 2"]:
    """Where one neuron fires hardest: the (sequence, position) pairs of its `k` largest activations, largest
    first, as a [k, 2] integer tensor."""
    flat = acts.flatten()  # sequence b, position p is entry b * n_pos + p
    top = flat.topk(k).indices  # largest first
    return torch.stack([top // acts.shape[1], top % acts.shape[1]], dim=1)
