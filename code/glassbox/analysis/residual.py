"""The residual stream as a shared channel (chapter 8): its size, how much each layer changes it, which sublayer
writes most, how many directions it uses, and what it would predict if the model stopped early (logit lens).

Snapshots of the stream come from TransformerLens's `ActivationCache.accumulated_resid` (stream before each block,
optionally mid-block, and at the end) and its parts from `decompose_resid` (embeddings and every sublayer's
output); the functions here reduce them to one number per snapshot.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor

from glassbox.model import Transformer


def mean_norm(resid: Float[Tensor, "*lead batch pos d_model"]) -> Float[Tensor, "*lead"]:
    """Mean L2 norm of the residual vectors (over batch and positions)."""
    return resid.norm(dim=-1).mean(dim=(-2, -1))


def mean_cosine_similarity(
    a: Float[Tensor, "*lead batch pos d_model"], b: Float[Tensor, "*lead_b batch_b pos_b d_model_b"]
) -> Float[Tensor, "*lead"]:
    """Mean cosine similarity between matching vectors of `a` and `b` (same batch item and position)."""
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return F.cosine_similarity(a, b, dim=-1).mean(dim=(-2, -1))


def similarity_matrix(resid: Float[Tensor, "point batch pos d_model"]) -> Float[Tensor, "point point"]:
    """Mean cosine similarity between every two snapshots of the stream: how much of the direction persists."""
    unit = F.normalize(resid, dim=-1)
    return torch.einsum("ibpd,jbpd->ij", unit, unit) / (resid.shape[1] * resid.shape[2])


def _centred_singular_values(x: Float[Tensor, "sample d_model"]) -> Tensor:
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need a [sample, d_model] matrix with at least two samples, got {tuple(x.shape)}")
    return torch.linalg.svdvals(x - x.mean(dim=0, keepdim=True))


def participation_ratio(x: Float[Tensor, "sample d_model"]) -> float:
    """(Σ λ)² / Σ λ² over the variances λ = σ² of the centred samples along their principal directions.

    It counts the directions the samples really use: k for variance spread equally over k directions, 1 when one
    direction dominates, d_model for isotropic noise. Centring first means a constant offset counts for nothing.
    """
    variances = _centred_singular_values(x) ** 2
    return (variances.sum() ** 2 / (variances**2).sum()).item()


def spectral_effective_rank(x: Float[Tensor, "sample d_model"]) -> float:
    """exp(entropy of σ / Σσ) of the centred samples (Roy & Vetterli's effective rank): k for k equal singular
    values, and between 1 and the rank otherwise. Less dominated by the largest direction than the participation
    ratio."""
    sigma = _centred_singular_values(x)
    p = sigma / sigma.sum()
    p = p[p > 0]
    return torch.exp(-(p * p.log()).sum()).item()


@torch.no_grad()
def logit_lens(
    model: Transformer, resid: Float[Tensor, "point batch pos d_model"]
) -> Float[Tensor, "point batch pos d_vocab"]:
    """The logits each snapshot of the stream would give if it went straight to the final LayerNorm and the
    unembedding. The last snapshot (the final residual stream) gives exactly the model's logits."""
    n_points, batch = resid.shape[:2]
    logits = model.unembed(model.ln_final(resid.flatten(0, 1)))  # points stacked along the batch
    return logits.unflatten(0, (n_points, batch))


def next_token_losses(
    logits: Float[Tensor, "point batch pos d_vocab"], tokens: Int[Tensor, "batch pos"]
) -> Float[Tensor, "point"]:
    """Mean next-token loss of each snapshot's logits."""
    targets = tokens[:, 1:].flatten()
    return torch.stack([F.cross_entropy(lg[:, :-1].flatten(0, 1), targets) for lg in logits])
