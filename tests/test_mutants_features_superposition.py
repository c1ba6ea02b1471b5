"""The toy model of superposition (chapter 13), pinned where mutation testing found the suite silent: Xavier-normal
initialisation per instance, independent instances in the data, the cosine learning-rate schedule against PyTorch's
CosineAnnealingLR, seeded training, the final loss on 64 batches' worth of fresh samples, a cache key that follows
everything that decides the weights, the dimensionality of features of unequal norms by hand, the importances."""

import math

import pytest
import torch
from glassbox.features import superposition as toy


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))


def test_initialisation_is_xavier_normal_drawn_afresh_for_every_entry():
    model = toy.ToyModel(3000, n_features=3, d_hidden=2, seed=0)
    W = model.W.detach()
    assert W.shape == (3000, 2, 3) and not model.b_final.any()
    assert W.var().item() == pytest.approx(2 / (2 + 3), rel=0.05)  # Var = 2 / (fan_in + fan_out)
    assert W.mean().abs() < 0.02
    assert torch.corrcoef(torch.stack([W[:, 0, 0], W[:, 1, 0], W[:, 0, 1]]))[0, 1:].abs().max() < 0.05
    assert torch.equal(toy.ToyModel(4, 3, 2).W, toy.ToyModel(4, 3, 2, seed=0).W)
    assert not torch.equal(toy.ToyModel(4, 3, 2, seed=1).W, toy.ToyModel(4, 3, 2, seed=0).W)


def test_instances_draw_their_features_independently():
    x = toy.sparse_features(5000, torch.tensor([0.5, 0.5]), 2, torch.Generator().manual_seed(0))
    assert x.shape == (5000, 2, 2)
    both = ((x[:, 0] > 0) & (x[:, 1] > 0)).float().mean().item()
    assert both == pytest.approx(0.25, abs=0.03)  # independent: 1/2 · 1/2, not 1/2


def test_the_learning_rate_follows_pytorchs_cosine_annealing(monkeypatch):
    seen = []

    class Recording(torch.optim.Adam):
        def step(self, closure=None):
            seen.append(self.param_groups[0]["lr"])
            return super().step(closure)

    monkeypatch.setattr(torch.optim, "Adam", Recording)
    recipe = toy.ToyRecipe(n_features=3, d_hidden=2, steps=20, batch_size=8, lr=0.2)
    toy.train_toy_model(torch.tensor([0.5]), torch.ones(1, 3), recipe)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(torch.optim.SGD([torch.zeros(1)], lr=0.2), T_max=20)
    expected = []
    for _ in range(20):
        expected.append(reference.get_last_lr()[0])
        reference.optimizer.step()
        reference.step()
    assert seen == pytest.approx(expected, abs=1e-6)  # the library takes its cosine in float32


def test_training_is_seeded(tmp_path, monkeypatch):
    recipe = toy.ToyRecipe(n_features=3, d_hidden=2, steps=30, batch_size=16)
    args = torch.tensor([0.3, 0.9]), torch.ones(2, 3)
    first, loss = toy.train_toy_model(*args, recipe)
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path / "elsewhere"))  # trained again, not read back
    torch.rand(3)  # the global generator moves on: a seeded training does not follow it
    again, loss_again = toy.train_toy_model(*args, recipe)
    assert torch.equal(first.W, again.W) and torch.equal(loss, loss_again)


def test_an_untrained_model_starts_from_the_recipe_seed():
    recipe = toy.ToyRecipe(n_features=4, d_hidden=2, steps=0, seed=3)
    model, _ = toy.train_toy_model(torch.tensor([0.5, 1.0]), torch.ones(2, 4), recipe)
    assert torch.equal(model.W, toy.ToyModel(2, 4, 2, seed=3).W)


def test_the_final_loss_is_measured_on_64_batches_of_fresh_samples(monkeypatch):
    calls = []
    draw = toy.sparse_features

    def recording(batch, feature_probability, n_features, generator):
        calls.append((batch, generator.initial_seed()))
        return draw(batch, feature_probability, n_features, generator)

    monkeypatch.setattr(toy, "sparse_features", recording)
    recipe = toy.ToyRecipe(n_features=3, d_hidden=2, steps=2, batch_size=8)
    model, loss = toy.train_toy_model(torch.tensor([0.5]), torch.ones(1, 3), recipe)
    (training_seed,) = {seed for batch, seed in calls[:-1]}
    assert [batch for batch, _ in calls] == [8, 8, 64 * 8]
    assert calls[-1][1] != training_seed  # fresh: not the training's stream
    x = draw(64 * 8, torch.tensor([0.5]), 3, torch.Generator().manual_seed(calls[-1][1]))
    torch.testing.assert_close(loss, ((x - model(x)) ** 2).sum(-1).mean(0))


def test_the_cache_key_follows_the_recipe_the_data_the_importances_and_torchs_version(tmp_path, monkeypatch):
    recipe = toy.ToyRecipe(n_features=3, d_hidden=2, steps=1, batch_size=4)

    def files() -> int:
        return len(list(tmp_path.glob("toy_model-*.pt")))

    toy.train_toy_model(torch.tensor([0.5]), torch.ones(1, 3), recipe)
    toy.train_toy_model(torch.tensor([0.5]), torch.ones(1, 3), recipe)
    assert files() == 1
    toy.train_toy_model(torch.tensor([0.5]), torch.ones(1, 3), toy.ToyRecipe(3, 2, steps=1, batch_size=4, lr=0.5))
    assert files() == 2
    toy.train_toy_model(torch.tensor([0.25]), torch.ones(1, 3), recipe)
    assert files() == 3
    toy.train_toy_model(torch.tensor([0.5]), torch.tensor([[1.0, 0.5, 0.25]]), recipe)
    assert files() == 4
    monkeypatch.setattr(torch, "__version__", "0.0.test")
    toy.train_toy_model(torch.tensor([0.5]), torch.ones(1, 3), recipe)
    assert files() == 5


def test_dimensionality_of_features_of_unequal_norms_by_hand():
    # two features in one dimension, W = (0.5, -0.25): D_0 = 0.25 / (0.5² + 0.25²) = 0.8, D_1 = 0.0625 / 0.3125
    W = torch.tensor([[[0.5, -0.25]]])
    torch.testing.assert_close(toy.feature_dimensionality(W), torch.tensor([[0.8, 0.2]]))
    # D_i does not change when the weights are scaled: a pentagon of radius 3 still has 2/5 each
    angles = 2 * math.pi * torch.arange(5) / 5
    pentagon = 3 * torch.stack([angles.cos(), angles.sin()])[None]
    torch.testing.assert_close(toy.feature_dimensionality(pentagon), torch.full((1, 5), 0.4))


def test_importance_decay_is_powers_of_the_rate():
    torch.testing.assert_close(toy.importance_decay(3, 0.9), torch.tensor([1.0, 0.9, 0.81]))
    equal = toy.importance_decay(4, 1.0)  # every feature equally important
    assert equal.dtype == torch.float32 and torch.equal(equal, torch.ones(4))
