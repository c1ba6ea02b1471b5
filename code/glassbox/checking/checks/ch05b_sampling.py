"""Checks for chapter 5b, "Sampling and generation": top-k, top-p, a frequency penalty, the sampling distribution,
beam search, attention over a key-value cache, the cached forward and the cache itself. Each names the mistakes a
learner is likely to make. The beam search and cache exercises' cases are in `beam_cases`, `cache_cases` and
`kvcache_cases`."""

import torch

from glassbox import sampling
from glassbox.checking.checks.beam_cases import (
    _banned_across_beams,
    _banned_cases,
    _banned_last_missed,
    _banned_tail_of_n,
    _beam_cases,
    _each_beam_its_best,
    _finished_dropped,
    _finished_extended,
    _greedy,
    _last_step_only,
    _not_blocked,
    _padded_with_zero,
    _ranked_by_mean,
    _sequences_cases,
    _worst_first,
)
from glassbox.checking.checks.cache_cases import (
    _cache_cases,
    _cached_forward_behaves,
    _forward_cases,
    _mask_at_top_left,
    _new_keys_only,
    _no_mask,
)
from glassbox.checking.checks.kvcache_cases import (
    _cache_in_a_forward,
    _cache_keeps_every_position,
    _cache_refuses_past_context,
    _kv_cache_cases,
)
from glassbox.checking.diagnose import SOFTMAX_HINT
from glassbox.checking.judge import Case, Exercise


def _logits(*shape: int, seed: int = 0, scale: float = 2.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _finite_kept(out, args) -> str | None:
    if not torch.isfinite(out).any(-1).all():
        return "every distribution must keep at least one token (the most likely one)"
    return None


# --------------------------------------------------------------------------------------------------- top-k
def _top_k_cases() -> list[Case]:
    return [
        Case("k = 3 of 10, a batch of sequences", (_logits(2, 5, 10), 3)),
        Case("k = 1 (greedy: only the largest survives)", (_logits(4, 7, seed=1), 1)),
        Case("k larger than the vocabulary (nothing is removed)", (_logits(3, 6, seed=2), 50)),
        Case("a tie at the k-th place (both kept)", (torch.tensor([[3.0, 1.0, 2.0, 2.0, -1.0]]), 2)),
        Case("k = 0 (a ValueError, as the docstring says)", (_logits(3, 6), 0)),
    ]


def _top_k_zeros(logits, k):
    kth = logits.topk(min(k, logits.shape[-1]), dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, 0.0)


def _top_k_plus_one(logits, k):
    kth = logits.topk(min(k + 1, logits.shape[-1]), dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def _top_k_smallest(logits, k):
    kth = logits.topk(min(k, logits.shape[-1]), dim=-1, largest=False).values[..., -1:]
    return logits.masked_fill(logits > kth, float("-inf"))


# --------------------------------------------------------------------------------------------------- top-p
def _top_p_cases() -> list[Case]:
    return [
        Case("p = 0.9 over 10 tokens, a batch", (_logits(3, 4, 10), 0.9)),
        Case("p = 0.5, peaked logits", (_logits(6, 12, seed=1, scale=3.0), 0.5)),
        Case("p = 1 (nothing is removed)", (_logits(2, 8, seed=2), 1.0)),
        Case("a tiny p (only the most likely token)", (_logits(5, 9, seed=3), 1e-4)),
        Case(
            "probabilities 0.5, 0.3, 0.2 and p = 0.6 (the crossing 0.3 is kept)",
            (torch.tensor([0.5, 0.3, 0.2]).log(), 0.6),
        ),
        Case("p = 0 (a ValueError, as the docstring says)", (_logits(2, 8), 0.0)),
    ]


def _top_p_drops_crossing(logits, p):
    probs = logits.softmax(-1)
    sorted_probs, order = probs.sort(-1, descending=True)
    drop_sorted = sorted_probs.cumsum(-1) > p
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def _top_p_unsorted(logits, p):
    probs = logits.softmax(-1)
    return logits.masked_fill(probs.cumsum(-1) - probs >= p, float("-inf"))


def _top_p_on_logits(logits, p):
    sorted_logits, order = logits.sort(-1, descending=True)
    drop_sorted = sorted_logits.cumsum(-1) - sorted_logits >= p
    return logits.masked_fill(torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted), float("-inf"))


# --------------------------------------------------------------------------------------- frequency penalty
def _penalty_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)
    return [
        Case(
            "a batch of 3, tokens repeated",
            (_logits(3, 8), torch.randint(0, 4, (3, 12), generator=generator), 0.5),
        ),
        Case("alpha 0 (no change)", (_logits(2, 6, seed=1), torch.randint(0, 6, (2, 5), generator=generator), 0.0)),
        Case("one sequence, alpha 2", (_logits(1, 10, seed=2), torch.tensor([[1, 1, 1, 7, 2, 1]]), 2.0)),
    ]


def _presence_only(logits, tokens, alpha):
    present = torch.zeros_like(logits).scatter(-1, tokens, 1.0)
    return logits - alpha * present


def _counts_whole_batch(logits, tokens, alpha):
    counts = torch.bincount(tokens.flatten(), minlength=logits.shape[-1]).to(logits.dtype)
    return logits - alpha * counts


# ----------------------------------------------------------------------------------------- sampling_probs
def _probs_cases() -> list[Case]:
    logits = _logits(3, 5, 12, scale=1.5)
    return [
        Case("temperature 1 alone", (logits, 1.0, None, None)),
        Case("temperature 0.5 with top-k 4", (logits, 0.5, 4, None)),
        Case("temperature 2 with top-p 0.6", (logits, 2.0, None, 0.6)),
        Case("temperature 0.7, top-k 5 and top-p 0.8", (logits, 0.7, 5, 0.8)),
        Case("temperature 0 (greedy)", (logits, 0.0, 3, 0.9)),
        Case("a negative temperature (a ValueError)", (logits, -1.0, None, None)),
    ]


def _rows_sum_to_one(probs, args) -> str | None:
    if not torch.allclose(probs.sum(-1), torch.ones(())):
        return "each distribution must sum to 1 over the vocabulary — is the temperature applied after the softmax?"
    return None


def _temperature_after_filter(logits, t, top_k, top_p):
    if t == 0:
        return sampling.sampling_probs(logits, 0.0)
    if top_k is not None:
        logits = sampling.top_k_logits(logits, top_k)
    if top_p is not None:
        logits = sampling.top_p_logits(logits, top_p)
    return (logits / t).softmax(-1)


def _temperature_ignored(logits, t, top_k, top_p):
    return sampling.sampling_probs(logits, 1.0 if t else 0.0, top_k, top_p)


# -------------------------------------------------------------------------------------------- beam search


EXERCISES = [
    Exercise(
        name="top_k_logits",
        module="ch05b_sampling",
        cases=_top_k_cases,
        mistakes={
            "set the removed logits to -inf, not 0: a logit of 0 still gets probability": _top_k_zeros,
            "one token too many survives: keep the logits ≥ the k-th largest, the k-th included": _top_k_plus_one,
            "you kept the k smallest logits: topk's largest=True is what you want": _top_k_smallest,
        },
        properties=[_finite_kept],
    ),
    Exercise(
        name="top_p_logits",
        module="ch05b_sampling",
        cases=_top_p_cases,
        non_finite_hint=SOFTMAX_HINT,
        mistakes={
            "the token whose probability crosses p must be kept: drop a token only when the mass before it ≥ p": (
                _top_p_drops_crossing
            ),
            "sort the probabilities (most likely first) before the cumulative sum": _top_p_unsorted,
            "the cumulative sum runs over probabilities (the softmax), not over logits": _top_p_on_logits,
        },
        properties=[_finite_kept],
    ),
    Exercise(
        name="frequency_penalty",
        module="ch05b_sampling",
        cases=_penalty_cases,
        mistakes={
            "subtract alpha once per occurrence (a count), not once per token present": _presence_only,
            "count each sequence's own tokens: row b of tokens penalises row b of logits": _counts_whole_batch,
        },
    ),
    Exercise(
        name="sampling_probs",
        module="ch05b_sampling",
        cases=_probs_cases,
        non_finite_hint=SOFTMAX_HINT,
        mistakes={
            "this exercise divides by the temperature first (Hugging Face's order: top-k and top-p see the "
            "distribution that is sampled); filtering first is another library's choice, not this one's": (
                _temperature_after_filter
            ),
            "the temperature was ignored: divide the logits by it": _temperature_ignored,
        },
        properties=[_rows_sum_to_one],
        agrees_with={"glassbox.sampling.sampling_probs": sampling.sampling_probs},
    ),
    Exercise(
        name="beam_search",
        module="ch05b_sampling",
        cases=_beam_cases,
        mistakes={
            "this is greedy decoding: keep n_beams candidates at every step": _greedy,
            "rank candidates by their total log-probability (add each beam's score), not the last step's": (
                _last_step_only
            ),
            "rank every beam's every extension together, not each beam's best token on its own": _each_beam_its_best,
        },
        agrees_with={"glassbox.sampling.beam_search": sampling.beam_search},
    ),
    Exercise(
        name="attend_with_cache",
        module="ch05b_sampling",
        cases=_cache_cases,
        non_finite_hint=SOFTMAX_HINT,
        mistakes={
            "the new queries sit at the end of the sequence: query i is at position all_pos - new_pos + i, "
            "not i (a mask built with triu(1) forgets the cached positions)": _mask_at_top_left,
            "the causal mask is missing: a query may not attend to keys after its own position": _no_mask,
            "attend to the cached keys and values too, not only the new ones": _new_keys_only,
        },
        agrees_with={"glassbox.sampling.attend_with_cache": sampling.attend_with_cache},
    ),
    Exercise(
        name="banned_tokens",
        module="ch05b_sampling",
        cases=_banned_cases,
        mistakes={
            "the beam's last n-gram counts too: n-grams start at every position up to len(beam) - n": (
                _banned_last_missed
            ),
            "a new token completes an n-gram with the beam's last n - 1 tokens, not its last n": _banned_tail_of_n,
            "look for repeats in each beam's own tokens: row b bans only what beam b holds": _banned_across_beams,
        },
        agrees_with={"glassbox.sampling.banned_tokens": sampling.banned_tokens},
    ),
    Exercise(
        name="beam_search_sequences",
        module="ch05b_sampling",
        cases=_sequences_cases,
        mistakes={
            "a beam that reaches eos_token is finished: set it aside and do not extend it": _finished_extended,
            "keep the finished beams aside and rank them with the live ones at the end — they were dropped": (
                _finished_dropped
            ),
            "rank by the total log-probability of the new tokens, not its mean per token (no length penalty here)": (
                _ranked_by_mean
            ),
            "block the tokens banned_tokens names (log-probability -inf) before ranking the candidates": _not_blocked,
            "pad a finished sequence after its end with eos_token": _padded_with_zero,
            "return the sequences best first": _worst_first,
        },
        agrees_with={"glassbox.sampling.beam_search_sequences": sampling.beam_search_sequences},
    ),
    Exercise(
        name="forward_with_cache",
        module="ch05b_sampling",
        cases=_forward_cases,
        compare_values=False,  # the cache changes: the values are judged by the behaviour, token by token
        behaviours={"token by token from an empty cache, the uncached model's logits": _cached_forward_behaves},
    ),
    Exercise(
        name="KVCache",
        module="ch05b_sampling",
        cases=_kv_cache_cases,
        compare_values=False,  # a cache is judged by what append returns, call after call: the behaviours
        behaviours={
            "append by append, every position's keys and values along pos": _cache_keeps_every_position,
            "past n_ctx, a one-line ValueError and the cache as it was": _cache_refuses_past_context,
            "in a cached forward up to the whole context, the uncached model's logits": _cache_in_a_forward,
        },
    ),
]
