"""Figures for the gallery models whose residual stream is not a plane (chapter 7b): d_model 1, 3, 12 or 32.

`planar` draws a 2-D stream as it is. Here a 1-D stream is drawn along its one axis (`line_landscape`: where each
token and position sits, and what the model predicts at every point of the line); a wider one is projected onto
its first two principal components (`embedding_pca`, which says how much of the spread the projection keeps); and
the attention pattern, which needs no geometry, is drawn per head on a window of held-out text
(`attention_windows`). Tokens are coloured as in `planar` (even blue, odd orange, with a marker per kind).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from glassbox.model import Transformer
from glassbox.plots.core import PIXELS_PER_INCH, BookFigure, figure, heatmap, panels
from glassbox.plots.planar import token_colour
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
