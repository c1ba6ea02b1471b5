"""Chapter 13, "Superposition in a toy model": reference solutions."""

import torch
from jaxtyping import Float
from torch import Tensor


def toy_forward(
    W: Float[Tensor, "instance d_hidden feature"],
    b_final: Float[Tensor, "instance feature"],
    x: Float[Tensor, "batch instance feature"],
) -> Float[Tensor, "batch instance feature"]:
    """The toy model x' = ReLU(Wᵀ W x + b) of every instance: h = W x squeezes the features into d_hidden
    dimensions, Wᵀ h reads them back, and the bias and ReLU clean up the interference."""
    hidden = torch.einsum("ihf,bif->bih", W, x)
    return torch.relu(torch.einsum("ihf,bih->bif", W, hidden) + b_final)


def importance_weighted_loss(
    out: Float[Tensor, "batch instance feature"],
    x: Float[Tensor, "batch instance feature"],
    importance: Float[Tensor, "instance feature"],
) -> Float[Tensor, "instance"]:
    """Σ_i I_i (x_i − x'_i)²: squared errors weighted by each feature's importance, summed over the features and
    averaged over the batch — one loss per instance."""
    return (importance * (x - out) ** 2).sum(-1).mean(0)


def feature_dimensionality(W: Float[Tensor, "instance d_hidden feature"]) -> Float[Tensor, "instance feature"]:
    """D_i = ‖W_i‖² / Σ_j (Ŵ_i · W_j)² for every feature i of every instance (W_i: column i of W, Ŵ_i = W_i/‖W_i‖;
    j runs over all features, i included). A feature whose column is zero has dimensionality 0."""
    norms = W.norm(dim=1, keepdim=True)  # [instance, 1, feature]
    unit = W / norms.clamp_min(1e-12)
    overlaps = torch.einsum("idf,idg->ifg", unit, W)  # Ŵ_i · W_j
    return norms[:, 0] ** 2 / overlaps.pow(2).sum(-1).clamp_min(1e-12)
