"""Checks for chapter 1, "Attention by hand": inputs, likely mistakes, and independent references."""

import math

import torch
import torch.nn.functional as F

from glassbox.checking.diagnose import SOFTMAX_HINT
from glassbox.checking.judge import Case, Exercise


def _qkv(*shape: int, scale: float = 1.0, seed: int = 0) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    return tuple(scale * torch.randn(*shape, generator=generator) for _ in range(3))


def _attention_cases() -> list[Case]:
    return [
        Case("random batch × heads × 5 positions", _qkv(2, 3, 5, 8)),
        Case("one sequence, no batch dimension", _qkv(6, 4, seed=1)),
        Case("length-1 sequence", _qkv(1, 2, 1, 8, seed=2)),
        Case("batch of 1, d_head 1", _qkv(1, 7, 1, seed=3)),
        Case("large logits (scores near 1e4)", _qkv(2, 4, 16, scale=40.0, seed=4)),
    ]


def _unscaled(q, k, v):
    return (q @ k.transpose(-2, -1)).softmax(-1) @ v


def _scaled_by_d(q, k, v):
    return (q @ k.transpose(-2, -1) / q.shape[-1]).softmax(-1) @ v


def _softmax_over_queries(q, k, v):
    return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-2) @ v


def _mask_cases() -> list[Case]:
    return [Case(f"n_pos = {n}", (n,)) for n in (1, 2, 5, 16)]


def _mask_is_lower_triangular(mask, args) -> str | None:
    n = args[0]
    if mask[torch.ones(n, n, dtype=torch.bool).triu(1)].any():
        return "a query may attend to a later position: the upper triangle must be False"
    return None


def _anti_causal(q, k, v):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    n = q.shape[-2]
    scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool).tril(-1), float("-inf"))
    return scores.softmax(-1) @ v


def _masked_with_zero(q, k, v):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    n = q.shape[-2]
    return (scores * torch.ones(n, n).tril()).softmax(-1) @ v


def _diagonal_masked(q, k, v):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    n = q.shape[-2]
    return scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(), float("-inf")).softmax(-1) @ v


def _masked_unscaled(q, k, v):
    scores = q @ k.transpose(-2, -1)
    n = q.shape[-2]
    return scores.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf")).softmax(-1) @ v


def _causal_sdpa(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


EXERCISES = [
    Exercise(
        name="scaled_dot_product_attention",
        non_finite_hint=SOFTMAX_HINT,
        module="ch01_attention",
        cases=_attention_cases,
        mistakes={
            "did you forget to divide the scores by √d_head?": _unscaled,
            "divide the scores by √d_head, not by d_head": _scaled_by_d,
            "the softmax must run over keys (the last dimension), not over queries": _softmax_over_queries,
        },
        agrees_with={"torch.nn.functional.scaled_dot_product_attention": F.scaled_dot_product_attention},
    ),
    Exercise(
        name="causal_mask",
        module="ch01_attention",
        cases=_mask_cases,
        properties=[_mask_is_lower_triangular],
    ),
    Exercise(
        name="masked_attention",
        non_finite_hint=SOFTMAX_HINT,
        module="ch01_attention",
        cases=_attention_cases,
        mistakes={
            "the mask is the wrong way round: a query must see keys at or before its own position": _anti_causal,
            "multiplying scores by 0 does not mask them (exp(0) = 1): fill masked scores with -inf before the "
            "softmax": _masked_with_zero,
            "did you forget to divide the scores by √d_head?": _masked_unscaled,
            "a query must also see its own position: mask only the keys after it (the first row is then all -inf,"
            " and its softmax NaN)": _diagonal_masked,
        },
        agrees_with={"torch.nn.functional.scaled_dot_product_attention(is_causal=True)": _causal_sdpa},
    ),
]
