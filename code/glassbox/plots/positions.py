"""Chapter 2 figures: sinusoidal position encodings, GELU against ReLU, and what LayerNorm does."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from jaxtyping import Float
from matplotlib.figure import Figure
from torch import Tensor

from glassbox.plots.core import figure, heatmap, panels


def position_encodings(encoding: Float[Tensor, "n_ctx d_model"], dims: Sequence[int]) -> Figure:
    """Left: the encoding as a heatmap (dimension × position). Right: a few dimensions traced over positions."""
    fig, (left, right) = panels(2, height=3.4)
    heatmap(left, encoding.T, cmap="RdBu_r", vmin=-1.0, vmax=1.0)
    left.set(xlabel="position", ylabel="dimension", title="Sinusoidal encoding")
    for d in dims:
        right.plot(encoding[:, d], label=f"dim {d}")
    right.set(xlabel="position", ylabel="value", title="A few dimensions", ylim=(-1.1, 1.45))
    right.legend(ncols=2, fontsize=8, loc="upper right")
    return fig


def position_similarity(encoding: Float[Tensor, "n_ctx d_model"]) -> Figure:
    """Dot products between the encodings of every pair of positions."""
    fig, (ax,) = figure(width=4.6, height=3.8)
    heatmap(ax, encoding @ encoding.T, cmap="viridis")
    ax.set(xlabel="position", ylabel="position", title="Dot product between position encodings")
    return fig


def activation_functions(
    x: Float[Tensor, "n"],
    functions: dict[str, Callable[[Tensor], Tensor]],
) -> Figure:
    """Each activation function (left) and its derivative, computed with autograd (right)."""
    fig, (left, right) = panels(2, height=3.3)
    for label, fn in functions.items():
        point = x.detach().clone().requires_grad_(True)
        y = fn(point)
        (slope,) = torch.autograd.grad(y.sum(), point)
        left.plot(x, y.detach(), label=label)
        right.plot(x, slope, label=label)
    left.set(xlabel="x", ylabel="f(x)", title="Activation")
    right.set(xlabel="x", ylabel="f′(x)", title="Derivative")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.axhline(0, color="black", linewidth=0.6)
    left.legend()
    return fig


def layer_norm_effect(
    before: Float[Tensor, "batch d_model"],
    after: Float[Tensor, "batch d_model"],
) -> Figure:
    """Mean and standard deviation of each vector, before and after LayerNorm (one point per vector)."""
    fig, (ax,) = figure(width=4.8, height=3.6)
    for label, values, marker in (("before", before, "o"), ("after", after, "x")):
        ax.scatter(values.mean(-1), values.std(-1, unbiased=False), label=label, marker=marker, alpha=0.8)
    ax.set(xlabel="mean over d_model", ylabel="standard deviation over d_model", title="Each vector, before and after")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig
