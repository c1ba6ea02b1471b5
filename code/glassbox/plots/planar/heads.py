"""The head of a planar model (`glassbox.plots.planar`): W_Q, W_K, W_V and what they make of every input (08), the
Q/K space (09), one query's scores over the plane (10), the `+` query's score row (11_1) and every query against
every key (the supplementary score grid).
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from glassbox.analysis.planar import (
    head,
    plane_grid,
    require_2d,
    to_numpy,
    token_positions,
)
from glassbox.model import Transformer
from glassbox.plots.core import diverging_norm, figure, heatmap
from glassbox.plots.planar.style import (
    TEXT,
    _finish,
    _kind_legend,
    _token_paths,
)
from glassbox.rules.definitions import Rule


# ------------------------------------------------------------------------------- 08, 09, 10 Q, K, V
def qkv_transforms(model: Transformer, rule: Rule) -> Figure:
    """Top: the 2×2 matrices W_Q, W_K, W_V (centred on zero). Bottom: the queries, keys and values those matrices
    make of every input, one path per token from position 0 (hollow) to the last."""
    require_2d(model)
    fig, axes = figure(3, 2, width=7.0 / 3, height=2.6)
    for ax, name in zip(axes[:3], ("W_Q", "W_K", "W_V"), strict=True):
        heatmap(
            ax,
            getattr(model, name)[0, 0],
            row_labels=["in 0", "in 1"],
            col_labels=["out 0", "out 1"],
            annotate=True,
            cmap="RdBu_r",
        )
        ax.set_title(f"{name} (x @ {name})", fontsize=10)
        ax.tick_params(labelsize=TEXT)
    x = token_positions(model)
    for ax, which, name in zip(axes[3:], "qkv", ("queries", "keys", "values"), strict=True):
        _token_paths(ax, to_numpy(head(model, x, which)), rule)
        _finish(ax, f"{name}: x @ W_{which.upper()}", "", "")
    return fig


def qk_space(model: Transformer, rule: Rule) -> Figure:
    """Every query (left) and every key (right) as one path per token, on the same axes: a query attends most to the
    keys that point the same way it does. Split in two panels so that the 24 paths' names do not overlap."""
    require_2d(model)
    fig, axes = figure(2, 1, width=3.5, height=4.0)
    x = token_positions(model)
    q, k = to_numpy(head(model, x, "q")), to_numpy(head(model, x, "k"))
    both = np.concatenate([q.reshape(-1, 2), k.reshape(-1, 2)])
    low, high = both.min(0), both.max(0)
    pad = 0.12 * (high - low)
    for ax, points, name in zip(axes, (q, k), ("queries q", "keys k"), strict=True):
        _token_paths(ax, points, rule)
        ax.axhline(0, color="0.6", linewidth=0.6)
        ax.axvline(0, color="0.6", linewidth=0.6)
        ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
        ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
        _finish(ax, name, "q/k dimension 0", "q/k dimension 1")
    _kind_legend(axes[0], rule, paths=True)
    return fig


def qk_focus(model: Transformer, rule: Rule, token: int, position: int) -> Figure:
    """One query (token at position) and the score it would give a key at each point of the plane, on a diverging map
    centred on zero; keys at later positions, which the causal mask hides, are grey."""
    require_2d(model)
    if not 0 <= position < model.cfg.n_ctx:
        raise ValueError(f"position must lie in 0 … {model.cfg.n_ctx - 1}, got {position}")
    x = token_positions(model)
    q = head(model, x[token, position], "q")
    keys = to_numpy(head(model, x, "k"))  # [V, n_ctx, 2]
    points = np.concatenate([keys.reshape(-1, 2), to_numpy(q)[None]])
    xs, ys, grid = plane_grid(points, 120)
    field = to_numpy(grid @ q).reshape(len(ys), len(xs)) / np.sqrt(model.cfg.d_head)
    fig, (ax,) = figure(width=7.0, height=6.0)
    mesh = ax.pcolormesh(xs, ys, field, cmap="RdBu_r", norm=diverging_norm(field), shading="auto", rasterized=True)
    fig.colorbar(mesh, ax=ax, label="score q·k/√d_head of a key here")
    visible = keys.copy()
    visible[:, position + 1 :] = np.nan
    _token_paths(ax, visible, rule)
    hidden = keys[:, position + 1 :].reshape(-1, 2)
    ax.scatter(*hidden.T, s=8, color="0.55", label="masked keys (later positions)")
    ax.scatter(*to_numpy(q), s=140, marker="*", color="black", zorder=5, label=f"query {rule.vocab[token]}_{position}")
    ax.legend(fontsize=TEXT, loc="best")
    _finish(
        ax,
        f"What the query of '{rule.vocab[token]}' at position {position} looks for",
        "k dimension 0",
        "k dimension 1",
    )
    return fig


def score_grid(model: Transformer, rule: Rule) -> Figure:
    """The attention score q·k/√d_head between every query (token_position, rows) and every key (columns), grouped
    by token; keys after their query are masked (grey); the map is centred on zero."""
    require_2d(model)
    V, T = rule.d_vocab, model.cfg.n_ctx
    x = token_positions(model).reshape(V * T, -1)
    scores = to_numpy(head(model, x, "q") @ head(model, x, "k").T) / np.sqrt(model.cfg.d_head)
    positions = np.tile(np.arange(T), V)
    scores[positions[:, None] < positions[None, :]] = np.nan
    fig, (ax,) = figure(width=7.0, height=6.4)
    image = ax.imshow(
        np.ma.masked_invalid(scores),
        cmap=matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.85"),
        norm=diverging_norm(scores),
    )
    ticks = np.arange(V) * T + (T - 1) / 2
    ax.set_xticks(ticks, labels=rule.vocab, fontsize=TEXT + 1)
    ax.set_yticks(ticks, labels=rule.vocab, fontsize=TEXT + 1)
    for k in range(1, V):
        ax.axhline(k * T - 0.5, color="white", linewidth=0.6)
        ax.axvline(k * T - 0.5, color="white", linewidth=0.6)
    ax.set(
        xlabel=f"key token (positions 0 … {T - 1} within each block)",
        ylabel="query token (positions within block)",
    )
    ax.set_title("Attention score of every query against every key", fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8, label="q·k/√d_head")
    return fig


def plus_score_row(model: Transformer, rule: Rule, position: int | None = None) -> Figure:
    """The `+` query's row of the score table: its score q·k/√d_head against every key token (rows) at every key
    position it can see (columns), written in each cell, on a map centred on zero. Position `position` (default the
    last) holds the `+` itself, so only `+` has a key there."""
    require_2d(model)
    if not rule.has_plus:
        raise ValueError(f"{rule.name} has no `+` token")
    T = model.cfg.n_ctx
    position = T - 1 if position is None else position
    if not 0 <= position < T:
        raise ValueError(f"position must lie in 0 … {T - 1}, got {position}")
    x = token_positions(model)
    q = head(model, x[rule.plus, position], "q")
    scores = to_numpy(head(model, x[:, : position + 1], "k") @ q) / np.sqrt(model.cfg.d_head)  # [token, key pos]
    scores[np.arange(rule.d_vocab) != rule.plus, position] = np.nan  # only the `+` itself sits at its own position
    fig, (ax,) = figure(width=7.0, height=5.6)
    heatmap(
        ax,
        scores,
        row_labels=rule.vocab,
        col_labels=[f"p{p}" for p in range(position + 1)],
        annotate=True,
        fmt=".0f",
        cmap="RdBu_r",
    )
    ax.set(xlabel="key position", ylabel="key token")
    ax.set_title(f"Scores of the `+` query at position {position} against every key it can see", fontsize=10)
    ax.tick_params(labelsize=TEXT)
    return fig
