"""Figures of the glass-box models of Part III (chapters 6 and 7): every weight and activation of a one-layer,
one-head model whose residual stream is 2-dimensional, drawn directly — no projection needed.

Functions follow the order of chapter 6 and each returns a `Figure`. They take the trained `Transformer` and the
`Rule` it learned (for token names and for colouring right and wrong predictions). Tokens are coloured by kind:
even numbers blue, odd numbers orange, `+` red. A point "t_p" is token t at position p.

Longer than 300 lines: one function per figure of chapter 6 (01–18 and the supplementary score grid), in the
chapter's order, with the small drawing helpers they share; the maths they draw is in `glassbox.analysis.planar`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import Tensor

from glassbox.analysis.planar import (
    correct_predictions,
    head,
    output_probabilities,
    plane_grid,
    require_2d,
    to_numpy,
    token_positions,
    trace,
)
from glassbox.model import Transformer
from glassbox.plots.core import figure, heatmap
from glassbox.rules.definitions import Rule
from glassbox.train import History

EVEN, ODD, PLUS = "tab:blue", "tab:orange", "tab:red"
RIGHT, WRONG, FREE = "#4caf50", "#e53935", "#bdbdbd"
LANDSCAPE = "viridis"


# ---------------------------------------------------------------------------------------------- helpers
def token_colour(rule: Rule, token: int) -> str:
    """Blue for even numbers, orange for odd ones, red for `+`."""
    if rule.has_plus and token == rule.plus:
        return PLUS
    return EVEN if token % 2 == 0 else ODD


def _scatter_labels(
    ax: Axes,
    points: np.ndarray,
    labels: Sequence[str],
    colours: Sequence[str],
    *,
    fontsize: float | int = 7,
    alpha: float | int = 1.0,
    marker_size: float | int = 12,
) -> None:
    ax.scatter(points[:, 0], points[:, 1], c=list(colours), s=marker_size, alpha=alpha, linewidths=0)
    for (x, y), label, colour in zip(points, labels, colours, strict=True):
        ax.annotate(
            label, (x, y), fontsize=fontsize, color=colour, alpha=alpha, xytext=(2, 2), textcoords="offset points"
        )


def _grid_points(model: Transformer, rule: Rule) -> tuple[np.ndarray, list[str], list[str]]:
    """All token+position points [V*n_ctx, 2], labelled "t_p" and coloured by token."""
    points = to_numpy(token_positions(model)).reshape(-1, 2)
    labels = [f"{rule.vocab[t]}_{p}" for t in range(rule.d_vocab) for p in range(model.cfg.n_ctx)]
    colours = [token_colour(rule, t) for t in range(rule.d_vocab) for _ in range(model.cfg.n_ctx)]
    return points, labels, colours


def _kind_legend(ax: Axes, rule: Rule) -> None:
    handles = [
        matplotlib.lines.Line2D([], [], marker="o", linestyle="", color=c, label=kind)
        for c, kind in ((EVEN, "even"), (ODD, "odd"))
    ] + ([matplotlib.lines.Line2D([], [], marker="o", linestyle="", color=PLUS, label="+")] if rule.has_plus else [])
    ax.legend(handles=handles, fontsize=7, loc="best")


def _finish(ax: Axes, title: str, xlabel: str = "dimension 0", ylabel: str = "dimension 1") -> None:
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.25)


# --------------------------------------------------------------------------------- 01 the architecture
def architecture(model: Transformer, batch: int = 8) -> Figure:
    """A block diagram of the model from tokens to probabilities, each arrow labelled with its tensor shape."""
    cfg = model.cfg
    B, T, C, V = batch, cfg.n_ctx, cfg.d_model, cfg.d_vocab
    fig, (ax,) = figure(width=7.6, height=6.8)
    ax.set_axis_off()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 13)
    boxes = [
        (12.0, "tokens", f"[{B}, {T}]  ids in 0 … {V - 1}", "#eeeeee"),
        (10.6, "token embedding W_E  +  position embedding W_pos", f"W_E [{V}, {C}],  W_pos [{T}, {C}]", "#e3f2fd"),
        (
            9.0,
            "attention: q = x W_Q,  k = x W_K,  v = x W_V;  softmax(q kᵀ/√d_head + causal mask) v",
            f"W_Q, W_K, W_V [{C}, {cfg.d_head}] (no biases);  pattern [{B}, {T}, {T}]",
            "#fff3e0",
        ),
        (
            7.4,
            "residual:  x ← x + attention output" if cfg.use_residual else "no residual: x ← attention output",
            f"[{B}, {T}, {C}]  (no W_O: the head writes z straight in)",
            "#f1f8e9",
        ),
        (
            5.8,
            "MLP:  ReLU(x W_in + b_in) W_out + b_out",
            f"W_in [{C}, {cfg.d_mlp}],  W_out [{cfg.d_mlp}, {C}]",
            "#fce4ec",
        ),
        (
            4.2,
            "residual:  x ← x + MLP output" if cfg.use_residual else "no residual: x ← MLP output",
            f"[{B}, {T}, {C}]",
            "#f1f8e9",
        ),
        (2.6, "unembed:  logits = x W_U + b_U", f"W_U [{C}, {V}],  b_U [{V}]", "#ede7f6"),
        (1.0, "softmax → P(next token)", f"[{B}, {T}, {V}]", "#eeeeee"),
    ]
    for y, title, shape, colour in boxes:
        ax.add_patch(
            FancyBboxPatch((0.4, y - 0.55), 9.2, 1.1, boxstyle="round,pad=0.05", facecolor=colour, edgecolor="0.4")
        )
        ax.text(5, y + 0.17, title, ha="center", va="center", fontsize=8.5)
        ax.text(5, y - 0.25, shape, ha="center", va="center", fontsize=7.5, color="0.3", family="monospace")
    for (y0, *_), (y1, *_) in itertools.pairwise(boxes):
        ax.add_patch(FancyArrowPatch((5, y0 - 0.6), (5, y1 + 0.6), arrowstyle="-|>", mutation_scale=10, color="0.3"))
    if cfg.use_residual:  # the two skip connections, drawn on the left
        for top, bottom in ((10.6, 7.4), (7.4, 4.2)):
            ax.add_patch(
                FancyArrowPatch(
                    (0.5, top - 0.3),
                    (0.5, bottom + 0.3),
                    connectionstyle="arc3,rad=0.5",
                    arrowstyle="-|>",
                    mutation_scale=10,
                    color="tab:green",
                )
            )
    n_params = sum(p.numel() for p in model.parameters())
    ax.set_title(f"One layer, one head, d_model = {C}: {n_params} parameters (B = batch, T = context)", fontsize=10)
    return fig


# ---------------------------------------------------------------------------------- 02 the learning curve
def learning_curve(history: History, *, rule_error: str = "rule_error", title: str = "Learning curve") -> Figure:
    """Train and validation loss (left axis) and the rule error on validation sequences (right axis, dashed)."""
    fig, (ax,) = figure(width=7.2, height=4.2)
    ax.plot(history.eval_steps, history.eval_train_loss, color="tab:blue", label="train loss")
    ax.plot(history.eval_steps, history.val_loss, color="tab:orange", label="validation loss")
    ax.set(xlabel="training step", ylabel="cross-entropy loss (nats)", title=title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if rule_error in history.metrics:
        right = ax.twinx()
        right.plot(history.eval_steps, history.metrics[rule_error], color="tab:red", linestyle="--", label="rule error")
        right.set(ylabel="rule error (fraction of constrained positions wrong)", ylim=(0, 1))
        right.legend(loc="upper center", fontsize=8)
    ax.legend(loc="upper right", fontsize=8)
    return fig


# ---------------------------------------------------------------------------- 03, 04 data and generations
def _sequence_grid(ax: Axes, rule: Rule, sequences: Sequence[Sequence[int]], title: str, max_length: int) -> None:
    """Sequences as rows of cells: free positions grey, constrained ones green when right and red when wrong."""
    n = len(sequences)
    colours = np.ones((n, max_length, 3))
    for row, sequence in enumerate(sequences):
        for i, token in enumerate(sequence[:max_length]):
            allowed = rule.allowed(sequence, i)
            colour = FREE if allowed is None else (RIGHT if token in allowed else WRONG)
            colours[row, i] = matplotlib.colors.to_rgb(colour)
            ax.text(i, row, rule.vocab[token], ha="center", va="center", fontsize=6.5)
    ax.imshow(colours, aspect="auto")
    ax.set_yticks(range(n), labels=[f"sequence {k}" for k in range(n)], fontsize=7)
    ax.set_xlabel("position")
    ax.set_title(title, fontsize=10)


def training_data(rule: Rule, sequences: Sequence[Sequence[int]], *, max_length: int = 40) -> Figure:
    """A few training sequences, cell by cell: grey where the rule leaves the token free, green where it fixes
    it and the token obeys (red if it did not)."""
    fig, (ax,) = figure(width=10.0, height=0.45 * len(sequences) + 1.2)
    _sequence_grid(
        ax, rule, sequences, f"Training sequences of {rule.name} (green: the rule holds; grey: free)", max_length
    )
    return fig


def generated_sequences(
    rule: Rule, before: Sequence[Sequence[int]], after: Sequence[Sequence[int]], *, max_length: int = 40
) -> Figure:
    """Sequences the model generates from the same first tokens at step 0 (top) and after training (bottom),
    coloured as in `training_data`."""
    fig, axes = figure(1, 2, width=10.0, height=0.45 * max(len(before), len(after)) + 1.2)
    _sequence_grid(axes[0], rule, before, "Generated at step 0 (untrained)", max_length)
    _sequence_grid(axes[1], rule, after, "Generated after training", max_length)
    return fig


# --------------------------------------------------------------------------------- 05, 06 embeddings
def _embedding_scatters(
    axes: Sequence[Axes] | np.ndarray, model: Transformer, rule: Rule, *, fontsize: float | int = 7
) -> None:
    W_E, W_pos = to_numpy(model.W_E), to_numpy(model.W_pos)
    _scatter_labels(
        axes[0], W_E, rule.vocab, [token_colour(rule, t) for t in range(rule.d_vocab)], fontsize=fontsize + 1
    )
    _finish(axes[0], "token embeddings W_E")
    _kind_legend(axes[0], rule)
    axes[1].plot(W_pos[:, 0], W_pos[:, 1], color="0.7", linewidth=0.8)
    _scatter_labels(
        axes[1], W_pos, [f"p{p}" for p in range(len(W_pos))], ["tab:purple"] * len(W_pos), fontsize=fontsize + 1
    )
    _finish(axes[1], "position embeddings W_pos")
    points, labels, colours = _grid_points(model, rule)
    _scatter_labels(axes[2], points, labels, colours, fontsize=fontsize - 1.5)
    _finish(axes[2], "token + position: every input the model can see")


def embeddings(model: Transformer, rule: Rule) -> Figure:
    """Top: the token embeddings, the position embeddings and, for each token and position, the first coordinate of
    their sum, as heatmaps. Bottom: the same vectors as points in the plane."""
    require_2d(model)
    fig, axes = figure(3, 2, width=4.4, height=4.0)
    heatmap(axes[0], model.W_E, row_labels=rule.vocab, col_labels=["dim 0", "dim 1"], annotate=True, cmap="RdBu_r")
    axes[0].set_title("W_E (token → vector)")
    heatmap(
        axes[1],
        model.W_pos,
        row_labels=[f"p{p}" for p in range(model.cfg.n_ctx)],
        col_labels=["dim 0", "dim 1"],
        annotate=True,
        cmap="RdBu_r",
    )
    axes[1].set_title("W_pos (position → vector)")
    heatmap(
        axes[2],
        token_positions(model)[..., 0],
        row_labels=rule.vocab,
        col_labels=[f"p{p}" for p in range(model.cfg.n_ctx)],
        cmap="RdBu_r",
    )
    axes[2].set_title("W_E + W_pos, dimension 0 (token × position)")
    _embedding_scatters(axes[3:], model, rule, fontsize=6)
    return fig


def embedding_scatter(model: Transformer, rule: Rule) -> Figure:
    """The three scatter plots of `embeddings`, large: tokens, positions, and every token at every position."""
    require_2d(model)
    fig, axes = figure(3, 1, width=5.2, height=5.0)
    _embedding_scatters(axes, model, rule, fontsize=7.5)
    return fig


# -------------------------------------------------------------------------- 07, 11 output landscapes
def _landscapes(
    axes: Sequence[Axes] | np.ndarray,
    model: Transformer,
    rule: Rule,
    points: np.ndarray,
    *,
    resolution: int,
    draw_points=None,
) -> None:
    xs, ys, grid = plane_grid(points, resolution)
    probs = to_numpy(output_probabilities(model, grid)).reshape(resolution, resolution, -1)
    for token, ax in enumerate(axes):
        ax.pcolormesh(xs, ys, probs[..., token], cmap=LANDSCAPE, vmin=0.0, vmax=1.0, shading="auto", rasterized=True)
        ax.set_title(f"P(next = {rule.vocab[token]})", fontsize=9)
        ax.tick_params(labelsize=6)
        if draw_points is not None:
            draw_points(ax, token)


def output_landscape(
    model: Transformer,
    rule: Rule,
    points: Tensor | None = None,
    *,
    labels=None,
    colours=None,
    resolution: int = 90,
    title: str = "",
) -> Figure:
    """One panel per output token: the probability the model gives that token when the residual stream, right after
    attention, sits at each point of the plane (then MLP, residual, unembedding); with the token+position points
    (or `points`, labelled `labels`) written on top."""
    require_2d(model)
    if points is None:
        points_np, labels, colours = _grid_points(model, rule)
    else:
        points_np = to_numpy(points).reshape(-1, 2)
        colours = colours or ["white"] * len(points_np)
    ncols = 4
    nrows = -(-rule.d_vocab // ncols)
    fig, axes = figure(ncols, nrows, width=3.3, height=3.0)

    def draw(ax: Axes, token: int) -> None:
        for (x, y), label, colour in zip(points_np, labels, colours, strict=True):
            ax.text(
                x,
                y,
                label,
                fontsize=4.5,
                color="white",
                ha="center",
                va="center",
                bbox=dict(boxstyle="round,pad=0.1", facecolor=colour, alpha=0.55, linewidth=0.0),
            )

    _landscapes(axes[: rule.d_vocab], model, rule, points_np, resolution=resolution, draw_points=draw)
    for ax in axes[rule.d_vocab :]:
        ax.set_axis_off()
    fig.colorbar(
        matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(0, 1), LANDSCAPE),
        ax=list(axes),
        shrink=0.6,
        label="probability",
    )
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


# ------------------------------------------------------------------------------- 08, 09, 10 Q, K, V
def qkv_transforms(model: Transformer, rule: Rule) -> Figure:
    """Top: all token+position inputs, and the 2×2 matrices W_Q, W_K, W_V. Bottom: the queries, keys and values
    those matrices make of every input."""
    require_2d(model)
    fig, axes = figure(4, 2, width=3.8, height=3.6)
    points, labels, colours = _grid_points(model, rule)
    _scatter_labels(axes[0], points, labels, colours, fontsize=4.5)
    _finish(axes[0], "inputs x = W_E[t] + W_pos[p]")
    for ax, name in zip(axes[1:4], ("W_Q", "W_K", "W_V"), strict=True):
        heatmap(
            ax,
            getattr(model, name)[0, 0],
            row_labels=["in 0", "in 1"],
            col_labels=["out 0", "out 1"],
            annotate=True,
            cmap="RdBu_r",
        )
        ax.set_title(f"{name} (x @ {name})")
    axes[4].set_axis_off()
    x = token_positions(model)
    for ax, which, colour, name in zip(
        axes[5:], "qkv", ("tab:blue", "tab:red", "tab:green"), ("queries", "keys", "values"), strict=True
    ):
        ax.scatter(*to_numpy(head(model, x, which)).reshape(-1, 2).T, s=8, color=colour)
        for (px, py), label in zip(to_numpy(head(model, x, which)).reshape(-1, 2), labels, strict=True):
            ax.annotate(label, (px, py), fontsize=4.5, color=colour)
        _finish(ax, f"{name}: x @ W_{which.upper()}")
    return fig


def qk_space(model: Transformer, rule: Rule) -> Figure:
    """Every query (blue) and every key (red) in one plane, labelled token_position: a query attends most to the
    keys that point the same way it does."""
    require_2d(model)
    fig, (ax,) = figure(width=8.0, height=7.0)
    x = token_positions(model)
    _, labels, _ = _grid_points(model, rule)
    for which, colour, name in (("q", "tab:blue", "queries"), ("k", "tab:red", "keys")):
        points = to_numpy(head(model, x, which)).reshape(-1, 2)
        ax.scatter(points[:, 0], points[:, 1], s=10, color=colour, label=name)
        for (px, py), label in zip(points, labels, strict=True):
            ax.annotate(label, (px, py), fontsize=5.5, color=colour)
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.axvline(0, color="0.6", linewidth=0.6)
    ax.legend()
    _finish(ax, "Queries and keys of every token at every position", "q/k dimension 0", "q/k dimension 1")
    return fig


def qk_focus(model: Transformer, rule: Rule, token: int, position: int) -> Figure:
    """One query (token at position) and the dot product it would have with a key at each point of the plane
    (green positive, uncoloured negative); keys at later positions, which the causal mask hides, are grey."""
    require_2d(model)
    if not 0 <= position < model.cfg.n_ctx:
        raise ValueError(f"position must lie in 0 … {model.cfg.n_ctx - 1}, got {position}")
    x = token_positions(model)
    q = head(model, x[token, position], "q")
    keys = to_numpy(head(model, x, "k"))  # [V, n_ctx, 2]
    points = np.concatenate([keys.reshape(-1, 2), to_numpy(q)[None]])
    xs, ys, grid = plane_grid(points, 120)
    field = to_numpy(grid @ q).reshape(len(ys), len(xs)) / np.sqrt(model.cfg.d_head)
    fig, (ax,) = figure(width=8.0, height=7.0)
    mesh = ax.pcolormesh(xs, ys, np.ma.masked_less(field, 0), cmap="Greens", shading="auto", rasterized=True)
    fig.colorbar(mesh, ax=ax, label="score q·k/√d_head (negative: not coloured)")
    for t in range(rule.d_vocab):
        for p in range(model.cfg.n_ctx):
            masked = p > position
            ax.scatter(*keys[t, p], s=12, color="0.75" if masked else "tab:red")
            ax.annotate(
                f"{rule.vocab[t]}_{p}", keys[t, p], fontsize=6, color="0.7" if masked else token_colour(rule, t)
            )
    ax.scatter(*to_numpy(q), s=80, marker="*", color="tab:blue", zorder=5)
    ax.annotate(
        f"query {rule.vocab[token]}_{position}",
        to_numpy(q),
        fontsize=9,
        color="tab:blue",
        xytext=(4, 4),
        textcoords="offset points",
    )
    ax.arrow(0, 0, *to_numpy(q), color="tab:blue", width=0.005 * (xs[-1] - xs[0]), length_includes_head=True)
    _finish(
        ax,
        f"What the query of '{rule.vocab[token]}' at position {position} looks for (grey keys: masked)",
        "k dimension 0",
        "k dimension 1",
    )
    return fig


def score_grid(model: Transformer, rule: Rule) -> Figure:
    """The attention score q·k/√d_head between every query (token_position, rows) and every key (columns), grouped
    by token; keys after their query are masked (grey)."""
    require_2d(model)
    V, T = rule.d_vocab, model.cfg.n_ctx
    x = token_positions(model).reshape(V * T, -1)
    scores = to_numpy(head(model, x, "q") @ head(model, x, "k").T) / np.sqrt(model.cfg.d_head)
    positions = np.tile(np.arange(T), V)
    scores[positions[:, None] < positions[None, :]] = np.nan
    fig, (ax,) = figure(width=10.0, height=9.0)
    image = ax.imshow(
        np.ma.masked_invalid(scores),
        cmap=matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.85"),
        norm=matplotlib.colors.CenteredNorm(),
    )
    ticks = np.arange(V) * T + (T - 1) / 2
    ax.set_xticks(ticks, labels=rule.vocab)
    ax.set_yticks(ticks, labels=rule.vocab)
    for k in range(1, V):
        ax.axhline(k * T - 0.5, color="white", linewidth=0.6)
        ax.axvline(k * T - 0.5, color="white", linewidth=0.6)
    ax.set(
        xlabel="key token (positions 0 … n_ctx-1 within each block)",
        ylabel="query token (positions within block)",
        title="Attention score of every query against every key",
    )
    fig.colorbar(image, ax=ax, shrink=0.8, label="q·k/√d_head")
    return fig


# --------------------------------------------------------------------------------- one sequence at a time
def _labels(rule: Rule, tokens: Sequence[int]) -> list[str]:
    return [f"{rule.vocab[t]}_{p}" for p, t in enumerate(tokens)]


def sequence_embeddings(model: Transformer, rule: Rule, tokens: Sequence[int]) -> Figure:
    """One window of tokens: its token and position vectors and their sums, as heatmaps (top) and as points among
    every possible token+position (grey) (bottom)."""
    require_2d(model)
    t = trace(model, tokens)
    labels = _labels(rule, tokens)
    fig, axes = figure(3, 2, width=4.2, height=3.8)
    heatmap(
        axes[0], model.W_E[list(tokens)], row_labels=labels, col_labels=["dim 0", "dim 1"], annotate=True, cmap="RdBu_r"
    )
    axes[0].set_title("W_E[token]")
    heatmap(
        axes[1],
        model.W_pos[: len(tokens)],
        row_labels=labels,
        col_labels=["dim 0", "dim 1"],
        annotate=True,
        cmap="RdBu_r",
    )
    axes[1].set_title("W_pos[position]")
    heatmap(axes[2], t.embed, row_labels=labels, col_labels=["dim 0", "dim 1"], annotate=True, cmap="RdBu_r")
    axes[2].set_title("x = W_E[token] + W_pos[position]")
    W_E = to_numpy(model.W_E)
    _scatter_labels(axes[3], W_E, rule.vocab, ["0.7"] * rule.d_vocab)
    _scatter_labels(
        axes[3],
        W_E[list(tokens)],
        [rule.vocab[k] for k in tokens],
        [token_colour(rule, k) for k in tokens],
        fontsize=9,
        marker_size=40,
    )
    _finish(axes[3], "this window's tokens")
    W_pos = to_numpy(model.W_pos)
    _scatter_labels(axes[4], W_pos, [f"p{p}" for p in range(len(W_pos))], ["tab:purple"] * len(W_pos), fontsize=8)
    _finish(axes[4], "positions")
    points, all_labels, _ = _grid_points(model, rule)
    axes[5].scatter(points[:, 0], points[:, 1], s=6, color="0.8")
    _scatter_labels(axes[5], t.embed, labels, [token_colour(rule, k) for k in tokens], fontsize=8, marker_size=40)
    _finish(axes[5], "this window among all token+position inputs")
    return fig


def qk_attention(model: Transformer, rule: Rule, windows: Sequence[Sequence[int]]) -> Figure:
    """For each window (one row each): queries and keys as heatmaps, as points (all possible ones grey), the masked
    scores q·k/√d_head and the attention pattern (rows: queries, columns: keys)."""
    require_2d(model)
    fig, axes = figure(5, len(windows), width=3.3, height=3.1)
    x_all = token_positions(model).reshape(-1, 2)
    q_all, k_all = to_numpy(head(model, x_all, "q")), to_numpy(head(model, x_all, "k"))
    for row, tokens in enumerate(windows):
        t, labels = trace(model, tokens), _labels(rule, tokens)
        ax = axes[row * 5 : row * 5 + 5]
        heatmap(ax[0], t.q, row_labels=labels, col_labels=["0", "1"], annotate=True, cmap="Blues", colorbar=False)
        ax[0].set_title("queries q")
        heatmap(ax[1], t.k, row_labels=labels, col_labels=["0", "1"], annotate=True, cmap="Reds", colorbar=False)
        ax[1].set_title("keys k")
        ax[2].scatter(*q_all.T, s=4, color="0.85")
        ax[2].scatter(*k_all.T, s=4, color="0.85")
        _scatter_labels(ax[2], t.q, labels, ["tab:blue"] * len(labels), fontsize=6)
        _scatter_labels(ax[2], t.k, labels, ["tab:red"] * len(labels), fontsize=6)
        _finish(ax[2], "q (blue) and k (red)", "", "")
        heatmap(
            ax[3],
            t.scores,
            row_labels=labels,
            col_labels=labels,
            annotate=True,
            fmt=".1f",
            cmap="RdBu_r",
            colorbar=False,
        )
        ax[3].set_title("masked scores")
        heatmap(
            ax[4],
            t.pattern,
            row_labels=labels,
            col_labels=labels,
            annotate=True,
            fmt=".2f",
            cmap="Greens",
            vmin=0.0,
            vmax=1.0,
            colorbar=False,
        )
        ax[4].set_title("attention pattern")
        for a in (ax[3], ax[4]):
            a.tick_params(axis="x", labelrotation=90, labelsize=6)
            a.tick_params(axis="y", labelsize=6)
            for text in a.texts:
                text.set_fontsize(5)
    return fig


def value_output(model: Transformer, rule: Rule, windows: Sequence[Sequence[int]]) -> Figure:
    """For each window: the attention pattern, the values v, the head's output (pattern @ v) as heatmaps, and the
    values and outputs as points (all possible values grey)."""
    require_2d(model)
    fig, axes = figure(5, len(windows), width=3.3, height=3.1)
    v_all = to_numpy(head(model, token_positions(model).reshape(-1, 2), "v"))
    for row, tokens in enumerate(windows):
        t, labels = trace(model, tokens), _labels(rule, tokens)
        ax = axes[row * 5 : row * 5 + 5]
        heatmap(
            ax[0], t.pattern, row_labels=labels, col_labels=labels, cmap="Greens", vmin=0.0, vmax=1.0, colorbar=False
        )
        ax[0].set_title("attention pattern")
        ax[0].tick_params(axis="x", labelrotation=90, labelsize=6)
        heatmap(ax[1], t.v, row_labels=labels, col_labels=["0", "1"], annotate=True, cmap="Greens", colorbar=False)
        ax[1].set_title("values v")
        heatmap(ax[2], t.attn_out, row_labels=labels, col_labels=["0", "1"], annotate=True, cmap="PuRd", colorbar=False)
        ax[2].set_title("output = pattern @ v")
        ax[3].scatter(*v_all.T, s=4, color="0.85")
        _scatter_labels(ax[3], t.v, labels, ["tab:green"] * len(labels), fontsize=6)
        _finish(ax[3], "values of this window", "", "")
        ax[4].scatter(*v_all.T, s=4, color="0.85")
        _scatter_labels(ax[4], t.attn_out, labels, ["tab:purple"] * len(labels), fontsize=6)
        _finish(ax[4], "what each position receives", "", "")
    return fig


def _correctness_colour(correct: bool | None) -> str:
    return FREE if correct is None else (RIGHT if correct else WRONG)


def residual_stream(
    model: Transformer,
    rule: Rule,
    windows: Sequence[Sequence[int]],
    continuations: Sequence[Sequence[int]] | None = None,
) -> Figure:
    """For each window: the embedding x, the attention output and their sum as heatmaps, then as points, with an
    arrow from x to x + attention output for every position — green where the next token is then predicted right,
    red where wrong, grey where the rule leaves it free. `continuations[i]` is window i plus its next token."""
    require_2d(model)
    fig, axes = figure(6, len(windows), width=3.1, height=3.1)
    for row, tokens in enumerate(windows):
        t, labels = trace(model, tokens), _labels(rule, tokens)
        full = continuations[row] if continuations is not None else None
        correct = correct_predictions(rule, tokens, t.probs, full)
        ax = axes[row * 6 : row * 6 + 6]
        titles = ("x (embedding)", "attention output", "x + attention output")
        for a, key, title in zip(ax[:3], ("embed", "attn_out", "resid_mid"), titles, strict=True):
            heatmap(
                a,
                getattr(t, key),
                row_labels=labels,
                col_labels=["0", "1"],
                annotate=True,
                cmap="RdBu_r",
                colorbar=False,
            )
            a.set_title(title)
        _scatter_labels(ax[3], t.embed, labels, [token_colour(rule, k) for k in tokens], fontsize=6)
        _finish(ax[3], "x", "", "")
        for (x0, y0), (x1, y1), c in zip(t.embed, t.resid_mid, correct, strict=True):
            ax[4].annotate(
                "", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="-|>", color=_correctness_colour(c), lw=1.2)
            )
        _scatter_labels(ax[4], t.resid_mid, labels, [_correctness_colour(c) for c in correct], fontsize=6)
        ax[4].scatter(*t.embed.T, s=6, color="0.6")
        _finish(ax[4], "x → x + attention output", "", "")
        _scatter_labels(ax[5], t.resid_mid, labels, [token_colour(rule, k) for k in tokens], fontsize=6)
        _finish(ax[5], "x + attention output", "", "")
    return fig


def value_demo(
    model: Transformer, rule: Rule, tokens: Sequence[int], full: Sequence[int] | None = None, *, resolution: int = 60
) -> Figure:
    """One window on every output token's probability landscape. Row 1: the values v; row 2: arrows from each x to
    x + attention output (green: next token right, red: wrong, grey: free); row 3: x + attention output alone,
    the points the MLP and unembedding turn into predictions."""
    require_2d(model)
    t = trace(model, tokens)
    correct = correct_predictions(rule, tokens, t.probs, full)
    points = np.concatenate([t.v, t.embed, t.resid_mid])
    fig, axes = figure(rule.d_vocab, 3, width=1.9, height=1.9)
    rows = [axes[r * rule.d_vocab : (r + 1) * rule.d_vocab] for r in range(3)]

    def draw_values(ax: Axes, token: int) -> None:
        ax.scatter(*t.v.T, s=8, color="white", edgecolors="black", linewidths=0.3)

    def draw_arrows(ax: Axes, token: int) -> None:
        for (x0, y0), (x1, y1), c in zip(t.embed, t.resid_mid, correct, strict=True):
            ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="-|>", color=_correctness_colour(c), lw=0.8))

    def draw_final(ax: Axes, token: int) -> None:
        ax.scatter(
            *t.resid_mid.T, s=10, c=[_correctness_colour(c) for c in correct], edgecolors="white", linewidths=0.3
        )

    for row, draw in zip(rows, (draw_values, draw_arrows, draw_final), strict=True):
        _landscapes(row, model, rule, points, resolution=resolution, draw_points=draw)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    rows[0][0].set_ylabel("values v")
    rows[1][0].set_ylabel("x → x + attn out")
    rows[2][0].set_ylabel("x + attn out")
    fig.suptitle(f"Window '{rule.decode(tokens)}' on the output landscapes", fontsize=11)
    return fig
