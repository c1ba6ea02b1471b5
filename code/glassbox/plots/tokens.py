"""Figures of chapter 5c (tokens): how much each BPE merge shortens a text."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from glassbox.plots.core import figure


def chars_per_token(n_merges: Sequence[int], train: Sequence[float], val: Sequence[float]) -> Figure:
    """Characters per token against the number of merges, on the text the merges were learned from and on
    held-out text."""
    fig, (ax,) = figure(width=6.0, height=3.4)
    ax.plot(n_merges, train, marker="o", color="#0072B2", label="training text (merges learned here)")
    ax.plot(n_merges, val, marker="s", color="#D55E00", label="validation text (held out)")
    ax.set(xlabel="merges learned", ylabel="characters per token", title="What each merge saves")
    ax.set_ylim(bottom=1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, frameon=False, loc="upper left")
    return fig
