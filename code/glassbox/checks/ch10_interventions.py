"""Checks for chapter 10, "Interventions": zero and mean ablation of a head, patching a position, recovery ratio."""

import torch

from glassbox.analysis.interventions import recovery_ratio as library_recovery_ratio
from glassbox.judge import Case, Exercise


def _z(seed: int, batch: int = 3, pos: int = 5, heads: int = 4, d_head: int = 2) -> torch.Tensor:
    return torch.randn(batch, pos, heads, d_head, generator=torch.Generator().manual_seed(seed))


def _head_cases() -> list[Case]:
    return [
        Case("batch 3, 5 positions, 4 heads, head 1", (_z(0), 1)),
        Case("batch 2, 4 positions, 4 heads, last head", (_z(1, 2, 4), 3)),
        Case("one sequence of one position, first head", (_z(2, 1, 1), 0)),
    ]


def _patch_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(2)
    clean, corrupted = torch.randn(2, 6, 8, generator=generator), torch.randn(2, 6, 8, generator=generator)
    return [
        Case("position 2 of 6", (corrupted, clean, 2)),
        Case("the last position", (corrupted, clean, 5)),
        Case("the first position", (corrupted, clean, 0)),
    ]


def _ratio_cases() -> list[Case]:
    return [
        Case("clean 3, corrupted 1: patched values 1, 3 and 2", (torch.tensor([1.0, 3.0, 2.0]), 3.0, 1.0)),
        Case("a metric that falls when corrupted is undone", (torch.tensor([[0.5, -2.0], [-1.0, 0.0]]), -2.0, 0.5)),
        Case("one patched metric (a 0-d tensor) that overshoots the clean run", (torch.tensor(5.0), 4.0, 0.0)),
        Case(
            "clean equals corrupted: nothing to recover (a ValueError, as the docstring says)",
            (torch.tensor([1.0, 2.0]), 2.0, 2.0),
        ),
    ]


def _zero_ablated_head_is_zero(out, args) -> str | None:
    z, head = args
    if out[:, :, head].abs().sum() != 0:
        return f"head {head}'s output (z[:, :, {head}]) must be all zeros"
    return None


def _wrong_dimension(z, h):
    return z.index_fill(1, torch.tensor([h]), 0.0)


def _mean_over_positions(z, h):
    mean = z[:, :, h : h + 1].mean(1, keepdim=True).expand(-1, z.shape[1], -1, -1)
    return torch.cat([z[:, :, :h], mean, z[:, :, h + 1 :]], 2)


def _every_head(z, h):
    return z.mean(0, keepdim=True).expand_as(z)


def _from_pos_on(bad, good, p):
    return torch.cat([bad[:, :p], good[:, p:]], 1)


def _batch_item(bad, good, p):
    return torch.cat([bad[:p], good[p : p + 1], bad[p + 1 :]], 0) if p < len(bad) else bad


def _from_clean(p, c, k):
    return (c - p) / (c - k)


def _over_clean(p, c, k):
    return (p - k) / c


EXERCISES = [
    Exercise(
        name="zero_ablate_head",
        module="ch10_interventions",
        cases=_head_cases,
        mistakes={
            "hook_z is [batch, pos, head, d_head]: the head is the third dimension, z[:, :, head]": _wrong_dimension,
        },
        properties=[_zero_ablated_head_is_zero],
    ),
    Exercise(
        name="mean_ablate_head",
        module="ch10_interventions",
        cases=_head_cases,
        mistakes={
            "average over the batch (dimension 0), keeping each position's own mean": _mean_over_positions,
            "replace only the one head; the other heads keep their outputs": _every_head,
        },
    ),
    Exercise(
        name="patch_position",
        module="ch10_interventions",
        cases=_patch_cases,
        mistakes={
            "patch only position `pos`, not every position from it on": _from_pos_on,
            "positions are the second dimension: patched[:, pos]": _batch_item,
        },
    ),
    Exercise(
        name="recovery_ratio",
        module="ch10_interventions",
        cases=_ratio_cases,
        mistakes={
            "measure from the corrupted run: (patched − corrupted) / (clean − corrupted), 0 for no recovery": (
                _from_clean
            ),
            "divide by the gap clean − corrupted, not by the clean metric alone": _over_clean,
        },
        agrees_with={"glassbox.analysis.interventions.recovery_ratio": library_recovery_ratio},
    ),
]
