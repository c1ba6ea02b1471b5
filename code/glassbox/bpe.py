"""Byte-pair encoding on characters (chapter 5c): `pair_counts`, `merge_pair`, `learn_merges`, `BPETokenizer`,
`train_bpe`, and `gpt2_tokenizer` (GPT-2's own tokenizer where it can be had, None and why where it cannot).

The base vocabulary is chapter 5's characters (`glassbox.data.CharTokenizer`); merge i joins two existing tokens
into token `base + i`. There is no pre-splitting into words (GPT-2 splits on a regular expression first), so a
merge may join the end of one word, a space and the start of the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from jaxtyping import Int
from torch import Tensor

from glassbox.data import CharTokenizer


def pair_counts(ids: Int[Tensor, "n"], d_vocab: int) -> Int[Tensor, "d_vocab d_vocab"]:
    """counts[a, b]: how often token b directly follows token a in `ids`."""
    flat = torch.bincount(ids[:-1] * d_vocab + ids[1:], minlength=d_vocab * d_vocab)
    return flat.view(d_vocab, d_vocab)


def merge_pair(ids: Int[Tensor, "n"], pair: tuple[int, int], new_id: int) -> Int[Tensor, "m"]:
    """Replace every occurrence of `pair` in `ids`, scanning left to right without overlaps, by `new_id`."""
    first, second = pair
    starts = ((ids[:-1] == first) & (ids[1:] == second)).nonzero().flatten()
    if first == second and len(starts) > 1:  # a run such as a a a: keep a match only if it does not overlap the last
        kept, last = [], -2
        for start in starts.tolist():
            if start > last + 1:
                kept.append(start)
                last = start
        starts = torch.tensor(kept, dtype=torch.long)
    out = ids.clone()
    out[starts] = new_id
    keep = torch.ones_like(ids, dtype=torch.bool)
    keep[starts + 1] = False
    return out[keep]


def learn_merges(ids: Int[Tensor, "n"], n_merges: int, d_vocab: int) -> Int[Tensor, "n_merges 2"]:
    """The `n_merges` merges BPE learns from `ids`: each time the most frequent adjacent pair (on a tie, the smallest
    (first, second)) becomes token `d_vocab + i` and replaces the pair everywhere before the next count."""
    if not isinstance(n_merges, int) or n_merges < 0:
        raise ValueError(f"n_merges must be a non-negative integer, got {n_merges!r}")
    merges = torch.zeros(n_merges, 2, dtype=torch.long)
    for i in range(n_merges):
        vocab = d_vocab + i
        best = int(pair_counts(ids, vocab).flatten().argmax())
        merges[i] = torch.tensor([best // vocab, best % vocab])
        ids = merge_pair(ids, (best // vocab, best % vocab), vocab)
    return merges


@dataclass(frozen=True)
class BPETokenizer:
    """Characters, then merges applied in the order they were learned."""

    chars: CharTokenizer
    merges: Tensor  # [n_merges, 2]: merge i makes token chars.d_vocab + i

    @property
    def d_vocab(self) -> int:
        return self.chars.d_vocab + len(self.merges)

    def encode(self, text: str) -> Int[Tensor, "pos"]:
        ids = self.chars.encode(text)
        for i, (first, second) in enumerate(self.merges.tolist()):
            ids = merge_pair(ids, (first, second), self.chars.d_vocab + i)
        return ids

    def token_str(self, token: int) -> str:
        """The text of one token."""
        if token < self.chars.d_vocab:
            return self.chars.chars[token]
        first, second = self.merges[token - self.chars.d_vocab].tolist()
        return self.token_str(first) + self.token_str(second)

    def decode(self, tokens: Int[Tensor, "pos"]) -> str:
        return "".join(self.token_str(t) for t in tokens.tolist())

    def str_tokens(self, text: str) -> list[str]:
        """The pieces `text` is cut into."""
        return [self.token_str(t) for t in self.encode(text).tolist()]


def train_bpe(text: str, n_merges: int, chars: CharTokenizer | None = None) -> BPETokenizer:
    """Learn `n_merges` merges on `text`, starting from `chars` (by default the characters of `text`)."""
    chars = chars or CharTokenizer.from_text(text)
    return BPETokenizer(chars, learn_merges(chars.encode(text), n_merges, chars.d_vocab))


def gpt2_tokenizer(model_name: str | None = None) -> tuple[Any | None, str]:
    """GPT-2's tokenizer (or `model_name`'s: a hub id or a saved folder) and where it came from, or (None, why not)
    — decided by `glassbox.pretrained.find_gpt2`, which never waits long on the network (at once with
    HF_HUB_OFFLINE=1)."""
    from glassbox.pretrained import GPT2, find_gpt2

    source = find_gpt2(model_name or GPT2)
    if not source.available:
        return None, source.reason
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(source.path), source.reason
