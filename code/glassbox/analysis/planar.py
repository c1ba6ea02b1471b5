"""The maths of Part III's glass-box models (chapters 6 and 7), apart from the drawing: a one-layer, one-head model
whose residual stream is 2-dimensional, so that every vector below is a point in the plane.

`token_positions` (every token at every position), `head` (its query, key or value), `output_probabilities` (the
map from a point after attention to P(next token) that the landscapes draw), `self_attention_points`, `plane_grid`
and `trace` (every activation of one window, as a `Trace`). `glassbox.plots.planar` draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from glassbox.model import Transformer
from glassbox.rules.definitions import Rule


def to_numpy(x: Tensor) -> np.ndarray:
    """A tensor as a float64 numpy array on the CPU (for drawing)."""
    return x.detach().cpu().double().numpy()


def require_2d(model: Transformer) -> None:
    """A clear error for a model whose residual stream is not a plane."""
    if model.cfg.d_model != 2:
        raise ValueError(
            f"this figure draws the residual stream as a plane: it needs d_model=2, got {model.cfg.d_model}"
        )


def token_positions(model: Transformer) -> Tensor:
    """Every token at every position: W_E[t] + W_pos[p], [d_vocab, n_ctx, d_model]."""
    return (model.W_E[:, None, :] + model.W_pos[None, :, :]).detach()


def head(model: Transformer, x: Tensor, which: str) -> Tensor:
    """The query, key or value vector of residual vectors x [..., d_model] (layer 0, head 0; no biases)."""
    weights = {"q": model.W_Q, "k": model.W_K, "v": model.W_V}[which][0, 0]
    bias = {"q": model.b_Q, "k": model.b_K, "v": model.b_V}[which][0, 0]
    return (x @ weights + bias).detach()


@torch.no_grad()
def after_mlp(model: Transformer, resid_mid: Tensor) -> Tensor:
    """The final residual vector from the stream after attention: + MLP (or MLP alone without residual)."""
    flat = resid_mid.reshape(1, -1, resid_mid.shape[-1])  # components take [batch, pos, d_model]
    mlp_out = model.blocks[0].mlp(flat).reshape(resid_mid.shape)
    return resid_mid + mlp_out if model.cfg.use_residual else mlp_out


@torch.no_grad()
def output_probabilities(model: Transformer, resid_mid: Tensor) -> Tensor:
    """P(next token) for residual vectors taken right after attention, [..., d_vocab]."""
    final = after_mlp(model, resid_mid)
    logits = model.unembed(final.reshape(1, -1, final.shape[-1]))
    return logits.reshape(*final.shape[:-1], -1).softmax(-1)


def plane_grid(
    points: np.ndarray, resolution: int, margin: float | int = 0.15
) -> tuple[np.ndarray, np.ndarray, Tensor]:
    """A grid covering `points` [n, 2] with a margin: x, y axes and the grid points as a [res*res, 2] tensor."""
    low, high = points.min(0), points.max(0)
    pad = (high - low) * margin + 1e-3
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    return xs, ys, torch.tensor(grid, dtype=torch.float32)


def self_attention_points(model: Transformer) -> Tensor:
    """Where each token+position lands after attention if its query attended only to its own key: x + v(x),
    [d_vocab, n_ctx, d_model] (with W_O = I the head's output is the value itself)."""
    x = token_positions(model)
    v = head(model, x, "v") @ model.W_O[0, 0].detach()
    return x + v if model.cfg.use_residual else v


@dataclass(frozen=True)
class Trace:
    """Every activation of one window of tokens, as [pos, …] numpy arrays (one head: its index is dropped)."""

    embed: np.ndarray  # x = W_E[t] + W_pos[p], [pos, d_model]
    q: np.ndarray  # [pos, d_head]
    k: np.ndarray
    v: np.ndarray
    scores: np.ndarray  # masked, [query_pos, key_pos]
    pattern: np.ndarray  # [query_pos, key_pos]
    attn_out: np.ndarray  # [pos, d_model]
    resid_mid: np.ndarray
    resid_post: np.ndarray
    probs: np.ndarray  # P(next token), [pos, d_vocab]


@torch.no_grad()
def trace(model: Transformer, tokens: Sequence[int]) -> Trace:
    """Every activation of one window of tokens, read from `run_with_cache`."""
    logits, cache = model.run_with_cache(torch.tensor(list(tokens))[None])
    return Trace(
        embed=to_numpy(cache["blocks.0.hook_resid_pre"][0]),
        q=to_numpy(cache["q", 0][0, :, 0]),
        k=to_numpy(cache["k", 0][0, :, 0]),
        v=to_numpy(cache["v", 0][0, :, 0]),
        scores=to_numpy(cache["attn_scores", 0][0, 0]),
        pattern=to_numpy(cache["pattern", 0][0, 0]),
        attn_out=to_numpy(cache["attn_out", 0][0]),
        resid_mid=to_numpy(cache["resid_mid", 0][0]),
        resid_post=to_numpy(cache["resid_post", 0][0]),
        probs=to_numpy(logits[0].softmax(-1)),
    )


def correct_predictions(
    rule: Rule, tokens: Sequence[int], probs: np.ndarray, full: Sequence[int] | None = None
) -> list[bool | None]:
    """For each position: whether the argmax prediction of the next token is right where the rule fixes it
    (None where the next token is free or unknown). `full` is the sequence that continues `tokens`."""
    full = list(full if full is not None else tokens)
    out: list[bool | None] = []
    for p in range(len(tokens)):
        allowed = rule.allowed(full, p + 1) if p + 1 < len(full) else None
        out.append(None if allowed is None else int(probs[p].argmax()) in allowed)
    return out
