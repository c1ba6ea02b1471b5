"""Figures of the glass-box models of Part III (chapters 6 and 7): every weight and activation of a one-layer,
one-head model whose residual stream is 2-dimensional, drawn directly — no projection needed.

Functions follow the order of chapter 6 and each returns a `Figure`. They take the trained `Transformer` and the
`Rule` it learned (for token names and for colouring right and wrong predictions). Tokens are coloured by kind:
even numbers blue, odd numbers orange, `+` purple (Okabe–Ito colours, with a marker shape per kind). A point "t_p"
is token t at position p. Every figure is at most the page's column wide, with text of at least 8 pt
(`glassbox.plots.core`); right and wrong carry ✓/✗ beside their colours.

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
from glassbox.plots.core import diverging_norm, figure, heatmap, mosaic, text_colour, verdict_colour, verdict_mark
from glassbox.rules.definitions import Rule
from glassbox.train import History

# token kinds in Okabe–Ito colours (told apart with any colour vision) and, as a second cue, by marker shape
EVEN, ODD, PLUS = "#0072B2", "#E69F00", "#CC79A7"
KIND_MARKER = {EVEN: "o", ODD: "s", PLUS: "P"}
LANDSCAPE = "viridis"
TEXT = 8.0  # points: annotations in figures no wider than the page's column stay legible (core.MIN_POINTS)


# ---------------------------------------------------------------------------------------------- helpers
def token_colour(rule: Rule, token: int) -> str:
    """Blue for even numbers, orange for odd ones, purple for `+`."""
    if rule.has_plus and token == rule.plus:
        return PLUS
    return EVEN if token % 2 == 0 else ODD


def _scatter_labels(
    ax: Axes,
    points: np.ndarray,
    labels: Sequence[str],
    colours: Sequence[str],
    *,
    fontsize: float | int = TEXT,
    alpha: float | int = 1.0,
    marker_size: float | int = 16,
) -> None:
    ax.scatter(points[:, 0], points[:, 1], c=list(colours), s=marker_size, alpha=alpha, linewidths=0)
    for (x, y), label, colour in zip(points, labels, colours, strict=True):
        ax.annotate(
            label, (x, y), fontsize=fontsize, color=colour, alpha=alpha, xytext=(2, 2), textcoords="offset points"
        )


def _token_paths(
    ax: Axes, points: np.ndarray, rule: Rule, *, colour: str | None = None, marker: str | None = None, prefix: str = ""
) -> None:
    """Every token's points at positions 0 … n_ctx-1 ([V, n_ctx, 2]) as one path, from a hollow marker (position 0)
    to filled ones, named once at its last drawn position (a masked position is NaN): 12 labels instead of 96.
    Tokens whose labels would fall on one spot (the odd numbers, which the model bunches) share one label, "1,3,5"."""
    labels: list[tuple[list[str], np.ndarray, str]] = []
    finite = points[np.isfinite(points).all(-1)]
    near = 0.04 * float(np.ptp(finite, axis=0).max()) if len(finite) else 0.0
    for t in range(rule.d_vocab):
        c = colour or token_colour(rule, t)
        m = marker or KIND_MARKER[token_colour(rule, t)]
        path = points[t]
        ax.plot(path[:, 0], path[:, 1], color=c, linewidth=0.8, alpha=0.6)
        ax.scatter(path[1:, 0], path[1:, 1], color=c, marker=m, s=14, linewidths=0)
        ax.scatter(*path[0], facecolor="white", edgecolor=c, marker=m, s=22, linewidths=1.0)
        drawn = path[np.isfinite(path).all(-1)]
        if not len(drawn):
            continue
        for names, at, shade in labels:
            if shade == c and np.linalg.norm(at - drawn[-1]) < near:
                names.append(rule.vocab[t])
                break
        else:
            labels.append(([rule.vocab[t]], drawn[-1], c))
    for names, at, c in labels:
        ax.annotate(prefix + ",".join(names), at, fontsize=TEXT, color=c, xytext=(3, 3), textcoords="offset points")


def _grid_points(model: Transformer, rule: Rule) -> tuple[np.ndarray, list[str], list[str]]:
    """All token+position points [V*n_ctx, 2], labelled "t_p" and coloured by token."""
    points = to_numpy(token_positions(model)).reshape(-1, 2)
    labels = [f"{rule.vocab[t]}_{p}" for t in range(rule.d_vocab) for p in range(model.cfg.n_ctx)]
    colours = [token_colour(rule, t) for t in range(rule.d_vocab) for _ in range(model.cfg.n_ctx)]
    return points, labels, colours


def _kind_legend(ax: Axes, rule: Rule, *, paths: bool = False) -> None:
    kinds = [(EVEN, "even"), (ODD, "odd")] + ([(PLUS, "+")] if rule.has_plus else [])
    handles = [
        matplotlib.lines.Line2D([], [], marker=KIND_MARKER[c], linestyle="", color=c, label=kind) for c, kind in kinds
    ]
    if paths:
        handles.append(
            matplotlib.lines.Line2D(
                [], [], marker="o", linestyle="-", color="0.4", markerfacecolor="white", label="path from position 0"
            )
        )
    ax.legend(handles=handles, fontsize=TEXT, loc="best")


def _finish(ax: Axes, title: str, xlabel: str = "dimension 0", ylabel: str = "dimension 1") -> None:
    ax.set_title(title, fontsize=10)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.tick_params(labelsize=TEXT)
    ax.grid(alpha=0.25)


# --------------------------------------------------------------------------------- 01 the architecture
def architecture(model: Transformer, batch: int = 8) -> Figure:
    """A block diagram of the model from tokens to probabilities, each arrow labelled with its tensor shape."""
    cfg = model.cfg
    B, T, C, V = batch, cfg.n_ctx, cfg.d_model, cfg.d_vocab
    fig, (ax,) = figure(width=7.0, height=7.0)
    ax.set_axis_off()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 13)
    boxes = [
        (12.0, "tokens", f"[{B}, {T}]  ids in 0 … {V - 1}", "#eeeeee"),
        (10.6, "token embedding W_E  +  position embedding W_pos", f"W_E [{V}, {C}],  W_pos [{T}, {C}]", "#e3f2fd"),
        (
            9.0,
            "attention: q = xW_Q, k = xW_K, v = xW_V;  softmax(qkᵀ/√d_head + mask) v",
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
        ax.text(5, y + 0.2, title, ha="center", va="center", fontsize=8.5, wrap=True)
        ax.text(5, y - 0.25, shape, ha="center", va="center", fontsize=8, color="0.25", family="monospace")
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
    ax.set_title(f"One layer, one head, d_model = {C}: {n_params} parameters\n(B = batch, T = context)", fontsize=10)
    return fig


# ---------------------------------------------------------------------------------- 02 the learning curve
def learning_curve(history: History, *, rule_error: str = "rule_error", title: str = "Learning curve") -> Figure:
    """Train and validation loss (left axis) and the rule error on validation sequences (right axis, dashed)."""
    fig, (ax,) = figure(width=7.0, height=4.2)
    ax.plot(history.eval_steps, history.eval_train_loss, color="tab:blue", label="train loss")
    ax.plot(history.eval_steps, history.val_loss, color="tab:orange", label="validation loss")
    ax.set(xlabel="training step", ylabel="cross-entropy loss (nats)", title=title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if rule_error in history.metrics:
        right = ax.twinx()
        right.plot(history.eval_steps, history.metrics[rule_error], color="tab:red", linestyle="--", label="rule error")
        right.set(ylabel="rule error (share of fixed positions wrong)", ylim=(0, 1))
        right.legend(loc="upper center", fontsize=9)
    ax.legend(loc="upper right", fontsize=9)
    return fig


# ---------------------------------------------------------------------------- 03, 04 data and generations
def _sequence_grid(
    axes: Sequence[Axes] | np.ndarray,
    rule: Rule,
    sequences: Sequence[Sequence[int]],
    title: str,
    max_length: int,
    chunk: int,
) -> None:
    """Sequences as rows of cells, `chunk` positions per panel (a 40-token row is split in two, not shrunk): free
    positions grey, fixed ones sky blue with ✓ when the token obeys the rule and vermilion with ✗ when not."""
    n = len(sequences)
    for k, ax in enumerate(axes):
        lo = k * chunk
        colours = np.ones((n, chunk, 3))
        for row, sequence in enumerate(sequences):
            for i in range(lo, min(lo + chunk, max_length, len(sequence))):
                token = sequence[i]
                allowed = rule.allowed(sequence, i)
                verdict = None if allowed is None else token in allowed
                colours[row, i - lo] = matplotlib.colors.to_rgb(verdict_colour(verdict))
                mark = "" if verdict is None else verdict_mark(verdict)
                ax.text(
                    i - lo,
                    row,
                    rule.vocab[token] + mark,
                    ha="center",
                    va="center",
                    fontsize=TEXT,
                    color=text_colour(colours[row, i - lo]),
                )
        ax.imshow(colours, aspect="auto")
        ax.set_yticks(range(n), labels=[f"seq {r}" for r in range(n)], fontsize=TEXT)
        ax.set_xticks(range(0, chunk, 5), labels=[str(lo + i) for i in range(0, chunk, 5)], fontsize=TEXT)
        ax.set_xlabel("position", fontsize=TEXT)
        ax.set_title(f"{title}, positions {lo}–{lo + chunk - 1}", fontsize=10)


def _chunks(max_length: int, chunk: int) -> int:
    return -(-max_length // chunk)


def training_data(rule: Rule, sequences: Sequence[Sequence[int]], *, max_length: int = 40, chunk: int = 20) -> Figure:
    """A few training sequences, cell by cell, `chunk` positions per panel: grey where the rule leaves the token free,
    blue ✓ where it fixes it and the token obeys (vermilion ✗ if it did not)."""
    panels = _chunks(max_length, chunk)
    fig, axes = figure(1, panels, width=7.0, height=0.32 * len(sequences) + 0.9)
    _sequence_grid(axes, rule, sequences, f"Training sequences of {rule.name}", max_length, chunk)
    return fig


def generated_sequences(
    rule: Rule,
    before: Sequence[Sequence[int]],
    after: Sequence[Sequence[int]],
    *,
    max_length: int = 40,
    chunk: int = 20,
) -> Figure:
    """Sequences the model generates from the same first tokens at step 0 (top panels) and after training (bottom
    panels), coloured and marked as in `training_data`."""
    panels = _chunks(max_length, chunk)
    height = 0.32 * max(len(before), len(after)) + 0.9
    fig, axes = figure(1, 2 * panels, width=7.0, height=height)
    _sequence_grid(axes[:panels], rule, before, "Step 0 (untrained)", max_length, chunk)
    _sequence_grid(axes[panels:], rule, after, "After training", max_length, chunk)
    return fig


# --------------------------------------------------------------------------------- 05, 06 embeddings
def _embedding_scatters(axes: Sequence[Axes] | np.ndarray, model: Transformer, rule: Rule) -> None:
    W_E, W_pos = to_numpy(model.W_E), to_numpy(model.W_pos)
    for t in range(rule.d_vocab):
        c = token_colour(rule, t)
        axes[0].scatter(*W_E[t], color=c, marker=KIND_MARKER[c], s=24)
        axes[0].annotate(rule.vocab[t], W_E[t], fontsize=TEXT + 1, color=c, xytext=(3, 3), textcoords="offset points")
    _finish(axes[0], "token embeddings W_E")
    _kind_legend(axes[0], rule)
    axes[1].plot(W_pos[:, 0], W_pos[:, 1], color="0.7", linewidth=0.8)
    _scatter_labels(axes[1], W_pos, [f"p{p}" for p in range(len(W_pos))], ["#56B4E9"] * len(W_pos), fontsize=TEXT + 1)
    _finish(axes[1], "position embeddings W_pos")
    _token_paths(axes[2], to_numpy(token_positions(model)), rule)
    _kind_legend(axes[2], rule, paths=True)
    _finish(axes[2], "token + position: every input the model can see (one path per token, positions 0 → last)")


def embeddings(model: Transformer, rule: Rule) -> Figure:
    """Top: the token embeddings and the position embeddings, values written in their cells. Bottom: for each token
    (rows) and position (columns), the two coordinates of their sum. Every map is centred on zero."""
    require_2d(model)
    fig, axes = figure(2, 2, width=3.5, height=3.6)
    heatmap(axes[0], model.W_E, row_labels=rule.vocab, col_labels=["dim 0", "dim 1"], annotate=True, cmap="RdBu_r")
    axes[0].set_title("W_E (token → vector)", fontsize=10)
    positions = [f"p{p}" for p in range(model.cfg.n_ctx)]
    heatmap(axes[1], model.W_pos, row_labels=positions, col_labels=["dim 0", "dim 1"], annotate=True, cmap="RdBu_r")
    axes[1].set_title("W_pos (position → vector)", fontsize=10)
    for dim, ax in enumerate(axes[2:]):
        heatmap(ax, token_positions(model)[..., dim], row_labels=rule.vocab, col_labels=positions, cmap="RdBu_r")
        ax.set_title(f"W_E + W_pos, dimension {dim}", fontsize=10)
        ax.set_xlabel("position", fontsize=TEXT)
    for ax in axes:
        ax.tick_params(labelsize=TEXT)
    return fig


def embedding_scatter(model: Transformer, rule: Rule) -> Figure:
    """The embeddings as points: tokens and positions (top), and every token at every position (bottom), drawn as one
    path per token from position 0 (hollow) to the last."""
    require_2d(model)
    fig, axes = mosaic([["tokens", "positions"], ["sum", "sum"]], width=7.0, height=9.5)
    _embedding_scatters([axes["tokens"], axes["positions"], axes["sum"]], model, rule)
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
    ncols: int = 4,
) -> None:
    xs, ys, grid = plane_grid(points, resolution)
    probs = to_numpy(output_probabilities(model, grid)).reshape(resolution, resolution, -1)
    for token, ax in enumerate(axes):
        ax.pcolormesh(xs, ys, probs[..., token], cmap=LANDSCAPE, vmin=0.0, vmax=1.0, shading="auto", rasterized=True)
        ax.set_title(f"P(next = {rule.vocab[token]})", fontsize=TEXT + 1)
        ax.tick_params(labelsize=TEXT)
        if token % ncols:
            ax.tick_params(labelleft=False)
        if token < len(axes) - ncols:
            ax.tick_params(labelbottom=False)
        if draw_points is not None:
            draw_points(ax, token)


def _landscape_grid(rule: Rule, ncols: int = 4) -> tuple[Figure, np.ndarray]:
    nrows = -(-rule.d_vocab // ncols)
    fig, axes = figure(ncols, nrows, width=7.0 / ncols, height=1.85)
    for ax in axes[rule.d_vocab :]:
        ax.set_axis_off()
    fig.colorbar(
        matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(0, 1), LANDSCAPE),
        ax=list(axes),
        shrink=0.6,
        label="probability",
    )
    return fig, axes


def output_landscape(
    model: Transformer,
    rule: Rule,
    points: Tensor | None = None,
    *,
    values: bool = False,
    resolution: int = 90,
    title: str = "",
) -> Figure:
    """One panel per output token: the probability the model gives that token when the residual stream, right after
    attention, sits at each point of the plane (then MLP, residual, unembedding); with the token+position inputs
    (or `points`, [V, n_ctx, 2]) drawn on top as one path per token, coloured by kind, and with `values` the value
    v of every input (black ×, one path per token): what attention adds to a point when it attends to that input."""
    require_2d(model)
    paths = to_numpy(token_positions(model) if points is None else points)
    value_paths = to_numpy(head(model, token_positions(model), "v")) if values else None
    fig, axes = _landscape_grid(rule)

    def draw(ax: Axes, token: int) -> None:
        if value_paths is not None:
            for t in range(rule.d_vocab):
                ax.plot(*value_paths[t].T, color="white", linewidth=0.5)
                ax.scatter(*value_paths[t].T, color="white", marker="x", s=6, linewidths=0.6)
        for t in range(rule.d_vocab):
            c = token_colour(rule, t)
            ax.plot(paths[t, :, 0], paths[t, :, 1], color=c, linewidth=0.6)
            ax.scatter(
                paths[t, :, 0], paths[t, :, 1], color=c, marker=KIND_MARKER[c], s=6, linewidths=0.3, edgecolors="white"
            )

    shown = paths.reshape(-1, 2) if value_paths is None else np.concatenate([paths, value_paths]).reshape(-1, 2)
    _landscapes(axes[: rule.d_vocab], model, rule, shown, resolution=resolution, draw_points=draw)
    handles = [
        matplotlib.lines.Line2D([], [], marker=KIND_MARKER[c], color=c, label=k)
        for c, k in ((EVEN, "even"), (ODD, "odd"), (PLUS, "+"))
        if k != "+" or rule.has_plus
    ]
    if value_paths is not None:
        handles.append(matplotlib.lines.Line2D([], [], marker="x", color="0.3", label="values v (white)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=TEXT)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


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


VALUE_DEMO_STAGES = ("values", "arrows", "final")


def value_demo(
    model: Transformer,
    rule: Rule,
    tokens: Sequence[int],
    full: Sequence[int] | None = None,
    *,
    stage: str = "arrows",
    resolution: int = 60,
) -> Figure:
    """One window on every output token's probability landscape, at one `stage`: "values" (the values v, labelled by
    position), "arrows" (from each x to x + attention output; blue ✓: next token right, vermilion ✗: wrong, grey:
    free) or "final" (x + attention output alone, the points the MLP and unembedding turn into predictions)."""
    require_2d(model)
    if stage not in VALUE_DEMO_STAGES:
        raise ValueError(f"stage must be one of {', '.join(VALUE_DEMO_STAGES)}, got {stage!r}")
    t = trace(model, tokens)
    correct = correct_predictions(rule, tokens, t.probs, full)
    points = np.concatenate([t.v, t.embed, t.resid_mid])
    fig, axes = _landscape_grid(rule)

    def draw(ax: Axes, token: int) -> None:
        if stage == "values":
            ax.scatter(*t.v.T, s=12, color="white", edgecolors="black", linewidths=0.4)
            for p, (x, y) in enumerate(t.v):
                ax.annotate(str(p), (x, y), fontsize=TEXT, color="white", xytext=(2, 2), textcoords="offset points")
            return
        if stage == "arrows":
            for (x0, y0), (x1, y1), c in zip(t.embed, t.resid_mid, correct, strict=True):
                ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="-|>", color=verdict_colour(c), lw=0.9))
        for (x, y), c in zip(t.resid_mid, correct, strict=True):
            ax.scatter(x, y, s=14, color=verdict_colour(c), edgecolors="white", linewidths=0.3)
            if c is not None:
                ax.annotate(
                    verdict_mark(c), (x, y), fontsize=TEXT, color="white", xytext=(2, 2), textcoords="offset points"
                )

    _landscapes(axes[: rule.d_vocab], model, rule, points, resolution=resolution, draw_points=draw)
    what = {"values": "values v", "arrows": "x → x + attention output", "final": "x + attention output"}[stage]
    fig.suptitle(f"'{rule.decode(tokens)}': {what}", fontsize=10)
    return fig


# ------------------------------------------------------------------ the seed's summary figures (06_2, 11_1, 15)
def _token_palette(rule: Rule) -> list[tuple[float, float, float, float]]:
    """One colour per output token, by kind (evens in cool colours, odds in oranges, `+` purple). Up to six even
    numbers get six cool colours that differ in hue and lightness both, so neighbouring regions stay apart; more
    get a ramp of blues, light to dark."""
    distinct = ["#9ecae1", "#08519c", "#74c476", "#00441b", "#4eb3d3", "#54278f"]
    colours = []
    evens = [t for t in rule.numbers if t % 2 == 0]
    odds = [t for t in rule.numbers if t % 2]
    for t in range(rule.d_vocab):
        if rule.has_plus and t == rule.plus:
            colours.append(matplotlib.colors.to_rgba(PLUS))
        elif t % 2 == 0 and len(evens) <= len(distinct):
            colours.append(matplotlib.colors.to_rgba(distinct[evens.index(t)]))
        elif t % 2 == 0:
            colours.append(matplotlib.colormaps["Blues"](0.3 + 0.65 * evens.index(t) / max(1, len(evens) - 1)))
        else:
            colours.append(matplotlib.colormaps["Oranges"](0.25 + 0.6 * odds.index(t) / max(1, len(odds) - 1)))
    return colours


def landscape_summary(
    model: Transformer,
    rule: Rule,
    window: Sequence[int] | None = None,
    full: Sequence[int] | None = None,
    *,
    resolution: int = 150,
) -> Figure:
    """The output landscape in two maps instead of twelve: top, the token the model predicts at each point of the
    plane (its argmax; each region named by its token); bottom, how sure it is (the entropy of its distribution,
    in nats). Both carry the token embeddings W_E (named) and the values v of every input (×, one path per token).
    With `window`, the top map carries that window's arrows from x to x + attention output instead (✓/✗ where the
    next token is then predicted right or wrong)."""
    require_2d(model)
    x = to_numpy(token_positions(model))
    values = to_numpy(head(model, token_positions(model), "v"))
    t = trace(model, window) if window is not None else None
    shown = [x.reshape(-1, 2), values.reshape(-1, 2)] + ([t.embed, t.resid_mid] if t is not None else [])
    xs, ys, grid = plane_grid(np.concatenate(shown), resolution, margin=0.08)
    probs = to_numpy(output_probabilities(model, grid)).reshape(resolution, resolution, -1)
    best = probs.argmax(-1)
    entropy = -(probs * np.log(np.clip(probs, 1e-12, None))).sum(-1)
    layout = [["argmax"]] if t is not None else [["argmax"], ["entropy"]]  # with a window: the arrows' map only
    fig, axes = mosaic(layout, width=7.0, height=6.0 if t is not None else 9.8)
    palette = matplotlib.colors.ListedColormap(_token_palette(rule))
    axes["argmax"].pcolormesh(
        xs, ys, best, cmap=palette, vmin=-0.5, vmax=rule.d_vocab - 0.5, shading="auto", rasterized=True
    )
    for token in np.unique(best):
        rows, cols = np.nonzero(best == token)
        if len(rows) < resolution:  # a sliver: too small to name
            continue
        centre = (xs[int(np.median(cols))], ys[int(np.median(rows))])
        axes["argmax"].text(
            *centre,
            f"→ {rule.vocab[token]}",
            fontsize=TEXT + 1,
            ha="center",
            va="center",
            color=text_colour(_token_palette(rule)[token]),
            fontweight="bold",
        )
    if "entropy" in axes:
        mesh = axes["entropy"].pcolormesh(xs, ys, entropy, cmap=LANDSCAPE, vmin=0.0, shading="auto", rasterized=True)
        fig.colorbar(mesh, ax=axes["entropy"], label="entropy of P(next) (nats; 0 = certain)")
    W_E = to_numpy(model.W_E)
    for name, ax in axes.items():
        if t is None or name == "entropy":
            for token in range(rule.d_vocab):
                ax.plot(*values[token].T, color="black", linewidth=0.5, alpha=0.6)
                ax.scatter(*values[token].T, color="black", marker="x", s=10, linewidths=0.8)
                ax.annotate(
                    f"v({rule.vocab[token]})",
                    values[token, -1],
                    fontsize=TEXT,
                    xytext=(3, -10),
                    textcoords="offset points",
                    bbox=dict(boxstyle="round,pad=0.1", facecolor="white", alpha=0.75, linewidth=0),
                )
            for token in range(rule.d_vocab):
                c = token_colour(rule, token)
                ax.scatter(*W_E[token], color=c, marker=KIND_MARKER[c], s=40, edgecolors="white", linewidths=0.8)
                ax.annotate(
                    rule.vocab[token],
                    W_E[token],
                    fontsize=TEXT + 1,
                    color="white",
                    xytext=(4, 3),
                    textcoords="offset points",
                    bbox=dict(boxstyle="round,pad=0.15", facecolor=c, linewidth=0),
                )
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.tick_params(labelsize=TEXT)
    if t is not None:
        correct = correct_predictions(rule, window, t.probs, full)
        for (x0, y0), (x1, y1) in zip(t.embed, t.resid_mid, strict=True):
            axes["argmax"].annotate(
                "", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="-|>", color="black", lw=1.6, shrinkA=0, shrinkB=0)
            )
        for p, ((x1, y1), c) in enumerate(zip(t.resid_mid, correct, strict=True)):
            axes["argmax"].annotate(
                f"{rule.vocab[window[p]]}_{p}" + ("" if c is None else " " + verdict_mark(c)),
                (x1, y1),
                fontsize=TEXT,
                xytext=(3, -9),
                textcoords="offset points",
                bbox=dict(boxstyle="round,pad=0.1", facecolor="white", alpha=0.8, linewidth=0),
            )
        axes["argmax"].set_title(f"'{rule.decode(window)}': x → x + attention output on the argmax map", fontsize=10)
    else:
        axes["argmax"].set_title(
            "The predicted next token at each point (argmax), with W_E and the values ×", fontsize=10
        )
    if "entropy" in axes:
        axes["entropy"].set_title("How sure: entropy of the prediction, with W_E and the values ×", fontsize=10)
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
