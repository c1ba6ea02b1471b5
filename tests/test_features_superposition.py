"""The toy model of superposition (chapter 13): a hand-made case with a known optimum, the geometry measures on
hand-made weights, the data, and the cache."""

import math

import pytest
import torch
from glassbox.features import superposition as toy


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))


def test_identity_weights_reconstruct_every_input_exactly():
    x = toy.sparse_features(64, torch.tensor([0.5, 1.0]), 4, torch.Generator().manual_seed(0))
    out = toy.toy_forward(torch.eye(4).expand(2, 4, 4), torch.zeros(2, 4), x)
    assert torch.equal(out, x)
    assert torch.equal(toy.importance_weighted_loss(out, x, torch.ones(2, 4)), torch.zeros(2))


def test_two_dense_features_in_one_dimension_train_to_the_known_optimum():
    # Dense features, importances 1 and 0.1: the optimum keeps feature 1 exactly (W = ±1, b = 0) and replaces
    # feature 2 by its mean (W = 0, b = 1/2), for a loss of 0.1 · Var(U[0, 1]) = 0.1 / 12.
    recipe = toy.ToyRecipe(n_features=2, d_hidden=1, steps=400, batch_size=512, lr=3e-2)
    model, loss = toy.train_toy_model(torch.ones(1), torch.tensor([[1.0, 0.1]]), recipe)
    W, b = model.W.detach()[0, 0], model.b_final.detach()[0]
    assert W[0].abs().item() == pytest.approx(1, abs=0.02) and W[1].abs().item() < 0.05
    assert b[1].item() == pytest.approx(0.5, abs=0.03)
    assert loss.item() == pytest.approx(0.1 / 12, rel=0.1)
    assert toy.phase_of(model.W.detach()).item() == 0


def test_sparse_features_have_the_asked_density_and_uniform_values():
    x = toy.sparse_features(20000, torch.tensor([0.1, 0.8]), 3, torch.Generator().manual_seed(1))
    present = x > 0
    assert present[:, 0].float().mean().item() == pytest.approx(0.1, abs=0.01)
    assert present[:, 1].float().mean().item() == pytest.approx(0.8, abs=0.01)
    assert x[present].mean().item() == pytest.approx(0.5, abs=0.01) and x.max() < 1


def test_dimensionality_of_a_pentagon_a_pair_a_lone_feature_and_a_dropped_one():
    angles = 2 * math.pi * torch.arange(5) / 5
    pentagon = torch.stack([angles.cos(), angles.sin()])[None]
    torch.testing.assert_close(toy.feature_dimensionality(pentagon), torch.full((1, 5), 0.4))
    torch.testing.assert_close(toy.dimensions_per_feature(pentagon), torch.tensor([0.4]))
    mixed = torch.tensor([[[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]])
    torch.testing.assert_close(toy.feature_dimensionality(mixed), torch.tensor([[0.5, 0.5, 1.0, 0.0]]))
    torch.testing.assert_close(toy.feature_norms(mixed), torch.tensor([[1.0, 1.0, 1.0, 0.0]]))


def test_phase_of_two_features_in_one_dimension():
    W = torch.tensor([[[1.0, 0.0]], [[1.0, -1.0]], [[0.0, 1.0]]])
    assert toy.phase_of(W).tolist() == [0, 1, 2]


def test_training_is_seeded_and_cached(tmp_path):
    recipe = toy.ToyRecipe(n_features=3, d_hidden=2, steps=50, batch_size=64)
    args = torch.tensor([0.5]), torch.ones(1, 3)
    first, loss = toy.train_toy_model(*args, recipe)
    assert len(list(tmp_path.glob("toy_model-*.pt"))) == 1
    again, loss_again = toy.train_toy_model(*args, recipe)
    assert torch.equal(first.W, again.W) and torch.equal(loss, loss_again)
    with pytest.raises(ValueError, match="importance must have shape"):
        toy.train_toy_model(torch.tensor([0.5]), torch.ones(1, 4), recipe)
