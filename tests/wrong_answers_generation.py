"""Wrong answers to the exercises of chapters 5b (sampling and generation) and 5c (tokens), for the catalogue in
`tests/wrong_answers.py`: the mistakes a learner writes (top-p that drops the token crossing p, the temperature
applied after the softmax, a KV cache that forgets where its new queries sit …), each of which must fail with a
line naming it, and the generic kinds for `beam_search`, whose answer is a tensor of token ids."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace, new_class
from typing import Any

import torch
from glassbox.checking.checks import beam_cases, cache_cases, ch05b_sampling, kvcache_cases
from glassbox.checking.checks import ch05c_tokens as tokens

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
    "negated": r"values differ",
    "last n-gram missed": r"last n-gram counts too",
    "tail of n tokens": r"last n - 1 tokens, not its last n",
    "n-grams of every beam": r"each beam's own tokens",
    "finished beams extended": r"finished: set it aside and do not extend it",
    "finished beams dropped": r"keep the finished beams aside",
    "ranked by the mean log-probability": r"not its mean per token",
    "repeats not blocked": r"block the tokens banned_tokens names",
    "padded with another token": r"pad a finished sequence .* with eos_token",
    "worst first": r"best first",
    "forgetful positions": r"the forgetful cache",
    "position offset by one": r"not cache\.length \+ 1",
    "new keys only in the forward": r"the cached ones too",
    "no cache kept": r"the cache you are given",
    "logits shifted": r"differ from the uncached model's",
    "final LayerNorm skipped": r"differ from the uncached model's",
    "cache along the batch axis": r"position axis, dim 1 .* not dim 0",
    "cache along the heads axis": r"position axis, dim 1 .* not dim 2",
    "cache returns the new keys only": r"not only the new ones",
    "one cache entry for every layer": r"one entry per layer",
    "values grown by the keys": r"append v to the values, not k",
    "keys returned twice": r"the values were the keys a second time",
    "values not stored": r"store the values back in the cache",
    "a cache that forgets": r"store the longer keys and values back",
    "growing past n_ctx silently": r"grew the cache past n_ctx without a word",
    "refusing a full context": r"refuses only what goes past",
    "an assert instead of a ValueError": r"raised AssertionError: raise a ValueError",
    "storing before refusing": r"check before you store",
    "a long prompt let in": r"prompt of 5 positions into an empty cache .* without a word",
    "length never counted": r"cache\.length is 0, not 3",
    "pair counts transposed": r"transposed",
    "last pair not counted": r"last pair",
    "pairs wrap around": r"does not wrap around",
    "overlapping matches": r"wrong shape",
    "last token lost": r"wrong shape",
    "only the first occurrence merged": r"wrong shape",
    "counts never recomputed": r"count the pairs again",
    "new ids reused": r"must not be reused",
}

# chapter 5b's checks keep their beam-search and cache cases in modules of their own: one namespace for all three
checks = SimpleNamespace(**{**vars(ch05b_sampling), **vars(beam_cases), **vars(cache_cases), **vars(kvcache_cases)})


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
    if name == "KVCache":  # a class: its wrong caches are built from the reference class
        return kv_cache_mistakes(ref)
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
        "banned_tokens": {
            "last n-gram missed": checks._banned_last_missed,
            "tail of n tokens": checks._banned_tail_of_n,
            "n-grams of every beam": checks._banned_across_beams,
            "documented ValueError not raised": _no_raise(
                ref, lambda beams, n, d_vocab: checks._banned(beams, 1, d_vocab)
            ),
        },
        "beam_search_sequences": {
            "finished beams extended": checks._finished_extended,
            "finished beams dropped": checks._finished_dropped,
            "ranked by the mean log-probability": checks._ranked_by_mean,
            "repeats not blocked": checks._not_blocked,
            "padded with another token": checks._padded_with_zero,
            "worst first": checks._worst_first,
        },
        "forward_with_cache": {
            "forgetful positions": checks._forgetful_forward,
            "position offset by one": checks._offset_by_one,
            "new keys only in the forward": checks._forward_new_keys_only,
            "no cache kept": lambda model, tokens, cache: ref(model, tokens, checks.sampling.KVCache()),
            "logits shifted": lambda *args: ref(*args) + 0.5,
            "final LayerNorm skipped": _without_final_norm(ref),
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


# The check's wrong caches (checks.CACHE_MISTAKES, by sentence), as the kinds of this catalogue, in the same order.
CACHE_KINDS = (
    "cache along the batch axis",
    "cache along the heads axis",
    "cache returns the new keys only",
    "one cache entry for every layer",
    "values grown by the keys",
    "keys returned twice",
    "values not stored",
    "a cache that forgets",
)


def _cache_class(base: type, **methods: Any) -> type:
    """A learner's `KVCache`: `base` with `methods` written over it (a class of its own, named as the exercise)."""
    return new_class("KVCache", (base,), exec_body=lambda namespace: namespace.update(methods))


def kv_cache_mistakes(ref: type) -> dict[str, type]:
    """The learner's mistakes in the cache: the check's wrong caches, and a length that never counts."""
    return {
        **{kind: _cache_class(wrong) for kind, wrong in zip(CACHE_KINDS, checks.CACHE_MISTAKES.values(), strict=True)},
        **{kind: _cache_class(wrong) for kind, wrong in checks.CONTEXT_MISTAKES.items()},
        "length never counted": _cache_class(ref, length=property(lambda self: 0)),
    }


def kv_cache_answers(ref: type) -> dict[str, type]:
    """The generic kinds for the cache, a class whose `append` returns (keys, values): in its append."""

    def returns_none(self, layer, k, v):
        ref.append(self, layer, k, v)

    def in_place(self, layer, k, v):
        keys, values = ref.append(self, layer, k.clone(), v)
        k.mul_(2)
        return keys, values

    def wrong_dtype(self, layer, k, v):
        return tuple(t.double() for t in ref.append(self, layer, k, v))

    namespace = {"ref": ref}
    exec("def append(self, *args):\n    return ref.append(self, *args) + np.zeros(1)\n", namespace)  # np not imported
    return {
        "returns None": _cache_class(ref, append=returns_none),
        "raises": _cache_class(ref, append=_raise),
        "in place": _cache_class(ref, append=in_place),
        "wrong dtype": _cache_class(ref, append=wrong_dtype),
        "unimported module": _cache_class(ref, append=namespace["append"]),
    }


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


def _without_final_norm(ref: Callable[..., Any]) -> Callable[..., Any]:
    def answer(model, tokens, cache):
        final, model.ln_final = model.ln_final, torch.nn.Identity()
        try:
            return ref(model, tokens, cache)
        finally:
            model.ln_final = final

    return answer


def bool_tensor_answers(ref: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    """The generic kinds for an answer that is a boolean mask (adding 1 would only change its dtype)."""
    answers = int_tensor_answers(ref)
    del answers["off by a lot"]
    return answers | {"negated": lambda *a: ~ref(*a)}


def beam_sequences_answers(ref: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    def no_raise(model, prompt, n_beams, n_new, n_return, eos, ngram):
        return ref(model, prompt, n_beams, n_new, min(n_return, n_beams), eos, ngram)

    return int_tensor_answers(ref) | {"documented ValueError not raised": no_raise}


def cached_forward_answers(ref: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    """The generic kinds for the cached forward: its values are judged token by token by the check's behaviour."""
    return {
        "wrong shape": lambda *a: ref(*a)[:, -1],
        "returns None": lambda *a: None,
        "raises": _raise,
        "numpy array": lambda *a: ref(*a).detach().numpy(),
        "list": lambda *a: ref(*a).detach().tolist(),
        "unimported module": _unimported(ref),
        "constant": lambda *a: torch.zeros_like(ref(*a)),
    }


SPECIAL = {
    "banned_tokens": bool_tensor_answers,
    "beam_search_sequences": beam_sequences_answers,
    "forward_with_cache": cached_forward_answers,
    "KVCache": kv_cache_answers,
    "beam_search": beam_search_answers,
    "pair_counts": int_tensor_answers,
    "merge_pair": int_tensor_answers,
    "learn_merges": learn_merges_answers,
}
