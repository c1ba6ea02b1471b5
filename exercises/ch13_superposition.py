"""Chapter 13, "Superposition in a toy model": exercise stubs (fill in each body)."""

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
    raise NotImplementedError()


def importance_weighted_loss(
    out: Float[Tensor, "batch instance feature"],
    x: Float[Tensor, "batch instance feature"],
    importance: Float[Tensor, "instance feature"],
) -> Float[Tensor, "instance"]:
    """Σ_i I_i (x_i − x'_i)²: squared errors weighted by each feature's importance, summed over the features and
    averaged over the batch — one loss per instance."""
    raise NotImplementedError()


def feature_dimensionality(W: Float[Tensor, "instance d_hidden feature"]) -> Float[Tensor, "instance feature"]:
    """D_i = ‖W_i‖² / Σ_j (Ŵ_i · W_j)² for every feature i of every instance (W_i: column i of W, Ŵ_i = W_i/‖W_i‖;
    j runs over all features, i included). A feature whose column is zero has dimensionality 0."""
    raise NotImplementedError()
