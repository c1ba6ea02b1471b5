"""Chapter 5, "Training a small language model": reference solutions."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from glassbox.train import evaluate_loss, train_step, warmup_cosine_lr  # one source: the library's loop
from jaxtyping import Float
from torch import Tensor

__all__ = ["temperature_probs", "warmup_cosine_lr", "train_step", "evaluate_loss"]


def temperature_probs(logits: Float[Tensor, "... d_vocab"], temperature: float) -> Float[Tensor, "... d_vocab"]:
    """The distribution that sampling at `temperature` draws the next token from: softmax(logits / temperature).

    Temperature 0 means greedy decoding: all the probability on the most likely token (the first one, on a tie).
    A negative temperature is a ValueError.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")
    if temperature == 0:
        return F.one_hot(logits.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
    return torch.softmax(logits / temperature, dim=-1)
