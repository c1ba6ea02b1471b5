"""Chapter 5c, "Tokens": reference solutions."""

import torch
from jaxtyping import Int
from torch import Tensor


def pair_counts(ids: Int[Tensor, "n"], d_vocab: int) -> Int[Tensor, "d_vocab d_vocab"]:
    """counts[a, b] is how often token b comes directly after token a in `ids` (an int64 matrix)."""
    counts = torch.zeros(d_vocab, d_vocab, dtype=torch.long, device=ids.device)
    firsts, seconds = ids[:-1], ids[1:]  # every adjacent pair: (ids[i], ids[i + 1])
    counts.index_put_((firsts, seconds), torch.ones_like(firsts), accumulate=True)
    return counts


def merge_pair(ids: Int[Tensor, "n"], pair: tuple[int, int], new_id: int) -> Int[Tensor, "m"]:
    """Replace each occurrence of `pair` in `ids` by the single token `new_id`, scanning from left to right; a
    pair that overlaps the one just replaced is not a match (a a a with pair (a, a) becomes new_id a).
    """
    out, i = [], 0
    tokens = ids.tolist()
    while i < len(tokens):
        if i + 1 < len(tokens) and (tokens[i], tokens[i + 1]) == tuple(pair):
            out.append(new_id)
            i += 2  # both tokens of the pair are used up
        else:
            out.append(tokens[i])
            i += 1
    return torch.tensor(out, dtype=ids.dtype, device=ids.device)


def learn_merges(ids: Int[Tensor, "n"], n_merges: int, d_vocab: int) -> Int[Tensor, "n_merges 2"]:
    """Learn `n_merges` BPE merges on `ids` (tokens 0 … d_vocab - 1). Merge i: count the adjacent pairs, take the
    most frequent (on a tie the smallest (first, second) — the first maximum of the flattened counts), record it
    as row i, and replace it everywhere by the new token d_vocab + i before counting again. A negative `n_merges`
    is a ValueError.
    """
    if not isinstance(n_merges, int) or n_merges < 0:
        raise ValueError(f"n_merges must be a non-negative integer, got {n_merges!r}")
    merges = []
    for i in range(n_merges):
        vocab = d_vocab + i  # the tokens that exist so far
        counts = pair_counts(ids, vocab)
        best = int(counts.flatten().argmax())  # the first maximum: smallest first id, then smallest second id
        pair = (best // vocab, best % vocab)
        merges.append(pair)
        ids = merge_pair(ids, pair, vocab)  # the new token's id is the old vocabulary size
    return torch.tensor(merges, dtype=torch.long).reshape(n_merges, 2)
