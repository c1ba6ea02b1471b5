"""A short, readable training loop (chapter 5, and every chapter that trains after it).

AdamW on the next-token loss (or a loss you pass), seeded batches, a progress bar, evaluation every N steps,
a history of train and validation loss, and checkpoints every N steps kept in memory or written to disk.
Models under `SMALL_MODEL` parameters train on one CPU thread, which is faster for them (the library chooses, so
chapters need not).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from glassbox.model import next_token_loss
from glassbox.runtime import BOOK_THREADS, threads, training_seed

# parameters: below this a CPU step is mostly overhead, and one thread beats several (~10x on a busy machine)
SMALL_MODEL = 10_000
BatchFn = Callable[[torch.Generator], Tensor]  # returns a batch of token ids, drawn with the given generator
LossFn = Callable[[nn.Module, Tensor], Tensor]  # (model, batch) -> scalar loss


def lm_loss(model: nn.Module, batch: Tensor) -> Tensor:
    """The default loss: the model's own mean next-token cross-entropy."""
    return model(batch, return_type="loss")


@dataclass(frozen=True)
class TrainConfig:
    """How long and how to train. Defaults suit the book's small CPU models."""

    steps: int = 1000
    lr: float = 1e-3
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float | None = 1.0  # clip the gradient norm; None turns clipping off
    eval_every: int = 100
    eval_batches: int = 4  # validation loss is the mean over this many batches
    checkpoint_every: int | None = None  # None: no checkpoints
    checkpoint_dir: Path | None = None  # None: keep checkpoints in memory (state dicts on the CPU)
    seed: int = 0
    progress: bool = True
    lr_schedule: str = "constant"  # "cosine": decay the learning rate from lr to 0 along half a cosine
    decay: str = "matrices"  # what weight decay shrinks: "matrices" (nanoGPT: not biases or gains; chapter 5), or "all"

    def lr_at(self, step: int) -> float:
        """The learning rate of step `step` (1 … steps)."""
        if self.lr_schedule == "constant":
            return self.lr
        return self.lr * 0.5 * (1 + math.cos(math.pi * (step - 1) / self.steps))

    def __post_init__(self) -> None:
        if self.steps <= 0 or self.eval_every <= 0 or self.eval_batches <= 0:
            raise ValueError("steps, eval_every and eval_batches must be positive")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        if self.decay not in ("all", "matrices"):
            raise ValueError(f"decay must be 'all' or 'matrices', got {self.decay!r}")
        if self.checkpoint_every is not None and self.checkpoint_every <= 0:
            raise ValueError(f"checkpoint_every must be positive or None, got {self.checkpoint_every}")


@dataclass
class History:
    """What happened during training: the loss at every step, and evaluations every `eval_every` steps."""

    train_loss: list[float] = field(default_factory=list)  # one per step
    eval_steps: list[int] = field(default_factory=list)
    eval_train_loss: list[float] = field(default_factory=list)  # mean over eval_batches fresh training batches
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)  # from the `evaluate` callback
    checkpoints: dict[int, dict[str, Tensor] | Path] = field(default_factory=dict)  # step -> state dict or file


@torch.no_grad()
def mean_loss(model: nn.Module, batches: BatchFn, n_batches: int, generator: torch.Generator, loss_fn: LossFn) -> float:
    """The mean loss over `n_batches` batches, with the model in eval mode."""
    was_training = model.training
    model.eval()
    loss = sum(loss_fn(model, batches(generator)).item() for _ in range(n_batches)) / n_batches
    model.train(was_training)
    return loss


def param_groups(model: nn.Module, weight_decay: float, decay: str = "all") -> list[dict]:
    """AdamW's parameter groups: with `decay="matrices"`, only parameters with two or more dimensions (weight
    matrices and embeddings) decay; biases and LayerNorm gains, which set offsets and scales, do not (nanoGPT)."""
    params = [p for p in model.parameters() if p.requires_grad]
    if decay == "all":
        return [{"params": params, "weight_decay": weight_decay}]
    return [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]


def show_progress(cfg: TrainConfig) -> bool:
    """Whether to draw a progress bar: `cfg.progress`, unless `TQDM_DISABLE` is set (`make book` sets it to keep bars
    out of the pages; tqdm's terminal bar reads it, but its notebook bar does not)."""
    return cfg.progress and os.environ.get("TQDM_DISABLE", "").lower() not in ("1", "true")


@contextlib.contextmanager
def cpu_threads_for(model: nn.Module) -> Iterator[None]:
    """One CPU thread while a small model trains (faster: a step is mostly overhead), the caller's count after."""
    small = sum(p.numel() for p in model.parameters()) < SMALL_MODEL
    on_cpu = all(p.device.type == "cpu" for p in model.parameters())
    with threads(BOOK_THREADS if small and on_cpu else torch.get_num_threads()):
        yield


def evaluate_into(
    history: History,
    step: int,
    model: nn.Module,
    cfg: TrainConfig,
    train_batches: BatchFn,
    val_batches: BatchFn,
    generator: torch.Generator,
    loss_fn: LossFn,
    evaluate: Callable[[nn.Module], dict[str, float]] | None,
) -> None:
    """Record the train and validation loss (and any `evaluate` metrics) of `model` at `step`."""
    history.eval_steps.append(step)
    history.eval_train_loss.append(mean_loss(model, train_batches, cfg.eval_batches, generator, loss_fn))
    history.val_loss.append(mean_loss(model, val_batches, cfg.eval_batches, generator, loss_fn))
    for name, value in (evaluate(model) if evaluate else {}).items():
        history.metrics.setdefault(name, []).append(value)


def checkpoint_into(history: History, step: int, model: nn.Module, cfg: TrainConfig) -> None:
    """Keep `model`'s weights at `step`: a CPU copy in memory, or a file in `cfg.checkpoint_dir`."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if cfg.checkpoint_dir is None:
        history.checkpoints[step] = state
    else:
        path = Path(cfg.checkpoint_dir) / f"step_{step:06d}.pt"
        torch.save(state, path)
        history.checkpoints[step] = path


@torch.enable_grad()  # trains the same inside `torch.no_grad()` (a chapter that only reads models turns gradients off)
def train(
    model: nn.Module,
    train_batches: BatchFn,
    val_batches: BatchFn,
    cfg: TrainConfig = TrainConfig(),
    loss_fn: LossFn = lm_loss,
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
) -> History:
    """Train `model` in place with AdamW and return its `History`.

    Step 0 is evaluated (and checkpointed) before any update, so curves start from the untrained model.
    """
    # fused: one kernel updates every parameter (a small model's step is otherwise dominated by the optimizer's loop)
    fused = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in model.parameters())
    optimizer = torch.optim.AdamW(
        param_groups(model, cfg.weight_decay, cfg.decay), lr=cfg.lr, betas=cfg.betas, fused=fused
    )
    batch_generator = torch.Generator().manual_seed(training_seed(cfg.seed))
    eval_generator = torch.Generator().manual_seed(training_seed(cfg.seed) + 1)
    history = History()
    if cfg.checkpoint_dir is not None:
        Path(cfg.checkpoint_dir).mkdir(parents=True, exist_ok=True)

    def record(step: int) -> None:
        if step % cfg.eval_every == 0 or step == cfg.steps:
            evaluate_into(history, step, model, cfg, train_batches, val_batches, eval_generator, loss_fn, evaluate)
        if cfg.checkpoint_every and (step % cfg.checkpoint_every == 0 or step == cfg.steps):
            checkpoint_into(history, step, model, cfg)

    model.train()
    with cpu_threads_for(model):
        record(0)
        bar = tqdm(range(1, cfg.steps + 1), desc="training", disable=not show_progress(cfg))
        for step in bar:
            if cfg.lr_schedule != "constant":
                for group in optimizer.param_groups:
                    group["lr"] = cfg.lr_at(step)
            loss = loss_fn(model, train_batches(batch_generator))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            history.train_loss.append(loss.item())
            record(step)
            if history.eval_steps[-1] == step:
                bar.set_postfix(train=f"{history.eval_train_loss[-1]:.3f}", val=f"{history.val_loss[-1]:.3f}")
    model.eval()
    return history


def load_checkpoint(model: nn.Module, checkpoint: dict[str, Tensor] | Path) -> nn.Module:
    """A copy of `model` holding the weights of one checkpoint from `History.checkpoints`."""
    state = torch.load(checkpoint) if isinstance(checkpoint, (str, Path)) else checkpoint
    restored = copy.deepcopy(model)
    restored.load_state_dict(state)
    return restored


# ------------------------------------------------------------------- the reader's loop, step by step (chapter 5)
def warmup_cosine_lr(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """The learning rate of step `step` (1 … total_steps): a linear warm-up from max_lr / warmup_steps to max_lr
    over the first `warmup_steps` steps, then half a cosine from max_lr down to `min_lr` at the last step.

    Steps outside 1 … total_steps, or warmup_steps outside 0 … total_steps, are a ValueError.
    """
    if not 1 <= step <= total_steps:
        raise ValueError(f"step must lie in 1 … total_steps={total_steps}, got {step}")
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"warmup_steps must lie in 0 … total_steps={total_steps}, got {warmup_steps}")
    if step <= warmup_steps:  # warm-up: Adam's moment estimates are still poor, so take small steps at first
        return max_lr * step / warmup_steps
    if total_steps == warmup_steps:
        return max_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)  # 0 just after the warm-up … 1 at the end
    return min_lr + (max_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


@torch.enable_grad()
def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, batch: Tensor, max_grad_norm: float | None) -> float:
    """One step of training on `batch` ([batch, pos] token ids): the next-token loss, its gradients (the old
    ones cleared first), the gradient norm clipped to `max_grad_norm` (None: no clipping), one optimizer step.
    Returns the batch's loss before the update, as a float."""
    model.train()
    loss = next_token_loss(model(batch), batch)  # 1. how wrong the model is on this batch
    optimizer.zero_grad(set_to_none=True)  # 2. forget the previous step's gradients (backward adds to them)
    loss.backward()  # 3. d loss / d every parameter
    if max_grad_norm is not None:  # 4. one unusually steep batch must not throw the weights far
        nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()  # 5. move every parameter
    return loss.item()


@torch.no_grad()
def evaluate_loss(model: nn.Module, windows: Tensor, batch_size: int = 256) -> float:
    """The mean next-token loss of `model` over every window of `windows` ([n_windows, pos] ids), in batches of
    `batch_size`, in eval mode and without gradients; the model is left in the mode it was in."""
    if len(windows) == 0 or batch_size <= 0:
        raise ValueError(f"need at least one window and a positive batch_size, got {len(windows)} and {batch_size}")
    was_training = model.training
    model.eval()
    total = 0.0
    for chunk in windows.split(batch_size):  # every window has the same length: weigh each batch by its size
        total += next_token_loss(model(chunk), chunk).item() * len(chunk)
    model.train(was_training)
    return total / len(windows)
