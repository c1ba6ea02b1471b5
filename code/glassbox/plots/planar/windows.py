"""One window through a planar model (`glassbox.plots.planar`): its embeddings (12), queries, keys and attention
(13), values and the head's output (14), and the residual connection at work (15).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from glassbox.analysis.planar import (
    correct_predictions,
    head,
    require_2d,
    to_numpy,
    token_positions,
    trace,
)
from glassbox.model import Transformer
from glassbox.plots.core import figure, heatmap, mosaic, verdict_colour, verdict_mark
from glassbox.plots.planar.style import (
    EVEN,
    TEXT,
    _finish,
    _grid_points,
    _scatter_labels,
    token_colour,
)
from glassbox.rules.definitions import Rule


# --------------------------------------------------------------------------------- one sequence at a time
def _labels(rule: Rule, tokens: Sequence[int]) -> list[str]:
    return [f"{rule.vocab[t]}_{p}" for p, t in enumerate(tokens)]


def sequence_embeddings(model: Transformer, rule: Rule, tokens: Sequence[int]) -> Figure:
    """One window of tokens: its token and position vectors and their sums, as heatmaps (top) and as points among
    every possible token+position (grey) (bottom)."""
    require_2d(model)
    t = trace(model, tokens)
    labels = _labels(rule, tokens)
    fig, axes = figure(3, 2, width=7.0 / 3, height=3.2)
    for ax, values, title in zip(
        axes[:3],
        (model.W_E[list(tokens)], model.W_pos[: len(tokens)], t.embed),
        ("W_E[token]", "W_pos[position]", "x = sum"),
        strict=True,
    ):
        heatmap(ax, values, row_labels=labels, col_labels=["0", "1"], annotate=True, fmt=".1f", cmap="RdBu_r")
        ax.set_title(title, fontsize=10)
        ax.tick_params(labelsize=TEXT)
    W_E = to_numpy(model.W_E)
    axes[3].scatter(*W_E.T, s=8, color="0.75")
    _scatter_labels(
        axes[3],
        W_E[list(tokens)],
        [rule.vocab[k] for k in tokens],
        [token_colour(rule, k) for k in tokens],
        marker_size=30,
    )
    _finish(axes[3], "its tokens", "", "")
    W_pos = to_numpy(model.W_pos)
    _scatter_labels(axes[4], W_pos[: len(tokens)], [f"p{p}" for p in range(len(tokens))], ["#56B4E9"] * len(tokens))
    _finish(axes[4], "its positions", "", "")
    points, _, _ = _grid_points(model, rule)
    axes[5].scatter(points[:, 0], points[:, 1], s=5, color="0.8")
    _scatter_labels(axes[5], t.embed, labels, [token_colour(rule, k) for k in tokens], marker_size=30)
    _finish(axes[5], "x among all inputs", "", "")
    return fig


def _window_heatmap(ax: Axes, values: np.ndarray, labels: list[str], title: str, **kwargs) -> None:
    heatmap(ax, values, row_labels=labels, col_labels=labels, annotate=True, **kwargs)
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="x", labelrotation=90, labelsize=TEXT)
    ax.tick_params(axis="y", labelsize=TEXT)
    ax.set_xlabel("key", fontsize=TEXT)


def qk_attention(model: Transformer, rule: Rule, windows: Sequence[Sequence[int]]) -> Figure:
    """For each window (one block of two rows each): queries and keys as heatmaps and as points (all possible ones
    grey); then the masked scores q·k/√d_head (centred on zero) and the attention pattern (rows: queries, columns:
    keys), large enough to read every value."""
    require_2d(model)
    layout = []
    for w in range(len(windows)):
        layout += [[f"q{w}", f"q{w}", f"k{w}", f"k{w}", f"p{w}", f"p{w}"], [f"s{w}"] * 3 + [f"a{w}"] * 3]
    fig, axes = mosaic(layout, width=7.0, height=6.2 * len(windows))
    x_all = token_positions(model).reshape(-1, 2)
    q_all, k_all = to_numpy(head(model, x_all, "q")), to_numpy(head(model, x_all, "k"))
    for w, tokens in enumerate(windows):
        t, labels = trace(model, tokens), _labels(rule, tokens)
        heatmap(axes[f"q{w}"], t.q, row_labels=labels, col_labels=["0", "1"], annotate=True, fmt=".1f", cmap="RdBu_r")
        axes[f"q{w}"].set_title(f"window {w}: queries q", fontsize=10)
        heatmap(axes[f"k{w}"], t.k, row_labels=labels, col_labels=["0", "1"], annotate=True, fmt=".1f", cmap="RdBu_r")
        axes[f"k{w}"].set_title("keys k", fontsize=10)
        ax = axes[f"p{w}"]
        ax.scatter(*q_all.T, s=4, color="0.85")
        ax.scatter(*k_all.T, s=4, color="0.85")
        ax.scatter(*t.q.T, s=18, color=EVEN, marker="o", label="q")
        ax.scatter(*t.k.T, s=18, color="#D55E00", marker="^", label="k")
        ax.legend(fontsize=TEXT)
        _finish(ax, "q and k", "", "")
        _window_heatmap(axes[f"s{w}"], t.scores, labels, "masked scores", fmt=".0f", cmap="RdBu_r")
        _window_heatmap(
            axes[f"a{w}"],
            t.pattern,
            labels,
            "attention pattern",
            fmt=".2f",
            cmap="Greens",
            vmin=0.0,
            vmax=1.0,
            colorbar=False,
        )
        for name in (f"q{w}", f"k{w}", f"s{w}", f"a{w}"):
            for text in axes[name].texts:
                text.set_fontsize(TEXT)
            axes[name].tick_params(labelsize=TEXT)
    return fig


def value_output(model: Transformer, rule: Rule, windows: Sequence[Sequence[int]]) -> Figure:
    """For each window: the attention pattern, the values v and the head's output (pattern @ v) as heatmaps (top),
    and the values and outputs as points, all possible values grey (bottom)."""
    require_2d(model)
    layout = []
    for w in range(len(windows)):
        layout += [[f"a{w}", f"v{w}", f"o{w}"], [f"a{w}", f"pv{w}", f"po{w}"]]
    fig, axes = mosaic(layout, width=7.0, height=5.0 * len(windows))
    v_all = to_numpy(head(model, token_positions(model).reshape(-1, 2), "v"))
    for w, tokens in enumerate(windows):
        t, labels = trace(model, tokens), _labels(rule, tokens)
        heatmap(
            axes[f"a{w}"],
            t.pattern,
            row_labels=labels,
            col_labels=labels,
            cmap="Greens",
            vmin=0.0,
            vmax=1.0,
            colorbar=False,
        )
        axes[f"a{w}"].set_title(f"window {w}: attention pattern", fontsize=10)
        axes[f"a{w}"].tick_params(axis="x", labelrotation=90)
        heatmap(axes[f"v{w}"], t.v, row_labels=labels, col_labels=["0", "1"], annotate=True, fmt=".1f", cmap="RdBu_r")
        axes[f"v{w}"].set_title("values v", fontsize=10)
        heatmap(
            axes[f"o{w}"], t.attn_out, row_labels=labels, col_labels=["0", "1"], annotate=True, fmt=".1f", cmap="RdBu_r"
        )
        axes[f"o{w}"].set_title("pattern @ v", fontsize=10)
        for name, points, colour, title in (
            (f"pv{w}", t.v, "#009E73", "values"),
            (f"po{w}", t.attn_out, "#CC79A7", "what each position receives"),
        ):
            axes[name].scatter(*v_all.T, s=4, color="0.85")
            _scatter_labels(axes[name], points, [f"p{p}" for p in range(len(tokens))], [colour] * len(tokens))
            _finish(axes[name], title, "", "")
        for ax in (axes[f"a{w}"], axes[f"v{w}"], axes[f"o{w}"]):
            ax.tick_params(labelsize=TEXT)
            for text in ax.texts:
                text.set_fontsize(TEXT)
    return fig


def _verdict_labels(labels: Sequence[str], correct: Sequence[bool | None]) -> list[str]:
    return [label + ("" if c is None else " " + verdict_mark(c)) for label, c in zip(labels, correct, strict=True)]


def residual_stream(
    model: Transformer,
    rule: Rule,
    windows: Sequence[Sequence[int]],
    continuations: Sequence[Sequence[int]] | None = None,
) -> Figure:
    """For each window: the embedding x, the attention output and their sum as heatmaps (top), then as points, with
    an arrow from x to x + attention output for every position — blue ✓ where the next token is then predicted
    right, vermilion ✗ where wrong, grey where the rule leaves it free (bottom)."""
    require_2d(model)
    after = "x + attention output" if model.cfg.use_residual else "attention output (no residual)"
    layout = []
    for w in range(len(windows)):
        layout += [
            [f"h0{w}", f"h1{w}", f"h2{w}"],
            [f"x{w}", f"arrow{w}", f"arrow{w}"],
            [f"x{w}", f"arrow{w}", f"arrow{w}"],
        ]
    fig, axes = mosaic(layout, width=7.0, height=6.6 * len(windows))
    for w, tokens in enumerate(windows):
        t, labels = trace(model, tokens), _labels(rule, tokens)
        full = continuations[w] if continuations is not None else None
        correct = correct_predictions(rule, tokens, t.probs, full)
        titles = (f"window {w}: x", "attention output", after)
        for k, (key, title) in enumerate(zip(("embed", "attn_out", "resid_mid"), titles, strict=True)):
            ax = axes[f"h{k}{w}"]
            heatmap(
                ax, getattr(t, key), row_labels=labels, col_labels=["0", "1"], annotate=True, fmt=".1f", cmap="RdBu_r"
            )
            ax.set_title(title, fontsize=10 if k < 2 else 9)
            ax.tick_params(labelsize=TEXT)
        _scatter_labels(axes[f"x{w}"], t.embed, labels, [token_colour(rule, k) for k in tokens])
        _finish(axes[f"x{w}"], "x", "", "")
        ax = axes[f"arrow{w}"]
        for (x0, y0), (x1, y1), c in zip(t.embed, t.resid_mid, correct, strict=True):
            ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="-|>", color=verdict_colour(c), lw=1.2))
        _scatter_labels(ax, t.resid_mid, _verdict_labels(labels, correct), [verdict_colour(c) for c in correct])
        ax.scatter(*t.embed.T, s=6, color="0.6")
        _finish(ax, f"x → {after} (✓ next token right, ✗ wrong)", "", "")
    return fig
