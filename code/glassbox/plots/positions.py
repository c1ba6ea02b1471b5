"""Chapter 2 figures: sinusoidal position encodings, GELU against ReLU, and what LayerNorm does."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from jaxtyping import Float
from matplotlib.figure import Figure
from torch import Tensor

from glassbox.plots.core import figure, heatmap, panels


def position_encodings(encoding: Float[Tensor, "n_ctx d_model"], dims: Sequence[int]) -> Figure:
    """Left: the encoding as a heatmap (dimension × position, dimension 0 at the top). Right: a few dimensions, each
    as dots at the integer positions (what a model reads) over the continuous sine or cosine they sample — the
    fast low dimensions advance by more than a radian per position, so dots joined by straight lines would zig-zag.
    `encoding` must be the sinusoidal one (dimension 2i: sin(ω_i p), 2i + 1: cos(ω_i p), ω_i = 10000^(−2i/d_model))."""
    n_ctx, d_model = encoding.shape
    omega = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # [d_model / 2]
    fine = torch.linspace(0, n_ctx - 1, 20 * (n_ctx - 1) + 1, dtype=torch.float64)  # twenty points per position

    def wave(positions: Tensor, d: int) -> Tensor:
        angle = positions * omega[d // 2]
        return angle.sin() if d % 2 == 0 else angle.cos()

    integers = torch.arange(n_ctx, dtype=torch.float64)
    for d in dims:
        if not torch.allclose(encoding[:, d].double(), wave(integers, d), atol=1e-4):
            raise ValueError(f"dimension {d} of the encoding is not the sinusoid 10000^(-2i/d_model) gives")
    fig, (left, right) = panels(2, height=3.4)
    heatmap(left, encoding.T, cmap="RdBu_r", vmin=-1.0, vmax=1.0)
    left.set(xlabel="position", ylabel="dimension", title="Sinusoidal encoding")
    for d in dims:
        (line,) = right.plot(fine, wave(fine, d), linewidth=1.0, alpha=0.7)
        right.plot(integers, encoding[:, d], "o", markersize=2.8, color=line.get_color(), label=f"dim {d}")
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
    dashed: Sequence[str] = (),
) -> Figure:
    """Each activation function (left) and its derivative, computed with autograd (right). The functions named in
    `dashed` are drawn dashed and on top, so that a curve lying on another one still shows both."""
    fig, (left, right) = panels(2, height=3.3)
    for label, fn in functions.items():
        point = x.detach().clone().requires_grad_(True)
        y = fn(point)
        (slope,) = torch.autograd.grad(y.sum(), point)
        style = dict(linestyle=(0, (4, 3)), linewidth=1.8, zorder=3) if label in dashed else dict(linewidth=2.2)
        left.plot(x, y.detach(), label=label, **style)
        right.plot(x, slope, label=label, **style)
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
    """Mean and standard deviation of each vector, before and after LayerNorm (one point per vector); the points
    after are drawn on top, large, and the point they share is labelled with its coordinates."""
    fig, (ax,) = figure(width=4.8, height=3.6)
    ax.scatter(before.mean(-1), before.std(-1, unbiased=False), label="before", marker="o", alpha=0.6, zorder=2)
    mean_after, std_after = after.mean(-1), after.std(-1, unbiased=False)
    ax.scatter(mean_after, std_after, label="after", marker="X", s=110, color="C1", edgecolors="black", zorder=4)
    centre = (round(mean_after.mean().item(), 1) + 0.0, round(std_after.mean().item(), 1) + 0.0)  # no "-0.0"
    ax.annotate(
        f"all {len(after)} vectors after:\nmean {centre[0]:.1f}, std {centre[1]:.1f}",
        xy=centre,
        xytext=(0.97, 0.95),
        textcoords="axes fraction",
        ha="right",
        va="top",
        fontsize=9,
        zorder=5,
        bbox=dict(boxstyle="round", facecolor="white", alpha=0.9),
        arrowprops=dict(arrowstyle="->", color="black", linewidth=1.0),
    )
    ax.set(xlabel="mean over d_model", ylabel="standard deviation over d_model", title="Each vector, before and after")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig
