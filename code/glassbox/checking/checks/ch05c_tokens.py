"""Checks for chapter 5c, "Tokens": counting adjacent pairs, merging a pair, and learning BPE merges. Each names
the mistakes a learner is likely to make (a transposed count, overlapping matches, counts never recomputed)."""

import torch

from glassbox import bpe
from glassbox.checking.judge import Case, Exercise


def _ids(n: int, d_vocab: int, seed: int) -> torch.Tensor:
    return torch.randint(0, d_vocab, (n,), generator=torch.Generator().manual_seed(seed))


def _text_ids(text: str) -> torch.Tensor:
    return torch.tensor([ord(c) - ord("a") if c != " " else 26 for c in text])  # a-z → 0-25, space → 26


# ------------------------------------------------------------------------------------------------ pair counts
def _count_cases() -> list[Case]:
    return [
        Case("40 random tokens of 5", (_ids(40, 5, 0), 5)),
        Case("a sequence with repeats, d_vocab 27", (_text_ids("the cat sat on the mat"), 27)),
        Case("one token (no pairs)", (torch.tensor([3]), 4)),
        Case("a vocabulary larger than the tokens used", (_ids(12, 3, 1), 9)),
    ]


def _transposed(ids, d_vocab):
    return bpe.pair_counts(ids, d_vocab).T


def _last_pair_missed(ids, d_vocab):
    return bpe.pair_counts(ids[:-1], d_vocab)


def _wraps_around(ids, d_vocab):
    return bpe.pair_counts(torch.cat([ids, ids[:1]]), d_vocab)


# ------------------------------------------------------------------------------------------------ merge a pair
def _merge_cases() -> list[Case]:
    return [
        Case("'the cat sat on the mat', merge (t, h)", (_text_ids("the cat sat on the mat"), (19, 7), 27)),
        Case("a run a a a a a: no overlapping matches", (torch.tensor([0, 0, 0, 0, 0, 1]), (0, 0), 2)),
        Case("the pair at the very end", (torch.tensor([2, 1, 3, 2, 1]), (2, 1), 4)),
        Case("a pair that never occurs", (torch.tensor([1, 2, 3]), (3, 1), 4)),
        Case("a single token", (torch.tensor([5]), (5, 5), 6)),
    ]


def _overlapping(ids, pair, new_id):
    first, second = pair
    starts = ((ids[:-1] == first) & (ids[1:] == second)).nonzero().flatten()
    out = ids.clone()
    out[starts] = new_id
    keep = torch.ones_like(ids, dtype=torch.bool)
    keep[starts + 1] = False
    keep[starts] = True
    return out[keep]


def _drops_last(ids, pair, new_id):
    merged = bpe.merge_pair(ids, pair, new_id)
    ends_with_pair = len(ids) > 1 and tuple(ids[-2:].tolist()) == tuple(pair)
    return merged if ends_with_pair else merged[:-1]


def _first_only(ids, pair, new_id):
    starts = ((ids[:-1] == pair[0]) & (ids[1:] == pair[1])).nonzero().flatten()
    if len(starts) == 0:
        return ids.clone()
    s = int(starts[0])
    return torch.cat([ids[:s], torch.tensor([new_id]), ids[s + 2 :]])


# ------------------------------------------------------------------------------------------------ learn merges
def _learn_cases() -> list[Case]:
    return [
        Case("'the cat sat on the mat' twice, 6 merges", (_text_ids("the cat sat on the mat " * 2), 6, 27)),
        Case("random tokens of 4, 5 merges", (_ids(60, 4, 2), 5, 4)),
        Case("a run of one token, 3 merges (merges of merges)", (torch.zeros(16, dtype=torch.long), 3, 1)),
        Case("0 merges", (_ids(10, 3, 3), 0, 3)),
        Case("-1 merges (a ValueError)", (_ids(10, 3, 3), -1, 3)),
    ]


def _counts_never_recomputed(ids, n_merges, d_vocab):
    if n_merges < 0:
        raise ValueError("n_merges")
    top = bpe.pair_counts(ids, d_vocab).flatten().topk(n_merges).indices
    return torch.stack([top // d_vocab, top % d_vocab], dim=1)


def _same_new_id(ids, n_merges, d_vocab):
    if n_merges < 0:
        raise ValueError("n_merges")
    merges = torch.zeros(n_merges, 2, dtype=torch.long)
    vocab = d_vocab + 1
    for i in range(n_merges):
        best = int(bpe.pair_counts(ids, vocab).flatten().argmax())
        merges[i] = torch.tensor([best // vocab, best % vocab])
        ids = bpe.merge_pair(ids, (best // vocab, best % vocab), d_vocab)
    return merges


EXERCISES = [
    Exercise(
        name="pair_counts",
        module="ch05c_tokens",
        cases=_count_cases,
        mistakes={
            "counts[a, b] counts b after a: your matrix is transposed": _transposed,
            "the last pair (ids[-2], ids[-1]) was not counted": _last_pair_missed,
            "the sequence does not wrap around: there is no pair (ids[-1], ids[0])": _wraps_around,
        },
        agrees_with={"glassbox.bpe.pair_counts": bpe.pair_counts},
    ),
    Exercise(
        name="merge_pair",
        module="ch05c_tokens",
        cases=_merge_cases,
        mistakes={
            "matches must not overlap: after replacing a pair, continue after its second token": _overlapping,
            "the last token was lost: copy the token at the end when it is not part of a pair": _drops_last,
            "replace every occurrence of the pair, not only the first": _first_only,
        },
        agrees_with={"glassbox.bpe.merge_pair": bpe.merge_pair},
    ),
    Exercise(
        name="learn_merges",
        module="ch05c_tokens",
        cases=_learn_cases,
        mistakes={
            "count the pairs again after every merge: a merge changes which pairs are frequent": (
                _counts_never_recomputed
            ),
            "each merge makes a new token, d_vocab + i: the ids must not be reused": _same_new_id,
        },
        agrees_with={"glassbox.bpe.learn_merges": bpe.learn_merges},
    ),
]
