"""The cases and named mistakes of chapter 5b's cache exercises `attend_with_cache` and `forward_with_cache` (a
module of their own to keep `ch05b_sampling` short; its name does not start with "ch", so `glassbox.checking.checks`
does not take it for a chapter). The cache itself, `KVCache` (5b.10), is judged in `kvcache_cases`."""

import math

import torch

from glassbox import sampling
from glassbox.checking.answer import ReaderFailed
from glassbox.checking.judge import Case
from glassbox.config import TransformerConfig


def _own_model(changes: dict | None = None, seed: int = 0):
    from glassbox.model import DemoTransformer

    cfg = TransformerConfig(d_model=24, n_layers=2, n_heads=4, d_vocab=17, n_ctx=16, init_range=0.3, seed=seed)
    with torch.random.fork_rng(devices=[]):  # DemoTransformer's parts draw from the global generator: the same
        torch.manual_seed(seed)  # weights in every run of the check (check() and pytest), the reader's state untouched
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
