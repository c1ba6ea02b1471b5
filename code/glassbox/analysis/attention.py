"""What attention heads do, read from their patterns: entropy, specialisation and detection scores (chapters 9, 11).

Every function takes patterns laid out as TransformerLens caches them, `[..., batch, head, query, key]` (stack
`cache["pattern", layer]` over layers for a `[layer, batch, head, query, key]` tensor), and averages over the batch
and the query positions it scores, leaving one number per head.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor


def _check_pattern(pattern: Tensor) -> None:
    if pattern.ndim < 4 or pattern.shape[-1] != pattern.shape[-2]:
        raise ValueError(f"pattern must be [..., batch, head, query, key] with query = key, got {tuple(pattern.shape)}")


def stack_patterns(cache) -> Float[Tensor, "layer batch head query key"]:
    """Every layer's attention pattern from an `ActivationCache`, stacked."""
    n_layers = cache.model.cfg.n_layers
    return torch.stack([cache["pattern", layer] for layer in range(n_layers)])


def attention_entropy(pattern: Float[Tensor, "*lead batch head query key"]) -> Float[Tensor, "*lead head"]:
    """Mean entropy (nats) of each head's attention distributions, over the batch and every query position.

    A head that puts all its weight on one key has entropy 0; one that spreads it evenly over the n keys a query
    can see has ln n. The first query sees only itself, so its entropy is always 0 (it still counts in the mean).
    """
    _check_pattern(pattern)
    entropy = -(pattern * pattern.clamp_min(1e-30).log()).sum(-1)  # 0 · log 0 = 0
    return entropy.mean(dim=(-3, -1))


def diagonal_score(
    pattern: Float[Tensor, "*lead batch head query key"], offset: int, first_query: int = 0
) -> Float[Tensor, "*lead head"]:
    """Mean attention from each query q to the key q − offset, over queries q ≥ max(offset, first_query).

    offset 0 scores current-token heads, offset 1 previous-token heads; on sequences repeated after `half` tokens,
    offset half − 1 from first_query = half scores induction heads.
    """
    _check_pattern(pattern)
    n = pattern.shape[-1]
    start = max(offset, first_query)
    if offset < 0 or start >= n:
        raise ValueError(f"no query q ≥ {start} has a key q − {offset} in a sequence of {n} positions")
    diagonal = pattern.diagonal(offset=-offset, dim1=-2, dim2=-1)  # [..., batch, head, n - offset]: q = offset …
    return diagonal[..., start - offset :].mean(dim=(-3, -1))


def current_token_score(pattern: Float[Tensor, "*lead batch head query key"]) -> Float[Tensor, "*lead head"]:
    """Mean attention of each position to itself."""
    return diagonal_score(pattern, offset=0)


def previous_token_score(pattern: Float[Tensor, "*lead batch head query key"]) -> Float[Tensor, "*lead head"]:
    """Mean attention of each position (from the second on) to the position just before it."""
    return diagonal_score(pattern, offset=1)


def first_token_score(pattern: Float[Tensor, "*lead batch head query key"]) -> Float[Tensor, "*lead head"]:
    """Mean attention of each position (from the second on) to the first position."""
    _check_pattern(pattern)
    if pattern.shape[-1] < 2:
        raise ValueError("the first-token score needs at least two positions")
    return pattern[..., 1:, 0].mean(dim=(-3, -1))


def induction_score(pattern: Float[Tensor, "*lead batch head query key"]) -> Float[Tensor, "*lead head"]:
    """On sequences whose second half repeats the first: mean attention from each second-half token to the token
    just after its first occurrence (key q − half + 1), where an induction head looks."""
    half = pattern.shape[-1] // 2
    if pattern.shape[-1] % 2 or half < 2:
        raise ValueError(f"induction scores need a repeated sequence of even length ≥ 4, got {pattern.shape[-1]}")
    return diagonal_score(pattern, offset=half - 1, first_query=half)


def head_correlation(
    pattern: Float[Tensor, "batch head query key"], *, centre: bool = True
) -> Float[Tensor, "head head"]:
    """Pearson correlation between every two heads' patterns (over batch, queries and the keys each query can see).

    With `centre` (the default), each pattern first has the uniform pattern 1/(q+1) subtracted, so two heads are
    compared by where they look *more or less than evenly*: 0 means unrelated, 1 the same deviations. Uncentred,
    every pattern shares the causal mask's shape (rows sum to 1 over a growing number of keys), so even a uniform
    head correlates well above 0 with a trained one and untrained heads correlate near 1 with each other.
    """
    _check_pattern(pattern)
    if pattern.ndim != 4:
        raise ValueError(
            f"head_correlation takes one layer's pattern [batch, head, query, key], got {tuple(pattern.shape)}"
        )
    n = pattern.shape[-1]
    causal = torch.ones(n, n, dtype=torch.bool, device=pattern.device).tril()
    if centre:
        pattern = pattern - causal / causal.sum(-1, keepdim=True)  # minus the uniform pattern over visible keys
    flat = pattern[..., causal].transpose(0, 1).flatten(1)  # [head, batch * n(n+1)/2]
    return torch.corrcoef(flat)
