"""The reader's own model of Part II, trained: chapter 5's "Train your own model" and chapter 5b's end to end.

`fair_split` cuts the book's text into chunks and holds out a random tenth of them; `train_own` trains a fresh
`DemoTransformer` (built from whichever chapter 3 parts it is given) with the training step, the learning-rate
schedule and the evaluation it is given — in a notebook the reader's own (chapter 5's exercises 5.2–5.4, picked by
`glassbox.yours.mine`), by default the library's. Seeds pass through `glassbox.runtime.training_seed`, the thread
count through `glassbox.runtime.threads`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from glassbox.config import TransformerConfig
from glassbox.data import random_windows
from glassbox.model import DemoTransformer
from glassbox.runtime import threads, training_seed
from glassbox.train import evaluate_loss, param_groups, train_step, warmup_cosine_lr

Curve = tuple[list[int], list[float]]  # evaluation steps, validation losses


@dataclass(frozen=True)
class FairSplit:
    """Training text as one stream of chunks, and held-out chunks cut into windows of `n_ctx`."""

    train: Tensor  # [n_train_chars]
    val_windows: Tensor  # [n_windows, n_ctx]

    def train_windows(self) -> Tensor:
        """As many consecutive training windows as there are validation windows: the same measurement on both."""
        n, n_ctx = self.val_windows.shape
        return self.train[: n * n_ctx].view(n, n_ctx)


def fair_split(tokens: Tensor, n_ctx: int = 32, chunk: int = 512, seed: int = 0) -> FairSplit:
    """Cut `tokens` into chunks of `chunk` and hold out a random tenth of them (seeded): validation then holds the
    same mix of prose and code as training."""
    chunks = tokens[: len(tokens) // chunk * chunk].view(-1, chunk)  # [n_chunks, chunk]
    order = torch.randperm(len(chunks), generator=torch.Generator().manual_seed(seed))
    n_held_out = len(chunks) // 10
    return FairSplit(chunks[order[n_held_out:]].flatten(), chunks[order[:n_held_out]].reshape(-1, n_ctx))


class TiedUnembed(nn.Module):
    """W_U = W_E transposed: the unembedding reads with the very matrix the embedding writes with (GPT-2)."""

    def __init__(self, embed: nn.Module, d_vocab: int):
        super().__init__()
        self.embed = embed
        self.b_U = nn.Parameter(torch.zeros(d_vocab))

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.embed.W_E.T + self.b_U


def train_own(
    cfg: TransformerConfig,
    split: FairSplit,
    *,
    model_class: Callable[..., nn.Module] = DemoTransformer,
    parts: Any = None,
    step_fn: Callable[..., float] = train_step,
    lr_fn: Callable[..., float] = warmup_cosine_lr,
    eval_fn: Callable[..., float] = evaluate_loss,
    seed: int = 0,
    steps: int = 240,
    batch_size: int = 16,
    max_lr: float = 1e-2,
    warmup_steps: int = 24,
    schedule: bool = True,
    max_grad_norm: float | None = 1.0,
    decay: str = "matrices",
    tie: bool = False,
    eval_every: int = 40,
) -> tuple[nn.Module, Curve]:
    """Train a fresh `model_class(cfg, parts=parts)`; return it and its validation curve.

    AdamW (betas 0.9, 0.99) with weight decay 0.1 on the matrices and embeddings (decay="matrices") or on every
    parameter ("all"); the learning rate `lr_fn(step, max_lr, warmup_steps, steps, max_lr / 10)` each step (or
    `max_lr` throughout without `schedule`); `step_fn(model, optimizer, batch, max_grad_norm)` on a random batch;
    `eval_fn(model, split.val_windows)` at step 0 and every `eval_every` steps."""
    with threads():  # the book's thread count: a model this small trains faster on one, and alike everywhere
        torch.manual_seed(training_seed(10 * seed))  # the initial weights
        model = model_class(cfg, parts=parts)
        if tie:
            model.unembed = TiedUnembed(model.embed, cfg.d_vocab)
        optimizer = torch.optim.AdamW(param_groups(model, 0.1, decay), lr=max_lr, betas=(0.9, 0.99))
        generator = torch.Generator().manual_seed(training_seed(10 * seed + 1))  # the batches
        curve: Curve = ([0], [eval_fn(model, split.val_windows)])
        for step in range(1, steps + 1):
            lr = lr_fn(step, max_lr, warmup_steps, steps, max_lr / 10) if schedule else max_lr
            for group in optimizer.param_groups:
                group["lr"] = lr
            step_fn(model, optimizer, random_windows(split.train, cfg.n_ctx, batch_size, generator), max_grad_norm)
            if step % eval_every == 0:
                curve[0].append(step)
                curve[1].append(eval_fn(model, split.val_windows))
    return model, curve
