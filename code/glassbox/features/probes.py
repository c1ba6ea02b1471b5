"""Linear probes on the residual stream, and steering along their directions (chapter 15).

A probe is logistic regression from an activation to a yes/no property of the text, trained by full-batch gradient
descent from zero weights, so the same data always gives the same probe. Activations are standardised first (each
dimension to mean 0 and variance 1 on the training set) and a constant 1 is appended, so that the last weight is the
bias.

Most properties of text are rare (2 % of characters are uppercase), and on a rare label plain accuracy rewards the
probe that always answers "no". So a probe can be trained **class-weighted** (each class carries half of the loss)
and is judged by its **balanced accuracy**, the mean of its accuracy on the positives and on the negatives: 0.5 for
any constant answer, however rare the label. A **control task** (Hewitt and Liang 2019) gives each character type a
random label with the property's frequency: what a probe reaches on it is what it can read off the current character
alone, and the probe's **selectivity** is its score on the property minus its score on the control.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn


@torch.enable_grad()  # trains the same inside torch.no_grad(), where a chapter or a checker may call it
def train_probe(
    features: Float[Tensor, "n d"],
    labels: Bool[Tensor, "n"],
    steps: int = 300,
    lr: float = 1.0,
    balanced: bool = False,
) -> Float[Tensor, "d"]:
    """Logistic-regression weights w (from zero, `steps` full-batch gradient steps of size `lr` on the mean
    binary cross-entropy of sigmoid(features · w)); with `balanced`, each class weighs half of the loss."""
    w = torch.zeros(features.shape[1], dtype=features.dtype, requires_grad=True)
    target = labels.to(features.dtype)
    weight = class_weights(labels).to(features.dtype) if balanced else None
    for _ in range(steps):
        loss = nn.functional.binary_cross_entropy_with_logits(features @ w, target, weight=weight)
        (grad,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= lr * grad
    return w.detach()


def class_weights(labels: Bool[Tensor, "n"]) -> Float[Tensor, "n"]:
    """A weight per sample, mean 1, that gives the positives and the negatives half of the total each."""
    positive = labels.float().mean().clamp(1 / len(labels), 1 - 1 / len(labels))
    return torch.where(labels, 0.5 / positive, 0.5 / (1 - positive))


def balanced_accuracy(predicted: Bool[Tensor, "n"], labels: Bool[Tensor, "n"]) -> float:
    """The mean of the accuracy on the positives and on the negatives: 0.5 for any constant answer."""
    if labels.all() or not labels.any():
        raise ValueError("balanced accuracy needs both classes among the labels")
    return 0.5 * (predicted[labels].float().mean() + (~predicted[~labels]).float().mean()).item()


def control_labels(token_ids: Int[Tensor, "n"], positive_rate: float, seed: int = 0) -> Bool[Tensor, "n"]:
    """A control task (Hewitt and Liang 2019): each token type gets one random label, the positive types drawn in
    random order until they cover `positive_rate` of the tokens. A function of the current token alone, with about
    the property's frequency."""
    counts = torch.bincount(token_ids).float()
    order = torch.randperm(len(counts), generator=torch.Generator().manual_seed(seed))
    order = order[counts[order] > 0]
    covered = counts[order].cumsum(0) / len(token_ids)
    n_positive = int((covered < positive_rate).sum()) + 1  # the first type that reaches the rate is in
    positive = torch.zeros(len(counts), dtype=torch.bool)
    positive[order[:n_positive]] = True
    return positive[token_ids]


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

    def balanced_accuracy(self, acts: Float[Tensor, "n d_model"], labels: Bool[Tensor, "n"]) -> float:
        return balanced_accuracy(self.predict(acts), labels)

    @property
    def direction(self) -> Float[Tensor, "d_model"]:
        """The direction in the (unstandardised) residual stream along which the probe's logit grows, unit length."""
        raw = self.weights[:-1] / self.std
        return raw / raw.norm()


def fit_probe(
    acts: Float[Tensor, "n d_model"],
    labels: Bool[Tensor, "n"],
    steps: int = 300,
    lr: float = 1.0,
    balanced: bool = False,
) -> Probe:
    """Standardise `acts`, append the bias feature, and train a probe on them (class-weighted with `balanced`)."""
    mean, std = acts.mean(0), acts.std(0).clamp_min(1e-6)
    probe = Probe(mean, std, torch.zeros(acts.shape[1] + 1))
    return Probe(mean, std, train_probe(probe.features(acts), labels, steps, lr, balanced))


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
