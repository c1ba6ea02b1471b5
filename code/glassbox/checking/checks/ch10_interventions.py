"""Checks for chapter 10, "Interventions": zero and mean ablation of a head, patching a position, recovery ratio,
direct logit attribution, one edge of a path, attribution patching, patching one head's queries, keys or values, and
noising one block's output and path patching with the other heads frozen (the last three exercises' cases, which run
a model, are in `patching_cases`).

Longer than 300 lines: one chapter's ten exercises, each with its cases and the learner's mistakes written as
functions beside it, so that a check and the mistakes it names are read together."""

import torch

from glassbox.analysis import interventions
from glassbox.analysis.attribution import direct_logit_attribution, logit_diff_directions
from glassbox.analysis.interventions import recovery_ratio as library_recovery_ratio
from glassbox.checking.checks.patching_cases import (
    _frozen_cases,
    _frozen_in_step_3,
    _frozen_nothing,
    _frozen_receiver_instead,
    _frozen_scales,
    _frozen_swapped,
    _frozen_whole_hook,
    _head_input_cases,
    _input_always_keys,
    _input_every_head,
    _input_output_instead,
    _input_position_axis,
    _noise_always_attn,
    _noise_cases,
    _noise_cumulative,
    _noise_nothing,
    _noise_reference,
    _noise_resid,
)
from glassbox.checking.judge import Case, Exercise


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


def _dla_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(5)

    def case(n_components: int, batch: int, d_model: int, d_vocab: int) -> tuple:
        components = torch.randn(n_components, batch, d_model, generator=generator)
        W_U = torch.randn(d_model, d_vocab, generator=generator)
        correct = torch.randint(0, d_vocab, (batch,), generator=generator)
        wrong = (correct + torch.randint(1, d_vocab, (batch,), generator=generator)) % d_vocab
        return components, W_U, correct, wrong

    return [  # the square unembedding first: there, rows and columns have the same shape and only values differ
        Case("a square unembedding (d_model = d_vocab = 6), batch 5", case(4, 5, 6, 6)),
        Case("10 components, batch 4, d_model 8, 11 tokens", case(10, 4, 8, 11)),
        Case("3 components, one sequence, d_model 5, 7 tokens", case(3, 1, 5, 7)),
    ]


def _dla_library(components, W_U, correct, wrong):
    return direct_logit_attribution(components, logit_diff_directions(W_U, correct, wrong))


def _dla_correct_only(components, W_U, correct, wrong):
    return (components * W_U[:, correct].T).sum(-1).mean(-1)


def _dla_reversed(components, W_U, correct, wrong):
    return -_dla_library(components, W_U, correct, wrong)


def _dla_rows(components, W_U, correct, wrong):
    return (components * (W_U[correct] - W_U[wrong])).sum(-1).mean(-1)


def _dla_summed(components, W_U, correct, wrong):
    return _dla_library(components, W_U, correct, wrong) * components.shape[1]


def _dla_first_direction(components, W_U, correct, wrong):
    return (components @ (W_U[:, correct[0]] - W_U[:, wrong[0]])).mean(-1)


def _attribution_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(7)

    def case(batch: int, pos: int, heads: int, d_head: int, metric: float) -> tuple:
        shape = (batch, pos, heads, d_head)
        grad, clean, corrupted = (torch.randn(shape, generator=generator) for _ in range(3))
        return grad, clean, corrupted, metric

    return [
        Case("batch 3, 5 positions, 4 heads, d_head 2, corrupted metric 0.7", case(3, 5, 4, 2, 0.7)),
        Case("one sequence of 6 positions, 2 heads, d_head 3, corrupted metric −1.5", case(1, 6, 2, 3, -1.5)),
        Case("batch 2, one position, 3 heads, d_head 4, corrupted metric 0", case(2, 1, 3, 4, 0.0)),
    ]


def _attr_reversed(grad, clean, corrupted, metric):
    return metric + (grad * (corrupted - clean)).sum(dim=(0, 1, 3))


def _attr_no_base(grad, clean, corrupted, metric):
    return (grad * (clean - corrupted)).sum(dim=(0, 1, 3))


def _attr_mean(grad, clean, corrupted, metric):
    return metric + (grad * (clean - corrupted)).mean(dim=(0, 1, 3))


def _attr_clean_only(grad, clean, corrupted, metric):
    return metric + (grad * clean).sum(dim=(0, 1, 3))


def _edge_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(11)

    def case(batch: int, pos: int, heads: int, d_head: int, d_model: int, head: int) -> tuple:
        activation = torch.randn(batch, pos, heads, d_head, generator=generator)
        write = torch.randn(batch, pos, d_model, generator=generator)
        return activation, write, torch.randn(d_model, d_head, generator=generator), head

    return [  # d_model = d_head first: there, W and its transpose have the same shape
        Case("batch 2, 5 positions, 3 heads, d_head = d_model = 4, head 1", case(2, 5, 3, 4, 4, 1)),
        Case("batch 3, 4 positions, 4 heads, d_head 2, d_model 8, head 3", case(3, 4, 4, 2, 8, 3)),
        Case("one sequence, 6 positions, 2 heads, d_head 3, d_model 6, head 0", case(1, 6, 2, 3, 6, 0)),
    ]


def _edge_every_head(activation, write, W, head):
    return activation + (write @ W)[:, :, None]


def _edge_replace(activation, write, W, head):
    patched = activation.clone()
    patched[:, :, head] = write @ W
    return patched


def _edge_transposed(activation, write, W, head):
    patched = activation.clone()
    patched[:, :, head] += write @ W.T
    return patched


def _edge_wrong_axis(activation, write, W, head):
    patched = activation.clone()
    patched[:, head] += (write @ W)[:, head, None]  # indexes a position, and adds to every head there
    return patched


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
    Exercise(
        name="logit_diff_attribution",
        module="ch10_interventions",
        cases=_dla_cases,
        mistakes={
            "subtract the wrong token's column: the direction is W_U[:, correct] − W_U[:, wrong]": _dla_correct_only,
            "the sign is reversed: logit(correct) − logit(wrong), not the other way round": _dla_reversed,
            "W_U is [d_model, d_vocab]: a token's direction is a column, W_U[:, token], not a row": _dla_rows,
            "average over the batch (the mean), do not sum": _dla_summed,
            "each sequence has its own correct and wrong token: one direction per sequence": _dla_first_direction,
        },
        agrees_with={"glassbox.analysis.attribution.direct_logit_attribution": _dla_library},
    ),
    Exercise(
        name="attribution_patch_estimate",
        module="ch10_interventions",
        cases=_attribution_cases,
        mistakes={
            "the patch moves the activation from corrupted to clean: the step is clean − corrupted": _attr_reversed,
            "start from the corrupted run's metric: the estimate is metric(corrupted) + the linear term": _attr_no_base,
            "the patched metric changes by the whole dot product: sum over batch, position and d_head, not the mean": (
                _attr_mean
            ),
            "multiply the gradient by the change clean − corrupted, not by the clean activation": _attr_clean_only,
        },
    ),
    Exercise(
        name="add_edge",
        module="ch10_interventions",
        cases=_edge_cases,
        mistakes={
            "only the receiving head reads the edge: add to activation[:, :, head], not to every head": (
                _edge_every_head
            ),
            "add the edge's contribution to what the head already reads (+=), do not replace it": _edge_replace,
            "write is [batch, pos, d_model] and W [d_model, d_head]: write @ W, not write @ W.T": _edge_transposed,
            "the head is the third dimension of [batch, pos, head, d_head]: activation[:, :, head]": _edge_wrong_axis,
        },
    ),
    Exercise(
        name="patch_head_input",
        module="ch10_interventions",
        cases=_head_input_cases,
        mistakes={
            "patch only head `head`: patched[:, :, head] = clean[:, :, head], not the whole hook": _input_every_head,
            "the head is the third dimension of [batch, pos, head, d_head]: [:, :, head], not [:, head]": (
                _input_position_axis
            ),
            "patch the hook `part` names: blocks.{layer}.attn.hook_{part}, not always hook_k": _input_always_keys,
            "patch the head's input (hook_q/hook_k/hook_v), not its output hook_z": _input_output_instead,
        },
        agrees_with={
            "glassbox.analysis.interventions.patch_head_input": interventions.patch_head_input,
        },
        atol=1e-4,
    ),
    Exercise(
        name="noise_block_outputs",
        module="ch10_interventions",
        cases=_noise_cases,
        mistakes={
            "noising replaces the block's output with the corrupted run's (from the cache); the hook must return it": (
                _noise_nothing
            ),
            "patch the hook `block` names: blocks.{layer}.hook_{block}_out, not always hook_attn_out": (
                _noise_always_attn
            ),
            "patch the block's output (hook_attn_out / hook_mlp_out), not the whole residual stream after it": (
                _noise_resid
            ),
            "one block per entry: remove the hook after each run (run_with_hooks does), do not pile them up": (
                _noise_cumulative
            ),
        },
        agrees_with={"an independent loop over blocks.{l}.hook_{block}_out": _noise_reference},
        atol=1e-4,
    ),
    Exercise(
        name="path_patch_frozen",
        module="ch10_interventions",
        cases=_frozen_cases,
        mistakes={
            "in step 2 freeze every other head at its base value: unfrozen, the sender also reaches the receiver "
            "through the heads between them": _frozen_nothing,
            "patch the sender's output (its hook_z) from the source run, not the receiver's input: that restores "
            "every path into the receiver, not one edge": _frozen_receiver_instead,
            "run the base tokens with the sender from the source run: base and source swapped turns noising into "
            "denoising (the effect's sign and size change)": _frozen_swapped,
            "freeze only the heads in step 2: the receiver's LayerNorm scale must recompute, it is part of the edge": (
                _frozen_scales
            ),
            "in step 3 patch only the receivers: later heads recompute, or the receivers' change never reaches the "
            "logits through them": _frozen_in_step_3,
            "in step 3 patch only the receiver heads' slice [:, :, head] of hook_<part>, not the whole hook": (
                _frozen_whole_hook
            ),
        },
        agrees_with={"glassbox.analysis.interventions.path_patch_frozen": interventions.path_patch_frozen},
        atol=1e-4,
    ),
]
