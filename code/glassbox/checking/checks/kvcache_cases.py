"""The cases, named mistakes and behaviour checks of chapter 5b's exercise 5b.10, the KV cache itself (`KVCache`),
split from `cache_cases` (the cached attention and forward) to keep each module to one exercise's worth.

Longer than 300 lines: each named mistake is a small wrong cache (a subclass of the library's `sampling.KVCache`
that changes one thing), and a check that names the mistake it sees needs every one of them beside the three
behaviours that judge a cache: append by append, the refusal at n_ctx, and the cache inside a cached forward.
"""

import importlib

import torch

from glassbox import sampling
from glassbox.checking.answer import ReaderFailed
from glassbox.checking.checks.cache_cases import _own_model
from glassbox.checking.diagnose import close, describe, first_line, tensor_problem, value_difference
from glassbox.checking.judge import Case


# --------------------------------------------------------------------------------------- the cache itself (5b.10)
# A KVCache is an object whose answer is what `append` returns call after call, so its cases only build it (a stub
# raises there, in one line) and its behaviours judge it: append by append against the reference (naming the
# mistake whose wrong cache returns what yours does), the refusal past n_ctx, and the cache inside the reference
# cached forward against the uncached model. The wrong caches below change one thing of the library's
# `sampling.KVCache` (pinned to the reference by tests/test_ch05b_cache.py).
def _kv_cache_cases() -> list[Case]:
    return [
        Case("an empty cache for a context of 16", (16,)),
        Case("a context of one position", (1,)),
        Case("a context of 1024", (1024,)),
    ]


CACHE_CTX = 16
# (layer, new positions) of each append of two layers: a prompt of 3 positions, then 1, 2 and 1 at a time
CACHE_APPENDS = ((0, 3), (1, 3), (0, 1), (1, 1), (0, 2), (1, 2), (0, 1), (1, 1))
_BATCH, _HEADS, _D_HEAD = 2, 3, 4  # unlike each other and the positions: a wrong axis cannot pass for the right one


def _new_kv(step: int, n_new: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The keys and values of `n_new` new positions, different at every step and different from each other."""
    generator = torch.Generator().manual_seed(100 + step)
    shape = (_BATCH, n_new, _HEADS, _D_HEAD)
    return torch.randn(shape, generator=generator), torch.randn(shape, generator=generator)


class _Sized(sampling.KVCache):
    """The library's cache with the exercise's constructor, but growing past n_ctx without a word: a wrong cache
    changes one thing of it."""

    def __init__(self, n_ctx: int):
        super().__init__()
        self.n_ctx = n_ctx

    def cached(self, layer: int) -> int:
        return self.keys[layer].shape[1] if layer < len(self.keys) else 0


class _RefusesWhenFull(_Sized):
    """Refuses once the positions reach n_ctx, not only past it."""

    def append(self, layer, k, v):
        if self.cached(layer) + k.shape[1] >= self.n_ctx:
            raise ValueError(f"the cache is full: n_ctx={self.n_ctx}")
        return super().append(layer, k, v)


class _AssertsInstead(_Sized):
    """An assert where a ValueError belongs."""

    def append(self, layer, k, v):
        assert self.cached(layer) + k.shape[1] <= self.n_ctx
        return super().append(layer, k, v)


class _StoresThenRefuses(_Sized):
    """Refuses after storing: the refused positions stay in the cache."""

    def append(self, layer, k, v):
        keys, values = super().append(layer, k, v)
        if keys.shape[1] > self.n_ctx:
            raise ValueError(f"{keys.shape[1]} positions exceed the context n_ctx={self.n_ctx}")
        return keys, values


class _RefusesOnlyGrowth(_Sized):
    """Refuses only a layer that already holds positions: a prompt longer than n_ctx goes in."""

    def append(self, layer, k, v):
        if layer < len(self.keys) and self.cached(layer) + k.shape[1] > self.n_ctx:
            raise ValueError(f"{self.cached(layer)} cached + {k.shape[1]} new positions exceed n_ctx={self.n_ctx}")
        return super().append(layer, k, v)


CONTEXT_MISTAKES = {  # the refusal's mistakes, each a cache that stores right: named by what the check sees
    "growing past n_ctx silently": _Sized,
    "refusing a full context": _RefusesWhenFull,
    "an assert instead of a ValueError": _AssertsInstead,
    "storing before refusing": _StoresThenRefuses,
    "a long prompt let in": _RefusesOnlyGrowth,
}


class _AlongBatch(_Sized):
    """New positions concatenated along dim 0 (batch) instead of dim 1 (pos)."""

    dim = 0

    def append(self, layer, k, v):
        if layer == len(self.keys):
            self.keys.append(k)
            self.values.append(v)
        else:
            self.keys[layer] = torch.cat([self.keys[layer], k], dim=self.dim)
            self.values[layer] = torch.cat([self.values[layer], v], dim=self.dim)
        return self.keys[layer], self.values[layer]


class _AlongHeads(_AlongBatch):
    """New positions concatenated along dim 2 (head_index)."""

    dim = 2


class _ReturnsNewOnly(_Sized):
    """Keeps every position but hands back only the new ones."""

    def append(self, layer, k, v):
        super().append(layer, k, v)
        return k, v


class _OneForAllLayers(_Sized):
    """Every layer's keys and values in one entry: layer 1's after layer 0's."""

    def append(self, layer, k, v):
        return super().append(0, k, v)


class _KeysAsValues(_Sized):
    """The values' line copied from the keys': after the first positions, the values grow by k."""

    def append(self, layer, k, v):
        return super().append(layer, k, v if layer == len(self.keys) else k)


class _ReturnsKeysTwice(_Sized):
    """Stores both but returns (keys, keys)."""

    def append(self, layer, k, v):
        keys, _ = super().append(layer, k, v)
        return keys, keys


class _ValuesNotKept(_Sized):
    """Stores the longer keys back in the cache but not the longer values: they keep only the first positions."""

    def append(self, layer, k, v):
        if layer == len(self.keys):
            return super().append(layer, k, v)
        self.keys[layer] = torch.cat([self.keys[layer], k], dim=1)
        return self.keys[layer], torch.cat([self.values[layer], v], dim=1)


class _Forgets(_Sized):
    """Concatenates and returns, but never stores the result: the cache keeps only the first positions."""

    def append(self, layer, k, v):
        if layer == len(self.keys):
            return super().append(layer, k, v)
        return torch.cat([self.keys[layer], k], dim=1), torch.cat([self.values[layer], v], dim=1)


CACHE_MISTAKES = {
    "concatenate along the position axis, dim 1 of [batch, pos, head_index, d_head] — not dim 0, the batch": (
        _AlongBatch
    ),
    "concatenate along the position axis, dim 1 of [batch, pos, head_index, d_head] — not dim 2, the heads": (
        _AlongHeads
    ),
    "return the layer's keys and values for every position so far, the cached ones too — not only the new ones": (
        _ReturnsNewOnly
    ),
    "keep one entry per layer: each layer's keys and values go after that layer's own, not after layer 0's": (
        _OneForAllLayers
    ),
    "the values grew by the new keys: append v to the values, not k (a line copied from the keys?)": _KeysAsValues,
    "return (keys, values): the values were the keys a second time": _ReturnsKeysTwice,
    "store the values back in the cache as you store the keys: a value that is only returned is gone at the next "
    "call": _ValuesNotKept,
    "store the longer keys and values back in the cache (self.keys[layer] = …), not only return them: a cache that "
    "is never updated forgets every position after the first ones": _Forgets,
}


def _appended(cache_class, call) -> tuple[list, list]:
    """What `append` returned at each step of CACHE_APPENDS into one cache (a reason ends it), and `length` after
    every step that completes a round of both layers. `call(fn, *args)` runs the cache's code."""
    steps, lengths = [], []
    try:
        cache = call(cache_class, CACHE_CTX)
        for step, (layer, n_new) in enumerate(CACHE_APPENDS):
            steps.append(call(cache.append, layer, *_new_kv(step, n_new)))
            if layer == 1:
                lengths.append(call(lambda: cache.length))
    except ReaderFailed as failure:
        steps.append(failure.reason)
    return steps, lengths


def _direct(fn, *args):
    """Run the checker's own cache code, an error turned into the reason a reader's would give."""
    try:
        return fn(*args)
    except Exception as error:
        raise ReaderFailed(f"raised {first_line(error)}", error) from None


def _same_step(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if not (isinstance(a, (tuple, list)) and len(a) == 2 and all(isinstance(t, torch.Tensor) for t in a)):
        return False
    return all(x.dtype == y.dtype and close(x, y, 1e-6, 1e-6) for x, y in zip(a, b, strict=True))


def _step_problem(got, expected) -> str | None:
    """Why one append's return is not (keys, values) as the reference's, or None."""
    if isinstance(got, str):
        return got
    if got is None:
        return "returned None — did you forget the `return` statement? append returns (keys, values)"
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        return f"append returns two tensors, (keys, values); got {describe(got)}"
    for label, mine, theirs in zip(("keys", "values"), got, expected, strict=True):
        problem = tensor_problem(mine, theirs)
        if problem:
            return f"the {label}: {problem}"
        if not close(mine, theirs, 1e-6, 1e-6):
            return f"the {label}: {value_difference(mine, theirs)}"
    return None


def _cache_keeps_every_position(answer) -> str | None:
    """Append by append into one cache, your keys and values against the reference's."""
    inputs = [_new_kv(step, n_new) for step, (_, n_new) in enumerate(CACHE_APPENDS)]

    def reader(fn, *args):
        out = answer.call(fn, *args, first=True)
        if len(args) == 3:  # an append: its k and v must come back untouched
            for name, arg, pristine in zip(("k", "v"), args[1:], inputs[len(held)], strict=True):
                if not torch.equal(arg, pristine):
                    raise ReaderFailed(f"append's argument {name} was modified in place — store it, do not change it")
            held.append(out)
        return out

    held: list = []
    got, got_lengths = _appended(answer.obj, reader)
    expected, expected_lengths = _appended(answer.reference, _direct)
    cached = {0: 0, 1: 0}
    for step, (layer, n_new) in enumerate(CACHE_APPENDS):
        problem = _step_problem(got[step], expected[step])
        if problem:
            where = f"append {step + 1} (layer {layer}, {n_new} new after {cached[layer]} cached)"
            for sentence, wrong in CACHE_MISTAKES.items():
                theirs = _appended(wrong, _direct)[0]
                wrong_here = step < len(theirs) and not _same_step(theirs[step], expected[step])
                if wrong_here and _same_step(got[step], theirs[step]):  # this wrong cache fails here as yours does
                    return f"{where}: {problem} — {sentence}"
            return f"{where}: {problem}"
        cached[layer] += n_new
    for mine, theirs in zip(got_lengths, expected_lengths, strict=True):
        if mine != theirs:
            return f"after {theirs} positions in each layer, cache.length is {mine!r}, not {theirs}: it counts them"
    return None


def _cache_refuses_past_context(answer) -> str | None:
    """A cache of n_ctx = 4 takes 4 positions, refuses a fifth with a one-line ValueError and stays as it was; an
    empty one refuses a prompt of 5."""
    n_ctx = 4
    cache = answer.call(answer.obj, n_ctx, first=True)
    for step, (layer, n_new) in enumerate(((0, 3), (1, 3), (0, 1), (1, 1))):
        try:
            answer.call(cache.append, layer, *_new_kv(step, n_new), first=True)
        except ReaderFailed as failure:
            return (
                f"a cache of n_ctx={n_ctx} holding 3 positions refused 1 more ({failure.reason}): it is full at n_ctx "
                "positions and refuses only what goes past (cached + new > n_ctx)"
            )
    for label, make, layer, n_new in (
        (f"a 5th position into a full cache of n_ctx={n_ctx}", lambda: cache, 0, 1),
        (f"a prompt of 5 positions into an empty cache of n_ctx={n_ctx}", lambda: answer.obj(n_ctx), 0, 5),
    ):
        target = answer.call(make, first=True)
        before = answer.call(lambda: target.length, first=True)  # noqa: B023 (called at once)
        try:
            answer.call(target.append, layer, *_new_kv(9, n_new), first=True)
        except ReaderFailed as failure:
            if not isinstance(failure.error, ValueError):
                return f"{label} {failure.reason}: raise a ValueError (the model has no position past n_ctx)"
            if "\n" in str(failure.error).strip():
                return f"{label}: say why in one line, not {len(str(failure.error).strip().splitlines())}"
        else:
            return (
                f"{label} grew the cache past n_ctx without a word: raise a ValueError when the cached and new "
                "positions are more than n_ctx (the model has no position embedding past n_ctx)"
            )
        after = answer.call(lambda: target.length, first=True)  # noqa: B023 (called at once)
        if after != before:
            return (
                f"{label} was refused, but the cache went from {before} to {after} positions: check before you store, "
                "so that a refused append leaves the cache as it was"
            )
    return None


FULL_CONTEXT_SPLITS = ((0, 5), (5, 6), (6, 10), (10, 11), (11, 15), (15, 16))  # 16 positions: the whole context


def _cache_in_a_forward(answer) -> str | None:
    """Your cache in the reference cached forward (exercise 5b.9's), a prompt then token by token up to the whole
    context, against the uncached model on the whole sequence. (The library's `sampling.forward_with_cache` is
    annotated for its own `KVCache`: the tests' run-time type checks would refuse yours there.)"""
    forward = importlib.import_module(answer.reference.__module__).forward_with_cache
    model = _own_model(seed=5)
    tokens = torch.randint(0, 17, (2, model.cfg.n_ctx), generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        expected = model(tokens)
        cache = answer.call(answer.obj, model.cfg.n_ctx, first=True)
        got = torch.cat(
            [answer.call(forward, model, tokens[:, a:b], cache, first=True) for a, b in FULL_CONTEXT_SPLITS],
            dim=1,
        )
    wrong = ~torch.isclose(got, expected, rtol=1e-4, atol=1e-4).all(-1).all(0)  # [pos]
    if wrong.any():
        return (
            f"with your cache, the cached forward's logits differ from the uncached model's from position "
            f"{int(wrong.int().argmax())} on"
        )
    return None
