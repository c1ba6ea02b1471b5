"""Sampling and generation (chapter 5b): `top_k_logits`, `top_p_logits`, `frequency_penalty`, `sampling_probs`,
`generate`, beam search (`beam_search`, `beam_search_sequences`: end-of-text, several sequences, repeat blocking with
`banned_tokens`), and a key-value cache (`KVCache`, `forward_with_cache`, `attend_with_cache`).

Every function takes any model that maps token ids `[batch, pos]` to logits `[batch, pos, d_vocab]` and has a
`cfg` with an `n_ctx` (ours, the reader's own model of chapter 4). The cached forward runs the model's own parts;
each attention layer keeps its keys and values in the cache itself (`glassbox.components.Attention.forward(x,
cache)`, as TransformerLens's attention does), so no forward is written twice: the tests hold its logits equal to
`model(tokens)` on every configuration. A model whose blocks take no cache (one built from the reader's own chapter 3
parts) is sampled with the reader's own cached forward, `generate(..., forward=...)` (exercise 5b.9), and any cache
with `length` and `append` (the `Cache` protocol: the reader's own `KVCache` of exercise 5b.10) can stand in for ours.

Longer than 300 lines: it is chapter 5b's whole API in one place (the chapter reads `sampling.X` for each), each part
a few short functions; the cache is the part that would leave, and it shares `generate`'s loop.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import einops
import torch
import torch.nn.functional as F
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn

LogitsModel = Callable[[Tensor], Tensor]  # tokens [batch, pos] -> logits [batch, pos, d_vocab]


# ------------------------------------------------------------------------------------ shaping the distribution
def top_k_logits(logits: Float[Tensor, "... d_vocab"], k: int) -> Float[Tensor, "... d_vocab"]:
    """Keep the `k` largest logits of each distribution (ties with the k-th kept too); set the rest to -inf."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"top_k must be a positive integer, got {k!r}")
    if k >= logits.shape[-1]:
        return logits.clone()
    kth_largest = logits.topk(k, dim=-1).values[..., -1:]  # [..., 1]
    return logits.masked_fill(logits < kth_largest, float("-inf"))


def top_p_logits(logits: Float[Tensor, "... d_vocab"], p: float) -> Float[Tensor, "... d_vocab"]:
    """Nucleus filtering: keep the fewest most-likely tokens whose probabilities add up to at least `p` — the token
    that crosses `p` is kept — and set the rest to -inf."""
    if not 0 < p <= 1:
        raise ValueError(f"top_p must lie in (0, 1], got {p!r}")
    probs = logits.softmax(dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    before = sorted_probs.cumsum(dim=-1) - sorted_probs  # probability of the tokens ranked above each one
    drop_sorted = before >= p  # already reached p without this token: drop it (the top token is always kept)
    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, float("-inf"))


def frequency_penalty(
    logits: Float[Tensor, "batch d_vocab"], tokens: Int[Tensor, "batch pos"], alpha: float
) -> Float[Tensor, "batch d_vocab"]:
    """Lower each token's logit by `alpha` times the number of times it already appears in its own sequence."""
    counts = torch.zeros_like(logits).scatter_add_(-1, tokens, torch.ones_like(tokens, dtype=logits.dtype))
    return logits - alpha * counts


def sampling_probs(
    logits: Float[Tensor, "... d_vocab"], temperature: float, top_k: int | None = None, top_p: float | None = None
) -> Float[Tensor, "... d_vocab"]:
    """The distribution the next token is drawn from: divide by the temperature, keep the top k, then the
    nucleus of mass p, and softmax. Temperature 0 is greedy: one-hot on the (first) largest logit."""
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")
    if temperature == 0:
        return F.one_hot(logits.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
    logits = logits / temperature
    if top_k is not None:
        logits = top_k_logits(logits, top_k)
    if top_p is not None:
        logits = top_p_logits(logits, top_p)
    return logits.softmax(dim=-1)


# ------------------------------------------------------------------------------------------------- generation
def as_batch(tokens: Tensor | list[int], d_vocab: int | None = None) -> Int[Tensor, "batch pos"]:
    """Token ids as a [batch, pos] long tensor, or one clear ValueError."""
    tokens = torch.as_tensor(tokens)
    if tokens.dtype.is_floating_point or tokens.dtype == torch.bool:
        raise ValueError(f"tokens must be integer ids, got a {tokens.dtype} tensor")
    tokens = tokens[None] if tokens.ndim == 1 else tokens
    if tokens.ndim != 2 or tokens.shape[-1] == 0:
        raise ValueError(f"tokens must have shape [batch, pos] or [pos] with pos ≥ 1, got {tuple(tokens.shape)}")
    if d_vocab is not None and (int(tokens.min()) < 0 or int(tokens.max()) >= d_vocab):
        raise ValueError(f"token ids must lie in [0, {d_vocab - 1}], got {int(tokens.min())} to {int(tokens.max())}")
    return tokens.long()


@torch.no_grad()
def generate(
    model: LogitsModel,
    tokens: Tensor | list[int],
    max_new_tokens: int,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    frequency_penalty_alpha: float = 0.0,
    seed: int | None = 0,
    use_cache: bool = False,
    probs_fn: Callable[..., Tensor] | None = None,
    forward: Callable[..., Tensor] | None = None,
    new_cache: Callable[[], Cache] | None = None,
) -> Int[Tensor, "batch new_pos"]:
    """Extend `tokens` one token at a time: greedy at temperature 0, otherwise sampled (seeded) from
    `sampling_probs`. Only the last `n_ctx` tokens are read, so the output may be longer than the context.

    With `use_cache` the keys and values of earlier positions are kept (`KVCache`) and each step runs the model on
    the new token alone; the tokens are the same as without it. `probs_fn` (a `sampling_probs`), `forward` (a
    `forward_with_cache(model, tokens, cache)`) and `new_cache` (makes an empty `Cache`: any object with `length`
    and `append(layer, k, v)`, such as the reader's `KVCache` of exercise 5b.10) replace the library's — with the
    reader's own, for instance.
    """
    probs_fn = probs_fn or sampling_probs
    forward = forward or forward_with_cache
    new_cache = new_cache or KVCache

    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")
    n_ctx, d_vocab = model.cfg.n_ctx, model.cfg.d_vocab
    tokens = as_batch(tokens, d_vocab).to(next(model.parameters()).device)
    generator = torch.Generator(device=tokens.device)
    if seed is None:
        generator.seed()  # unseeded: a fresh random state each call (a new Generator always starts the same)
    else:
        generator.manual_seed(seed)
    cache: Cache | None = None
    for _ in range(max_new_tokens):
        if not use_cache:
            logits = model(tokens[:, -n_ctx:])[:, -1]  # [batch, d_vocab]
        elif cache is None or cache.length >= n_ctx:  # first step, or the window slid: positions start again at 0
            cache = new_cache()
            logits = forward(model, tokens[:, -n_ctx:], cache)[:, -1]
        else:
            logits = forward(model, tokens[:, -1:], cache)[:, -1]
        if frequency_penalty_alpha:
            logits = frequency_penalty(logits, tokens, frequency_penalty_alpha)
        probs = probs_fn(logits, temperature, top_k, top_p)
        if temperature == 0:
            next_token = probs.argmax(dim=-1, keepdim=True)
        else:
            next_token = torch.multinomial(probs, 1, generator=generator)
        tokens = torch.cat([tokens, next_token], dim=-1)
    return tokens


def banned_tokens(beams: Int[Tensor, "beam pos"], n: int, d_vocab: int) -> Bool[Tensor, "beam d_vocab"]:
    """Repeat blocking: True for each token that, appended to its beam, would repeat an n-gram (n consecutive
    tokens) already in that beam — prompt included, as Hugging Face's `no_repeat_ngram_size` counts it."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"no_repeat_ngram_size must be a positive integer, got {n!r}")
    banned = torch.zeros(len(beams), d_vocab, dtype=torch.bool, device=beams.device)
    pos = beams.shape[1]
    if pos < n:
        return banned  # no n-gram is complete yet
    ngrams = beams.unfold(1, n, 1)  # [beam, pos - n + 1, n]: every n-gram of each beam
    seen_prefix = (ngrams[:, :, :-1] == beams[:, None, pos - n + 1 :]).all(-1)  # [beam, n-gram]: starts as the tail
    rows, which = seen_prefix.nonzero(as_tuple=True)
    banned[rows, ngrams[rows, which, -1]] = True
    return banned


@torch.no_grad()
def beam_search_sequences(
    model: LogitsModel,
    prompt: Int[Tensor, "pos"],
    n_beams: int,
    max_new_tokens: int,
    num_return_sequences: int = 1,
    eos_token: int | None = None,
    no_repeat_ngram_size: int | None = None,
) -> Int[Tensor, "sequence pos_plus_new"]:
    """The `num_return_sequences` best continuations of `prompt` that a beam of `n_beams` finds, best first, by
    total log-probability of their new tokens (no length penalty: every token adds a negative number, so shorter
    finished sequences are favoured; Hugging Face's `length_penalty` divides by a power of the length instead).

    Each step extends every live beam by every token (tokens `banned_tokens` names for it blocked when
    `no_repeat_ngram_size` is given) and keeps the `n_beams` best candidates across all beams. A kept candidate
    that ends at `eos_token` is finished: it is set aside and not extended; the others are the next live beams.
    The search stops after `max_new_tokens` steps, when no beam is live, or when `num_return_sequences` finished
    beams score at least as high as the best live one (a live beam can only lose log-probability). The answer
    ranks the finished beams with the live ones; a finished sequence is padded after its end with `eos_token`.
    """
    if not isinstance(n_beams, int) or n_beams < 1:
        raise ValueError(f"n_beams must be a positive integer, got {n_beams!r}")
    if not isinstance(num_return_sequences, int) or not 1 <= num_return_sequences <= n_beams:
        raise ValueError(f"num_return_sequences must lie in [1, n_beams={n_beams}], got {num_return_sequences!r}")
    if prompt.ndim != 1 or prompt.shape[0] + max_new_tokens > model.cfg.n_ctx:
        raise ValueError(f"prompt must be [pos] with pos + max_new_tokens ≤ n_ctx={model.cfg.n_ctx}")
    beams = prompt[None]  # [beam, pos]: the live beams
    scores = torch.zeros(1, device=prompt.device)  # [beam]: total log-probability of each beam's new tokens
    finished: list[tuple[float, Tensor]] = []  # (score, sequence) of each beam that reached eos_token
    for _ in range(max_new_tokens):
        logprobs = model(beams)[:, -1].log_softmax(dim=-1)  # [beam, d_vocab]
        beams, scores = beams.to(logprobs.device), scores.to(logprobs.device)  # the model may sit on a GPU
        d_vocab = logprobs.shape[-1]
        if no_repeat_ngram_size is not None:
            logprobs = logprobs.masked_fill(banned_tokens(beams, no_repeat_ngram_size, d_vocab), float("-inf"))
        candidates = (scores[:, None] + logprobs).flatten()  # [beam * d_vocab]
        n_kept = min(n_beams, int(candidates.isfinite().sum()))  # a blocked token is no candidate
        kept_scores, index = candidates.topk(n_kept)  # sorted, best first
        parent, token = index // d_vocab, index % d_vocab
        extended = torch.cat([beams[parent], token[:, None]], dim=-1)
        done = token == eos_token if eos_token is not None else torch.zeros_like(token, dtype=torch.bool)
        finished += [(score, seq) for score, seq in zip(kept_scores[done].tolist(), extended[done], strict=True)]
        beams, scores = extended[~done], kept_scores[~done]
        finished.sort(key=lambda pair: -pair[0])  # stable: the earlier of two equal scores first
        enough = len(finished) >= num_return_sequences
        if len(beams) == 0 or (enough and finished[num_return_sequences - 1][0] >= scores.max().item()):
            beams, scores = beams[:0], scores[:0]  # nothing live can still enter the answer
            break
    ranked = sorted(finished + list(zip(scores.tolist(), beams, strict=True)), key=lambda pair: -pair[0])
    length = len(prompt) + max_new_tokens
    fill = eos_token if eos_token is not None else 0
    return torch.stack([F.pad(seq, (0, length - len(seq)), value=fill) for _, seq in ranked[:num_return_sequences]])


def beam_search(
    model: LogitsModel,
    prompt: Int[Tensor, "pos"],
    n_beams: int,
    max_new_tokens: int,
    eos_token: int | None = None,
    no_repeat_ngram_size: int | None = None,
) -> Int[Tensor, "pos_plus_new"]:
    """The continuation of `prompt` with the highest total log-probability that a beam of `n_beams` finds: at each
    step every beam is extended by every token, and the `n_beams` best sequences (by summed log-probability,
    across all beams) survive. One beam is greedy decoding. With `eos_token`, beams that end there are finished
    and the answer stops at its end-of-text token; `no_repeat_ngram_size` blocks repeated n-grams
    (`beam_search_sequences`, which also returns several sequences)."""
    best = beam_search_sequences(model, prompt, n_beams, max_new_tokens, 1, eos_token, no_repeat_ngram_size)[0]
    if eos_token is not None and (best[len(prompt) :] == eos_token).any():
        return best[: len(prompt) + int((best[len(prompt) :] == eos_token).int().argmax()) + 1]
    return best


# --------------------------------------------------------------------------------------------- the KV cache
@runtime_checkable
class Cache(Protocol):
    """What a cached forward needs of a key-value cache: the number of positions it holds, and `append`, which
    stores a layer's new keys and values after the cached ones and returns all of them. The library's `KVCache` is
    one; the reader's own (exercise 5b.10) is another."""

    @property
    def length(self) -> int: ...

    def append(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]: ...


@dataclass
class KVCache:
    """The keys and values every layer computed for the positions seen so far: `keys[layer]` is
    [batch, pos, head_index, d_head]. `length` is the number of positions cached — the position of the next token."""

    keys: list[Tensor] = field(default_factory=list)
    values: list[Tensor] = field(default_factory=list)

    @property
    def length(self) -> int:
        return self.keys[0].shape[1] if self.keys else 0

    def append(
        self,
        layer: int,
        k: Float[Tensor, "batch new_pos head_index d_head"],
        v: Float[Tensor, "batch new_pos head_index d_head"],
    ) -> tuple[Tensor, Tensor]:
        """Add the new positions' keys and values of `layer` after the cached ones; return the layer's keys and
        values for every position so far, [batch, all_pos, head_index, d_head] each."""
        if layer == len(self.keys):  # the first positions this layer sees
            self.keys.append(k)
            self.values.append(v)
        elif layer < len(self.keys):
            self.keys[layer] = torch.cat([self.keys[layer], k], dim=1)
            self.values[layer] = torch.cat([self.values[layer], v], dim=1)
        else:
            raise ValueError(f"layer {layer} appended before layer {len(self.keys)}: fill the layers in order")
        return self.keys[layer], self.values[layer]


def attend_with_cache(
    q: Float[Tensor, "batch new_pos head_index d_head"],
    k: Float[Tensor, "batch all_pos head_index d_head"],
    v: Float[Tensor, "batch all_pos head_index d_head"],
) -> Float[Tensor, "batch new_pos head_index d_head"]:
    """Causal attention of the last `new_pos` positions (the queries) to all `all_pos` positions (cached and new):
    query i sits at position all_pos - new_pos + i and may attend to keys 0 … that position."""
    n_new, n_all = q.shape[1], k.shape[1]
    scores = einops.einsum(q, k, "b q h d, b k h d -> b h q k") / math.sqrt(q.shape[-1])
    future = torch.ones(n_new, n_all, dtype=torch.bool, device=q.device).triu(n_all - n_new + 1)
    pattern = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
    return einops.einsum(pattern, v, "b h q k, b k h d -> b q h d")


@dataclass(frozen=True)
class LayerCache:
    """One layer's entry of a `KVCache`: what `Attention.forward(x, cache)` appends its new keys and values to."""

    cache: Cache
    layer: int

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        return self.cache.append(self.layer, k, v)


def takes_a_cache(model: nn.Module) -> bool:
    """Whether every block of `model` passes a key-value cache to its attention (the library's blocks do)."""
    blocks = getattr(model, "blocks", [])
    return len(blocks) > 0 and all("cache" in inspect.signature(block.forward).parameters for block in blocks)


def forward_with_cache(model: LogitsModel, tokens: Int[Tensor, "batch new_pos"], cache: Cache) -> Tensor:
    """Logits [batch, new_pos, d_vocab] for `tokens`, which follow the `cache.length` positions already in `cache`:
    the model's own parts run on the new positions alone, embedded at positions `cache.length` onwards, and each
    block's attention appends its keys and values to the cache and reads all of them."""
    cfg = model.cfg
    start, n_new = cache.length, tokens.shape[1]
    if start + n_new > cfg.n_ctx:
        raise ValueError(f"{start} cached + {n_new} new positions exceed the context n_ctx={cfg.n_ctx}")
    if not takes_a_cache(model):
        raise ValueError(
            "this model's blocks take no cache (a model built from your own chapter 3 parts): sample it with your "
            "own cached forward, generate(..., use_cache=True, forward=forward_with_cache) (exercise 5b.9)"
        )
    resid = model.embed(tokens)  # [batch, new_pos, d_model]
    if cfg.positional_embedding != "none":
        resid = resid + model.pos_embed.W_pos[start : start + n_new]  # the positions after the cached ones
    for layer, block in enumerate(model.blocks):
        resid = block(resid, cache=LayerCache(cache, layer))
    return model.unembed(model.ln_final(resid))
