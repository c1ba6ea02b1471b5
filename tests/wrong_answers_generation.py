"""Wrong answers to the exercises of chapters 5b (sampling and generation) and 5c (tokens), for the catalogue in
`tests/wrong_answers.py`: the mistakes a learner writes (top-p that drops the token crossing p, the temperature
applied after the softmax, a KV cache that forgets where its new queries sit …), each of which must fail with a
line naming it, and the generic kinds for `beam_search`, whose answer is a tensor of token ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from glassbox.checks import ch05b_sampling as checks
from glassbox.checks import ch05c_tokens as tokens

# What the one line must say for each kind added here (a regular expression searched in the FAIL line).
EXPECTED = {
    "top-k sets removed logits to 0": r"-inf, not 0",
    "top-k keeps one too many": r"one token too many",
    "top-p drops the token crossing p": r"crosses p must be kept",
    "top-p without sorting": r"sort the probabilities",
    "top-p on logits": r"over probabilities \(the softmax\)",
    "presence instead of frequency": r"once per occurrence",
    "counts over the whole batch": r"each sequence's own tokens",
    "temperature after the softmax": r"sum to 1 .* temperature applied after the softmax",
    "temperature after the filters": r"divides? by the temperature first",
    "temperature ignored": r"temperature was ignored",
    "greedy instead of beams": r"this is greedy decoding",
    "beams ranked by the last step": r"total log-probability",
    "each beam extended alone": r"every beam's every extension together",
    "cache mask at the top left": r"forgets the cached positions",
    "cache without a mask": r"causal mask is missing",
    "cache of the new keys only": r"cached keys and values too",
    "token ids shifted": r"values differ",
    "pair counts transposed": r"transposed",
    "last pair not counted": r"last pair",
    "pairs wrap around": r"does not wrap around",
    "overlapping matches": r"wrong shape",
    "last token lost": r"wrong shape",
    "only the first occurrence merged": r"wrong shape",
    "counts never recomputed": r"count the pairs again",
    "new ids reused": r"must not be reused",
}


def _temperature_after_softmax(logits, t, top_k=None, top_p=None):
    if t == 0:
        return checks.sampling.sampling_probs(logits, 0.0)
    return checks.sampling.sampling_probs(logits, 1.0, top_k, top_p) / t


def _no_raise(ref: Callable[..., Any], fallback: Callable[..., Any]) -> Callable[..., Any]:
    def answer(*args):
        try:
            return ref(*args)
        except ValueError:
            return fallback(*args)

    return answer


def learner_mistakes(name: str, ref: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    """The learner's mistakes for one exercise of chapter 5b (empty for other exercises)."""
    mistakes = {
        "top_k_logits": {
            "top-k sets removed logits to 0": checks._top_k_zeros,
            "top-k keeps one too many": checks._top_k_plus_one,
            "documented ValueError not raised": _no_raise(ref, lambda logits, k: logits.clone()),
        },
        "top_p_logits": {
            "top-p drops the token crossing p": checks._top_p_drops_crossing,
            "top-p without sorting": checks._top_p_unsorted,
            "top-p on logits": checks._top_p_on_logits,
            "documented ValueError not raised": _no_raise(ref, lambda logits, p: logits.clone()),
        },
        "frequency_penalty": {
            "presence instead of frequency": checks._presence_only,
            "counts over the whole batch": checks._counts_whole_batch,
        },
        "sampling_probs": {
            "temperature after the softmax": _temperature_after_softmax,
            "temperature after the filters": checks._temperature_after_filter,
            "temperature ignored": checks._temperature_ignored,
            "documented ValueError not raised": _no_raise(ref, lambda logits, *a: logits.softmax(-1)),
        },
        "beam_search": {
            "greedy instead of beams": checks._greedy,
            "beams ranked by the last step": checks._last_step_only,
            "each beam extended alone": checks._each_beam_its_best,
        },
        "pair_counts": {
            "pair counts transposed": tokens._transposed,
            "last pair not counted": tokens._last_pair_missed,
            "pairs wrap around": tokens._wraps_around,
        },
        "merge_pair": {
            "overlapping matches": tokens._overlapping,
            "last token lost": tokens._drops_last,
            "only the first occurrence merged": tokens._first_only,
        },
        "learn_merges": {
            "counts never recomputed": tokens._counts_never_recomputed,
            "new ids reused": tokens._same_new_id,
        },
        "attend_with_cache": {
            "cache mask at the top left": checks._mask_at_top_left,
            "cache without a mask": checks._no_mask,
            "cache of the new keys only": checks._new_keys_only,
        },
    }
    return mistakes.get(name, {})


def _raise(*args):
    raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (10x16 and 8x16)")


def _unimported(ref: Callable[..., Any]) -> Callable[..., Any]:
    namespace = {"ref": ref}
    exec("def answer(*args):\n    return ref(*args) + np.zeros(1)\n", namespace)  # np was never imported
    return namespace["answer"]


def int_tensor_answers(ref: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    """The generic kinds for an answer that is a tensor of token ids or counts (no NaN or inf to poke into it)."""

    def in_place(*args):
        out = ref(*args)
        next(a for a in args if isinstance(a, torch.Tensor)).mul_(2).add_(1)
        return out

    return {
        "wrong shape": lambda *a: ref(*a).unsqueeze(0),
        "wrong dtype": lambda *a: ref(*a).int(),
        "returns None": lambda *a: None,
        "raises": _raise,
        "numpy array": lambda *a: ref(*a).numpy(),
        "list": lambda *a: ref(*a).tolist(),
        "wrong device": lambda *a: ref(*a).to("meta"),
        "unimported module": _unimported(ref),
        "off by a lot": lambda *a: ref(*a) + 1,
        "constant": lambda *a: torch.zeros_like(ref(*a)),
        "in place": in_place,
        "token ids shifted": lambda *a: ref(*a).roll(1),
    }


def beam_search_answers(ref: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    def no_raise(model, prompt, n_beams, n_new):
        return ref(model, prompt, max(n_beams, 1), n_new)

    return int_tensor_answers(ref) | {"documented ValueError not raised": no_raise}


def learn_merges_answers(ref: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    def no_raise(ids, n_merges, d_vocab):
        return ref(ids, max(n_merges, 0), d_vocab)

    return int_tensor_answers(ref) | {"documented ValueError not raised": no_raise}


SPECIAL = {
    "beam_search": beam_search_answers,
    "pair_counts": int_tensor_answers,
    "merge_pair": int_tensor_answers,
    "learn_merges": learn_merges_answers,
}
