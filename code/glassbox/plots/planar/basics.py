"""Chapter 6's first figures of a planar model (`glassbox.plots.planar`): the architecture (01), the learning curve
(02), training data and generated sequences cell by cell (03, 04), and the embeddings as tables and as points (05,
06).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from glassbox.analysis.planar import (
    require_2d,
    to_numpy,
    token_positions,
)
from glassbox.model import Transformer
from glassbox.plots.core import figure, heatmap, mosaic, text_colour, verdict_colour, verdict_mark
from glassbox.plots.planar.labels import label
from glassbox.plots.planar.style import (
    KIND_MARKER,
    TEXT,
    _finish,
    _kind_legend,
    _scatter_labels,
    _token_paths,
    groups_of,
    token_colour,
)
from glassbox.rules.definitions import Rule
from glassbox.train import History


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
    colours = [token_colour(rule, t) for t in range(rule.d_vocab)]
    for t, c in enumerate(colours):
        axes[0].scatter(*W_E[t], color=c, marker=KIND_MARKER[c], s=24)
    for group in groups_of(W_E, colours, 0.04 * float(np.ptp(W_E, axis=0).max())):  # the bunched odd numbers: one
        label(
            axes[0], ",".join(rule.vocab[t] for t in group), W_E[group[0]], colour=colours[group[0]], fontsize=TEXT + 1
        )
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
