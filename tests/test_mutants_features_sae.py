"""The sparse autoencoder (chapter 14), pinned where mutation testing found the suite silent: the encoder and decoder
on a case small enough to do by hand (the decoder bias subtracted before encoding, added after decoding, as in
SAELens's StandardSAE), SAELens's initialisation (decoder rows of norm 0.1, encoder its transpose), a seeded and
cached training that starts its decoder bias at the data's mean, and a cache key that changes with everything the
docstring says decides the weights."""

import pytest
import torch
from glassbox.features import sae as saes


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))


def test_encode_and_decode_by_hand():
    # x = (1, 2), b_dec = (1, 1): x - b_dec = (0, 1); W_enc = I, b_enc = (0, -0.5): f = ReLU(0, 0.5) = (0, 0.5)
    W_enc, b_enc, b_dec = torch.eye(2), torch.tensor([0.0, -0.5]), torch.tensor([1.0, 1.0])
    torch.testing.assert_close(saes.sae_encode(torch.tensor([1.0, 2.0]), W_enc, b_enc, b_dec), torch.tensor([0.0, 0.5]))
    sae = saes.SparseAutoencoder(2, 2)
    with torch.no_grad():
        sae.W_enc.copy_(W_enc), sae.b_enc.copy_(b_enc), sae.b_dec.copy_(b_dec)
        sae.W_dec.copy_(torch.tensor([[2.0, 0.0], [0.0, 4.0]]))
    # x̂ = f W_dec + b_dec = (0, 0.5) W_dec + (1, 1) = (1, 3)
    torch.testing.assert_close(sae.decode(torch.tensor([0.0, 0.5])), torch.tensor([1.0, 3.0]))
    torch.testing.assert_close(sae(torch.tensor([[1.0, 2.0]])), torch.tensor([[1.0, 3.0]]))


def test_initialisation_is_saelens_short_decoder_rows_and_a_transposed_encoder():
    sae = saes.SparseAutoencoder(5, 12, seed=3)
    torch.testing.assert_close(sae.W_dec.norm(dim=1), torch.full((12,), 0.1))
    assert torch.equal(sae.W_enc, sae.W_dec.T)
    assert not sae.b_enc.any() and not sae.b_dec.any()
    assert torch.equal(saes.SparseAutoencoder(5, 12, seed=3).W_dec, sae.W_dec)  # seeded
    assert not torch.equal(saes.SparseAutoencoder(5, 12, seed=4).W_dec, sae.W_dec)
    assert torch.equal(saes.SparseAutoencoder(5, 12).W_dec, saes.SparseAutoencoder(5, 12, seed=0).W_dec)
    rows = saes.SparseAutoencoder(5, 12).W_dec
    assert (rows @ rows.T).fill_diagonal_(0).abs().max() > 1e-3  # rows point in different directions


def test_an_untrained_sae_starts_from_the_recipe_seed_with_the_data_mean_as_decoder_bias():
    acts = torch.randn(50, 4, generator=torch.Generator().manual_seed(0)) + torch.tensor([1.0, -2.0, 0.5, 3.0])
    recipe = saes.SAERecipe(expansion=2, steps=0, seed=1)
    sae = saes.train_sae(acts, recipe, decided_by="test")
    fresh = saes.SparseAutoencoder(4, 8, seed=1)
    assert torch.equal(sae.W_dec, fresh.W_dec) and torch.equal(sae.W_enc, fresh.W_enc)
    torch.testing.assert_close(sae.b_dec.detach(), acts.mean(0))


def test_training_is_seeded_and_samples_every_row(tmp_path, monkeypatch):
    acts = torch.randn(40, 3, generator=torch.Generator().manual_seed(1))
    recipe = saes.SAERecipe(expansion=2, steps=5, batch_size=8)
    first = saes.train_sae(acts, recipe, decided_by="a")
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path / "elsewhere"))  # trained again, not read back
    torch.rand(3)  # the global generator moves on: a seeded training does not follow it
    again = saes.train_sae(acts, recipe, decided_by="a")
    assert torch.equal(first.W_dec, again.W_dec) and torch.equal(first.b_enc, again.b_enc)
    single = saes.train_sae(acts[:1], recipe, decided_by="a")  # a batch drawn from one row is that row
    assert torch.isfinite(single.W_dec).all()


def test_the_cache_key_holds_the_recipe_the_source_the_shape_and_torchs_version(tmp_path, monkeypatch):
    acts = torch.randn(20, 3, generator=torch.Generator().manual_seed(2))
    recipe = saes.SAERecipe(expansion=2, steps=1, batch_size=4)

    def files() -> int:
        return len(list(tmp_path.glob("sae-*.pt")))

    saes.train_sae(acts, recipe, decided_by="model a")
    saes.train_sae(acts, recipe, decided_by="model a")
    assert files() == 1
    saes.train_sae(acts, saes.SAERecipe(expansion=2, steps=1, batch_size=4, lr=1e-4), decided_by="model a")
    assert files() == 2
    saes.train_sae(acts, recipe, decided_by="model b")
    assert files() == 3
    saes.train_sae(acts.reshape(30, 2), recipe, decided_by="model a")
    assert files() == 4
    saes.train_sae(acts[:10], recipe, decided_by="model a")
    assert files() == 5
    monkeypatch.setattr(torch, "__version__", "0.0.test")
    saes.train_sae(acts, recipe, decided_by="model a")
    assert files() == 6


def test_weights_digest_is_16_hex_digits_that_follow_the_weights():
    sae = saes.SparseAutoencoder(3, 6)
    digest = saes.weights_digest(sae)
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert saes.weights_digest(saes.SparseAutoencoder(3, 6)) == digest
    with torch.no_grad():
        sae.b_dec[0] = 1.0
    assert saes.weights_digest(sae) != digest
