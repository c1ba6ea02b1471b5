"""Interventions (chapter 10): ablate a component and watch a metric; patch activations from a clean run into a
corrupted one and measure how much of the clean behaviour comes back.

Both are forward hooks, added for one run with TransformerLens's context manager `model.hooks(fwd_hooks=...)` and
removed when it exits, even after an error. Components are named "L1H0" (one head, through its `hook_z`), "L1.attn"
(a whole attention layer's output), "L1.mlp" (an MLP's output) and "L1" (both).

Longer than 300 lines: the ablations, activation patching and the two path-patching procedures (the shortcut and
the field's frozen heads) share one set of hook helpers, and the book compares them side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from jaxtyping import Float, Int
from torch import Tensor
from transformer_lens import ActivationCache

from glassbox.model import Transformer

Metric = Callable[[Tensor], Tensor]  # logits [batch, pos, d_vocab] -> scalar
Hook = tuple[str, Callable]
KINDS = ("zero", "mean", "resample")


def components(model: Transformer) -> list[str]:
    """Every component that can be ablated: each head, each attention layer, each MLP and each layer."""
    names = []
    for layer in range(model.cfg.n_layers):
        names += [f"L{layer}H{head}" for head in range(model.cfg.n_heads)] + [f"L{layer}.attn"]
        names += [] if model.cfg.attn_only else [f"L{layer}.mlp", f"L{layer}"]
    return names


def _sites(model: Transformer, component: str) -> list[tuple[str, int | None]]:
    """The hook names a component writes through, with its head index (None for a whole output)."""
    if component not in components(model):
        raise ValueError(f"unknown component {component!r}; this model has {', '.join(components(model))}")
    layer, _, rest = component[1:].partition("H") if "H" in component else (component[1:].split(".")[0], "", "")
    if "H" in component:
        return [(f"blocks.{layer}.attn.hook_z", int(rest))]
    part = component.split(".")[1] if "." in component else "both"
    attn, mlp = (f"blocks.{layer}.hook_attn_out", None), (f"blocks.{layer}.hook_mlp_out", None)
    return {"attn": [attn], "mlp": [mlp], "both": [attn, mlp]}[part]


def _replace(activation: Tensor, hook, head: int | None, value: Tensor) -> Tensor:
    if head is None:
        return value.expand_as(activation).clone()
    activation = activation.clone()
    activation[:, :, head] = value[:, :, head] if value.ndim == activation.ndim else value
    return activation


@torch.no_grad()
def ablation_hooks(
    model: Transformer,
    component: str,
    kind: str,
    tokens: Int[Tensor, "batch pos"],
    reference: Int[Tensor, "other_batch pos"] | None = None,
) -> list[Hook]:
    """Forward hooks that ablate `component` on a run on `tokens`.

    zero: its output becomes 0. mean: its output, averaged over the sequences of `reference` (default `tokens`) at
    each position. resample: its output on other sequences — `reference` (same shape as `tokens`), by default the
    batch rolled by one, so each sequence gets another's activation.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    sites = _sites(model, component)
    if kind == "zero":
        return [(name, partial(_replace, head=head, value=torch.zeros(()))) for name, head in sites]
    if reference is None:
        reference = tokens if kind == "mean" else tokens.roll(1, dims=0)
    if kind == "resample" and reference.shape != tokens.shape:
        raise ValueError(
            f"resample ablation needs reference tokens of shape {tuple(tokens.shape)}, got {tuple(reference.shape)}"
        )
    _, cache = model.run_with_cache(reference, names_filter=[name for name, _ in sites])
    hooks = []
    for name, head in sites:
        value = cache[name]
        if kind == "mean":
            value = value.mean(0, keepdim=True).expand(tokens.shape[0], *value.shape[1:])
        hooks.append((name, partial(_replace, head=head, value=value)))
    return hooks


@dataclass(frozen=True)
class Ranking:
    """Components sorted by the size of their ablation's effect on a metric (`effects` = ablated − clean)."""

    names: list[str]
    effects: Float[Tensor, "component"]
    clean: float


@torch.no_grad()
def rank_components(
    model: Transformer,
    tokens: Int[Tensor, "batch pos"],
    metric: Metric,
    kind: str = "zero",
    names: list[str] | None = None,
    reference: Int[Tensor, "other_batch pos"] | None = None,
) -> Ranking:
    """Ablate each component in turn (all of them by default) and rank them by |metric(ablated) − metric(clean)|."""
    names = components(model) if names is None else names
    clean = metric(model(tokens)).item()
    effects = []
    for name in names:
        with model.hooks(fwd_hooks=ablation_hooks(model, name, kind, tokens, reference)):
            effects.append(metric(model(tokens)).item() - clean)
    order = torch.tensor(effects).abs().argsort(descending=True, stable=True)
    return Ranking([names[i] for i in order], torch.tensor(effects)[order], clean)


# ----------------------------------------------------------------------------------------------- patching
def recovery_ratio(patched: Tensor, clean: float, corrupted: float) -> Tensor:
    """(patched − corrupted) / (clean − corrupted): 0 where a patch changes nothing, 1 where it restores the clean
    metric. Undefined when the clean and corrupted runs give the same metric — a ValueError."""
    if abs(clean - corrupted) < 1e-8 * max(1.0, abs(clean)):
        raise ValueError(
            f"clean and corrupted runs give the same metric ({clean:.6g}): nothing to recover — "
            "choose a corruption that changes the metric"
        )
    return (patched - corrupted) / (clean - corrupted)


def _check_pair(model: Transformer, clean: Tensor, corrupted: Tensor) -> tuple[Tensor, Tensor]:
    clean, corrupted = model.validate_tokens(clean), model.validate_tokens(corrupted)
    if clean.shape != corrupted.shape:
        raise ValueError(
            "clean and corrupted tokens must have the same shape, "
            f"got {tuple(clean.shape)} and {tuple(corrupted.shape)}"
        )
    return clean, corrupted


@torch.no_grad()
def patch_residual(
    model: Transformer, clean: Int[Tensor, "batch pos"], corrupted: Int[Tensor, "batch_2 pos_2"], metric: Metric
) -> Float[Tensor, "layer pos"]:
    """The metric of the corrupted run with the residual stream entering `layer` at `pos` taken from the clean run."""
    clean, corrupted = _check_pair(model, clean, corrupted)
    _, cache = model.run_with_cache(clean, names_filter=lambda name: name.endswith("hook_resid_pre"))
    result = torch.zeros(model.cfg.n_layers, clean.shape[1])

    def patch(activation: Tensor, hook, pos: int) -> Tensor:
        activation[:, pos] = cache[hook.name][:, pos]
        return activation

    for layer in range(model.cfg.n_layers):
        for pos in range(clean.shape[1]):
            with model.hooks(fwd_hooks=[(f"blocks.{layer}.hook_resid_pre", partial(patch, pos=pos))]):
                result[layer, pos] = metric(model(corrupted))
    return result


@torch.no_grad()
def _patch_heads(model: Transformer, clean: Tensor, corrupted: Tensor, metric: Metric, hook_name: str) -> Tensor:
    clean, corrupted = _check_pair(model, clean, corrupted)
    _, cache = model.run_with_cache(clean, names_filter=lambda name: name.endswith(hook_name))
    result = torch.zeros(model.cfg.n_layers, model.cfg.n_heads)
    head_dim = 2 if hook_name == "hook_z" else 1  # z: [batch, pos, head, d_head]; pattern: [batch, head, q, k]

    def patch(activation: Tensor, hook, head: int) -> Tensor:
        index = (slice(None),) * head_dim + (head,)
        activation[index] = cache[hook.name][index]
        return activation

    for layer in range(model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            with model.hooks(fwd_hooks=[(f"blocks.{layer}.attn.{hook_name}", partial(patch, head=head))]):
                result[layer, head] = metric(model(corrupted))
    return result


def patch_head_output(
    model: Transformer, clean: Int[Tensor, "batch pos"], corrupted: Int[Tensor, "batch_2 pos_2"], metric: Metric
) -> Float[Tensor, "layer head"]:
    """The metric of the corrupted run with one head's output (its `z`, every position) taken from the clean run."""
    return _patch_heads(model, clean, corrupted, metric, "hook_z")


def patch_head_pattern(
    model: Transformer, clean: Int[Tensor, "batch pos"], corrupted: Int[Tensor, "batch_2 pos_2"], metric: Metric
) -> Float[Tensor, "layer head"]:
    """The metric of the corrupted run with one head's attention pattern taken from the clean run: does the head
    matter through *where* it looks?"""
    return _patch_heads(model, clean, corrupted, metric, "hook_pattern")


@torch.no_grad()
def patch_head_input(
    model: Transformer,
    corrupted: Int[Tensor, "batch pos"],
    clean_cache: ActivationCache,
    metric: Metric,
    part: str,
) -> Float[Tensor, "layer head"]:
    """The metric of the corrupted run with one head's queries, keys or values (`part` "q", "k" or "v", every
    position) taken from the clean run's cache: entry [l, h] patches `blocks.l.attn.hook_<part>` at head h only.
    TransformerLens's `get_act_patch_attn_head_<part>_all_pos` computes the same table."""
    if part not in ("q", "k", "v"):
        raise ValueError(f"part must be 'q', 'k' or 'v', got {part!r}")
    n_layers, n_heads = model.cfg.n_layers, model.cfg.n_heads
    result = torch.zeros(n_layers, n_heads)

    def patch_one_head(activation: Tensor, hook, head: int) -> Tensor:
        # activation: [batch, pos, head, d_head]; only this head's input comes from the clean run
        patched = activation.clone()
        patched[:, :, head] = clean_cache[hook.name][:, :, head]
        return patched

    for layer in range(n_layers):
        hook_name = f"blocks.{layer}.attn.hook_{part}"  # the head's input, after W_Q / W_K / W_V
        for head in range(n_heads):
            with model.hooks(fwd_hooks=[(hook_name, partial(patch_one_head, head=head))]):
                result[layer, head] = metric(model(corrupted))  # one corrupted run per patched head
    return result


@torch.no_grad()
def path_patch(
    model: Transformer,
    clean: Int[Tensor, "batch pos"],
    corrupted: Int[Tensor, "batch_2 pos_2"],
    metric: Metric,
    sender: tuple[int, int],
    component: str = "k",
) -> Float[Tensor, "layer head"]:
    """Path patching: the metric of the corrupted run when only the edge from head `sender` = (layer, head) into one
    later head's queries, keys or values (`component` "q", "k", "v") carries the clean run's output of the sender;
    every other reader still sees the corrupted output. Entry [l, h] patches the edge into head (l, h); rows up to the
    sender's layer are NaN (no such edge). Exact for attention-only models without LayerNorm, where a head's input is
    the residual stream itself: the sender's clean − corrupted write, times the receiver's W_Q/W_K/W_V, is added to
    the receiver's `hook_q`/`hook_k`/`hook_v`."""
    if model.cfg.normalization_type is not None:
        raise ValueError("path_patch adds to a head's q/k/v directly, which needs a model without LayerNorm")
    if component not in ("q", "k", "v"):
        raise ValueError(f"component must be 'q', 'k' or 'v', got {component!r}")
    layer, head = sender
    if not (0 <= layer < model.cfg.n_layers and 0 <= head < model.cfg.n_heads):
        raise ValueError(f"no head L{layer}H{head} in a model of {model.cfg.n_layers} × {model.cfg.n_heads} heads")
    clean, corrupted = _check_pair(model, clean, corrupted)
    z_name = f"blocks.{layer}.attn.hook_z"
    _, clean_cache = model.run_with_cache(clean, names_filter=[z_name])
    _, corrupted_cache = model.run_with_cache(corrupted, names_filter=[z_name])
    write = (clean_cache[z_name][:, :, head] - corrupted_cache[z_name][:, :, head]) @ model.W_O[layer, head]
    weight = {"q": model.W_Q, "k": model.W_K, "v": model.W_V}[component]
    result = torch.full((model.cfg.n_layers, model.cfg.n_heads), float("nan"))

    def add_edge(activation: Tensor, hook, receiver: tuple[int, int]) -> Tensor:
        activation = activation.clone()
        activation[:, :, receiver[1]] += write @ weight[receiver]  # [batch, pos, d_head]
        return activation

    for later in range(layer + 1, model.cfg.n_layers):
        for target in range(model.cfg.n_heads):
            hook = (f"blocks.{later}.attn.hook_{component}", partial(add_edge, receiver=(later, target)))
            with model.hooks(fwd_hooks=[hook]):
                result[later, target] = metric(model(corrupted))
    return result


def _check_heads(model: Transformer, sender: tuple[int, int], receivers: list[tuple[int, int]], part: str) -> None:
    if part not in ("q", "k", "v"):
        raise ValueError(f"part must be 'q', 'k' or 'v', got {part!r}")
    n_layers, n_heads = model.cfg.n_layers, model.cfg.n_heads
    for layer, head in [sender, *receivers]:
        if not (0 <= layer < n_layers and 0 <= head < n_heads):
            raise ValueError(f"no head L{layer}H{head} in a model of {n_layers} × {n_heads} heads")
    if not receivers:
        raise ValueError("path patching needs at least one receiver head")
    early = [f"L{layer}H{head}" for layer, head in receivers if layer <= sender[0]]
    if early:
        raise ValueError(f"receivers must sit in a layer after the sender L{sender[0]}H{sender[1]}: {', '.join(early)}")


@torch.no_grad()
def path_patch_frozen(
    model: Transformer,
    base: Int[Tensor, "batch pos"],
    source: Int[Tensor, "batch pos"],
    metric: Metric,
    sender: tuple[int, int],
    receivers: list[tuple[int, int]],
    part: str = "k",
) -> Float[Tensor, ""]:
    """Path patching as Wang et al. (2022) run it: the metric of the run on `base` in which only the `receivers`'
    queries, keys or values (`part`) see the `sender` head's output from the run on `source`.

    1. Run `base` and `source`, keeping every head's output (`hook_z`).
    2. Run `base` with the sender's output taken from the `source` run and every other head frozen at its `base`
       value; MLPs and LayerNorms recompute. Keep the receivers' `hook_<part>`: what they read when the sender's
       change reaches them directly, or through MLPs, but through no other head.
    3. Run `base` with each receiver's slice of `hook_<part>` replaced by step 2's; everything else recomputes,
       so the receivers' change flows on through later heads. Return the metric.

    Noising is base = clean, source = corrupted (is the edge necessary?); denoising is base = corrupted,
    source = clean (is it sufficient?). Without LayerNorm and MLPs, denoising equals `path_patch`'s shortcut."""
    _check_heads(model, sender, receivers, part)
    base, source = _check_pair(model, base, source)
    return _receivers_patched(model, base, metric, receivers, part, _frozen_step_2(model, base, source, sender, part))


@torch.no_grad()
def _frozen_step_2(model: Transformer, base: Tensor, source: Tensor, sender: tuple[int, int], part: str) -> dict:
    """Steps 1 and 2 of `path_patch_frozen`: every later layer's `hook_<part>` on the base run with the sender from
    the source run and every other head frozen at its base value."""
    z_names = [f"blocks.{layer}.attn.hook_z" for layer in range(model.cfg.n_layers)]
    _, base_cache = model.run_with_cache(base, names_filter=z_names)
    _, source_cache = model.run_with_cache(source, names_filter=[z_names[sender[0]]])

    def sender_patched_rest_frozen(z: Tensor, hook) -> Tensor:
        z = base_cache[hook.name].clone()  # every head at its base value ...
        if hook.name == z_names[sender[0]]:
            z[:, :, sender[1]] = source_cache[hook.name][:, :, sender[1]]  # ... but the sender's from the source
        return z

    later = [f"blocks.{layer}.attn.hook_{part}" for layer in range(sender[0] + 1, model.cfg.n_layers)]
    with model.hooks(fwd_hooks=[(name, sender_patched_rest_frozen) for name in z_names]):
        _, step_2 = model.run_with_cache(base, names_filter=later)
    return {name: step_2[name] for name in later}


@torch.no_grad()
def _receivers_patched(
    model: Transformer, base: Tensor, metric: Metric, receivers: list[tuple[int, int]], part: str, step_2: dict
) -> Tensor:
    """Step 3: the base run with only the receivers' slices of `hook_<part>` from step 2; everything else
    recomputes, so the receivers' change flows on through later heads."""

    def receivers_patched(activation: Tensor, hook) -> Tensor:
        activation = activation.clone()
        for layer, head in receivers:
            if hook.name == f"blocks.{layer}.attn.hook_{part}":
                activation[:, :, head] = step_2[hook.name][:, :, head]
        return activation

    input_names = sorted({f"blocks.{layer}.attn.hook_{part}" for layer, _ in receivers})
    with model.hooks(fwd_hooks=[(name, receivers_patched) for name in input_names]):
        return metric(model(base))


def path_patch_frozen_heads(
    model: Transformer,
    base: Int[Tensor, "batch pos"],
    source: Int[Tensor, "batch pos"],
    metric: Metric,
    sender: tuple[int, int],
    part: str = "k",
) -> Float[Tensor, "layer head"]:
    """`path_patch_frozen` with each later head alone as the receiver: entry [l, h] is the edge from `sender` into
    head (l, h)'s `part`; rows up to the sender's layer are NaN (no such edge). With base = corrupted and
    source = clean this is the table `path_patch` computes by its shortcut, and it also runs with LayerNorm and MLPs."""
    if sender[0] >= model.cfg.n_layers - 1:
        raise ValueError(f"the sender L{sender[0]}H{sender[1]} is in the last layer: no head reads its output")
    _check_heads(model, sender, [(model.cfg.n_layers - 1, 0)], part)
    base, source = _check_pair(model, base, source)
    step_2 = _frozen_step_2(model, base, source, sender, part)  # steps 1 and 2 do not depend on the receiver
    result = torch.full((model.cfg.n_layers, model.cfg.n_heads), float("nan"))
    for layer in range(sender[0] + 1, model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            result[layer, head] = _receivers_patched(model, base, metric, [(layer, head)], part, step_2)
    return result
