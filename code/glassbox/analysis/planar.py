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
    """The final residual vector from the stream after attention: + MLP (or MLP alone without residual). The MLP reads
    the stream through the block's `ln2`, as in the forward pass (an identity in Part III's models, which have none)."""
    block = model.blocks[0]
    flat = resid_mid.reshape(1, -1, resid_mid.shape[-1])  # components take [batch, pos, d_model]
    mlp_out = block.mlp(block.ln2(flat)).reshape(resid_mid.shape)
    return resid_mid + mlp_out if model.cfg.use_residual else mlp_out


@torch.no_grad()
def output_probabilities(model: Transformer, resid_mid: Tensor) -> Tensor:
    """P(next token) for residual vectors taken right after attention, [..., d_vocab]."""
    final = after_mlp(model, resid_mid)
    logits = model.unembed(model.ln_final(final.reshape(1, -1, final.shape[-1])))  # ln_final as the forward pass
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
    """For each position: whether the argmax prediction of the next token is right where the rule fixes it, scored
    as `rules.rule_accuracy` scores it (`Rule.scored_tokens`: after a `+` with no even number before it, only the
    token drawn there counts), None where the next token is free or unknown. `full` continues `tokens`."""
    full = list(full if full is not None else tokens)
    out: list[bool | None] = []
    for p in range(len(tokens)):
        scored = rule.scored_tokens(full, p + 1) if p + 1 < len(full) else None
        out.append(None if scored is None else int(probs[p].argmax()) in scored)
    return out


# The `+` query of plus_last_even, taken apart (chapter 6, "The mechanism, exactly")


@torch.no_grad()
def score_terms(model: Transformer, query_token: int, position: int) -> tuple[Tensor, Tensor]:
    """The score q·k/√d_head of the query of `query_token` at `position` against a key x = W_E[t] + W_pos[j], split
    exactly into a token term and a position term: keys are linear in x, so score(t, j) = token[t] + place[j].
    Returns token [d_vocab] (with the key bias, zero here, in it) and place [position + 1] (key positions 0 …
    position)."""
    require_2d(model)
    q = head(model, model.W_E[query_token] + model.W_pos[position], "q")
    scale = model.cfg.d_head**0.5
    token = head(model, model.W_E, "k") @ q / scale
    place = (model.W_pos[: position + 1] @ model.W_K[0, 0]).detach() @ q / scale
    return token, place


def plus_score_terms(model: Transformer, rule: Rule, position: int) -> tuple[Tensor, Tensor]:
    """`score_terms` of the `+` query at `position` (chapter 6's Fig. "plus score row" is their sum)."""
    return score_terms(model, rule.plus, position)


@dataclass(frozen=True)
class PlusCases:
    """Every prediction after a `+` whose latest even number is in view: the tokens the prediction sees (a window
    that ends in the `+`), the even number it must name and the window position of that number."""

    windows: list[list[int]]
    targets: list[int]
    latest: list[int]  # window position of the latest even number

    def odd_after(self) -> list[int]:
        """How many tokens stand between the latest even number and the `+` (all odd: a `+` in between would be
        followed by an even number, which would then be the latest)."""
        return [len(w) - 2 - j for w, j in zip(self.windows, self.latest, strict=True)]


def plus_cases(rule: Rule, sequences: Sequence[Sequence[int]], n_ctx: int) -> PlusCases:
    """The learnable cases of `sequences`, each as the window its prediction sees (as `rules.rule_accuracy` scores
    them: the prediction after position i sees tokens max(0, i - n_ctx + 1) … i)."""
    windows, targets, latest = [], [], []
    for sequence in sequences:
        for i in range(len(sequence) - 1):
            if int(sequence[i]) != rule.plus:
                continue
            window = [int(t) for t in sequence[max(0, i - n_ctx + 1) : i + 1]]
            j = rule.last_even(window, len(window) - 1)
            if j is not None:
                windows.append(window)
                targets.append(window[j])
                latest.append(j)
    return PlusCases(windows, targets, latest)


@torch.no_grad()
def last_position(model: Transformer, windows: Sequence[Sequence[int]], fwd_hooks=()) -> tuple[Tensor, Tensor]:
    """The argmax prediction [n] and the attention pattern [n, n_ctx] (zero-padded) of the last position of each
    window, run with `fwd_hooks` (TransformerLens (hook name, function) pairs) in place."""
    predicted = torch.zeros(len(windows), dtype=torch.long)
    patterns = torch.zeros(len(windows), model.cfg.n_ctx)
    by_length: dict[int, list[int]] = {}
    for n, window in enumerate(windows):
        by_length.setdefault(len(window), []).append(n)
    with model.hooks(fwd_hooks=list(fwd_hooks)):
        for length, rows in by_length.items():
            tokens = torch.tensor([list(windows[n]) for n in rows])
            logits, cache = model.run_with_cache(tokens, names_filter="blocks.0.attn.hook_pattern")
            predicted[rows] = logits[:, -1].argmax(-1)
            patterns[rows, :length] = cache["blocks.0.attn.hook_pattern"][:, 0, -1]
    return predicted, patterns


def scaled_key_positions(model: Transformer, factor: float) -> list[tuple[str, object]]:
    """A hook that scales the position term of every key by `factor` about its mean over positions: each key's
    W_pos[j] W_K becomes mean + factor (W_pos[j] W_K - mean). Every query's position term is scaled by `factor` (up to
    a constant, which the softmax ignores); the token term stays. 1 changes nothing; 0 is `flat_key_positions`."""
    shift = ((model.W_pos - model.W_pos.mean(0)) @ model.W_K[0, 0]).detach()  # [n_ctx, d_head]

    def hook(k: Tensor, hook: object) -> Tensor:  # k: [batch, pos, head_index, d_head]
        return k + (factor - 1) * shift[: k.shape[1], None, :]

    return [("blocks.0.attn.hook_k", hook)]


def flat_key_positions(model: Transformer) -> list[tuple[str, object]]:
    """A hook that takes the position term out of every key: each key loses W_pos[j] W_K and gets the mean over
    positions instead, so a query scores a token the same wherever it stands. Recency is gone; the token term stays."""
    return scaled_key_positions(model, 0.0)


@torch.no_grad()
def top_keys(model: Transformer, windows: Sequence[Sequence[int]], factor: float = 1.0) -> np.ndarray:
    """For the last position of each window, the key position with the highest score, read off the two terms alone
    (`score_terms` of the last token at the last position: token[t_j] + factor × place[j]) — what the head attends
    to most with its keys' position term scaled by `factor` (`scaled_key_positions`, which scales it about its mean:
    a constant over the keys, so the argmax is the same)."""
    best = np.zeros(len(windows), dtype=int)
    for n, window in enumerate(windows):
        token, place = score_terms(model, int(window[-1]), len(window) - 1)
        scores = token[list(window)] + factor * place
        best[n] = int(scores.argmax())
    return best


def without_mlp() -> list[tuple[str, object]]:
    """A hook that zeroes the MLP's output: the stream after attention goes straight to the unembedding."""
    return [("blocks.0.hook_mlp_out", lambda out, hook: torch.zeros_like(out))]


def far_back_windows(rule: Rule, n_ctx: int, per_even: int = 30, seed: int = 0) -> dict[tuple[int, int], list]:
    """Windows of odd numbers drawn at random with one even number at position j and the `+` at position p (the
    last), `per_even` windows for each even number, for every 0 ≤ j < p < n_ctx: {(j, p): windows}."""
    generator = np.random.default_rng(seed)
    odds = [t for t in rule.numbers if t % 2]
    cells = {}
    for p in range(1, n_ctx):
        for j in range(p):
            windows = []
            for even in rule.evens:
                for _ in range(per_even):
                    window = [int(t) for t in generator.choice(odds, p + 1)]
                    window[j], window[p] = even, rule.plus
                    windows.append(window)
            cells[j, p] = windows
    return cells


def far_back_accuracy(
    model: Transformer, rule: Rule, per_even: int = 30, seed: int = 0, fwd_hooks: Sequence = ()
) -> np.ndarray:
    """How often the model names the latest even number when it stands alone among odd numbers (`far_back_windows`),
    run with `fwd_hooks` in place (the same windows with or without them). Returns the accuracy [j, p] (NaN where
    j ≥ p)."""
    table = np.full((model.cfg.n_ctx, model.cfg.n_ctx), np.nan)
    for (j, p), windows in far_back_windows(rule, model.cfg.n_ctx, per_even, seed).items():
        predicted, _ = last_position(model, windows, fwd_hooks)
        table[j, p] = float(np.mean([int(predicted[n]) == w[j] for n, w in enumerate(windows)]))
    return table


@torch.no_grad()
def constrained_points(
    model: Transformer, rule: Rule, windows: Sequence[Sequence[int]]
) -> tuple[np.ndarray, list[frozenset[int]]]:
    """The stream right after attention [n, 2] at every position of `windows` (each n_ctx long) whose next token the
    rule fixes, with the tokens the rule allows there (read from the window alone): where the model carries each
    case before the MLP and the unembedding read it."""
    _, cache = model.run_with_cache(torch.tensor([list(w) for w in windows]), names_filter="blocks.0.hook_resid_mid")
    mids = to_numpy(cache["blocks.0.hook_resid_mid"])
    points, allowed = [], []
    for w, window in enumerate(windows):
        for p in range(len(window)):
            tokens = rule.allowed(window, p + 1)  # depends on window[:p + 1] only
            if tokens is not None:
                points.append(mids[w, p])
                allowed.append(tokens)
    return np.array(points, dtype=np.float32).reshape(-1, model.cfg.d_model), allowed
