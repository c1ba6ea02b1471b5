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


def _write_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(8)

    def case(batch: int, pos: int, n_neurons: int, d_model: int) -> tuple:
        return torch.randn(batch, pos, n_neurons, generator=generator), torch.randn(
            n_neurons, d_model, generator=generator
        )

    return [  # the square W_out first: there, its rows and columns differ only in their values
        Case("batch 2, 4 positions, 5 neurons, d_model 5 (a square W_out)", case(2, 4, 5, 5)),
        Case("batch 3, 5 positions, 6 neurons, d_model 4", case(3, 5, 6, 4)),
        Case("one sequence, 7 positions, 3 neurons, d_model 5", case(1, 7, 3, 5)),
    ]


def _write_signed(acts, W_out):
    return acts.mean(dim=(0, 1)) * W_out.norm(dim=-1)


def _write_columns(acts, W_out):
    return acts.abs().mean(dim=(0, 1)) * W_out.norm(dim=0)


def _write_squared(acts, W_out):
    return acts.abs().mean(dim=(0, 1)) * W_out.pow(2).sum(-1)


def _write_max(acts, W_out):
    return acts.abs().amax(dim=(0, 1)) * W_out.norm(dim=-1)


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
        name="neuron_write_sizes",
        module="ch08_residual",
        cases=_write_cases,
        mistakes={
            "average |activation|: positive and negative activations both write, they must not cancel": _write_signed,
            "W_out is [neuron, d_model]: a neuron's write is its row, so take the norm over d_model (dim=-1)": (
                _write_columns
            ),
            "the length of a row is its L2 norm, not its squared norm": _write_squared,
            "the mean of |activation| over every sequence and position, not its maximum": _write_max,
        },
        agrees_with={"glassbox.analysis.neurons.write_sizes": neurons.write_sizes},
    ),
]
