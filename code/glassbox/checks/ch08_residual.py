"""Checks for chapter 8, "The residual stream": cosine similarity between snapshots, participation ratio."""

import torch
import torch.nn.functional as F

from glassbox.analysis import neurons, residual
from glassbox.judge import Case, Exercise


def _randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _cosine_cases() -> list[Case]:
    a = _randn(3, 5, 8, seed=0)
    return [
        Case("two random streams", (a, _randn(3, 5, 8, seed=1))),
        Case("a stream and a scaled, slightly changed copy", (a, 3 * a + 0.3 * _randn(3, 5, 8, seed=2))),
        Case(
            "orthogonal vectors (similarity 0) and opposite ones (−1)",
            (torch.tensor([[[1.0, 0.0], [0.0, 2.0]]]), torch.tensor([[[0.0, 5.0], [0.0, -1.0]]])),
        ),
    ]


def _ratio_cases() -> list[Case]:
    three_equal = torch.zeros(6, 5)
    three_equal[[0, 1, 2], [0, 1, 2]] = 1.0
    three_equal[[3, 4, 5], [0, 1, 2]] = -1.0  # centred already; variance 2 along each of three axes
    offset = _randn(200, 4, seed=3) @ torch.diag(torch.tensor([3.0, 1.0, 0.5, 0.1])) + 10.0
    return [
        Case("random samples in 6 dimensions", (_randn(50, 6, seed=0),)),
        Case("three directions with equal variance (ratio 3)", (three_equal,)),
        Case("unequal variances far from the origin (centre first)", (offset,)),
    ]


def _unnormalised(a, b):
    return (a * b).sum(-1).mean()


def _along_positions(a, b):
    return F.cosine_similarity(a, b, dim=1).mean()


def _uncentred(x):
    variances = torch.linalg.svdvals(x) ** 2
    return variances.sum() ** 2 / (variances**2).sum()


def _singular_values_as_variances(x):
    s = torch.linalg.svdvals(x - x.mean(0))
    return s.sum() ** 2 / (s**2).sum()


def _library_ratio(x):
    return torch.tensor(residual.participation_ratio(x))


def _top_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(8)
    signed = torch.randn(4, 7, generator=generator)
    signed[2, 5] = -9.0  # the largest magnitude is negative: it is not among the largest activations
    return [
        Case("4 sequences of 7 positions, top 3 (one large negative value)", (signed, 3)),
        Case("6 sequences of 3 positions, top 5", (torch.randn(6, 3, generator=generator), 5)),
        Case("one sequence of 9 positions, top 1", (torch.randn(1, 9, generator=generator), 1)),
    ]


def _top_library(acts, k):
    top = neurons.top_activations(acts[..., None], 0, k)
    return torch.stack([top.batch, top.pos], dim=1)


def _top_wrong_divisor(acts, k):
    top = acts.flatten().topk(k).indices
    return torch.stack([top // acts.shape[0], top % acts.shape[0]], dim=1)


def _top_magnitude(acts, k):
    top = acts.flatten().abs().topk(k).indices
    return torch.stack([top // acts.shape[1], top % acts.shape[1]], dim=1)


def _top_smallest(acts, k):
    top = acts.flatten().topk(k, largest=False).indices
    return torch.stack([top // acts.shape[1], top % acts.shape[1]], dim=1)


def _top_per_sequence(acts, k):
    best = acts.max(dim=1)
    order = best.values.topk(min(k, len(acts))).indices
    pairs = torch.stack([order, best.indices[order]], dim=1)
    return torch.cat([pairs, pairs[-1:].expand(k - len(pairs), 2)]) if len(pairs) < k else pairs


EXERCISES = [
    Exercise(
        name="mean_cosine_similarity",
        module="ch08_residual",
        cases=_cosine_cases,
        mistakes={
            "normalise each vector by its own length: cosine similarity ignores the scale": _unnormalised,
            "compare along d_model (the last dimension), one similarity per batch item and position": _along_positions,
        },
        agrees_with={"glassbox.analysis.residual.mean_cosine_similarity": residual.mean_cosine_similarity},
    ),
    Exercise(
        name="participation_ratio",
        module="ch08_residual",
        cases=_ratio_cases,
        mistakes={
            "centre the samples first (subtract their mean), or a constant offset counts as a direction": _uncentred,
            "λ are variances, the squares of the singular values": _singular_values_as_variances,
        },
        agrees_with={"glassbox.analysis.residual.participation_ratio": _library_ratio},
        rtol=1e-4,
    ),
    Exercise(
        name="top_activating_positions",
        module="ch08_residual",
        cases=_top_cases,
        mistakes={
            "flat entry i is sequence i // n_pos, position i % n_pos (n_pos = acts.shape[1])": _top_wrong_divisor,
            "the largest activations, not the largest magnitudes: a strongly negative neuron is not firing": (
                _top_magnitude
            ),
            "topk gives the largest by default: largest=False picks where the neuron is most silent": _top_smallest,
            "rank every (sequence, position), not only each sequence's best: one sequence can hold several": (
                _top_per_sequence
            ),
        },
        agrees_with={"glassbox.analysis.neurons.top_activations": _top_library},
    ),
]
