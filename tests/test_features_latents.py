"""One SAE latent's effect on the output (chapter 14): logit effects through the final LayerNorm and the
unembedding, the lift of its promoted tokens, and its ablation inside the spliced-in reconstruction."""

import pytest
import torch
import torch.nn.functional as F
from glassbox.config import TransformerConfig
from glassbox.features import latents
from glassbox.features.sae import SparseAutoencoder, spliced_loss
from glassbox.model import Transformer


def random_sae(d_in: int, d_sae: int, seed: int) -> SparseAutoencoder:
    sae = SparseAutoencoder(d_in, d_sae, seed=seed)
    generator = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for param in sae.parameters():
            param.copy_(0.5 * torch.randn(param.shape, generator=generator))
    return sae.eval()


@pytest.fixture(scope="module")
def setup():
    cfg = TransformerConfig(d_model=16, n_layers=2, n_heads=2, n_ctx=12, d_vocab=11, normalization_type="LN", seed=0)
    model = Transformer(cfg).eval()
    with torch.no_grad():
        model.ln_final.w.copy_(torch.linspace(0.5, 2, 16))  # a scale that is not all ones, so it is tested
    tokens = torch.randint(0, 11, (6, 12), generator=torch.Generator().manual_seed(1))
    return model, random_sae(16, 48, 2), tokens, "blocks.1.hook_resid_pre"


def test_logit_effects_without_layernorm_are_decoder_times_unembedding():
    W_dec, W_U = torch.randn(5, 4), torch.randn(4, 7)
    torch.testing.assert_close(latents.logit_effects(W_dec, W_U), W_dec @ W_U)


def test_logit_effects_centre_and_scale_like_the_final_layernorm():
    W_U, scale = torch.randn(3, 6), torch.tensor([1.0, 2.0, 3.0])
    W_dec = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, -1.0], [2.0, 0.0, 1.0]])
    effects = latents.logit_effects(W_dec, W_U, scale)
    torch.testing.assert_close(effects[0], torch.zeros(6))  # a constant direction is removed by the centring
    torch.testing.assert_close(effects[1], torch.tensor([1.0, 0.0, -3.0]) @ W_U)
    torch.testing.assert_close(effects[2], torch.tensor([1.0, -2.0, 0.0]) @ W_U)  # mean 1 subtracted, then scaled


def test_logit_effects_rank_tokens_as_a_small_push_through_the_final_layernorm_does(setup):
    # The one left-out factor, 1/σ, is positive: a tiny push along a latent's direction just before ln_final, with
    # the part that would change σ projected out, changes the logits in the direction the effects give.
    model, sae, tokens, _ = setup
    effects = latents.model_logit_effects(sae, model)
    resid = torch.randn(16, generator=torch.Generator().manual_seed(3))
    resid = resid - resid.mean()
    for latent in (0, 7, 30):
        direction = sae.W_dec[latent].detach()
        direction = direction - direction.mean()
        direction = direction - (direction @ resid) / (resid @ resid) * resid  # leave σ unchanged to first order
        with torch.no_grad():
            pushed = torch.stack([resid, resid + 1e-3 * direction])[None]  # [batch 1, pos 2, d_model]
            logits = model.unembed(model.ln_final(pushed))[0]
            change = logits[1] - logits[0]
            expected = latents.logit_effects(direction[None], model.W_U, model.ln_final.w)[0]
        assert F.cosine_similarity(change, expected, dim=0) > 0.999
    assert effects.shape == (48, 11)


def test_next_token_lift_by_hand():
    next_tokens = torch.tensor([0, 1, 1, 2, 2, 2, 3, 3])  # token 1 follows 2 of 8 positions overall
    fires = torch.tensor([True, True, True, False, False, False, False, False])  # and 2 of the 3 where it fires
    assert latents.next_token_lift(fires, next_tokens, torch.tensor([1]), 5) == pytest.approx((2 / 3) / (2 / 8))
    assert latents.next_token_lift(fires, next_tokens, torch.tensor([3]), 5) == 0.0
    with pytest.raises(ValueError, match="never fires"):
        latents.next_token_lift(torch.zeros(8, dtype=torch.bool), next_tokens, torch.tensor([1]), 5)
    with pytest.raises(ValueError, match="ever comes next"):
        latents.next_token_lift(fires, next_tokens, torch.tensor([4]), 5)


def test_zeroing_a_latent_removes_exactly_its_write_from_the_reconstruction():
    sae = random_sae(8, 24, 0)
    x = torch.randn(5, 8)
    with torch.no_grad():
        acts = sae.encode(x)
        ablated = latents.splice_hook(sae, 3)(x.clone(), None)
        torch.testing.assert_close(latents.splice_hook(sae, None)(x.clone(), None), sae(x))
        torch.testing.assert_close(ablated, sae(x) - acts[:, 3:4] * sae.W_dec[3])
        clamped = latents.splice_hook(sae, 3, value=2.0)(x.clone(), None)
        fires = acts[:, 3] > 0
        torch.testing.assert_close(clamped, sae(x) + (2.0 * fires - acts[:, 3])[:, None] * sae.W_dec[3])


def test_latent_ablated_loss_is_the_spliced_loss_when_the_latent_never_fires(setup):
    model, sae, tokens, hook = setup
    with torch.no_grad():
        sae.b_enc[5] -= 100.0  # latent 5 can no longer fire
    try:
        torch.testing.assert_close(
            latents.latent_ablated_loss(model, sae, tokens, hook, 5), spliced_loss(model, sae, tokens, hook)
        )
        firing = int(sae.encode(torch.randn(4, 16)).gt(0).float().mean(0).argmax())
        assert latents.latent_ablated_loss(model, sae, tokens, hook, firing) != spliced_loss(model, sae, tokens, hook)
        run = latents.spliced_run(model, sae, tokens, hook)
        with pytest.raises(ValueError, match="never fires"):
            latents.ablate_latent(model, sae, hook, 5, run, latents.model_logit_effects(sae, model))
    finally:
        with torch.no_grad():
            sae.b_enc[5] += 100.0


def test_ablation_measures_against_the_spliced_and_clean_runs(setup):
    model, sae, tokens, hook = setup
    run = latents.spliced_run(model, sae, tokens, hook)
    effects = latents.model_logit_effects(sae, model)
    latent = int(run.latent_acts.gt(0).float().mean((0, 1)).argmax())  # the latent that fires most
    result = latents.ablate_latent(model, sae, hook, latent, run, effects)
    fires = run.latent_acts[:, :-1, latent] > 0
    assert result.n_firing == int(fires.sum())
    with torch.no_grad():
        clean = F.cross_entropy(model(tokens)[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none")
        spliced = F.cross_entropy(
            model.run_with_hooks(tokens, fwd_hooks=[(hook, lambda a, hook: sae(a))])[:, :-1].transpose(1, 2),
            tokens[:, 1:],
            reduction="none",
        )
    assert result.splice_error == pytest.approx((spliced - clean)[fires].mean().item(), abs=1e-5)
    assert -1 <= result.direct_agreement <= 1
    assert all(torch.isfinite(torch.tensor([result.loss_change, result.promoted_change])))


def test_similar_frequency_latent_draws_from_the_nearest_and_skips_excluded():
    density = torch.tensor([0.10, 0.11, 0.50, 0.09, 0.0, 0.12, 0.30])
    drawn = {
        latents.similar_frequency_latent(density, 0, {1}, torch.Generator().manual_seed(s), pool=2) for s in range(20)
    }
    assert drawn == {3, 5}  # the two nearest to 0.10 but for 0 itself and the excluded 1; never the dead 4
    with pytest.raises(ValueError, match="no live latent"):
        latents.similar_frequency_latent(density, 0, {1, 2, 3, 5, 6}, torch.Generator())
