"""Checks for chapter 5b, "Sampling and generation": top-k, top-p, a frequency penalty, the sampling distribution,
beam search and attention over a key-value cache. Each names the mistakes a learner is likely to make."""

import math

import torch
import torch.nn.functional as F

from glassbox import sampling
from glassbox.answer import ReaderFailed
from glassbox.config import TransformerConfig
from glassbox.diagnose import SOFTMAX_HINT
from glassbox.judge import Case, Exercise
from glassbox.model import Transformer


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
def _beam_model(seed: int) -> Transformer:
    cfg = TransformerConfig(d_model=16, n_layers=1, n_heads=2, d_vocab=8, n_ctx=16, init_range=0.6, seed=seed)
    return Transformer(cfg).eval()


def _beam_cases() -> list[Case]:
    prompt = torch.tensor([1, 2, 3])
    return [
        Case("3 beams, 6 new tokens (beam search beats greedy here)", (_beam_model(40), prompt, 3, 6)),
        Case("4 beams, 8 new tokens", (_beam_model(9), prompt, 4, 8)),
        Case("1 beam (greedy decoding)", (_beam_model(2), prompt, 1, 5)),
        Case("5 beams, 7 new tokens from a one-token prompt", (_beam_model(4), torch.tensor([0]), 5, 7)),
        Case("0 beams (a ValueError)", (_beam_model(1), prompt, 0, 3)),
    ]


def _greedy(model, prompt, n_beams, n_new):
    if n_beams < 1:
        raise ValueError("n_beams")
    return sampling.generate(model, prompt, n_new)[0]


def _last_step_only(model, prompt, n_beams, n_new):
    beams = prompt[None]
    for _ in range(n_new):
        logprobs = model(beams)[:, -1].log_softmax(-1)
        _, index = logprobs.flatten().topk(min(n_beams, logprobs.numel()))
        beams = torch.cat([beams[index // logprobs.shape[-1]], (index % logprobs.shape[-1])[:, None]], -1)
    return beams[0]


def _each_beam_its_best(model, prompt, n_beams, n_new):
    beams, scores = prompt[None], torch.zeros(1)
    for _ in range(n_new):
        logprobs = model(beams)[:, -1].log_softmax(-1)
        best, token = logprobs.max(-1)
        if len(beams) < n_beams:  # only the first step branches
            scores, token = logprobs[0].topk(n_beams)
            beams = torch.cat([beams.expand(n_beams, -1), token[:, None]], -1)
            continue
        scores = scores + best
        beams = torch.cat([beams, token[:, None]], -1)
    return beams[scores.argmax()]


# ------------------------------------------------------------------------------------------ repeat blocking
def _banned_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(5)
    return [
        Case("3 beams of 12 tokens from 4, n = 2", (torch.randint(0, 4, (3, 12), generator=generator), 2, 6)),
        Case(
            "n = 3, a beam whose last trigram's start repeats", (torch.tensor([[1, 2, 3, 1, 2], [4, 4, 4, 4, 0]]), 3, 6)
        ),
        Case("n = 3, the repeat is the beam's last trigram", (torch.tensor([[5, 1, 2, 1, 2], [0, 1, 0, 1, 0]]), 3, 6)),
        Case("n = 3, a run of one token (the last trigram repeats itself)", (torch.tensor([[3, 7, 7, 7]]), 3, 8)),
        Case("n = 1 (every token already present)", (torch.randint(0, 9, (2, 6), generator=generator), 1, 10)),
        Case("beams shorter than n (nothing banned yet)", (torch.tensor([[1, 1], [2, 3]]), 3, 4)),
        Case("n = 0 (a ValueError)", (torch.tensor([[1, 2, 3]]), 0, 4)),
    ]


def _banned(beams, n, d_vocab, *, last_window: bool = True, tail: int | None = None, own_beam: bool = True):
    """Repeat blocking with one thing changeable, for the wrong variants."""
    tail = n - 1 if tail is None else tail
    banned = torch.zeros(len(beams), d_vocab, dtype=torch.bool)
    rows = beams.tolist()
    for b, beam in enumerate(rows):
        histories = [beam] if own_beam else rows
        end = beam[len(beam) - tail :] if tail else []
        for history in histories:
            for start in range(len(history) - tail - (0 if last_window else 1)):
                if start + tail < len(history) and history[start : start + tail] == end:
                    banned[b, history[start + tail]] = True
    return banned


def _banned_last_missed(beams, n, d_vocab):
    return _banned(beams, n, d_vocab, last_window=False)


def _banned_tail_of_n(beams, n, d_vocab):
    return _banned(beams, n, d_vocab, tail=n)


def _banned_across_beams(beams, n, d_vocab):
    return _banned(beams, n, d_vocab, own_beam=False)


# ------------------------------------------------------------------ beam search: end of text, several sequences
def _sequences_cases() -> list[Case]:
    prompt = torch.tensor([1, 2, 3])
    return [
        Case("4 beams, 3 sequences, end token 0, 6 new tokens", (_beam_model(40), prompt, 4, 6, 3, 0, None)),
        Case("5 beams, 5 sequences, end token 5, 7 new tokens", (_beam_model(7), prompt, 5, 7, 5, 5, None)),
        Case("3 beams, no end token, no repeated bigram", (_beam_model(9), prompt, 3, 8, 2, None, 2)),
        Case("4 beams, end token 2, no repeated trigram", (_beam_model(11), torch.tensor([2, 4, 2]), 4, 8, 4, 2, 3)),
        Case("1 beam, 1 sequence, end token 3 (greedy, stopping at 3)", (_beam_model(2), prompt, 1, 6, 1, 3, None)),
        Case("num_return_sequences > n_beams (a ValueError)", (_beam_model(1), prompt, 2, 3, 3, 0, None)),
    ]


def _beam_variant(
    model,
    prompt,
    n_beams,
    n_new,
    n_return,
    eos,
    ngram,
    *,
    extend_finished=False,
    keep_finished=True,
    mean=False,
    block=True,
    pad=None,
    reverse=False,
):
    """Beam search with end of text and repeat blocking, one thing changeable, for the wrong variants."""
    if not 1 <= n_return <= n_beams:
        raise ValueError("num_return_sequences")
    beams, scores, finished = prompt[None], torch.zeros(1), []
    for _ in range(n_new):
        if len(beams) == 0:
            break
        logprobs = model(beams)[:, -1].log_softmax(-1)
        if ngram is not None and block:
            logprobs = logprobs.masked_fill(sampling.banned_tokens(beams, ngram, logprobs.shape[-1]), float("-inf"))
        candidates = (scores[:, None] + logprobs).flatten()
        kept, index = candidates.topk(min(n_beams, int(candidates.isfinite().sum())))
        extended = torch.cat([beams[index // logprobs.shape[-1]], (index % logprobs.shape[-1])[:, None]], -1)
        done = (
            extended[:, -1] == eos
            if eos is not None and not extend_finished
            else torch.zeros(len(kept), dtype=torch.bool)
        )
        finished += list(zip(kept[done].tolist(), extended[done], strict=True)) if keep_finished else []
        beams, scores = extended[~done], kept[~done]
    ranked = finished + list(zip(scores.tolist(), beams, strict=True))
    if mean:
        ranked = [(score / (len(seq) - len(prompt)), seq) for score, seq in ranked]
    ranked = sorted(ranked, key=lambda pair: pair[0], reverse=not reverse)[:n_return]
    fill = (eos if eos is not None else 0) if pad is None else pad
    rows = [F.pad(seq, (0, len(prompt) + n_new - len(seq)), value=fill) for _, seq in ranked]
    return torch.stack(rows)


def _finished_extended(*args):
    return _beam_variant(*args, extend_finished=True)


def _finished_dropped(*args):
    return _beam_variant(*args, keep_finished=False)


def _ranked_by_mean(*args):
    return _beam_variant(*args, mean=True)


def _not_blocked(*args):
    return _beam_variant(*args, block=False)


def _padded_with_zero(*args):
    return _beam_variant(*args, pad=-1 if args[5] == 0 else 0)


def _worst_first(*args):
    return _beam_variant(*args, reverse=True)


# ---------------------------------------------------------------------------------- a cached forward of your model
def _own_model(changes: dict | None = None, seed: int = 0):
    from glassbox.model import DemoTransformer

    cfg = TransformerConfig(d_model=24, n_layers=2, n_heads=4, d_vocab=17, n_ctx=16, init_range=0.3, seed=seed)
    model = DemoTransformer(cfg.with_(**(changes or {}))).eval()
    with torch.no_grad():  # non-zero biases and LayerNorm weights, so that skipping one shows
        for param in model.parameters():
            if param.ndim == 1:
                param.add_(0.2 * torch.randn(param.shape, generator=torch.Generator().manual_seed(param.numel())))
    return model


def _forward_cases() -> list[Case]:
    """Smoke cases: the forward runs and returns [batch, new_pos, d_vocab] logits. The reference runs first, on the
    same cache, so the values are judged by `_cached_forward_behaves`, token by token from an empty cache."""
    generator = torch.Generator().manual_seed(0)
    return [
        Case(
            "a prompt of 4 tokens into an empty cache",
            (_own_model(), torch.randint(0, 17, (2, 4), generator=generator), sampling.KVCache()),
        ),
        Case(
            "an attention-only model, 3 tokens",
            (_own_model({"attn_only": True}), torch.randint(0, 17, (1, 3), generator=generator), sampling.KVCache()),
        ),
        Case(
            "a model without LayerNorm, one token",
            (
                _own_model({"normalization_type": None}),
                torch.randint(0, 17, (3, 1), generator=generator),
                sampling.KVCache(),
            ),
        ),
    ]


FORWARD_SPLITS = ((0, 4), (4, 5), (5, 6), (6, 9), (9, 10), (10, 11))  # a prompt, then token by token (and 3 at once)


def _cached_logits(forward, model, tokens, call=None) -> tuple[torch.Tensor, int]:
    """The logits of `forward` run piece by piece with one cache from empty, and the cache's length after."""
    call = call or (lambda fn, *args: fn(*args))
    cache = sampling.KVCache()
    with torch.no_grad():
        pieces = [call(forward, model, tokens[:, a:b], cache) for a, b in FORWARD_SPLITS]
    return torch.cat(pieces, dim=1), cache.length


def _forgetful_forward(model, tokens, cache):
    return sampling.forward_with_cache(model, tokens, _Forgetful(cache.keys, cache.values))


def _offset_by_one(model, tokens, cache):
    return sampling.forward_with_cache(model, tokens, _Shifted(cache.keys, cache.values))


def _forward_new_keys_only(model, tokens, cache):
    return sampling.forward_with_cache(model, tokens, _NewOnly(cache.keys, cache.values))


def _fresh_cache_each_call(model, tokens, cache):
    return sampling.forward_with_cache(model, tokens, sampling.KVCache())


class _Forgetful(sampling.KVCache):
    """The same keys and values (shared lists), but a count the forward never reads: every new token is embedded
    from position 0."""

    length = property(lambda self: 0)


class _NewOnly(sampling.KVCache):
    """The same keys and values, but each layer is handed back only the new positions' ones."""

    def append(self, layer, k, v):
        super().append(layer, k, v)
        return k, v


class _Shifted(sampling.KVCache):
    """The same keys and values, read one position too far: the first new token is embedded at cache.length + 1."""

    length = property(lambda self: (self.keys[0].shape[1] if self.keys else 0) + 1)


FORWARD_MISTAKES = {
    "the new tokens sit after the cached ones: add W_pos[cache.length : cache.length + new_pos], not W_pos[:new_pos] "
    "(the forgetful cache)": _forgetful_forward,
    "the first new token sits at position cache.length (positions count from 0), not cache.length + 1": _offset_by_one,
    "the new queries must read every key and value so far — the cached ones too (cache.append returns them)": (
        _forward_new_keys_only
    ),
    "keep the keys and values in the cache you are given: a new cache each call forgets every earlier position": (
        _fresh_cache_each_call
    ),
}


def _cached_forward_behaves(answer) -> str | None:
    """Your cached forward, token by token from an empty cache, against the uncached model on the whole sequence."""
    for label, changes in (
        ("GPT-2-like", {}),
        ("attention-only", {"attn_only": True}),
        ("no LayerNorm", {"normalization_type": None}),
    ):
        model = _own_model(changes, seed=3)
        tokens = torch.randint(0, 17, (2, FORWARD_SPLITS[-1][1]), generator=torch.Generator().manual_seed(4))
        with torch.no_grad():
            expected = model(tokens)
        try:
            got, length = _cached_logits(answer.obj, model, tokens, lambda fn, *a: answer.call(fn, *a, first=True))
        except ReaderFailed as failure:
            return f"{label}: {failure.reason}"
        if got.shape != expected.shape:
            return f"{label}: the pieces' logits, joined, have shape {tuple(got.shape)}, not {tuple(expected.shape)}"
        wrong = ~torch.isclose(got, expected, rtol=1e-4, atol=1e-4).all(-1).all(0)  # [pos]
        if wrong.any():
            first = int(wrong.int().argmax())
            for sentence, variant in FORWARD_MISTAKES.items():
                if torch.allclose(got, _cached_logits(variant, model, tokens)[0], rtol=1e-4, atol=1e-4):
                    return f"{label}: position {first}'s logits differ from the uncached model's — {sentence}"
            gap = (got - expected).abs().max().item()
            return (
                f"{label}: from position {first} on, the logits differ from the uncached model's (by up to {gap:.3g})"
            )
        if length != tokens.shape[1]:
            return f"{label}: the cache holds {length} positions, not {tokens.shape[1]}: append every layer's k, v"
    return None


# ----------------------------------------------------------------------------------------- the KV cache
def _qkv(batch: int, n_new: int, n_all: int, heads: int = 2, d_head: int = 4, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, n_new, heads, d_head, generator=generator)
    k = torch.randn(batch, n_all, heads, d_head, generator=generator)
    v = torch.randn(batch, n_all, heads, d_head, generator=generator)
    return q, k, v


def _cache_cases() -> list[Case]:
    return [
        Case("one new token after 6 cached (a decoding step)", _qkv(2, 1, 7)),
        Case("3 new tokens after 5 cached", _qkv(2, 3, 8, seed=1)),
        Case("no cache yet: 5 new tokens (the prompt)", _qkv(1, 5, 5, seed=2)),
        Case("the first token alone", _qkv(3, 1, 1, heads=1, seed=3)),
    ]


def _mask_at_top_left(q, k, v):
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(q.shape[-1])
    future = torch.ones(q.shape[1], k.shape[1], dtype=torch.bool).triu(1)
    return torch.einsum("bhqk,bkhd->bqhd", scores.masked_fill(future, float("-inf")).softmax(-1), v)


def _no_mask(q, k, v):
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(q.shape[-1])
    return torch.einsum("bhqk,bkhd->bqhd", scores.softmax(-1), v)


def _new_keys_only(q, k, v):
    return sampling.attend_with_cache(q, k[:, -q.shape[1] :], v[:, -q.shape[1] :])


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
]
