"""Chapter 5c, "Tokens": exercise stubs (fill in each body)."""

import torch
from jaxtyping import Int
from torch import Tensor


def pair_counts(ids: Int[Tensor, "n"], d_vocab: int) -> Int[Tensor, "d_vocab d_vocab"]:
    """counts[a, b] is how often token b comes directly after token a in `ids` (an int64 matrix)."""
    raise NotImplementedError()


def merge_pair(ids: Int[Tensor, "n"], pair: tuple[int, int], new_id: int) -> Int[Tensor, "m"]:
    """Replace each occurrence of `pair` in `ids` by the single token `new_id`, scanning from left to right; a
    pair that overlaps the one just replaced is not a match (a a a with pair (a, a) becomes new_id a).
    """
    raise NotImplementedError()


def learn_merges(ids: Int[Tensor, "n"], n_merges: int, d_vocab: int) -> Int[Tensor, "n_merges 2"]:
    """Learn `n_merges` BPE merges on `ids` (tokens 0 … d_vocab - 1). Merge i: count the adjacent pairs, take the
    most frequent (on a tie the smallest (first, second) — the first maximum of the flattened counts), record it
    as row i, and replace it everywhere by the new token d_vocab + i before counting again. A negative `n_merges`
    is a ValueError.
    """
    raise NotImplementedError()
