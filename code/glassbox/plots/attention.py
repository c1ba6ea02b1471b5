"""Chapter 1 figures: an attention pattern, softmax saturation without scaling, and the causal mask."""

from __future__ import annotations

import math
from collections.abc import Sequence

from jaxtyping import Float
from matplotlib.figure import Figure
from torch import Tensor

from glassbox.plots.core import figure, heatmap, panels


def attention_pattern(
    pattern: Float[Tensor, "query_pos key_pos"],
    labels: Sequence[str],
    *,
    title: str = "Attention weights",
) -> Figure:
    """Heatmap of attention weights: row = the query (who looks), column = the key (who is looked at)."""
    fig, (ax,) = figure(width=4.6, height=3.8)
    heatmap(ax, pattern, row_labels=labels, col_labels=labels, annotate=True, vmin=0.0, vmax=1.0)
    ax.set(xlabel="key (attended to)", ylabel="query (attending)", title=title)
    return fig


def softmax_saturation(
    d_heads: Sequence[int],
    max_weight: dict[str, Sequence[float]],
    entropy: dict[str, Sequence[float]],
    uniform_entropy: float,
) -> Figure:
    """Two panels over d_head: the largest attention weight and the pattern's entropy, one line per scaling."""
    fig, (left, right) = panels(2, height=3.2)
    for label in max_weight:
        left.plot(d_heads, max_weight[label], marker="o", label=label)
        right.plot(d_heads, entropy[label], marker="o", label=label)
    right.axhline(uniform_entropy, color="grey", linestyle=":")
    right.annotate(  # the dotted line is named where it is drawn, not in a legend the eye must travel to
        f"uniform row (ln {round(math.exp(uniform_entropy))})",
        (d_heads[0], uniform_entropy),
        xytext=(0, 2),
        textcoords="offset points",
        va="bottom",
        fontsize=8,
        color="dimgrey",
    )
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("d_head")
        ax.grid(alpha=0.3)
    left.set(ylabel="largest weight in a row (mean)", ylim=(0, 1.02), title="How peaked is each row?")
    right.set(
        ylabel="entropy of a row (nats, mean)", title="How spread out is each row?", ylim=(0, uniform_entropy * 1.15)
    )
    left.legend()
    return fig


def causal_masking(
    scores: Float[Tensor, "query_pos key_pos"],
    pattern: Float[Tensor, "query_pos key_pos"],
    labels: Sequence[str],
) -> Figure:
    """Masked scores (−∞ above the diagonal) next to the attention weights they produce."""
    fig, (left, right) = panels(2, height=3.6)
    # the scores here are ≥ 0 (or −∞), so a sequential map from 0 with its colour bar; −∞ cells are grey
    finite = scores[scores.isfinite()]
    heatmap(
        left,
        scores,
        row_labels=labels,
        col_labels=labels,
        annotate=True,
        cmap="Oranges",
        vmin=min(0.0, finite.min().item()),
    )
    left.set(xlabel="key", ylabel="query", title="Scores after the mask")
    heatmap(right, pattern, row_labels=labels, col_labels=labels, annotate=True, vmin=0.0, vmax=1.0)
    right.set(xlabel="key", ylabel="query", title="Weights after softmax")
    return fig
