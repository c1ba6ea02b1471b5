"""Chapter 10, "Interventions": reference solutions."""

from collections.abc import Callable
from functools import partial

import torch
from glassbox.model import Transformer
from jaxtyping import Float, Int
from torch import Tensor
from transformer_lens import ActivationCache
from transformer_lens.hook_points import HookPoint


def zero_ablate_head(z: Float[Tensor, "batch pos head d_head"], head: int) -> Float[Tensor, "batch pos head d_head"]:
    """A copy of a layer's `hook_z` activation with one head's output set to zero (the input stays untouched)."""
    z = z.clone()
    z[:, :, head] = 0.0
    return z


def mean_ablate_head(z: Float[Tensor, "batch pos head d_head"], head: int) -> Float[Tensor, "batch pos head d_head"]:
    """A copy of `hook_z` with one head's output replaced, at each position, by its mean over the batch."""
    z = z.clone()
    z[:, :, head] = z[:, :, head].mean(dim=0, keepdim=True)
    return z


def patch_position(
    corrupted: Float[Tensor, "batch pos d_model"], clean: Float[Tensor, "batch pos d_model"], pos: int
) -> Float[Tensor, "batch pos d_model"]:
    """The corrupted run's residual stream with position `pos` taken from the clean run (a new tensor)."""
    patched = corrupted.clone()
    patched[:, pos] = clean[:, pos]
    return patched


def recovery_ratio(patched: Float[Tensor, "*shape"], clean: float, corrupted: float) -> Float[Tensor, "*shape"]:
    """(patched − corrupted) / (clean − corrupted): 0 where a patch recovers nothing, 1 where it recovers all of the
    clean metric. Raises ValueError when clean and corrupted are equal (there is nothing to recover), to within
    float rounding: a difference of 1e-9 would turn rounding noise into ratios of a billion."""
    if abs(clean - corrupted) < 1e-8 * max(1.0, abs(clean)):
        raise ValueError(f"clean and corrupted metrics are equal ({clean}): nothing to recover")
    return (patched - corrupted) / (clean - corrupted)


def logit_diff_attribution(
    components: Float[Tensor, "component batch d_model"],
    W_U: Float[Tensor, "d_model d_vocab"],
    correct: Int[Tensor, " batch"],
    wrong: Int[Tensor, " batch"],
) -> Float[Tensor, " component"]:
    """Direct logit attribution: what each component's output, read by the unembedding, adds to
    logit(correct) − logit(wrong), averaged over the batch. Sequence b's direction is W_U[:, correct[b]] −
    W_U[:, wrong[b]]; the unembedding's bias is not a component's, so it is left out."""
    directions = (W_U[:, correct] - W_U[:, wrong]).T  # [batch, d_model]
    return (components * directions).sum(-1).mean(-1)  # dot product per component and sequence, then the batch mean


def attribution_patch_estimate(
    grad: Float[Tensor, "batch pos head d_head"],
    clean: Float[Tensor, "batch pos head d_head"],
    corrupted: Float[Tensor, "batch pos head d_head"],
    corrupted_metric: float,
) -> Float[Tensor, " head"]:
    """Attribution patching for one layer's heads: the first-order estimate of the metric when each head's
    activation (every position, every sequence) is patched from the clean run into the corrupted one —
    metric(corrupted) + Σ grad · (clean − corrupted), summed over batch, position and d_head, one value per head.
    `grad` is the gradient of the metric with respect to the activation on the corrupted run."""
    step = clean - corrupted  # the patch moves the activation from corrupted to clean
    return corrupted_metric + (grad * step).sum(dim=(0, 1, 3))  # a dot product per head


def add_edge(
    activation: Float[Tensor, "batch pos head d_head"],
    write: Float[Tensor, "batch pos d_model"],
    W: Float[Tensor, "d_model d_head"],
    head: int,
) -> Float[Tensor, "batch pos head d_head"]:
    """Path patching's hook on a receiver's queries, keys or values (`hook_q`/`hook_k`/`hook_v`) in a model without
    LayerNorm: a copy of `activation` in which only head `head` also reads `write` (the sender's clean − corrupted
    output) through its own W_Q, W_K or W_V. The other heads, and the input, are left as they were."""
    patched = activation.clone()  # a hook must not edit the tensor a cache may hold
    patched[:, :, head] += write @ W  # the receiver's projection is linear: q = x W_Q + b_Q
    return patched


def patch_head_input(
    model: Transformer,
    corrupted: Int[Tensor, "batch pos"],
    clean_cache: ActivationCache,
    metric: Callable[[Tensor], Tensor],
    part: str,
) -> Float[Tensor, "layer head"]:
    """Patch one head's queries, keys or values (`part` "q", "k" or "v"), at every position, from the clean run's
    cache into the corrupted run: entry [l, h] is `metric(logits)` of the corrupted run with only head h's slice of
    `blocks.l.attn.hook_<part>` ([batch, pos, head, d_head]) replaced by the clean one."""
    n_layers, n_heads = model.cfg.n_layers, model.cfg.n_heads
    patched_metric = torch.zeros(n_layers, n_heads)

    def patch_one_head(activation: Tensor, hook: HookPoint, head: int) -> Tensor:
        patched = activation.clone()  # a hook must not edit a tensor a cache may hold
        patched[:, :, head] = clean_cache[hook.name][:, :, head]  # head is the third dimension
        return patched

    with torch.no_grad():
        for layer in range(n_layers):
            hook_name = f"blocks.{layer}.attn.hook_{part}"  # the head's input after W_Q, W_K or W_V
            for head in range(n_heads):
                hook = partial(patch_one_head, head=head)
                logits = model.run_with_hooks(corrupted, fwd_hooks=[(hook_name, hook)])
                patched_metric[layer, head] = metric(logits)
    return patched_metric


def noise_block_outputs(
    model: Transformer,
    clean: Int[Tensor, "batch pos"],
    corrupted_cache: ActivationCache,
    metric: Callable[[Tensor], Tensor],
    block: str,
) -> Float[Tensor, "layer"]:
    """Noising, one block at a time: entry [l] is `metric(logits)` of the CLEAN run with layer l's attention output
    (`block` "attn") or MLP output (`block` "mlp"), `blocks.l.hook_<block>_out`, replaced at every position by the
    corrupted run's. A large drop from the clean metric says the block is necessary."""
    patched_metric = torch.zeros(model.cfg.n_layers)

    def noise(activation: Tensor, hook: HookPoint) -> Tensor:
        return corrupted_cache[hook.name].clone()  # the corrupted run's output of this block, every position

    with torch.no_grad():
        for layer in range(model.cfg.n_layers):
            hook_name = f"blocks.{layer}.hook_{block}_out"
            patched_metric[layer] = metric(model.run_with_hooks(clean, fwd_hooks=[(hook_name, noise)]))
    return patched_metric


def path_patch_frozen(
    model: Transformer,
    base: Int[Tensor, "batch pos"],
    source: Int[Tensor, "batch pos"],
    metric: Callable[[Tensor], Tensor],
    sender: tuple[int, int],
    receivers: list[tuple[int, int]],
    part: str,
) -> Float[Tensor, ""]:
    """Path patching with the other heads frozen (Wang et al. 2022): `metric(logits)` of the run on `base` in which
    only the `receivers`' (layer, head) queries, keys or values (`part`) see the `sender` head's output from the run
    on `source`. Step 1: cache both runs. Step 2: run `base` with the sender's `hook_z` slice from the source run and
    every other head's `hook_z` frozen at its base value (MLPs and LayerNorms recompute); keep the receivers'
    `hook_<part>`. Step 3: run `base` with only the receivers' slices of `hook_<part>` from step 2; return the
    metric."""
    with torch.no_grad():
        # step 1: every head's output on both runs
        _, base_cache = model.run_with_cache(base)
        _, source_cache = model.run_with_cache(source)

        # step 2: the sender from the source run, every other head frozen at its base value
        def freeze(z: Tensor, hook: HookPoint) -> Tensor:
            frozen = base_cache[hook.name].clone()
            if hook.name == f"blocks.{sender[0]}.attn.hook_z":
                frozen[:, :, sender[1]] = source_cache[hook.name][:, :, sender[1]]
            return frozen

        z_hooks = [(f"blocks.{layer}.attn.hook_z", freeze) for layer in range(model.cfg.n_layers)]
        with model.hooks(fwd_hooks=z_hooks):
            _, step_2 = model.run_with_cache(base)

        # step 3: only the receivers' inputs from step 2; everything else recomputes
        def patch_receivers(activation: Tensor, hook: HookPoint) -> Tensor:
            patched = activation.clone()
            for layer, head in receivers:
                if hook.name == f"blocks.{layer}.attn.hook_{part}":
                    patched[:, :, head] = step_2[hook.name][:, :, head]
            return patched

        names = {f"blocks.{layer}.attn.hook_{part}" for layer, _ in receivers}
        return metric(model.run_with_hooks(base, fwd_hooks=[(name, patch_receivers) for name in names]))
