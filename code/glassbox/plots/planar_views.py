"""More views of Part III's 2-D glass-box models (the page after chapter 6): the seed project's extended and
supplementary figures, each drawn so that one fact can be read off it.

`qkv_per_dimension` (figure 08, extended: each coordinate of q, k and v as a token × position table),
`qkv_overview` (supplementary 07: embeddings, queries, keys, values and one window's attention output on one page),
`attention_matrix` (supplementary 14: per position, the attention pattern, the logits and the probabilities),
`frozen_output` (one position's embedding held fixed: the prediction for every attention output it could receive),
and `query_gradients` (figure 15: for each query of a window, the score it gives a key anywhere in the plane).
The drawing helpers and colours are `glassbox.plots.planar.style`'s; the maths is `glassbox.analysis.planar`'s.

Longer than 300 lines: chapter 6b's five figures, one function each, with the two small helpers they share.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure

from glassbox.analysis.planar import (
    head,
    output_probabilities,
    plane_grid,
    require_2d,
    to_numpy,
    token_positions,
    trace,
)
from glassbox.model import Transformer
from glassbox.plots.core import diverging_norm, figure, heatmap, mosaic
from glassbox.plots.planar.labels import label
from glassbox.plots.planar.landscapes import _landscape_grid
from glassbox.plots.planar.style import (
    EVEN,
    KIND_MARKER,
    LANDSCAPE,
    ODD,
    PLUS,
    TEXT,
    _finish,
    _kind_handles,
    _token_paths,
    groups_of,
    token_colour,
)
from glassbox.rules.definitions import Rule

Q_COLOUR, K_COLOUR = "#0072B2", "#D55E00"  # Okabe–Ito blue and vermilion, with different markers


def _window_labels(rule: Rule, tokens: Sequence[int]) -> list[str]:
    return [f"{rule.vocab[t]}_{p}" for p, t in enumerate(tokens)]


def _check_window(model: Transformer, tokens: Sequence[int]) -> None:
    if not 1 <= len(tokens) <= model.cfg.n_ctx:
        raise ValueError(f"a window holds 1 … {model.cfg.n_ctx} tokens, got {len(tokens)}")


# ------------------------------------------------------------------------- 08 extended: per dimension
def qkv_per_dimension(model: Transformer, rule: Rule) -> Figure:
    """Each coordinate of the queries, keys and values (columns) of every token (rows of a table) at every position
    (its columns), centred on zero: a table whose colours change down the rows but hardly along them says that the
    token decides that coordinate and the position only nudges it. Any head size up to 4 (one row of tables per
    coordinate); a model with several heads shows head 0."""
    d_head = model.cfg.d_head
    if d_head > 4:
        raise ValueError(f"qkv_per_dimension draws one row per head dimension, at most 4; this head has {d_head}")
    x = token_positions(model)
    fig, axes = figure(3, d_head, width=7.0 / 3, height=3.3)
    positions = [str(p) for p in range(model.cfg.n_ctx)]
    for col, (which, name) in enumerate(zip("qkv", ("query", "key", "value"), strict=True)):
        vectors = to_numpy(head(model, x, which))  # [V, n_ctx, d_head]
        for dim in range(d_head):
            ax = axes[dim * 3 + col]
            heatmap(ax, vectors[..., dim], row_labels=rule.vocab, col_labels=positions, cmap="RdBu_r")
            ax.set_title(f"{name}, dimension {dim}", fontsize=TEXT + 1)
            ax.tick_params(labelsize=TEXT)
            ax.set_xlabel("position", fontsize=TEXT)
            if col == 0:
                ax.set_ylabel("token", fontsize=TEXT)
    for ax in fig.axes[len(axes) :]:  # the colour bars
        ax.tick_params(labelsize=TEXT)
    return fig


def position_share(model: Transformer) -> dict[str, float]:
    """For q, k and v: how much of the spread of a coordinate comes from the position rather than the token — the
    mean over tokens of the standard deviation across positions, over the standard deviation across tokens of the
    mean over positions (the larger of the two coordinates' ratios)."""
    x = token_positions(model)
    out = {}
    for which in "qkv":
        vectors = to_numpy(head(model, x, which))  # [V, n_ctx, 2]
        across_positions = vectors.std(axis=1).mean(axis=0)
        across_tokens = vectors.mean(axis=1).std(axis=0)
        out[which] = float((across_positions / across_tokens).max())
    return out


# ------------------------------------------------------------------------ supplementary 07: overview
def qkv_overview(model: Transformer, rule: Rule, tokens: Sequence[int]) -> Figure:
    """The head on one page: token and position embeddings, their sums, the queries, keys and values of every
    input (one path per token), queries and keys on one pair of axes, and the attention output at each position of
    the window `tokens` (named token_position): three panels a row, queries and keys together two panels wide, so
    that the page fits a screen (9.6 in tall at 7 in wide)."""
    require_2d(model)
    _check_window(model, tokens)
    # three panels a row, the busiest (queries and keys together) two wide: 9.6 in tall, under a screen (10 in)
    layout = [["tokens", "positions", "x"], ["q", "k", "v"], ["qk", "qk", "out"]]
    fig, axes = mosaic(layout, width=7.0, height=9.6)
    W_E, W_pos = to_numpy(model.W_E), to_numpy(model.W_pos)
    ax = axes["tokens"]
    colours = [token_colour(rule, t) for t in range(rule.d_vocab)]
    for t, c in enumerate(colours):
        ax.scatter(*W_E[t], color=c, marker=KIND_MARKER[c], s=30)
    for group in groups_of(W_E, colours, 0.04 * float(np.ptp(W_E, axis=0).max())):  # the odd numbers: one name
        label(ax, ",".join(rule.vocab[t] for t in group), W_E[group[0]], colour=colours[group[0]])
    _finish(ax, "tokens W_E", "dimension 0", "dimension 1")
    ax = axes["positions"]
    ax.plot(*W_pos.T, color="0.5", linewidth=0.8)
    ax.scatter(*W_pos.T, color="#56B4E9", s=24)
    for p, point in enumerate(W_pos):
        label(ax, f"p{p}", point, colour="0.2")
    _finish(ax, "positions W_pos", "dimension 0", "")
    x = token_positions(model)
    _token_paths(axes["x"], to_numpy(x), rule)
    _finish(axes["x"], "x = W_E + W_pos", "dimension 0", "")
    for which, name in zip("qkv", ("queries q", "keys k", "values v"), strict=True):
        _token_paths(axes[which], to_numpy(head(model, x, which)), rule)
        _finish(axes[which], name, "head dimension 0", "head dimension 1" if which == "q" else "")
    ax = axes["qk"]
    for which, colour, marker in (("q", Q_COLOUR, "o"), ("k", K_COLOUR, "^")):
        _token_paths(ax, to_numpy(head(model, x, which)), rule, colour=colour, marker=marker, prefix=which)
    ax.legend(
        handles=[
            matplotlib.lines.Line2D([], [], marker="o", linestyle="", color=Q_COLOUR, label="queries (q…)"),
            matplotlib.lines.Line2D([], [], marker="^", linestyle="", color=K_COLOUR, label="keys (k…)"),
        ],
        fontsize=TEXT,
        loc="best",
    )
    _finish(ax, "queries and keys together", "head dimension 0", "head dimension 1")
    out = trace(model, tokens).attn_out
    ax = axes["out"]
    colours = [token_colour(rule, t) for t in tokens]
    for point, c in zip(out, colours, strict=True):
        ax.scatter(*point, color=c, marker=KIND_MARKER[c], s=24)
    names = _window_labels(rule, tokens)
    for group in groups_of(out, ["0"] * len(out), 0.03 * (float(np.ptp(out, axis=0).max()) or 1.0)):  # one spot:
        lines = [", ".join(names[k] for k in group[i : i + 2]) for i in range(0, len(group), 2)]  # one name, 2 a line
        kinds = {colours[k] for k in group}
        label(ax, ",\n".join(lines), out[group[0]], colour=kinds.pop() if len(kinds) == 1 else "0.2")
    _finish(ax, "attention output,\none window", "dimension 0", "")
    fig.legend(
        handles=_kind_handles(rule, paths=True),
        loc="outside lower center",
        ncols=4,
        fontsize=TEXT,
    )
    return fig


# ------------------------------------------------------------------- supplementary 14: attention matrix
def attention_matrix(model: Transformer, rule: Rule, windows: Sequence[Sequence[int]]) -> Figure:
    """For each window (a row of three tables, one row per position): the attention pattern, the logits (centred on
    zero) and the probabilities of the next token. Any d_model (none of it is drawn in the stream); head 0's
    pattern for a model with several heads."""
    fig, axes = figure(3, len(windows), width=7.0 / 3, height=3.0)
    for w, tokens in enumerate(windows):
        _check_window(model, tokens)
        t = trace(model, tokens)
        with torch.no_grad():
            logits = to_numpy(model(torch.tensor(list(tokens))[None])[0])
        logits -= logits.mean(-1, keepdims=True)  # softmax ignores a shift: centre each row on its mean
        labels = _window_labels(rule, tokens)
        for ax, values, title, cmap, xlabels in (
            (axes[3 * w], t.pattern, "attention" if model.cfg.n_heads == 1 else "attention, head 0", "magma", labels),
            (axes[3 * w + 1], logits, "logits (row mean 0)", "RdBu_r", rule.vocab),
            (axes[3 * w + 2], t.probs, "P(next token)", "magma", rule.vocab),
        ):
            bounds = {} if cmap == "RdBu_r" else {"vmin": 0.0, "vmax": 1.0}
            heatmap(ax, values, row_labels=labels, col_labels=xlabels, cmap=cmap, **bounds)
            ax.set_title(title, fontsize=TEXT + 1)
            ax.tick_params(labelsize=TEXT)
            ax.tick_params(axis="x", labelrotation=90)
            ax.set_xlabel("key" if title.startswith("attention") else "next token", fontsize=TEXT)
    for ax in fig.axes[len(axes) :]:
        ax.tick_params(labelsize=TEXT)
    return fig


# ----------------------------------------------------------------------- frozen output: one position
@torch.no_grad()
def frozen_landscape(model: Transformer, tokens: Sequence[int], position: int, resolution: int) -> dict:
    """The plane of attention outputs a for one position of a window, its embedding x held fixed: the grid, the
    probabilities of x + a there, the values of the keys the position sees, and the attention output it gets."""
    require_2d(model)
    _check_window(model, tokens)
    if not 0 <= position < len(tokens):
        raise ValueError(f"position must lie in 0 … {len(tokens) - 1}, got {position}")
    t = trace(model, tokens)
    every_value = to_numpy(head(model, token_positions(model), "v")).reshape(-1, 2)
    xs, ys, grid = plane_grid(np.concatenate([every_value, t.attn_out[[position]]]), resolution)
    x = torch.tensor(t.embed[position], dtype=grid.dtype)
    resid_mid = grid + x if model.cfg.use_residual else grid
    probs = to_numpy(output_probabilities(model, resid_mid)).reshape(len(ys), len(xs), -1)
    return {
        "xs": xs,
        "ys": ys,
        "probs": probs,
        "grid": to_numpy(grid),
        "visible_values": t.v[: position + 1],
        "attn_out": t.attn_out[position],
        "predicted": int(t.probs[position].argmax()),
    }


def frozen_output(model: Transformer, rule: Rule, tokens: Sequence[int], position: int, *, resolution: int = 80):
    """One panel per output token: the probability of that token if the position `position` of the window
    `tokens` — its embedding x held fixed — received the attention output a at each point of the plane (x + a, then
    MLP and unembedding). White ×: the values of the keys it can see (a is a weighted average of them, so it lies
    among them), each panel naming those of its own token ("v(8_4)": the value of the 8 at position 4); black star:
    the a it does get."""
    land = frozen_landscape(model, tokens, position, resolution)
    fig, axes = _landscape_grid(rule)
    for token, ax in enumerate(axes[: rule.d_vocab]):
        ax.pcolormesh(
            land["xs"], land["ys"], land["probs"][..., token], cmap=LANDSCAPE, vmin=0, vmax=1, rasterized=True
        )
        ax.set_title(f"P(next = {rule.vocab[token]})", fontsize=TEXT + 1)
        ax.tick_params(labelsize=TEXT)
        if token % 4:
            ax.tick_params(labelleft=False)
        if token < rule.d_vocab - 4:
            ax.tick_params(labelbottom=False)
        ax.scatter(*land["visible_values"].T, color="white", marker="x", s=14, linewidths=0.9)
        ax.scatter(*land["attn_out"], color="black", edgecolor="white", marker="*", s=70, linewidths=0.6)
        own = [p for p in range(len(land["visible_values"])) if tokens[p] == token]  # the panel's token's values
        values = land["visible_values"][own]
        for group in groups_of(values, ["white"] * len(own), 0.03 * float(np.ptp(land["grid"], axis=0).max())):
            names = ",".join(f"{rule.vocab[token]}_{own[k]}" for k in group)  # values on one spot: one name
            label(ax, f"v({names})", values[group[0]], colour="white", halo="black")
    name = f"{rule.vocab[tokens[position]]}_{position}"
    fig.suptitle(f"{name} of '{rule.decode(list(tokens))}': its prediction for every attention output", fontsize=10)
    for k, ax in enumerate(axes[: rule.d_vocab]):
        if k >= rule.d_vocab - 4:
            ax.set_xlabel("a, dimension 0", fontsize=TEXT)
        if k % 4 == 0:
            ax.set_ylabel("a, dimension 1", fontsize=TEXT)
    fig.legend(
        handles=[
            matplotlib.lines.Line2D(
                [], [], marker="x", linestyle="", color="0.3", label="values it can attend to (its token's named)"
            ),
            matplotlib.lines.Line2D([], [], marker="*", linestyle="", color="black", label="attention output it gets"),
        ],
        loc="outside lower center",
        ncols=2,
        fontsize=TEXT,
    )
    return fig


# ------------------------------------------------------------------------ 15 query dot-product fields
def query_gradients(model: Transformer, rule: Rule, tokens: Sequence[int]) -> Figure:
    """One panel per position of the window: the score q·k/√d_head its query gives a key at each point of the plane
    (centred on zero; it grows fastest along q, the arrow), with the window's keys: those it can see named, the later
    ones (masked) grey. Three panels a row on one plane (the same axes in every panel), each with its own colour
    scale; the slot after the last panel holds the legend."""
    require_2d(model)
    _check_window(model, tokens)
    t = trace(model, tokens)
    labels = _window_labels(rule, tokens)
    every_key = to_numpy(head(model, token_positions(model), "k")).reshape(-1, 2)
    xs, ys, grid = plane_grid(every_key, 60, margin=0.1)
    grid = to_numpy(grid)
    n, ncols = len(tokens), 3
    nrows = n // ncols + 1  # a free slot at the end for the legend
    fig, axes = figure(ncols, nrows, width=7.0 / ncols, height=min(3.1, 9.4 / nrows))
    for p, ax in enumerate(axes[:n]):
        field = (grid @ t.q[p]).reshape(len(ys), len(xs)) / np.sqrt(model.cfg.d_head)
        mesh = ax.pcolormesh(xs, ys, field, cmap="RdBu_r", norm=diverging_norm(field), rasterized=True)
        colorbar = fig.colorbar(mesh, ax=ax, shrink=0.85, aspect=15, pad=0.02)
        colorbar.ax.tick_params(labelsize=TEXT)
        colorbar.ax.locator_params(nbins=4)
        ax.scatter(*t.k[p + 1 :].T, s=10, color="0.55")
        for j in range(p + 1):
            c = token_colour(rule, tokens[j])
            ax.scatter(*t.k[j], color=c, marker=KIND_MARKER[c], s=22, edgecolor="black", linewidths=0.5)
        for group in groups_of(t.k[: p + 1], ["0"] * (p + 1), 0.03 * float(np.ptp(every_key, axis=0).max())):
            label(ax, ",".join(labels[j] for j in group), t.k[group[0]])  # keys on one spot: one name
        span = min(xs[-1] - xs[0], ys[-1] - ys[0]) * 0.3
        direction = t.q[p] / (np.linalg.norm(t.q[p]) + 1e-9) * span
        ax.annotate("", xy=direction, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.2})
        ax.set_title(f"query {labels[p]}", fontsize=TEXT + 1)
        ax.tick_params(labelsize=TEXT)
        ax.locator_params(nbins=4)
        below = p + ncols < n  # another panel under this one: it carries the x tick labels
        ax.tick_params(labelleft=p % ncols == 0, labelbottom=not below)
    legend_ax = axes[n]
    for ax in axes[n:]:
        ax.set_axis_off()
    kinds = [(EVEN, "even"), (ODD, "odd")] + ([(PLUS, "+")] if rule.has_plus else [])
    handles = [
        matplotlib.lines.Line2D(
            [],
            [],
            marker=KIND_MARKER[c],
            linestyle="",
            color=c,
            markeredgecolor="black",
            markeredgewidth=0.5,
            label=f"key it sees ({kind})",
        )  # fmt: skip
        for c, kind in kinds
    ]
    handles += [
        matplotlib.lines.Line2D(
            [], [], marker="o", linestyle="", color="0.55", markersize=4, label="later key (masked)"
        ),
        matplotlib.lines.Line2D(
            [], [], marker=r"$\rightarrow$", linestyle="", color="black", markersize=12, label="direction of q"
        ),
    ]
    legend_ax.legend(
        handles=handles,
        loc="center",
        fontsize=TEXT,
        title="score: red high, blue low\n(each panel its own scale)",
        title_fontsize=TEXT,
        frameon=False,
    )
    fig.suptitle("Score of a key at each point, for each query", fontsize=10)
    return fig


__all__ = [
    "attention_matrix",
    "frozen_landscape",
    "frozen_output",
    "position_share",
    "qkv_overview",
    "qkv_per_dimension",
    "query_gradients",
]
