"""Chapter 5b, "Sampling and generation": reference solutions."""

import math

import einops
import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
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
