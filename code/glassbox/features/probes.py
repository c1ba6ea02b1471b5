"""Linear probes on the residual stream, and steering along their directions (chapter 15).

A probe is logistic regression from an activation to a yes/no property of the text, trained by full-batch gradient
descent from zero weights, so the same data always gives the same probe. Activations are standardised first (each
dimension to mean 0 and variance 1 on the training set) and a constant 1 is appended, so that the last weight is the
bias.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn


@torch.enable_grad()  # trains the same inside torch.no_grad(), where a chapter or a checker may call it
def train_probe(
    features: Float[Tensor, "n d"], labels: Bool[Tensor, "n"], steps: int = 300, lr: float = 1.0
) -> Float[Tensor, "d"]:
    """Logistic-regression weights w (from zero, `steps` full-batch gradient steps of size `lr` on the mean
    binary cross-entropy of sigmoid(features · w))."""
    w = torch.zeros(features.shape[1], dtype=features.dtype, requires_grad=True)
    target = labels.to(features.dtype)
    for _ in range(steps):
        loss = nn.functional.binary_cross_entropy_with_logits(features @ w, target)
        (grad,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= lr * grad
    return w.detach()


@dataclass(frozen=True)
class Probe:
    """A trained probe: the standardisation it was trained with, and its weights (bias last)."""

    mean: Float[Tensor, "d_model"]
    std: Float[Tensor, "d_model"]
    weights: Float[Tensor, "d_model_plus_bias"]

    def features(self, acts: Float[Tensor, "n d_model"]) -> Float[Tensor, "n d_model_plus_bias"]:
        standard = (acts - self.mean) / self.std
        return torch.cat([standard, torch.ones(len(acts), 1, dtype=acts.dtype)], -1)

    def predict(self, acts: Float[Tensor, "n d_model"]) -> Bool[Tensor, "n"]:
        return self.features(acts) @ self.weights > 0

    def accuracy(self, acts: Float[Tensor, "n d_model"], labels: Bool[Tensor, "n"]) -> float:
        return (self.predict(acts) == labels).float().mean().item()

    @property
    def direction(self) -> Float[Tensor, "d_model"]:
        """The direction in the (unstandardised) residual stream along which the probe's logit grows, unit length."""
        raw = self.weights[:-1] / self.std
        return raw / raw.norm()


def fit_probe(acts: Float[Tensor, "n d_model"], labels: Bool[Tensor, "n"], steps: int = 300, lr: float = 1.0) -> Probe:
    """Standardise `acts`, append the bias feature, and train a probe on them."""
    mean, std = acts.mean(0), acts.std(0).clamp_min(1e-6)
    probe = Probe(mean, std, torch.zeros(acts.shape[1] + 1))
    return Probe(mean, std, train_probe(probe.features(acts), labels, steps, lr))


def majority_accuracy(train_labels: Bool[Tensor, "n"], test_labels: Bool[Tensor, "m"]) -> float:
    """The accuracy of always answering the training set's majority class."""
    majority = train_labels.float().mean() >= 0.5
    return (test_labels == majority).float().mean().item()


def steer(
    model: nn.Module,
    tokens: Int[Tensor, "batch pos"],
    hook_name: str,
    direction: Float[Tensor, "d_model"],
    alpha: float,
) -> Float[Tensor, "batch pos d_vocab"]:
    """The model's logits with alpha · direction added to the activation at `hook_name`, at every position."""

    def add(activation: Tensor, hook) -> Tensor:
        return activation + alpha * direction

    with torch.no_grad():
        return model.run_with_hooks(tokens, fwd_hooks=[(hook_name, add)])
