"""What one SAE latent does to the model's output, chapter 14: its direct logit effects (decoder row through the
final LayerNorm's scale and the unembedding) and its ablation inside the spliced-in reconstruction.

ARENA 1.3.3 and Neuronpedia call the first a latent's "top and bottom logits". The second zeroes (or clamps) one
latent's activation before decoding, with the reconstruction spliced in at the hook the SAE reads: its baseline is the
unablated reconstruction spliced in, because splicing alone already changes the loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn


def logit_effects(
    W_dec: Float[Tensor, "d_sae d_model"],
    W_U: Float[Tensor, "d_model d_vocab"],
    ln_scale: Float[Tensor, "d_model"] | None = None,
) -> Float[Tensor, "d_sae d_vocab"]:
    """Each latent's direct effect on the logits: its decoder row, centred and multiplied by the final LayerNorm's
    scale `ln_scale` (when the model has one), times the unembedding.

    The approximation: a LayerNorm is linear but for its division by the standard deviation of the whole stream,
    which is positive and the same for every logit, so it rescales a latent's row of effects without reordering it.
    It is left out, and so is the change the write makes to that deviation (exact, up to the factor, for a small
    write that leaves it unchanged). The biases of the LayerNorm and of the unembedding add the same to every
    latent, and are left out too. Only the direct path counts: what the layers after the SAE's hook do with the
    direction is not in it."""
    if ln_scale is not None:
        W_dec = (W_dec - W_dec.mean(-1, keepdim=True)) * ln_scale  # LayerNorm: subtract the mean, scale by w
    return W_dec @ W_U


def model_logit_effects(sae: nn.Module, model: nn.Module) -> Float[Tensor, "d_sae d_vocab"]:
    """`logit_effects` for an SAE on one of the book's models, through `ln_final.w` where the model has it."""
    ln_scale = model.ln_final.w if model.cfg.normalization_type == "LN" else None
    with torch.no_grad():
        return logit_effects(sae.W_dec, model.W_U, ln_scale)


def next_token_lift(
    fires: Bool[Tensor, "n"], next_tokens: Int[Tensor, "n"], chosen: Int[Tensor, "k"], d_vocab: int
) -> float:
    """How much more often the next token is one of `chosen` where a latent fires than over all `n` positions: 1 is
    no more often, 0 never. A check of a latent's logit effects against what actually follows its contexts."""
    if not fires.any():
        raise ValueError("the latent never fires on these positions: there is nothing to compare")
    everywhere = torch.bincount(next_tokens, minlength=d_vocab).float()
    where_fires = torch.bincount(next_tokens[fires], minlength=d_vocab).float()
    base = everywhere[chosen].sum() / everywhere.sum()
    if base == 0:
        raise ValueError("none of the chosen tokens ever comes next: their lift is undefined")
    return ((where_fires[chosen].sum() / where_fires.sum()) / base).item()


def splice_hook(sae: nn.Module, latent: int | None = None, value: float = 0.0):
    """A hook that replaces the activation by the SAE's reconstruction, with latent `latent` clamped to `value`
    where it fires (0: ablated; None: the plain reconstruction, the ablation's baseline)."""

    def splice(activation: Tensor, hook) -> Tensor:
        feature_acts = sae.encode(activation)
        if latent is not None:
            feature_acts[..., latent] = torch.where(feature_acts[..., latent] > 0, value, 0.0)
        return sae.decode(feature_acts)

    return splice


def latent_ablated_loss(
    model: nn.Module, sae: nn.Module, tokens: Int[Tensor, "batch pos"], hook_name: str, latent: int
) -> Float[Tensor, ""]:
    """The model's mean next-token loss with the SAE's reconstruction spliced in at `hook_name` and latent `latent`
    zeroed in it."""
    with torch.no_grad():
        return model.run_with_hooks(tokens, return_type="loss", fwd_hooks=[(hook_name, splice_hook(sae, latent))])


@dataclass(frozen=True)
class SplicedRun:
    """What every ablation of one SAE is compared with, on the same tokens: the clean model's log-probabilities, the
    unablated reconstruction's, and the latents' activations at the hook."""

    tokens: Int[Tensor, "batch pos"]
    clean: Float[Tensor, "batch pos d_vocab"]  # log-probabilities, clean model
    spliced: Float[Tensor, "batch pos d_vocab"]  # log-probabilities, reconstruction spliced in
    latent_acts: Float[Tensor, "batch pos d_sae"]


@torch.no_grad()
def spliced_run(model: nn.Module, sae: nn.Module, tokens: Int[Tensor, "batch pos"], hook_name: str) -> SplicedRun:
    logits, cache = model.run_with_cache(tokens, names_filter=hook_name)
    spliced = model.run_with_hooks(tokens, fwd_hooks=[(hook_name, splice_hook(sae))])
    return SplicedRun(tokens, logits.log_softmax(-1), spliced.log_softmax(-1), sae.encode(cache[hook_name]))


@dataclass(frozen=True)
class Ablation:
    """One latent zeroed in the spliced-in reconstruction, measured at the positions where it fires."""

    latent: int
    n_firing: int  # positions (with a next token) where the latent fires
    loss_change: float  # ablated − spliced next-token loss, mean over those positions
    splice_error: float  # spliced − clean at the same positions: what the SAE's error already costs there
    promoted_change: float  # change in log P(next token is one of the latent's most promoted tokens)
    direct_agreement: float  # correlation, over the vocabulary, of the mean change in log-probs with −logit effects
    logprob_change: Float[Tensor, "d_vocab"]  # that mean change (centred over the vocabulary at each position)


@torch.no_grad()
def ablate_latent(
    model: nn.Module,
    sae: nn.Module,
    hook_name: str,
    latent: int,
    run: SplicedRun,
    effects: Float[Tensor, "d_sae d_vocab"],
    k: int = 5,
) -> Ablation:
    """Zero latent `latent` in the reconstruction and compare with `run` where the latent fires."""
    fires = run.latent_acts[:, :-1, latent] > 0
    if not fires.any():
        raise ValueError(f"latent {latent} never fires on these tokens: its ablation changes nothing")
    ablated = model.run_with_hooks(run.tokens, fwd_hooks=[(hook_name, splice_hook(sae, latent))]).log_softmax(-1)
    targets = run.tokens[:, 1:, None]
    runs = {"clean": run.clean, "spliced": run.spliced, "ablated": ablated}
    loss = {name: -lp[:, :-1].gather(-1, targets)[..., 0][fires] for name, lp in runs.items()}
    promoted = effects[latent].topk(k).indices
    change = (ablated - run.spliced)[:, :-1][fires]  # [n_firing, d_vocab]
    promoted_change = (
        ablated[:, :-1][fires][:, promoted].logsumexp(-1) - run.spliced[:, :-1][fires][:, promoted].logsumexp(-1)
    ).mean()
    mean_change = (change - change.mean(-1, keepdim=True)).mean(0)
    agreement = torch.corrcoef(torch.stack([mean_change, -effects[latent]]))[0, 1]
    return Ablation(
        latent,
        int(fires.sum()),
        (loss["ablated"] - loss["spliced"]).mean().item(),
        (loss["spliced"] - loss["clean"]).mean().item(),
        promoted_change.item(),
        agreement.item(),
        mean_change,
    )


def similar_frequency_latent(
    density: Float[Tensor, "d_sae"], latent: int, exclude: set[int], generator: torch.Generator, pool: int = 10
) -> int:
    """A control for `latent`: one drawn at random from the `pool` latents (outside `exclude`) whose firing rate is
    closest to its own."""
    order = (density - density[latent]).abs().argsort().tolist()
    candidates = [j for j in order if j != latent and j not in exclude and density[j] > 0][:pool]
    if not candidates:
        raise ValueError("no live latent outside `exclude` to draw a control from")
    return candidates[torch.randint(len(candidates), (1,), generator=generator).item()]
