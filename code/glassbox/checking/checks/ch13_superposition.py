"""Checks for chapter 13, "Superposition in a toy model": the toy model's forward, its importance-weighted loss,
and each feature's dimensionality."""

import math

import torch

from glassbox.checking.judge import Case, Exercise
from glassbox.features.superposition import (
    feature_dimensionality,
    importance_weighted_loss,
    sparse_features,
    toy_forward,
)


def _forward_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)
    W = torch.randn(3, 2, 5, generator=generator)
    b = 0.3 * torch.randn(3, 5, generator=generator)
    x = sparse_features(8, torch.tensor([1.0, 0.3, 0.1]), 5, generator)
    square = torch.eye(4)[None]  # m = n and W = I: x' = ReLU(x) = x for x ≥ 0
    return [
        Case("3 instances, 5 features in 2 dimensions", (W, b, x)),
        Case(
            "W = identity (m = n): the features come back unchanged",
            (square, torch.zeros(1, 4), torch.rand(6, 1, 4, generator=generator)),
        ),
        Case("a negative bias (the ReLU must cut)", (W[:1], -torch.ones(1, 5), x[:, :1])),
        Case(
            "one hidden dimension, 2 features",
            (
                torch.randn(4, 1, 2, generator=generator),
                torch.randn(4, 2, generator=generator),
                torch.rand(5, 4, 2, generator=generator),
            ),
        ),
    ]


def _loss_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(1)
    x = sparse_features(16, torch.tensor([0.9, 0.2]), 5, generator)
    out = torch.rand(16, 2, 5, generator=generator)
    importance = torch.stack([0.9 ** torch.arange(5.0), torch.linspace(2, 0.5, 5)])
    return [
        Case("two instances, decaying importance", (out, x, importance)),
        Case("a perfect reconstruction (loss 0)", (x.clone(), x, importance)),
        Case("one feature much more important", (out[:, :1], x[:, :1], torch.tensor([[10.0, 1, 1, 1, 1]]))),
    ]


def _dimensionality_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(2)
    angles = 2 * math.pi * torch.arange(5) / 5
    pentagon = torch.stack([angles.cos(), angles.sin()])[None]  # D_i = 2/5 for every feature
    antipodal = torch.tensor([[[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]])  # 1/2, 1/2, 1, and a dropped feature (0)
    return [
        Case("random W: 4 instances, 6 features in 3 dimensions", (torch.randn(4, 3, 6, generator=generator),)),
        Case("a pentagon (every D_i = 2/5)", (pentagon,)),
        Case("an antipodal pair, a feature alone, a dropped feature", (antipodal,)),
        Case(
            "features of very different lengths",
            (torch.randn(2, 2, 5, generator=generator) * torch.logspace(-2, 1, 5),),
        ),
    ]


def _between_zero_and_one(dims: torch.Tensor, args) -> str | None:
    if (dims < -1e-6).any() or (dims > 1 + 1e-5).any():
        return "a dimensionality must lie between 0 and 1: the sum over j includes i itself, (Ŵ_i·W_i)² = ‖W_i‖²"
    return None


EXERCISES = [
    Exercise(
        name="toy_forward",
        module="ch13_superposition",
        cases=_forward_cases,
        mistakes={
            "add the bias before the ReLU: x' = ReLU(WᵀWx + b), not ReLU(WᵀWx) + b": lambda W, b, x: toy_forward(
                W, torch.zeros_like(b), x
            )
            + b,
            "the bias b_final is missing: x' = ReLU(WᵀWx + b)": lambda W, b, x: toy_forward(W, torch.zeros_like(b), x),
            "the ReLU is part of the model (the output of Wᵀh + b can be negative)": lambda W, b, x: torch.einsum(
                "ihf,bih->bif", W, torch.einsum("ihf,bif->bih", W, x)
            )
            + b,
        },
        agrees_with={"glassbox.features.superposition.toy_forward": toy_forward},
    ),
    Exercise(
        name="importance_weighted_loss",
        module="ch13_superposition",
        cases=_loss_cases,
        mistakes={
            "weight each feature's squared error by its importance": lambda out, x, imp: ((x - out) ** 2)
            .sum(-1)
            .mean(0),
            "sum over the features, then average over the batch (the mean over features divides by n)": lambda out,
            x,
            imp: (imp * (x - out) ** 2).mean(-1).mean(0),
            "square the error before weighting, not the importance": lambda out, x, imp: (imp**2 * (x - out) ** 2)
            .sum(-1)
            .mean(0),
            "average over the batch (dimension 0), keeping one loss per instance": lambda out, x, imp: (
                imp * (x - out) ** 2
            )
            .sum(-1)
            .sum(0),
        },
        agrees_with={"glassbox.features.superposition.importance_weighted_loss": importance_weighted_loss},
    ),
    Exercise(
        name="feature_dimensionality",
        module="ch13_superposition",
        cases=_dimensionality_cases,
        mistakes={
            "normalise W_i in the dot product (Ŵ_i · W_j), not the other way round": lambda W: W.norm(dim=1) ** 2
            / (torch.einsum("idf,idg->ifg", W, W / W.norm(dim=1, keepdim=True).clamp_min(1e-12)) ** 2)
            .sum(-1)
            .clamp_min(1e-12),
            "square each overlap before summing: Σ_j (Ŵ_i · W_j)²": lambda W: W.norm(dim=1) ** 2
            / torch.einsum("idf,idg->ifg", W / W.norm(dim=1, keepdim=True).clamp_min(1e-12), W)
            .sum(-1)
            .abs()
            .clamp_min(1e-12),
            "the numerator is ‖W_i‖², the squared norm": lambda W: W.norm(dim=1)
            / (torch.einsum("idf,idg->ifg", W / W.norm(dim=1, keepdim=True).clamp_min(1e-12), W) ** 2)
            .sum(-1)
            .clamp_min(1e-12),
        },
        properties=[_between_zero_and_one],
        agrees_with={"glassbox.features.superposition.feature_dimensionality": feature_dimensionality},
    ),
]
