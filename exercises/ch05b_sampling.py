"""Chapter 5b, "Sampling and generation": exercise stubs (fill in each body)."""

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
    raise NotImplementedError()


def top_p_logits(logits: Float[Tensor, "... d_vocab"], p: float) -> Float[Tensor, "... d_vocab"]:
    """Nucleus (top-p) filtering: keep the fewest most-likely tokens whose probabilities add up to at least `p` —
    including the token whose probability takes the total across `p` — and set every other logit to -inf.
    `p` outside (0, 1] is a ValueError.
    """
    raise NotImplementedError()


def frequency_penalty(
    logits: Float[Tensor, "batch d_vocab"], tokens: Int[Tensor, "batch pos"], alpha: float
) -> Float[Tensor, "batch d_vocab"]:
    """Lower the logit of every token by `alpha` times the number of times it occurs in its own sequence of
    `tokens` (row b of `tokens` penalises row b of `logits`).
    """
    raise NotImplementedError()


def sampling_probs(
    logits: Float[Tensor, "... d_vocab"], temperature: float, top_k: int | None = None, top_p: float | None = None
) -> Float[Tensor, "... d_vocab"]:
    """The distribution the next token is drawn from. In this order: divide the logits by the temperature, keep
    the top k (if `top_k` is given), keep the nucleus of mass p of what is left (if `top_p` is given), softmax.

    Temperature 0 is greedy decoding: all the probability on the largest logit (the first, on a tie). A negative
    temperature is a ValueError.
    """
    raise NotImplementedError()


@torch.no_grad()
def beam_search(model, prompt: Int[Tensor, "pos"], n_beams: int, max_new_tokens: int) -> Int[Tensor, "pos_plus_new"]:
    """The continuation of `prompt` with the highest total log-probability that beam search finds. Start with one
    beam, the prompt. At each step extend every beam by every token, score each candidate by the sum of its new
    tokens' log-probabilities, and keep the `n_beams` best candidates across all beams (best first). Return the
    best beam: prompt and `max_new_tokens` new tokens. `n_beams` below 1 is a ValueError.
    """
    raise NotImplementedError()


def attend_with_cache(
    q: Float[Tensor, "batch new_pos head_index d_head"],
    k: Float[Tensor, "batch all_pos head_index d_head"],
    v: Float[Tensor, "batch all_pos head_index d_head"],
) -> Float[Tensor, "batch new_pos head_index d_head"]:
    """Causal attention for the last `new_pos` positions of a sequence whose keys and values for all `all_pos`
    positions (the cached ones, then the new ones) are `k` and `v`. Query i is at position
    all_pos - new_pos + i: it may attend to every key up to that position, and to none after it.
    """
    raise NotImplementedError()
