"""Chapter 14, "Sparse autoencoders on our own model": exercise stubs (fill in each body)."""

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn


def sae_encode(
    x: Float[Tensor, "... d_in"],
    W_enc: Float[Tensor, "d_in d_sae"],
    b_enc: Float[Tensor, "d_sae"],
    b_dec: Float[Tensor, "d_in"],
) -> Float[Tensor, "... d_sae"]:
    """The SAE's feature activations f = ReLU((x − b_dec) W_enc + b_enc), for activations with any leading
    dimensions."""
    raise NotImplementedError()


def sae_loss(
    x: Float[Tensor, "batch d_in"],
    feature_acts: Float[Tensor, "batch d_sae"],
    W_dec: Float[Tensor, "d_sae d_in"],
    b_dec: Float[Tensor, "d_in"],
    l1_coefficient: float,
) -> Float[Tensor, ""]:
    """The SAE's loss: ‖x − x̂‖² (summed over d_in) plus l1_coefficient · Σ_f f · ‖W_dec[f]‖ (summed over the
    features), both averaged over the batch, where x̂ = feature_acts W_dec + b_dec."""
    raise NotImplementedError()


def spliced_loss(
    model: nn.Module, sae: nn.Module, tokens: Int[Tensor, "batch pos"], hook_name: str
) -> Float[Tensor, ""]:
    """The model's mean next-token loss on `tokens` when the activation at `hook_name` is replaced by the SAE's
    reconstruction of it, `sae(activation)`."""
    raise NotImplementedError()


def feature_steered_logits(
    model: nn.Module,
    sae: nn.Module,
    tokens: Int[Tensor, "batch pos"],
    hook_name: str,
    feature: int,
    alpha: float,
) -> Float[Tensor, "batch pos d_vocab"]:
    """The model's logits on `tokens` with alpha times feature `feature`'s decoder row (its direction in the
    residual stream) added to the activation at `hook_name`, at every position."""
    raise NotImplementedError()


def latent_logit_effects(
    W_dec: Float[Tensor, "d_sae d_model"], ln_scale: Float[Tensor, "d_model"], W_U: Float[Tensor, "d_model d_vocab"]
) -> Float[Tensor, "d_sae d_vocab"]:
    """Each latent's direct effect on the logits: its decoder row W_dec[i] with its mean over d_model subtracted,
    multiplied by the final LayerNorm's scale ln_scale, times the unembedding W_U (the LayerNorm's division by the
    stream's standard deviation left out)."""
    raise NotImplementedError()


def latent_ablated_loss(
    model: nn.Module, sae: nn.Module, tokens: Int[Tensor, "batch pos"], hook_name: str, latent: int
) -> Float[Tensor, ""]:
    """The model's mean next-token loss on `tokens` with the SAE's reconstruction spliced in at `hook_name` and
    latent `latent` zeroed in it: encode the activation, set that latent's activation to 0, decode."""
    raise NotImplementedError()
