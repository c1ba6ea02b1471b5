"""Checks for chapter 10, "Interventions": zero and mean ablation of a head, patching a position, recovery ratio,
direct logit attribution, one edge of a path, attribution patching, patching one head's queries, keys or values, and
noising one block's output and path patching with the other heads frozen.

Longer than 300 lines: one chapter's ten exercises, each with its cases and the learner's mistakes written as
functions beside it, so that a check and the mistakes it names are read together."""

from functools import partial

import torch

from glassbox.analysis import interventions
from glassbox.analysis.attribution import direct_logit_attribution, logit_diff_directions
from glassbox.analysis.interventions import recovery_ratio as library_recovery_ratio
from glassbox.config import TransformerConfig
from glassbox.judge import Case, Exercise
from glassbox.model import Transformer


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


def _head_input_cases() -> list[Case]:
    """A two-layer model with three heads (layers ≠ heads, so a [head, layer] table has the wrong shape)."""

    def case(part: str, seed: int, layer_norm: bool, attn_only: bool) -> tuple:
        cfg = TransformerConfig(
            d_model=12, n_layers=2, n_heads=3, d_head=4, d_vocab=9, n_ctx=8, d_mlp=16, attn_only=attn_only,
            normalization_type="LN" if layer_norm else None, init_range=0.5, seed=seed,
        )  # fmt: skip
        model = Transformer(cfg).eval()
        generator = torch.Generator().manual_seed(seed)
        clean = torch.randint(0, cfg.d_vocab, (3, 6), generator=generator)
        corrupted = clean.clone()
        corrupted[:, 2] = (clean[:, 2] + 1 + torch.randint(0, cfg.d_vocab - 1, (3,), generator=generator)) % 9
        answer = clean[:, -1]

        def metric(logits: torch.Tensor) -> torch.Tensor:  # the last token's logit above the mean logit
            last = logits[:, -1]
            return (last.gather(1, answer[:, None]).squeeze(1) - last.mean(1)).mean()

        _, cache = model.run_with_cache(clean)
        return model, corrupted, cache, metric, part

    return [
        Case("keys ('k'), attention-only, no LayerNorm", case("k", 0, False, True)),
        Case("queries ('q'), attention-only, LayerNorm", case("q", 1, True, True)),
        Case("values ('v'), with MLPs and LayerNorm", case("v", 2, True, False)),
    ]


def _head_input_variant(model, corrupted, cache, metric, part, *, hook_of=None, index=None) -> torch.Tensor:
    """The reference's loop with one thing changed: which hook it patches, or which slice."""
    result = torch.zeros(model.cfg.n_layers, model.cfg.n_heads)

    def patch(activation, hook, head):
        patched = activation.clone()
        where = index(head) if index else (slice(None), slice(None), head)
        patched[where] = cache[hook.name][where]
        return patched

    for layer in range(model.cfg.n_layers):
        name = f"blocks.{layer}.attn.hook_{hook_of or part}"
        for head in range(model.cfg.n_heads):
            with model.hooks(fwd_hooks=[(name, partial(patch, head=head))]):
                result[layer, head] = metric(model(corrupted))
    return result


def _input_every_head(model, corrupted, cache, metric, part):
    return _head_input_variant(model, corrupted, cache, metric, part, index=lambda head: (slice(None),))


def _input_position_axis(model, corrupted, cache, metric, part):
    return _head_input_variant(model, corrupted, cache, metric, part, index=lambda head: (slice(None), head))


def _input_always_keys(model, corrupted, cache, metric, part):
    return _head_input_variant(model, corrupted, cache, metric, part, hook_of="k")


def _input_output_instead(model, corrupted, cache, metric, part):
    return _head_input_variant(model, corrupted, cache, metric, part, hook_of="z")


def _noise_cases() -> list[Case]:
    """A three-layer model with MLPs and LayerNorm, where the blocks' effects on the metric differ."""

    def case(block: str, seed: int, n_layers: int = 3) -> tuple:
        cfg = TransformerConfig(
            d_model=12, n_layers=n_layers, n_heads=2, d_head=6, d_vocab=9, n_ctx=8, d_mlp=16, normalization_type="LN",
            init_range=0.5, seed=seed,
        )  # fmt: skip
        model = Transformer(cfg).eval()
        generator = torch.Generator().manual_seed(seed)
        clean = torch.randint(0, cfg.d_vocab, (3, 6), generator=generator)
        corrupted = clean.clone()
        corrupted[:, 1] = (clean[:, 1] + 1 + torch.randint(0, cfg.d_vocab - 1, (3,), generator=generator)) % 9
        answer = clean[:, -1]

        def metric(logits: torch.Tensor) -> torch.Tensor:  # the last token's logit above the mean logit
            last = logits[:, -1]
            return (last.gather(1, answer[:, None]).squeeze(1) - last.mean(1)).mean()

        _, cache = model.run_with_cache(corrupted)
        return model, clean, cache, metric, block

    return [
        Case("attention outputs", case("attn", 0)),
        Case("MLP outputs", case("mlp", 1)),
        Case("MLP outputs of a one-layer model", case("mlp", 2, n_layers=1)),
    ]


def _noise_nothing(model, clean, cache, metric, block):
    return metric(model(clean)).expand(model.cfg.n_layers).clone()


def _noise_always_attn(model, clean, cache, metric, block):
    return _noise_reference(model, clean, cache, metric, "attn")


def _noise_resid(model, clean, cache, metric, block):
    out = torch.zeros(model.cfg.n_layers)
    for layer in range(model.cfg.n_layers):
        name = f"blocks.{layer}.hook_resid_post"
        out[layer] = metric(model.run_with_hooks(clean, fwd_hooks=[(name, lambda a, hook: cache[hook.name])]))
    return out


def _noise_cumulative(model, clean, cache, metric, block):
    out = torch.zeros(model.cfg.n_layers)
    for layer in range(model.cfg.n_layers):
        hooks = [(f"blocks.{k}.hook_{block}_out", lambda a, hook: cache[hook.name]) for k in range(layer + 1)]
        out[layer] = metric(model.run_with_hooks(clean, fwd_hooks=hooks))
    return out


def _noise_reference(model, clean, cache, metric, block):
    out = torch.zeros(model.cfg.n_layers)
    for layer in range(model.cfg.n_layers):
        name = f"blocks.{layer}.hook_{block}_out"
        out[layer] = metric(model.run_with_hooks(clean, fwd_hooks=[(name, lambda a, hook: cache[hook.name])]))
    return out


def _frozen_cases() -> list[Case]:
    """Three-layer models, so that heads sit between sender and receiver (freezing them matters) and after it (the
    receiver's change must flow on); LayerNorm weights away from 1, so the receiver's own LayerNorm matters."""

    def case(seed: int, noising: bool, sender, receivers, part: str, layer_norm: bool, attn_only: bool) -> tuple:
        cfg = TransformerConfig(
            d_model=12, n_layers=3, n_heads=2, d_head=6, d_vocab=9, n_ctx=8, d_mlp=16, attn_only=attn_only,
            normalization_type="LN" if layer_norm else None, init_range=0.5, seed=seed,
        )  # fmt: skip
        model = Transformer(cfg).eval()
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "ln" in name:
                    param.add_(0.3 * torch.randn(param.shape, generator=generator))
        clean = torch.randint(0, cfg.d_vocab, (3, 6), generator=generator)
        corrupted = clean.clone()
        corrupted[:, 1] = (clean[:, 1] + 1 + torch.randint(0, cfg.d_vocab - 1, (3,), generator=generator)) % 9
        answer = clean[:, -1]

        def metric(logits: torch.Tensor) -> torch.Tensor:  # the last token's logit above the mean logit
            last = logits[:, -1]
            return (last.gather(1, answer[:, None]).squeeze(1) - last.mean(1)).mean()

        base, source = (clean, corrupted) if noising else (corrupted, clean)
        return model, base, source, metric, sender, receivers, part

    return [
        Case("noising L0H1 → L2H0's keys, with MLPs and LayerNorm", case(0, True, (0, 1), [(2, 0)], "k", True, False)),
        Case(
            "denoising L0H0 → L1H1's queries, attention-only with LayerNorm",
            case(1, False, (0, 0), [(1, 1)], "q", True, True),
        ),
        Case(
            "noising L0H1 → the values of L1H0 and L2H1, attention-only, no LayerNorm",
            case(2, True, (0, 1), [(1, 0), (2, 1)], "v", False, True),
        ),
    ]  # fmt: skip


def _frozen_variant(
    model, base, source, metric, sender, receivers, part, *, freeze=True, scales=False, keep=False, whole=False
) -> torch.Tensor:
    """The reference's three steps with one thing changed: nothing frozen in step 2 (`freeze`), the LayerNorm scales
    frozen too (`scales`), the freezing hooks kept in step 3 (`keep`), the whole hook patched in step 3 (`whole`)."""
    _, base_cache = model.run_with_cache(base)
    _, source_cache = model.run_with_cache(source)
    sender_name = f"blocks.{sender[0]}.attn.hook_z"

    def step_2_hook(activation, hook):
        out = base_cache[hook.name].clone() if freeze or hook.name == sender_name else activation.clone()
        if hook.name == sender_name:
            out[:, :, sender[1]] = source_cache[hook.name][:, :, sender[1]]
        return out

    names = [f"blocks.{layer}.attn.hook_z" for layer in range(model.cfg.n_layers)]
    names += [name for name in base_cache if name.endswith("hook_scale")] if scales else []
    frozen = [(name, step_2_hook) for name in names]
    with model.hooks(fwd_hooks=frozen):
        _, step_2 = model.run_with_cache(base)

    def step_3_hook(activation, hook):
        out = activation.clone()
        for layer, head in receivers:
            if hook.name == f"blocks.{layer}.attn.hook_{part}":
                where = (slice(None),) if whole else (slice(None), slice(None), head)
                out[where] = step_2[hook.name][where]
        return out

    receiving = {f"blocks.{layer}.attn.hook_{part}" for layer, _ in receivers}
    hooks = [(name, step_3_hook) for name in receiving] + ([h for h in frozen if h[0] != sender_name] if keep else [])
    with model.hooks(fwd_hooks=hooks):
        return metric(model(base))


def _frozen_nothing(*args):
    return _frozen_variant(*args, freeze=False)


def _frozen_scales(*args):
    return _frozen_variant(*args, scales=True)


def _frozen_in_step_3(*args):
    return _frozen_variant(*args, keep=True)


def _frozen_whole_hook(*args):
    return _frozen_variant(*args, whole=True)


def _frozen_swapped(model, base, source, metric, sender, receivers, part):
    return _frozen_variant(model, source, base, metric, sender, receivers, part)


def _frozen_receiver_instead(model, base, source, metric, sender, receivers, part):
    _, source_cache = model.run_with_cache(source)

    def patch(activation, hook):
        out = activation.clone()
        for layer, head in receivers:
            if hook.name == f"blocks.{layer}.attn.hook_{part}":
                out[:, :, head] = source_cache[hook.name][:, :, head]
        return out

    names = {f"blocks.{layer}.attn.hook_{part}" for layer, _ in receivers}
    with model.hooks(fwd_hooks=[(name, patch) for name in names]):
        return metric(model(base))


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
