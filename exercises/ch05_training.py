"""Chapter 5, "Training a small language model": exercise stubs (fill in each body)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from glassbox.model import next_token_loss  # chapter 4's loss: logits[:, :-1] against tokens[:, 1:]
from jaxtyping import Float
from torch import Tensor, nn


def temperature_probs(logits: Float[Tensor, "... d_vocab"], temperature: float) -> Float[Tensor, "... d_vocab"]:
    """The distribution that sampling at `temperature` draws the next token from: softmax(logits / temperature).

    Temperature 0 means greedy decoding: all the probability on the most likely token (the first one, on a tie).
    A negative temperature is a ValueError.
    """
    raise NotImplementedError()


def warmup_cosine_lr(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """The learning rate of step `step` (1 … total_steps): a linear warm-up from max_lr / warmup_steps to max_lr
    over the first `warmup_steps` steps, then half a cosine from max_lr down to `min_lr` at the last step.

    Steps outside 1 … total_steps, or warmup_steps outside 0 … total_steps, are a ValueError.
    """
    raise NotImplementedError()


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, batch: Tensor, max_grad_norm: float | None) -> float:
    """One step of training on `batch` ([batch, pos] token ids): the next-token loss, its gradients (the old
    ones cleared first), the gradient norm clipped to `max_grad_norm` (None: no clipping), one optimizer step.
    Returns the batch's loss before the update, as a float."""
    raise NotImplementedError()


def evaluate_loss(model: nn.Module, windows: Tensor, batch_size: int = 256) -> float:
    """The mean next-token loss of `model` over every window of `windows` ([n_windows, pos] ids), in batches of
    `batch_size`, in eval mode and without gradients; the model is left in the mode it was in."""
    raise NotImplementedError()
