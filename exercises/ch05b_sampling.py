"""Chapter 5b, "Sampling and generation": exercise stubs (fill in each body)."""

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


def banned_tokens(beams: Int[Tensor, "beam pos"], n: int, d_vocab: int) -> Bool[Tensor, "beam d_vocab"]:
    """Repeat blocking: True at [b, t] when appending token t to beam b would repeat an n-gram (n consecutive
    tokens) that beam b already holds, its prompt included — that is, when the beam's last n - 1 tokens, followed
    by t, already occur in it. A beam shorter than n holds no n-gram yet. `n` below 1 is a ValueError.
    """
    raise NotImplementedError()


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
    raise NotImplementedError()


def forward_with_cache(model, tokens: Int[Tensor, "batch new_pos"], cache) -> Float[Tensor, "batch new_pos d_vocab"]:
    """The logits of `model` (your chapter 4 `DemoTransformer`, learned positions) for `tokens`, the `new_pos`
    positions that follow the `cache.length` positions whose keys and values `cache` already holds — the same
    logits as `model` gives these positions when it reads the whole sequence. Run each of the model's own parts
    (`embed`, `blocks[i].ln1`, `.ln2`, `.mlp`, `ln_final`, `unembed`), but do attention here: each layer's new keys
    and values go into the cache with `cache.append(layer, k, v)`, which returns that layer's keys and values for
    every position so far, and `attend_with_cache` (exercise 5b.6) lets the new queries read them.
    """
    raise NotImplementedError()


class KVCache:
    """A key-value cache for a model whose context is `n_ctx` positions: for each layer, the keys and the values of
    every position seen so far, [batch, pos, head_index, d_head] each. `length` is the number of positions cached,
    which is the position of the next token.
    """

    def __init__(self, n_ctx: int):
        raise NotImplementedError()

    @property
    def length(self) -> int:
        """The number of positions cached (0 for an empty cache)."""
        raise NotImplementedError()

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
        raise NotImplementedError()
