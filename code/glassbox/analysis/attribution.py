"""Attribution (chapter 10): how much each component's output, read straight through the unembedding, adds to a
logit difference (direct logit attribution), and the first-order estimate of activation patching that one backward
pass gives (attribution patching).

Direct logit attribution is exact for a component whose output reaches the logits without passing a nonlinearity —
in an attention-only model without LayerNorm, every head's output; the effect a head has *through later heads*
(a previous-token head moving the induction heads' keys) is not in it. Attribution patching replaces each patched
run by `metric(corrupted) + ∇metric · (clean − corrupted)`: exact where the metric is linear in the activation,
wrong where a softmax or a saturating loss bends it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from jaxtyping import Float, Int
from torch import Tensor

from glassbox.model import Transformer

Metric = Callable[[Tensor], Tensor]  # logits [batch, pos, d_vocab] -> scalar


def logit_difference(
    logits: Float[Tensor, "batch pos d_vocab"], answers: Int[Tensor, "batch 2"], per_prompt: bool = False
) -> Float[Tensor, "*batch"]:
    """logit(answers[:, 0]) − logit(answers[:, 1]) at each prompt's last position: the mean over prompts, or one
    value per prompt with `per_prompt`. The metric of the indirect-object patching of chapter 12."""
    if answers.ndim != 2 or answers.shape != (logits.shape[0], 2):
        raise ValueError(f"answers must be [batch, 2] = [{logits.shape[0]}, 2], got {tuple(answers.shape)}")
    picked = logits[:, -1].gather(-1, answers)  # [batch, 2]: each prompt's own two answers
    diff = picked[:, 0] - picked[:, 1]
    return diff if per_prompt else diff.mean()


def logit_diff_directions(
    W_U: Float[Tensor, "d_model d_vocab"], correct: Int[Tensor, "batch"], wrong: Int[Tensor, "batch"]
) -> Float[Tensor, "batch d_model"]:
    """The residual direction whose dot product with the final stream is logit(correct) − logit(wrong), per sequence."""
    if correct.shape != wrong.shape or correct.ndim != 1:
        raise ValueError(
            f"correct and wrong must be 1-d and alike, got {tuple(correct.shape)} and {tuple(wrong.shape)}"
        )
    return (W_U[:, correct] - W_U[:, wrong]).T


def direct_logit_attribution(
    components: Float[Tensor, "component batch d_model"], directions: Float[Tensor, "batch d_model"]
) -> Float[Tensor, "component"]:
    """Each component's output projected on its sequence's logit-difference direction, averaged over the batch."""
    if components.shape[1:] != directions.shape:
        raise ValueError(
            f"components [component, batch, d_model] {tuple(components.shape)} do not match directions "
            f"[batch, d_model] {tuple(directions.shape)}"
        )
    return (components * directions).sum(-1).mean(-1)


@torch.no_grad()
def head_components(
    model: Transformer, tokens: Int[Tensor, "batch pos"], pos: int
) -> tuple[list[str], Float[Tensor, "component batch d_model"]]:
    """Everything written into the final residual stream at `pos`, one term per source: "embed" (token and position
    embeddings), each head "L0H0" … (its z times W_O), and "biases" (every b_O). The terms add up to the final stream;
    needs an attention-only model without LayerNorm, where that stream is read by the unembedding unchanged."""
    cfg = model.cfg
    if not cfg.attn_only or cfg.normalization_type is not None:
        raise ValueError("head_components needs an attention-only model without LayerNorm")
    _, cache = model.run_with_cache(tokens)
    labels, parts = ["embed"], [cache["blocks.0.hook_resid_pre"][:, pos]]
    for layer in range(cfg.n_layers):
        z = cache["z", layer][:, pos]  # [batch, head, d_head]
        for head in range(cfg.n_heads):
            labels.append(f"L{layer}H{head}")
            parts.append(z[:, head] @ model.W_O[layer, head])
    labels.append("biases")
    parts.append(model.b_O.sum(0).expand_as(parts[0]))
    return labels, torch.stack(parts)


def attribution_patch_heads(
    model: Transformer, clean: Int[Tensor, "batch pos"], corrupted: Int[Tensor, "batch pos"], metric: Metric
) -> Float[Tensor, "layer head"]:
    """The first-order estimate of `interventions.patch_head_output`: for each head, metric(corrupted) plus the
    gradient of the metric with respect to the head's `hook_z` (on the corrupted run) dotted with the clean − corrupted
    difference of that activation. Two forward passes and one backward pass for every head at once."""
    names = [f"blocks.{layer}.attn.hook_z" for layer in range(model.cfg.n_layers)]
    with torch.no_grad():
        _, clean_cache = model.run_with_cache(clean, names_filter=names)
    saved: dict[str, Tensor] = {}

    def keep(activation: Tensor, hook) -> Tensor:
        activation.retain_grad()
        saved[hook.name] = activation
        return activation

    with torch.enable_grad(), model.hooks(fwd_hooks=[(name, keep) for name in names]):
        value = metric(model(corrupted))
        value.backward()
    estimate = torch.stack(
        [((clean_cache[name] - saved[name]) * saved[name].grad).sum(dim=(0, 1, 3)) for name in names]
    )  # [layer, head]
    model.zero_grad(set_to_none=True)
    return (value.detach() + estimate).detach()
