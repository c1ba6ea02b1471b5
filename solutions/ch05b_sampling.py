"""Chapter 5b, "Sampling and generation": reference solutions."""

import math

import einops
import torch
import torch.nn.functional as F
from jaxtyping import Bool, Float, Int
from torch import Tensor


def top_k_logits(logits: Float[Tensor, "... d_vocab"], k: int) -> Float[Tensor, "... d_vocab"]:
    """Keep the `k` largest logits of each distribution (a tie with the k-th largest is kept too) and set every other
    logit to -inf, so that the softmax gives it probability 0. `k` below 1 is a ValueError.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"top_k must be a positive integer, got {k!r}")
    k = min(k, logits.shape[-1])
    kth_largest = logits.topk(k, dim=-1).values[..., -1:]  # [..., 1]: the smallest logit that survives
    return logits.masked_fill(logits < kth_largest, float("-inf"))


def top_p_logits(logits: Float[Tensor, "... d_vocab"], p: float) -> Float[Tensor, "... d_vocab"]:
    """Nucleus (top-p) filtering: keep the fewest most-likely tokens whose probabilities add up to at least `p` —
    including the token whose probability takes the total across `p` — and set every other logit to -inf.
    `p` outside (0, 1] is a ValueError.
    """
    if not 0 < p <= 1:
        raise ValueError(f"top_p must lie in (0, 1], got {p!r}")
    probs = logits.softmax(dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True)  # most likely first
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs  # the mass of the tokens ranked above each token
    drop_sorted = mass_before >= p  # p was reached before this token: it is not needed
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)  # undo the sort
    return logits.masked_fill(drop, float("-inf"))


def frequency_penalty(
    logits: Float[Tensor, "batch d_vocab"], tokens: Int[Tensor, "batch pos"], alpha: float
) -> Float[Tensor, "batch d_vocab"]:
    """Lower the logit of every token by `alpha` times the number of times it occurs in its own sequence of
    `tokens` (row b of `tokens` penalises row b of `logits`).
    """
    counts = torch.stack([torch.bincount(row, minlength=logits.shape[-1]) for row in tokens])  # [batch, d_vocab]
    return logits - alpha * counts.to(logits.dtype)


def sampling_probs(
    logits: Float[Tensor, "... d_vocab"], temperature: float, top_k: int | None = None, top_p: float | None = None
) -> Float[Tensor, "... d_vocab"]:
    """The distribution the next token is drawn from. In this order: divide the logits by the temperature, keep
    the top k (if `top_k` is given), keep the nucleus of mass p of what is left (if `top_p` is given), softmax.

    Temperature 0 is greedy decoding: all the probability on the largest logit (the first, on a tie). A negative
    temperature is a ValueError.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")
    if temperature == 0:
        return F.one_hot(logits.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
    logits = logits / temperature  # first: top-p must see the distribution that is sampled
    if top_k is not None:
        logits = top_k_logits(logits, top_k)
    if top_p is not None:
        logits = top_p_logits(logits, top_p)
    return logits.softmax(dim=-1)


@torch.no_grad()
def beam_search(model, prompt: Int[Tensor, "pos"], n_beams: int, max_new_tokens: int) -> Int[Tensor, "pos_plus_new"]:
    """The continuation of `prompt` with the highest total log-probability that beam search finds. Start with one
    beam, the prompt. At each step extend every beam by every token, score each candidate by the sum of its new
    tokens' log-probabilities, and keep the `n_beams` best candidates across all beams (best first). Return the
    best beam: prompt and `max_new_tokens` new tokens. `n_beams` below 1 is a ValueError.
    """
    if not isinstance(n_beams, int) or n_beams < 1:
        raise ValueError(f"n_beams must be a positive integer, got {n_beams!r}")
    beams = prompt[None]  # [beam, pos]
    scores = torch.zeros(1, device=prompt.device)  # [beam]: total log-probability of each beam's new tokens
    for _ in range(max_new_tokens):
        logprobs = model(beams)[:, -1].log_softmax(dim=-1)  # [beam, d_vocab]
        beams, scores = beams.to(logprobs.device), scores.to(logprobs.device)  # the model may sit on a GPU
        d_vocab = logprobs.shape[-1]
        candidate_scores = (scores[:, None] + logprobs).flatten()  # [beam * d_vocab]: every beam, every token
        scores, index = candidate_scores.topk(min(n_beams, len(candidate_scores)))
        parent, token = index // d_vocab, index % d_vocab  # which beam each survivor extends, and with what
        beams = torch.cat([beams[parent], token[:, None]], dim=-1)
    return beams[0]


def attend_with_cache(
    q: Float[Tensor, "batch new_pos head_index d_head"],
    k: Float[Tensor, "batch all_pos head_index d_head"],
    v: Float[Tensor, "batch all_pos head_index d_head"],
) -> Float[Tensor, "batch new_pos head_index d_head"]:
    """Causal attention for the last `new_pos` positions of a sequence whose keys and values for all `all_pos`
    positions (the cached ones, then the new ones) are `k` and `v`. Query i is at position
    all_pos - new_pos + i: it may attend to every key up to that position, and to none after it.
    """
    n_new, n_all = q.shape[1], k.shape[1]
    scores = einops.einsum(
        q, k, "batch query_pos head_index d_head, batch key_pos head_index d_head -> batch head_index query_pos key_pos"
    ) / math.sqrt(q.shape[-1])
    query_position = torch.arange(n_all - n_new, n_all, device=q.device)[:, None]  # [new_pos, 1]: where each query sits
    key_position = torch.arange(n_all, device=q.device)[None, :]  # [1, all_pos]
    scores = scores.masked_fill(key_position > query_position, float("-inf"))
    pattern = scores.softmax(dim=-1)
    return einops.einsum(
        pattern,
        v,
        "batch head_index query_pos key_pos, batch key_pos head_index d_head -> batch query_pos head_index d_head",
    )


def banned_tokens(beams: Int[Tensor, "beam pos"], n: int, d_vocab: int) -> Bool[Tensor, "beam d_vocab"]:
    """Repeat blocking: True at [b, t] when appending token t to beam b would repeat an n-gram (n consecutive
    tokens) that beam b already holds, its prompt included — that is, when the beam's last n - 1 tokens, followed
    by t, already occur in it. A beam shorter than n holds no n-gram yet. `n` below 1 is a ValueError.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"no_repeat_ngram_size must be a positive integer, got {n!r}")
    banned = torch.zeros(len(beams), d_vocab, dtype=torch.bool, device=beams.device)
    for b, beam in enumerate(beams.tolist()):
        tail = beam[len(beam) - n + 1 :] if n > 1 else []  # the last n - 1 tokens: how a new n-gram would start
        for start in range(len(beam) - n + 1):  # every n-gram the beam already holds
            if beam[start : start + n - 1] == tail:
                banned[b, beam[start + n - 1]] = True  # the token that completed it would repeat it
    return banned


@torch.no_grad()
def beam_search_sequences(
    model,
    prompt: Int[Tensor, "pos"],
    n_beams: int,
    max_new_tokens: int,
    num_return_sequences: int = 1,
    eos_token: int | None = None,
    no_repeat_ngram_size: int | None = None,
) -> Int[Tensor, "sequence pos_plus_new"]:
    """The `num_return_sequences` best sequences beam search finds, best first, ranked by the total log-probability
    of their new tokens (no length penalty). As in `beam_search`, each step extends every live beam by every token
    and keeps the `n_beams` best candidates across all beams, but:
    - with `no_repeat_ngram_size`, the tokens `banned_tokens` names for a beam get log-probability -inf first;
    - a kept candidate that ends at `eos_token` is finished: set it aside (with its score) and do not extend it;
      the other kept candidates are the next step's live beams;
    - stop after `max_new_tokens` steps or when no beam is live; then rank the finished and the live beams
      together and return the best `num_return_sequences`, each padded after its end with `eos_token` to
      len(prompt) + max_new_tokens.
    `n_beams` below 1, or `num_return_sequences` outside [1, n_beams], is a ValueError.
    """
    if not isinstance(n_beams, int) or n_beams < 1:
        raise ValueError(f"n_beams must be a positive integer, got {n_beams!r}")
    if not isinstance(num_return_sequences, int) or not 1 <= num_return_sequences <= n_beams:
        raise ValueError(f"num_return_sequences must lie in [1, n_beams={n_beams}], got {num_return_sequences!r}")
    beams = prompt[None]  # [beam, pos]: the live beams
    scores = torch.zeros(1, device=prompt.device)  # [beam]: total log-probability of each beam's new tokens
    finished = []  # (score, sequence) of every beam that reached eos_token
    for _ in range(max_new_tokens):
        if len(beams) == 0:  # every beam has finished
            break
        logprobs = model(beams)[:, -1].log_softmax(dim=-1)  # [beam, d_vocab]
        beams, scores = beams.to(logprobs.device), scores.to(logprobs.device)  # the model may sit on a GPU
        d_vocab = logprobs.shape[-1]
        if no_repeat_ngram_size is not None:
            logprobs = logprobs.masked_fill(banned_tokens(beams, no_repeat_ngram_size, d_vocab), float("-inf"))
        candidate_scores = (scores[:, None] + logprobs).flatten()  # [beam * d_vocab]
        n_kept = min(n_beams, int(candidate_scores.isfinite().sum()))  # a blocked token is no candidate
        kept_scores, index = candidate_scores.topk(n_kept)  # best first
        parent, token = index // d_vocab, index % d_vocab
        extended = torch.cat([beams[parent], token[:, None]], dim=-1)
        is_finished = token == eos_token if eos_token is not None else torch.zeros_like(token, dtype=torch.bool)
        for score, sequence in zip(kept_scores[is_finished].tolist(), extended[is_finished], strict=True):
            finished.append((score, sequence))
        beams, scores = extended[~is_finished], kept_scores[~is_finished]
    ranked = sorted(finished + list(zip(scores.tolist(), beams, strict=True)), key=lambda pair: pair[0], reverse=True)
    length = len(prompt) + max_new_tokens
    fill = eos_token if eos_token is not None else 0
    return torch.stack([F.pad(seq, (0, length - len(seq)), value=fill) for _, seq in ranked[:num_return_sequences]])


def forward_with_cache(model, tokens: Int[Tensor, "batch new_pos"], cache) -> Float[Tensor, "batch new_pos d_vocab"]:
    """The logits of `model` (your chapter 4 `DemoTransformer`, learned positions) for `tokens`, the `new_pos`
    positions that follow the `cache.length` positions whose keys and values `cache` already holds — the same
    logits as `model` gives these positions when it reads the whole sequence. Run each of the model's own parts
    (`embed`, `blocks[i].ln1`, `.ln2`, `.mlp`, `ln_final`, `unembed`), but do attention here: each layer's new keys
    and values go into the cache with `cache.append(layer, k, v)`, which returns that layer's keys and values for
    every position so far, and `attend_with_cache` (exercise 5b.6) lets the new queries read them.
    """
    start, n_new = cache.length, tokens.shape[1]  # read before any layer appends: where the new tokens sit
    resid = model.embed(tokens) + model.pos_embed.W_pos[start : start + n_new]  # positions start … start + n_new - 1
    for layer, block in enumerate(model.blocks):
        attn, x = block.attn, block.ln1(resid)
        q, k, v = (
            einops.einsum(x, W, "batch pos d_model, head_index d_model d_head -> batch pos head_index d_head") + b
            for W, b in ((attn.W_Q, attn.b_Q), (attn.W_K, attn.b_K), (attn.W_V, attn.b_V))
        )
        all_k, all_v = cache.append(layer, k, v)  # [batch, start + n_new, head_index, d_head]
        z = attend_with_cache(q, all_k, all_v)
        resid = (
            resid
            + einops.einsum(z, attn.W_O, "batch pos head_index d_head, head_index d_head d_model -> batch pos d_model")
            + attn.b_O
        )
        if not model.cfg.attn_only:
            resid = resid + block.mlp(block.ln2(resid))
    return model.unembed(model.ln_final(resid))


class KVCache:
    """A key-value cache for a model whose context is `n_ctx` positions: for each layer, the keys and the values of
    every position seen so far, [batch, pos, head_index, d_head] each. `length` is the number of positions cached,
    which is the position of the next token.
    """

    def __init__(self, n_ctx: int):
        self.n_ctx = n_ctx
        self.keys: list[Tensor] = []  # keys[layer]: [batch, pos, head_index, d_head]
        self.values: list[Tensor] = []  # values[layer]: the same shape

    @property
    def length(self) -> int:
        """The number of positions cached (0 for an empty cache)."""
        return self.keys[0].shape[1] if self.keys else 0

    def append(
        self,
        layer: int,
        k: Float[Tensor, "batch new_pos head_index d_head"],
        v: Float[Tensor, "batch new_pos head_index d_head"],
    ) -> tuple[Float[Tensor, "batch all_pos head_index d_head"], Float[Tensor, "batch all_pos head_index d_head"]]:
        """Keep the new positions' keys `k` and values `v` of `layer` after the ones cached before (a forward appends
        to layers 0, 1, … in turn), and return that layer's keys and values for every position so far. Growing past
        `n_ctx` positions is a ValueError (one line), and leaves the cache as it was.
        """
        cached = self.keys[layer].shape[1] if layer < len(self.keys) else 0
        if cached + k.shape[1] > self.n_ctx:
            raise ValueError(f"{cached} cached + {k.shape[1]} new positions exceed the context n_ctx={self.n_ctx}")
        if layer == len(self.keys):  # the first positions this layer sees
            self.keys.append(k)
            self.values.append(v)
        else:  # after the cached positions: along pos, dim 1
            self.keys[layer] = torch.cat([self.keys[layer], k], dim=1)
            self.values[layer] = torch.cat([self.values[layer], v], dim=1)
        return self.keys[layer], self.values[layer]
