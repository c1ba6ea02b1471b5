"""Chapter 5 figures: training and validation loss curves, and the loss at each position of the context."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import cycle

import numpy as np
from jaxtyping import Float
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from glassbox.plots.core import figure
from glassbox.train import History


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over the last `window` values (fewer at the start), the same length as `values`."""
    if window <= 0:
        raise ValueError(f"window must be positive, got {window}")
    sums = np.cumsum(np.concatenate([[0.0], np.asarray(values, dtype=float)]))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def _bits_axis(ax: Axes) -> None:
    """A second y axis on the right in bits (nats / ln 2), so one plot reads in both units."""
    ax.secondary_yaxis("right", functions=(lambda x: x / math.log(2), lambda b: b * math.log(2))).set_ylabel(
        "bits per character"
    )


def loss_curves(
    history: History,
    uniform_loss: float,
    *,
    best_step: int | None = None,
    window: int = 25,
    title: str = "Training a character-level model",
) -> Figure:
    """Loss against training step: each step's batch loss (faint) and its moving average, the evaluated train and
    validation losses, the loss of a uniform guess, and (optionally) the step with the best validation loss."""
    fig, (ax,) = figure(width=6.4, height=4.8)  # no wider than the page, so the legend is not shrunk below 9 pt
    steps = np.arange(1, len(history.train_loss) + 1)
    ax.plot(steps, history.train_loss, color="tab:blue", alpha=0.2, linewidth=0.8, label="train, each batch")
    ax.plot(steps, moving_average(history.train_loss, window), color="tab:blue", label=f"train, mean of {window}")
    ax.plot(history.eval_steps, history.eval_train_loss, "o", color="tab:blue", markersize=4, label="train, evaluated")
    ax.plot(history.eval_steps, history.val_loss, "o-", color="tab:orange", markersize=4, label="validation")
    ax.axhline(uniform_loss, color="grey", linestyle=":", label="uniform guess, ln(d_vocab)")
    if best_step is not None:
        ax.axvline(best_step, color="tab:orange", linestyle="--", linewidth=1, label="best validation loss")
    ax.set(xlabel="training step", ylabel="loss (nats per character)", title=title)
    ax.set_ylim(bottom=0)
    _bits_axis(ax)
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    return fig


def loss_by_position(
    loss: Float[Tensor, "pos"],
    references: Mapping[str, float] | None = None,
    *,
    title: str = "How much does context help?",
) -> Figure:
    """The mean loss of each prediction against how many characters it could see (1 for the first position),
    with optional horizontal reference lines (label → loss)."""
    fig, (ax,) = figure(width=6.4, height=4.0)
    seen = np.arange(1, loss.shape[0] + 1)
    ax.plot(seen, loss.detach().cpu().numpy(), marker="o", markersize=3, label="trained model")
    for (label, value), style in zip((references or {}).items(), cycle((":", "--", "-."))):
        ax.axhline(value, color="grey", linestyle=style, label=label)
    ax.set_xscale("log", base=2)
    ticks = 2 ** np.arange(int(np.log2(len(seen))) + 1)
    ax.set_xticks(ticks, labels=[str(t) for t in ticks])
    ax.set(xlabel="characters of context seen", ylabel="loss (nats per character)", title=title)
    _bits_axis(ax)
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    return fig


def training_variants(
    curves: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    uniform_loss: float | None = None,
    *,
    title: str = "One change at a time",
) -> Figure:
    """Validation loss against step for several training runs that differ in one setting (label → (steps, loss)),
    told apart by line style as well as colour."""
    fig, (ax,) = figure(width=6.4, height=4.4)
    for (label, (steps, losses)), style in zip(curves.items(), cycle(("-", "--", "-.", ":", (0, (5, 1))))):
        ax.plot(steps, losses, linestyle=style, marker="o", markersize=3, label=label)
    if uniform_loss is not None:
        ax.axhline(uniform_loss, color="grey", linestyle=":", linewidth=1)
        ax.annotate(
            "uniform guess", (0, uniform_loss), xytext=(4, -4), textcoords="offset points", va="top", fontsize=9
        )
    ax.set(xlabel="training step", ylabel="validation loss (nats per character)", title=title)
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    return fig
