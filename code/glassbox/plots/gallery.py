"""Figures for chapter 7b's gallery models that chapter 6's figures do not show well: d_model 1, 3, 12 or 32, and a
range rule in a plane.

`planar` draws a 2-D stream as it is. Here a 1-D stream is drawn along its one axis (`line_landscape`: where each
token and position sits, and what the model predicts at every point of the line); a wider one is projected onto
its first two principal components (`embedding_pca`, which says how much of the spread the projection keeps); and
the attention pattern, which needs no geometry, is drawn per head on a window of held-out text
(`attention_windows`). A 2-D model whose rule asks for a range of numbers is drawn by the probability of that range
(`range_landscape`), which its argmax map cannot show. Tokens are coloured as in `planar` (even blue, odd orange,
with a marker per kind).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from glassbox.analysis.planar import constrained_points, output_probabilities, plane_grid, require_2d, to_numpy
from glassbox.model import Transformer
from glassbox.plots.core import PIXELS_PER_INCH, BookFigure, figure, heatmap, panels
from glassbox.plots.planar import LANDSCAPE, TEXT, token_colour
from glassbox.rules.definitions import Rule


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


@torch.no_grad()
def line_probabilities(model: Transformer, tokens: Sequence[int], x: np.ndarray) -> np.ndarray:
    """For a 1-D stream: the probability the model gives to `tokens` (summed) when the stream after attention holds
    the value x, through the MLP (added, with the residual) and the unembedding: one value per x."""
    if model.cfg.d_model != 1:
        raise ValueError(f"line_probabilities needs a model with d_model = 1, got {model.cfg.d_model}")
    resid = torch.tensor(x, dtype=torch.float32).reshape(-1, 1)
    block = model.blocks[0]
    after_mlp = resid + block.mlp(resid[None])[0] if model.cfg.use_residual else block.mlp(resid[None])[0]
    probs = model.unembed(after_mlp[None])[0].softmax(-1)
    return _numpy(probs[:, list(tokens)].sum(-1))


def line_landscape(model: Transformer, rule: Rule, tokens: Sequence[int], label: str) -> Figure:
    """A 1-D model drawn on its one axis. Top: where each token (one row each; even blue ●, odd orange ■) and each
    position sits on the model's one dimension. Bottom: the probability the model gives to `tokens` (named `label`)
    for every value the stream can hold after attention, with the token embeddings marked on the same axis."""
    if model.cfg.d_model != 1:
        raise ValueError(f"line_landscape needs a model with d_model = 1, got {model.cfg.d_model}")
    W_E, W_pos = _numpy(model.W_E)[:, 0], _numpy(model.W_pos)[:, 0]
    span = max(np.abs(W_E).max(), np.abs(W_pos).max()) * 1.3
    x = np.linspace(-span, span, 400)
    fig = BookFigure(figsize=(7.0, 7.6), layout="constrained", dpi=PIXELS_PER_INCH)
    axes = fig.subplot_mosaic([["tokens"], ["positions"], ["line"]], height_ratios=[3.4, 1.5, 2.2], sharex=True)
    for token, value in enumerate(W_E):
        axes["tokens"].scatter(value, token, color=token_colour(rule, token), marker="o" if token % 2 == 0 else "s")
    axes["tokens"].set_yticks(range(len(W_E)), labels=rule.vocab, fontsize=8)
    axes["tokens"].set_ylabel("token", fontsize=9)
    axes["tokens"].set_title("Token embeddings on the model's one dimension (even ●, odd ■)", fontsize=10)
    axes["positions"].scatter(W_pos, range(len(W_pos)), color="0.3", marker="^")
    axes["positions"].set_yticks(range(len(W_pos)), labels=[str(p) for p in range(len(W_pos))], fontsize=8)
    axes["positions"].set_ylabel("position", fontsize=9)
    axes["positions"].set_title("Position embeddings", fontsize=10)
    for ax in axes.values():
        ax.grid(axis="x", color="0.9")
    line = axes["line"]
    line.plot(x, line_probabilities(model, tokens, x), color="black")
    for token, value in enumerate(W_E):
        line.axvline(value, color=token_colour(rule, token), alpha=0.5, linewidth=1)
    line.set_xlim(-span, span)
    line.set_ylim(-0.02, 1.02)
    line.set_xlabel("value of the stream (after attention, for the bottom panel)", fontsize=9)
    line.set_ylabel(f"P({label})", fontsize=9)
    line.set_title(f"What the model predicts at each point of the line: P({label})", fontsize=10)
    return fig


def pca(vectors: torch.Tensor | np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The rows of `vectors` projected onto their first `k` principal components, and the share of the variance
    each component keeps."""
    array = _numpy(vectors) if isinstance(vectors, torch.Tensor) else np.asarray(vectors, dtype=float)
    centred = array - array.mean(0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    share = singular**2 / (singular**2).sum()
    return centred @ components[:k].T, share[:k]


def embedding_pca(model: Transformer, rule: Rule) -> Figure:
    """The token embeddings of a model wider than 2, projected onto their first two principal components
    (even blue ●, odd orange ■), the axes saying how much of the spread each component keeps."""
    points, share = pca(model.W_E)
    fig, (ax,) = figure(1, 1, width=5.0, height=4.0)
    for token, (px, py) in enumerate(points):
        ax.scatter(px, py, color=token_colour(rule, token), marker="o" if token % 2 == 0 else "s", s=45)
        ax.annotate(rule.vocab[token], (px, py), xytext=(4, 3), textcoords="offset points", fontsize=9)
    ax.set_xlabel(f"principal component 1 ({share[0]:.0%} of the spread)", fontsize=9)
    ax.set_ylabel(f"principal component 2 ({share[1]:.0%})", fontsize=9)
    ax.set_title(f"Token embeddings, d_model = {model.cfg.d_model}, projected", fontsize=10)
    return fig


@torch.no_grad()
def attention_windows(model: Transformer, rule: Rule, window: Sequence[int]) -> Figure:
    """Each head's attention pattern on one window of held-out text: rows are queries, columns keys, both named
    by their tokens; the upper triangle (the future) is blank."""
    _, cache = model.run_with_cache(torch.tensor(window)[None])
    pattern = _numpy(cache["pattern", 0][0])  # [head_index, query_pos, key_pos]
    pattern = np.where(np.triu(np.ones(pattern.shape[-2:], dtype=bool), 1), np.nan, pattern)
    labels = [rule.vocab[t] for t in window]
    n_heads = pattern.shape[0]
    size = 3.5 if n_heads > 1 else 5.0
    fig, axes = panels(n_heads, height=size * 0.95, width=size)
    for h, ax in enumerate(axes):
        heatmap(ax, pattern[h], row_labels=labels, col_labels=labels, vmin=0.0, vmax=1.0, colorbar=h == n_heads - 1)
        ax.set_title(f"head {h}" if n_heads > 1 else "attention", fontsize=10)
        ax.set_xlabel("key (attended to)", fontsize=9)
        ax.set_ylabel("query (predicting after)", fontsize=9)
        ax.tick_params(labelsize=8)
    return fig


def range_landscape(
    model: Transformer,
    rule: Rule,
    tokens: Sequence[int],
    label: str,
    windows: Sequence[Sequence[int]],
    *,
    resolution: int = 150,
    shown: int = 400,
) -> Figure:
    """A 2-D model whose rule asks for a *range* of tokens (two_token_parity: below 10, or 10 and more), drawn by the
    range, not by the argmax of single tokens. Top: the probability the model gives to `tokens` (named `label`) at
    each point of the stream after attention, with up to `shown` points where the model carries the constrained
    positions of `windows` (▲ where the rule asks for one of `tokens`, ● where it asks for another range). Bottom:
    how sure it is, the entropy of its prediction (nats)."""
    require_2d(model)
    points, allowed = constrained_points(model, rule, windows)
    asks = np.array([set(a) <= set(tokens) for a in allowed])
    keep = np.random.default_rng(0).permutation(len(points))[:shown]
    xs, ys, grid = plane_grid(np.concatenate([points, _numpy(model.W_E)]), resolution, margin=0.08)
    probs = to_numpy(output_probabilities(model, grid)).reshape(resolution, resolution, -1)
    share = probs[..., list(tokens)].sum(-1)
    entropy = -(probs * np.log(np.clip(probs, 1e-12, None))).sum(-1)
    fig = BookFigure(figsize=(7.0, 9.4), layout="constrained", dpi=PIXELS_PER_INCH)
    top, bottom = fig.subplots(2, 1)
    mesh = top.pcolormesh(xs, ys, share, cmap=LANDSCAPE, vmin=0, vmax=1, shading="auto", rasterized=True)
    fig.colorbar(mesh, ax=top, label=f"P(next {label})")
    cases = (
        (True, "^", "white", "black", f"the rule asks for a number {label}"),
        (False, "o", "black", "white", "the rule asks for the other range"),
    )
    for ask, marker, face, edge, name in cases:
        chosen = points[keep][asks[keep] == ask]
        top.scatter(*chosen.T, marker=marker, s=16, facecolor=face, edgecolor=edge, linewidths=0.6, label=name)
    top.legend(fontsize=TEXT, loc="lower right", framealpha=0.9, markerscale=1.6)
    top.set_title(f"P(next {label}) at each point after attention, with where the model carries each case", fontsize=10)
    mesh = bottom.pcolormesh(xs, ys, entropy, cmap=LANDSCAPE, vmin=0, shading="auto", rasterized=True)
    fig.colorbar(mesh, ax=bottom, label="entropy of P(next) (nats; 0 = certain)")
    bottom.set_title("How sure: entropy of the prediction", fontsize=10)
    for ax in (top, bottom):
        ax.set(xlabel="dimension 0", ylabel="dimension 1", xlim=(xs[0], xs[-1]), ylim=(ys[0], ys[-1]))
        ax.tick_params(labelsize=TEXT)
    return fig
