"""Checks for chapter 14, "Sparse autoencoders on our own model": the SAE's encoder, its loss, and the model's loss
with the SAE spliced in, the logits when a feature's direction is added (steering), and the loss with one latent
zeroed in the spliced-in reconstruction (ablation)."""

import torch

from glassbox.checking.judge import Case, Exercise
from glassbox.config import TransformerConfig
from glassbox.features.latents import latent_ablated_loss, logit_effects
from glassbox.features.probes import steer
from glassbox.features.sae import SparseAutoencoder, sae_encode, sae_loss, spliced_loss, zero_ablated_loss
from glassbox.model import Transformer


def _sae(d_in: int, d_sae: int, seed: int) -> SparseAutoencoder:
    """An SAE with random weights and biases (seeded), so that no term is tested by accident."""
    sae = SparseAutoencoder(d_in, d_sae, seed=seed)
    generator = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for param in sae.parameters():
            param.copy_(0.5 * torch.randn(param.shape, generator=generator))
    return sae.eval()


def _encode_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)
    sae = _sae(8, 32, 0)
    weights = (sae.W_enc.detach(), sae.b_enc.detach(), sae.b_dec.detach())
    return [
        Case("a batch of 16 activations, 8 → 32 features", (torch.randn(16, 8, generator=generator), *weights)),
        Case("activations with batch and position dimensions", (torch.randn(3, 5, 8, generator=generator), *weights)),
        Case("x = b_dec: only the encoder bias is left", (weights[2].clone().expand(4, 8).contiguous(), *weights)),
    ]


def _loss_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(1)
    sae = _sae(8, 32, 1)
    x = torch.randn(16, 8, generator=generator)
    acts = sae.encode(x).detach()
    W_dec, b_dec = sae.W_dec.detach(), sae.b_dec.detach()
    long_rows = W_dec * torch.linspace(0.2, 3, 32)[:, None]  # decoder rows of very different lengths
    return [
        Case("random SAE, λ = 0.1", (x, acts, W_dec, b_dec, 0.1)),
        Case("decoder rows of different lengths, λ = 1", (x, acts, long_rows, b_dec, 1.0)),
        Case("λ = 0: reconstruction only", (x, acts, W_dec, b_dec, 0.0)),
    ]


def _spliced_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(2)
    cfg = TransformerConfig(d_model=16, n_layers=2, n_heads=2, n_ctx=12, d_vocab=11, normalization_type="LN", seed=0)
    model = Transformer(cfg).eval()
    tokens = torch.randint(0, 11, (4, 12), generator=generator)
    return [
        Case("a random SAE between the two layers", (model, _sae(16, 64, 2), tokens, "blocks.1.hook_resid_pre")),
        Case("a random SAE on the MLP output of layer 0", (model, _sae(16, 32, 3), tokens, "blocks.0.hook_mlp_out")),
        Case(
            "one sequence, the last residual stream", (model, _sae(16, 64, 4), tokens[:1], "blocks.1.hook_resid_post")
        ),
    ]


def _unweighted_l1(x, f, W, b, lam):
    return (f @ W + b - x).pow(2).sum(-1).mean() + lam * f.sum(-1).mean()


def _mean_mse(x, f, W, b, lam):
    return (f @ W + b - x).pow(2).mean() + lam * (f * W.norm(dim=-1)).sum(-1).mean()


def _no_decoder_bias(x, f, W, b, lam):
    return (f @ W - x).pow(2).sum(-1).mean() + lam * (f * W.norm(dim=-1)).sum(-1).mean()


def _steer_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(5)
    cfg = TransformerConfig(d_model=8, n_layers=2, n_heads=2, n_ctx=6, d_vocab=11, normalization_type="LN", seed=1)
    model = Transformer(cfg).eval()
    sae = _sae(8, 24, 3)
    tokens = torch.randint(0, 11, (3, 6), generator=generator)
    return [
        Case("between the layers, feature 5, α = 4", (model, sae, tokens, "blocks.1.hook_resid_pre", 5, 4.0)),
        Case("after the last layer, feature 17, α = −2", (model, sae, tokens, "blocks.1.hook_resid_post", 17, -2.0)),
        Case("before the first layer, feature 0, α = 0.5", (model, sae, tokens, "blocks.0.hook_resid_pre", 0, 0.5)),
    ]


def _effects_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(8)
    W_dec, W_U = torch.randn(32, 8, generator=generator), torch.randn(8, 11, generator=generator)
    scale = 0.5 + torch.rand(8, generator=generator)  # a LayerNorm scale that is not all ones
    offset = W_dec + 3.0  # rows with a large mean, which the centring removes
    return [
        Case("32 latents, d_model 8, 11 tokens", (W_dec, scale, W_U)),
        Case("decoder rows with a large mean", (offset, scale, W_U)),
        Case("a scale far from 1", (W_dec[:5], 4.0 * scale, W_U)),
    ]


def _centred(W):
    return W - W.mean(-1, keepdim=True)


def _firing_sae(d_in: int, d_sae: int, seed: int, latent: int) -> SparseAutoencoder:
    """A random SAE whose latent `latent` fires on most inputs and writes a long row, so zeroing it is felt."""
    sae = _sae(d_in, d_sae, seed)
    with torch.no_grad():
        sae.b_enc[latent] = 2.0
        sae.W_dec[latent] *= 4.0
    return sae


def _ablation_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(6)
    cfg = TransformerConfig(
        d_model=16, n_layers=2, n_heads=2, n_ctx=12, d_vocab=11, normalization_type="LN", seed=2, init_range=0.4
    )
    model = Transformer(cfg).eval()
    tokens = torch.randint(0, 11, (4, 12), generator=generator)
    # latents below d_model, so that zeroing the residual stream's coordinate instead is a mistake one can make
    return [
        Case("between the layers, latent 3", (model, _firing_sae(16, 64, 5, 3), tokens, "blocks.1.hook_resid_pre", 3)),
        Case(
            "on layer 0's MLP output, latent 10",
            (model, _firing_sae(16, 32, 6, 10), tokens, "blocks.0.hook_mlp_out", 10),
        ),
        Case("one sequence, latent 7", (model, _firing_sae(16, 64, 7, 7), tokens[:1], "blocks.1.hook_resid_pre", 7)),
    ]


def _run(model, tokens, hook_name, fn):
    with torch.no_grad():
        return model.run_with_hooks(tokens, return_type="loss", fwd_hooks=[(hook_name, lambda a, hook: fn(a))])


def _not_ablated(m, s, t, h, i):
    return spliced_loss(m, s, t, h)


def _error_kept(m, s, t, h, i):  # x − f_i W_dec[i]: the clean activation minus the latent's write
    return _run(m, t, h, lambda a: a - s.encode(a)[..., i : i + 1] * s.W_dec[i])


def _stream_coordinate(m, s, t, h, i):  # zeroes coordinate i of the activation, then reconstructs
    return _run(m, t, h, lambda a: s(torch.cat([a[..., :i], torch.zeros_like(a[..., i : i + 1]), a[..., i + 1 :]], -1)))


def _no_decoder_bias(m, s, t, h, i):
    def ablate(a):
        f = s.encode(a)
        f[..., i] = 0
        return f @ s.W_dec

    return _run(m, t, h, ablate)


EXERCISES = [
    Exercise(
        name="sae_encode",
        module="ch14_sae",
        cases=_encode_cases,
        mistakes={
            "subtract the decoder bias b_dec from x before encoding": lambda x, W, b, bd: torch.relu(x @ W + b),
            "the ReLU keeps feature activations non-negative": lambda x, W, b, bd: (x - bd) @ W + b,
            "add the encoder bias b_enc before the ReLU": lambda x, W, b, bd: torch.relu((x - bd) @ W),
        },
        agrees_with={"glassbox.features.sae.sae_encode": sae_encode},
    ),
    Exercise(
        name="sae_loss",
        module="ch14_sae",
        cases=_loss_cases,
        mistakes={
            "weight each activation by the norm of its decoder row, W_dec.norm(dim=-1)": _unweighted_l1,
            "sum the squared error over d_in, then average over the batch (mse_loss averages over d_in too)": _mean_mse,
            "the reconstruction adds the decoder bias: x̂ = f W_dec + b_dec": _no_decoder_bias,
        },
        agrees_with={"glassbox.features.sae.sae_loss": sae_loss},
    ),
    Exercise(
        name="spliced_loss",
        module="ch14_sae",
        cases=_spliced_cases,
        mistakes={
            "that is the clean loss: the hook must return the SAE's reconstruction, sae(activation)": lambda m,
            s,
            t,
            h: m(t, return_type="loss"),
            "that is the zero-ablated loss: replace the activation by sae(activation), not by zeros": lambda m,
            s,
            t,
            h: zero_ablated_loss(m, t, h),
        },
        agrees_with={"glassbox.features.sae.spliced_loss": spliced_loss},
    ),
    Exercise(
        name="feature_steered_logits",
        module="ch14_sae",
        cases=_steer_cases,
        mistakes={
            "steer along the feature's decoder row W_dec[feature] (where it writes), not its encoder column W_enc[:, "
            "feature] (what it reads)": lambda m, s, t, h, f, a: steer(m, t, h, s.W_enc[:, f].detach(), a),
            "add alpha · W_dec[feature], not the unit vector along it": lambda m, s, t, h, f, a: steer(
                m, t, h, torch.nn.functional.normalize(s.W_dec[f].detach(), dim=0), a
            ),
            "multiply the direction by alpha before adding it": lambda m, s, t, h, f, a: steer(
                m, t, h, s.W_dec[f].detach(), 1.0
            ),
            "the hook must return the changed activation": lambda m, s, t, h, f, a: m(t),
        },
        agrees_with={"glassbox.features.probes.steer": lambda m, s, t, h, f, a: steer(m, t, h, s.W_dec[f].detach(), a)},
    ),
    Exercise(
        name="latent_logit_effects",
        module="ch14_sae",
        cases=_effects_cases,
        mistakes={
            "LayerNorm subtracts the mean first: centre each decoder row, W_dec - W_dec.mean(-1, keepdim=True)": (
                lambda W, s, U: (W * s) @ U
            ),
            "multiply by the final LayerNorm's scale ln_scale before the unembedding": lambda W, s, U: _centred(W) @ U,
            "centre the decoder rows, then scale: centring after the scale gives another vector": lambda W, s, U: (
                _centred(W * s) @ U
            ),
            "multiply by the LayerNorm's scale, do not divide by it": lambda W, s, U: (_centred(W) / s) @ U,
        },
        agrees_with={"glassbox.features.latents.logit_effects": lambda W, s, U: logit_effects(W, U, s)},
    ),
    Exercise(
        name="latent_ablated_loss",
        module="ch14_sae",
        cases=_ablation_cases,
        mistakes={
            "that is the spliced loss with nothing ablated: set the latent's activation to 0 before decoding": (
                _not_ablated
            ),
            "splice in the reconstruction with the latent zeroed: subtracting its write from the clean activation "
            "keeps the SAE's error term, a different experiment": _error_kept,
            "zero the SAE's latent (feature_acts[..., latent]), not coordinate `latent` of the residual stream": (
                _stream_coordinate
            ),
            "decode with the decoder bias: x̂ = f W_dec + b_dec": _no_decoder_bias,
            "that is the clean loss: the hook must return the ablated reconstruction": lambda m, s, t, h, i: m(
                t, return_type="loss"
            ),
        },
        agrees_with={"glassbox.features.latents.latent_ablated_loss": latent_ablated_loss},
    ),
]
