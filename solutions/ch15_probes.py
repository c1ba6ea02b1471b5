"""Chapter 15, "Probing the residual stream": reference solutions."""

import torch
import torch.nn.functional as F
from glassbox.features import probes
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn


@torch.enable_grad()  # gradients on, even when called inside torch.no_grad()
def train_probe(features: Float[Tensor, "n d"], labels: Bool[Tensor, "n"], steps: int, lr: float) -> Float[Tensor, "d"]:
    """Logistic-regression weights w for predicting `labels` from `features`: start from w = 0 and take `steps`
    full-batch gradient-descent steps of size `lr` on the mean binary cross-entropy of sigmoid(features · w)."""
    w = torch.zeros(features.shape[1], dtype=features.dtype, requires_grad=True)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(features @ w, labels.to(features.dtype))
        (grad,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= lr * grad
    return w.detach()


def steer_logits(
    model: nn.Module,
    tokens: Int[Tensor, "batch pos"],
    hook_name: str,
    direction: Float[Tensor, "d_model"],
    alpha: float,
) -> Float[Tensor, "batch pos d_vocab"]:
    """The model's logits on `tokens` with alpha · direction added to the activation at `hook_name`, at every
    position."""

    def add(activation: Tensor, hook) -> Tensor:
        return activation + alpha * direction

    with torch.no_grad():
        return model.run_with_hooks(tokens, fwd_hooks=[(hook_name, add)])


def balanced_accuracy(predicted: Bool[Tensor, "n"], labels: Bool[Tensor, "n"]) -> Float[Tensor, ""]:
    """The mean of the accuracy on the positives (the fraction of the samples labelled True that are predicted True)
    and the accuracy on the negatives (the fraction labelled False that are predicted False): 0.5 for any constant
    answer, however rare the positives."""
    on_positives = predicted[labels].float().mean()
    on_negatives = (~predicted[~labels]).float().mean()
    return 0.5 * (on_positives + on_negatives)


def probe_selectivity(
    acts: Float[Tensor, "n d_model"],
    tokens: Int[Tensor, "n"],
    labels: Bool[Tensor, "n"],
    train: Bool[Tensor, "n"],
    seed: int,
) -> Float[Tensor, ""]:
    """Selectivity (Hewitt and Liang 2019): a probe's balanced accuracy on the property minus a probe's balanced
    accuracy on a control task, both class-weighted (`probes.fit_probe(..., steps=200, balanced=True)`), trained on
    the positions where `train` is True and scored on the others. The control gives each token type one random label
    at the property's positive rate: `probes.control_labels(tokens, rate, seed)`, drawn once over all positions."""
    control = probes.control_labels(tokens, labels.float().mean().item(), seed)

    def score(targets: Tensor) -> float:
        probe = probes.fit_probe(acts[train], targets[train], steps=200, balanced=True)
        return probe.balanced_accuracy(acts[~train], targets[~train])

    return torch.tensor(score(labels) - score(control))
