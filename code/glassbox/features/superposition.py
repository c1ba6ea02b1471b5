"""`ToyModel`: the toy model of superposition of Elhage et al. (2022), chapter 13.

n sparse features, each with an importance, squeezed into m < n hidden dimensions and read back out:
h = W x, x' = ReLU(Wᵀ h + b). Many independent instances (one per sparsity, importance or seed) train side by side
as one batched model, so a whole sweep costs one training loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import einops
import torch
from jaxtyping import Float
from torch import Tensor, nn

from glassbox.cache import cached_model, model_file
from glassbox.runtime import training_seed


@dataclass(frozen=True)
class ToyRecipe:
    """Everything that decides a toy model's weights."""

    n_features: int = 5
    d_hidden: int = 2
    steps: int = 3000
    batch_size: int = 1024
    lr: float = 1e-2  # higher than the paper's 1e-3: 3,000 steps instead of 10,000, the same optima on these sizes
    seed: int = 0


class ToyModel(nn.Module):
    """`n_instances` independent toy models: W [instances, d_hidden, n_features], b_final [instances, n_features]."""

    def __init__(self, n_instances: int, n_features: int, d_hidden: int, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(training_seed(seed))
        W = torch.empty(n_instances, d_hidden, n_features)
        for i in range(n_instances):  # Xavier-normal per instance, as in the paper's code
            W[i] = torch.randn(d_hidden, n_features, generator=generator) * (2 / (d_hidden + n_features)) ** 0.5
        self.W = nn.Parameter(W)
        self.b_final = nn.Parameter(torch.zeros(n_instances, n_features))

    def forward(self, x: Float[Tensor, "batch instance feature"]) -> Float[Tensor, "batch instance feature"]:
        return toy_forward(self.W, self.b_final, x)


def toy_forward(
    W: Float[Tensor, "instance d_hidden feature"],
    b_final: Float[Tensor, "instance feature"],
    x: Float[Tensor, "batch instance feature"],
) -> Float[Tensor, "batch instance feature"]:
    """x' = ReLU(Wᵀ W x + b): compress each instance's features into d_hidden dimensions, then read them back."""
    hidden = einops.einsum(W, x, "instance d_hidden feature, batch instance feature -> batch instance d_hidden")
    out = einops.einsum(W, hidden, "instance d_hidden feature, batch instance d_hidden -> batch instance feature")
    return torch.relu(out + b_final)


def sparse_features(
    batch: int, feature_probability: Float[Tensor, "instance"], n_features: int, generator: torch.Generator
) -> Float[Tensor, "batch instance feature"]:
    """Each feature is 0 with probability 1 − p (its sparsity S) and uniform on [0, 1] otherwise."""
    p = feature_probability[:, None]
    u = torch.rand(batch, p.shape[0], n_features, generator=generator)
    return torch.where(u < p, u / p, 0.0)  # given u < p, u / p is uniform on [0, 1): one draw decides both


def importance_weighted_loss(
    out: Float[Tensor, "batch instance feature"],
    x: Float[Tensor, "batch instance feature"],
    importance: Float[Tensor, "instance feature"],
) -> Float[Tensor, "instance"]:
    """The paper's loss: Σ_i I_i (x_i − x'_i)², summed over features and averaged over the batch, per instance."""
    return (importance * (x - out) ** 2).sum(-1).mean(0)


def train_toy_model(
    feature_probability: Float[Tensor, "instance"],
    importance: Float[Tensor, "instance feature"],
    recipe: ToyRecipe = ToyRecipe(),
) -> tuple[ToyModel, Float[Tensor, "instance"]]:
    """Train one toy model per instance with Adam; returns the model and each instance's final loss (on a fresh,
    seeded batch of 64 × batch_size, large enough to rank the optima of very sparse features).

    The weights are cached (`glassbox.cache`) under a hash of everything that decides them."""
    n_instances = feature_probability.shape[0]
    if importance.shape != (n_instances, recipe.n_features):
        raise ValueError(
            f"importance must have shape {(n_instances, recipe.n_features)}, got {tuple(importance.shape)}"
        )
    path = model_file(
        "toy_model", repr(recipe), repr(feature_probability.tolist()), repr(importance.tolist()), torch.__version__
    )

    def untrained() -> ToyModel:
        return ToyModel(n_instances, recipe.n_features, recipe.d_hidden, seed=recipe.seed)

    model = cached_model(path, untrained, lambda: _train(untrained(), feature_probability, importance, recipe))
    with torch.no_grad():
        x = sparse_features(
            64 * recipe.batch_size,
            feature_probability,
            recipe.n_features,
            torch.Generator().manual_seed(recipe.seed + 2),
        )
        final = importance_weighted_loss(model(x), x, importance)
    return model, final


def _train(model: ToyModel, feature_probability: Tensor, importance: Tensor, recipe: ToyRecipe) -> ToyModel:
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    generator = torch.Generator().manual_seed(training_seed(recipe.seed) + 1)
    for step in range(recipe.steps):
        for group in optimizer.param_groups:  # cosine decay: the last steps settle into the optimum
            group["lr"] = recipe.lr * 0.5 * (1 + torch.cos(torch.tensor(torch.pi * step / recipe.steps)).item())
        x = sparse_features(recipe.batch_size, feature_probability, recipe.n_features, generator)
        loss = importance_weighted_loss(model(x), x, importance).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model


def feature_norms(W: Float[Tensor, "instance d_hidden feature"]) -> Float[Tensor, "instance feature"]:
    """‖W_i‖: near 1 for a feature the model represents, near 0 for one it drops."""
    return W.norm(dim=1)


def dimensions_per_feature(W: Float[Tensor, "instance d_hidden feature"]) -> Float[Tensor, "instance"]:
    """D* = m / ‖W‖_F²: hidden dimensions per feature learned (1 with m features each in its own dimension; 1/2
    when twice as many are packed in)."""
    return W.shape[1] / W.pow(2).sum(dim=(1, 2))


def feature_dimensionality(W: Float[Tensor, "instance d_hidden feature"]) -> Float[Tensor, "instance feature"]:
    """D_i = ‖W_i‖² / Σ_j (Ŵ_i · W_j)²: the fraction of a dimension feature i owns (1 alone, 1/2 in an antipodal
    pair, 2/5 in a pentagon, 0 when dropped)."""
    norms = W.norm(dim=1, keepdim=True)  # [instance, 1, feature]
    unit = W / norms.clamp_min(1e-12)
    overlaps = einops.einsum(unit, W, "instance d i, instance d j -> instance i j")
    return norms[:, 0] ** 2 / overlaps.pow(2).sum(-1).clamp_min(1e-12)


def phase_of(W: Float[Tensor, "instance d_hidden 2"], threshold: float = 0.5) -> Float[Tensor, "instance"]:
    """For n = 2 features in m = 1 dimension: 0 when feature 2 is dropped, 1 when the two share the dimension with
    opposite signs (superposition: an antipodal pair, each read back by the ReLU), 2 when feature 2 has it to itself,
    3 when both are kept with the same sign (a blend: one direction that stands for both, read back as their mix)."""
    if W.shape[1:] != (1, 2):
        raise ValueError(f"phase_of is for two features in one dimension, W of shape [instance, 1, 2]; got {W.shape}")
    norms = feature_norms(W)
    first, second = norms[:, 0] > threshold, norms[:, 1] > threshold
    opposite = W[:, 0, 0] * W[:, 0, 1] < 0
    both = torch.where(opposite, 1, 3)
    return torch.where(~second, 0, torch.where(first, both, 2)).float()


def importance_decay(n_features: int, rate: float) -> Float[Tensor, "feature"]:
    """Importances rate⁰, rate¹, …: the paper's 0.9^i for n = 5 or 20."""
    return rate ** torch.arange(n_features, dtype=torch.float32)
