"""The controls Part VI reads its numbers against: the phase of two features tells superposition (opposite signs)
from a same-sign blend; class-weighted probes, balanced accuracy and the control task (chapter 15)."""

import pytest
import torch
from glassbox.features import probes
from glassbox.features import superposition as toy


def test_phase_of_tells_superposition_from_a_same_sign_blend():
    W = torch.tensor([[[1.0, 0.1]], [[1.0, -1.0]], [[0.1, 1.0]], [[0.8, 0.6]], [[-0.8, -0.6]], [[-1.0, 0.9]]])
    assert toy.phase_of(W).tolist() == [0, 1, 2, 3, 3, 1]
    with pytest.raises(ValueError, match="two features in one dimension"):
        toy.phase_of(torch.ones(1, 2, 2))


def test_balanced_accuracy_gives_any_constant_answer_one_half():
    labels = torch.tensor([True] + [False] * 49)
    assert probes.balanced_accuracy(torch.zeros(50, dtype=torch.bool), labels) == 0.5
    assert probes.balanced_accuracy(torch.ones(50, dtype=torch.bool), labels) == 0.5
    assert probes.balanced_accuracy(labels.clone(), labels) == 1.0
    with pytest.raises(ValueError, match="both classes"):
        probes.balanced_accuracy(labels, torch.zeros(50, dtype=torch.bool))


def test_class_weights_give_each_class_half_the_loss():
    labels = torch.tensor([True] * 3 + [False] * 17)
    weights = probes.class_weights(labels)
    torch.testing.assert_close(weights.mean(), torch.tensor(1.0))
    torch.testing.assert_close(weights[labels].sum(), weights[~labels].sum())


def test_a_class_weighted_probe_finds_a_rare_class_the_plain_one_misses():
    generator = torch.Generator().manual_seed(0)
    acts = torch.randn(6000, 8, generator=generator)
    labels = acts[:, 0] + 0.7 * torch.randn(6000, generator=generator) > 2.3  # about 1.5 % positive, noisy
    plain = probes.fit_probe(acts[:4000], labels[:4000], steps=200)
    weighted = probes.fit_probe(acts[:4000], labels[:4000], steps=200, balanced=True)
    test = acts[4000:], labels[4000:]
    assert weighted.balanced_accuracy(*test) > plain.balanced_accuracy(*test) + 0.1
    assert plain.accuracy(*test) > weighted.accuracy(*test)  # plain accuracy rewards answering "no"


def test_the_control_task_is_a_function_of_the_token_with_the_property_frequency():
    tokens = torch.randint(0, 40, (5000,), generator=torch.Generator().manual_seed(1))
    control = probes.control_labels(tokens, 0.3, seed=2)
    for t in tokens.unique():
        assert control[tokens == t].unique().numel() == 1  # one label per token type
    assert 0.3 <= control.float().mean() < 0.3 + 0.05  # the first type that reaches the rate is the last one in
    assert not torch.equal(control, probes.control_labels(tokens, 0.3, seed=3))
