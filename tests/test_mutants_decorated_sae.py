"""The sparse autoencoder (chapter 14): the functions mutation testing could not reach while they were decorated
(`collect_activations` and `sae_stats`, under `@torch.no_grad()`), pinned from their docstrings: every window's
activation, in order, whatever the batching; and SAEStats's three numbers on a case small enough to do by hand."""

import torch
from glassbox.features import sae as saes
from torch import nn


class RecordingModel(nn.Module):
    """Stands in for a model: the activation at every hook is the window's tokens times 10 plus the position, so
    each window's rows are recognisable; records the batches it was given and the names it was asked to keep."""

    def __init__(self):
        super().__init__()
        self.batches, self.filters = [], []

    def run_with_cache(self, tokens, names_filter=None):
        self.batches.append(len(tokens))
        self.filters.append(names_filter)
        activation = (tokens * 10 + torch.arange(tokens.shape[1])).float()[..., None]  # [batch, pos, d_in=1]
        return None, {names_filter: activation}


def test_collect_activations_returns_every_window_in_order_whatever_the_batch_size():
    windows = torch.arange(7 * 3).reshape(7, 3)
    expected = (windows * 10 + torch.arange(3)).float()[..., None]
    for batch_size in (1, 2, 3, 7, 50):
        model = RecordingModel()
        torch.testing.assert_close(saes.collect_activations(model, windows, "hook_x", batch_size=batch_size), expected)
        assert model.batches == [min(batch_size, 7 - start) for start in range(0, 7, batch_size)]
        assert model.filters == ["hook_x"] * len(model.batches), "keep only the hook asked for"


def test_collect_activations_does_not_record_gradients():
    class Differentiable(RecordingModel):
        def run_with_cache(self, tokens, names_filter=None):
            weight = torch.ones(1, requires_grad=True)
            return None, {names_filter: tokens.float()[..., None] * weight}

    assert not saes.collect_activations(Differentiable(), torch.ones(2, 3, dtype=torch.long), "h").requires_grad


def by_hand_sae():
    # d_in = 2, d_sae = 2, identity encoder and decoder, b_dec = 0, b_enc = (0, -1): f = (ReLU(x0), ReLU(x1 - 1)),
    # x̂ = f
    sae = saes.SparseAutoencoder(2, 2)
    with torch.no_grad():
        sae.W_enc.copy_(torch.eye(2)), sae.W_dec.copy_(torch.eye(2))
        sae.b_enc.copy_(torch.tensor([0.0, -1.0])), sae.b_dec.zero_()
    return sae


def test_sae_stats_by_hand():
    acts = torch.tensor([[1.0, 3.0], [-1.0, 1.0], [2.0, 0.0], [0.0, 2.0]])
    # f = (1, 2), (0, 0), (2, 0), (0, 1): features active 2, 0, 1, 1 → L0 = 1; feature 0 fires on 2 of 4, feature 1 on 2
    # x̂ = f, x − x̂ = (0, 1), (-1, 1), (0, 0), (0, 1): ‖x − x̂‖² = 4
    # mean(x) = (0.5, 1.5): ‖x − mean‖² = (0.25 + 2.25 + 2.25 + 0.25) + (2.25 + 0.25 + 2.25 + 0.25) = 10
    stats = saes.sae_stats(by_hand_sae(), acts)
    assert stats.l0 == 1.0
    assert abs(stats.explained_variance - (1 - 4 / 10)) < 1e-6
    torch.testing.assert_close(stats.density, torch.tensor([0.5, 0.5]))
    assert not stats.density.requires_grad


def test_sae_stats_counts_a_feature_at_exactly_zero_as_silent():
    acts = torch.tensor([[0.0, 1.0], [0.0, 1.0]])  # f = (0, 0) on both: nothing fires (ReLU's zero is not a firing)
    stats = saes.sae_stats(by_hand_sae(), acts)
    assert stats.l0 == 0.0
    torch.testing.assert_close(stats.density, torch.zeros(2))


def test_collect_activations_default_batches_are_the_signatures_256():
    model = RecordingModel()
    assert len(saes.collect_activations(model, torch.zeros(300, 2, dtype=torch.long), "hook_x")) == 300
    assert model.batches == [256, 44]
