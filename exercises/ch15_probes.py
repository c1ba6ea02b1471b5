"""Chapter 15, "Probing the residual stream": exercise stubs (fill in each body)."""

import torch
import torch.nn.functional as F
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn


def train_probe(features: Float[Tensor, "n d"], labels: Bool[Tensor, "n"], steps: int, lr: float) -> Float[Tensor, "d"]:
    """Logistic-regression weights w for predicting `labels` from `features`: start from w = 0 and take `steps`
    full-batch gradient-descent steps of size `lr` on the mean binary cross-entropy of sigmoid(features · w)."""
    raise NotImplementedError()


def steer_logits(
    model: nn.Module,
    tokens: Int[Tensor, "batch pos"],
    hook_name: str,
    direction: Float[Tensor, "d_model"],
    alpha: float,
) -> Float[Tensor, "batch pos d_vocab"]:
    """The model's logits on `tokens` with alpha · direction added to the activation at `hook_name`, at every
    position."""
    raise NotImplementedError()


def balanced_accuracy(predicted: Bool[Tensor, "n"], labels: Bool[Tensor, "n"]) -> Float[Tensor, ""]:
    """The mean of the accuracy on the positives (the fraction of the samples labelled True that are predicted True)
    and the accuracy on the negatives (the fraction labelled False that are predicted False): 0.5 for any constant
    answer, however rare the positives."""
    raise NotImplementedError()
