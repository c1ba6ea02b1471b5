"""Probes (chapter 15), pinned where mutation testing found the suite silent: fit_probe against gradient descent
with the analytic gradient of logistic regression, the standardisation its docstring promises, sklearn's decision
rule (a logit of 0 is "no"), class weights and the control task on cases small enough to count by hand, the majority
baseline."""

import pytest
import torch
from glassbox.features import probes


def sgd_probe(acts, labels, steps=300, lr=1.0, balanced=False):
    """The module docstring's recipe, written independently: standardise each dimension (torch's std), append a
    constant 1, run full-batch gradient descent from zero with the analytic gradient of the (class-weighted) mean
    binary cross-entropy, Xᵀ (weight · (sigmoid(X w) − y)) / n."""
    standard = (acts - acts.mean(0)) / acts.std(0)
    X = torch.cat([standard, torch.ones(len(acts), 1, dtype=acts.dtype)], 1)
    y = labels.to(acts.dtype)
    n, n_pos = len(labels), int(labels.sum())
    weight = torch.where(labels, n / (2 * n_pos), n / (2 * (n - n_pos))).to(acts.dtype) if balanced else 1.0
    w = torch.zeros(X.shape[1], dtype=acts.dtype)
    for _ in range(steps):
        w = w - lr * X.T @ (weight * (torch.sigmoid(X @ w) - y)) / n
    return w


def noisy_data(n=60, d=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    acts = torch.randn(n, d, generator=generator, dtype=torch.float64) * torch.tensor([0.3, 2.0, 5.0]) + 1.5
    labels = (
        acts[:, 0] + 0.05 * torch.randn(n, generator=generator, dtype=torch.float64) > 1.7
    )  # barely separable: far from converged at 300 steps
    return acts, labels


def test_fit_probe_with_its_defaults_is_300_steps_of_gradient_descent_at_rate_1():
    acts, labels = noisy_data()
    torch.testing.assert_close(probes.fit_probe(acts, labels).weights, sgd_probe(acts, labels), rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(
        probes.fit_probe(acts, labels, steps=40, lr=0.5, balanced=True).weights,
        sgd_probe(acts, labels, steps=40, lr=0.5, balanced=True),
        rtol=1e-5,  # class_weights computes in float32
        atol=1e-6,
    )


def test_fit_probe_standardises_each_dimension_on_the_training_set():
    acts, labels = noisy_data()
    acts[:, 2] = 4.0  # a constant dimension: standardised to zero, not NaN
    probe = probes.fit_probe(acts, labels, steps=5)
    features = probe.features(acts)
    assert features.shape == (60, 4)
    torch.testing.assert_close(features[:, :2].mean(0), torch.zeros(2, dtype=torch.float64))
    torch.testing.assert_close(features[:, :2].std(0), torch.ones(2, dtype=torch.float64))  # dimension 0 has std 0.3
    assert torch.equal(features[:, 2], torch.zeros(60, dtype=torch.float64))
    assert torch.equal(features[:, 3], torch.ones(60, dtype=torch.float64))  # the bias feature, last


def test_a_logit_of_zero_predicts_no_as_sklearn_does():
    # sklearn's LinearClassifierMixin.predict answers the positive class where the decision function is > 0
    probe = probes.Probe(torch.zeros(1), torch.ones(1), torch.tensor([2.0, -1.0]))  # logit 2x - 1
    assert probe.predict(torch.tensor([[0.4], [0.5], [0.6]])).tolist() == [False, False, True]
    untrained = probes.Probe(torch.zeros(2), torch.ones(2), torch.zeros(3))
    assert not untrained.predict(torch.randn(5, 2)).any()


def test_class_weights_by_hand_and_with_one_class_missing():
    torch.testing.assert_close(
        probes.class_weights(torch.tensor([True, False, False, False])), torch.tensor([2.0, 2 / 3, 2 / 3, 2 / 3])
    )
    # a missing class is counted as if one sample of n had it: finite weights, 0.5 / (3/4) for n = 4
    torch.testing.assert_close(probes.class_weights(torch.zeros(4, dtype=torch.bool)), torch.full((4,), 2 / 3))
    torch.testing.assert_close(probes.class_weights(torch.ones(4, dtype=torch.bool)), torch.full((4,), 2 / 3))


def test_balanced_accuracy_refuses_one_class_in_one_sentence():
    with pytest.raises(ValueError) as error:
        probes.balanced_accuracy(torch.ones(3, dtype=torch.bool), torch.ones(3, dtype=torch.bool))
    assert str(error.value) == "balanced accuracy needs both classes among the labels"
    # by hand: 1 of 2 positives and 2 of 3 negatives right
    predicted, labels = torch.tensor([True, False, True, False, False]), torch.tensor([True, True, False, False, False])
    assert probes.balanced_accuracy(predicted, labels) == pytest.approx(0.5 * (1 / 2 + 2 / 3))


def test_the_control_task_stops_at_the_first_type_that_reaches_the_rate():
    tokens = torch.randperm(8, generator=torch.Generator().manual_seed(0))  # 8 types, each 1/8 of the tokens
    for seed in range(5):
        control = probes.control_labels(tokens, 0.25, seed=seed)
        assert control.dtype == torch.bool and control.shape == (8,)
        assert int(control.sum()) == 2  # 1/8, then 2/8 reaches 0.25: that type is in, no more
        assert int(probes.control_labels(tokens, 0.3, seed=seed).sum()) == 3  # 2/8 < 0.3 <= 3/8
    assert torch.equal(probes.control_labels(tokens, 0.25), probes.control_labels(tokens, 0.25, seed=0))
    assert torch.equal(probes.control_labels(tokens, 0.25, seed=3), probes.control_labels(tokens, 0.25, seed=3))


def test_the_control_task_draws_only_types_that_occur():
    # ids 0 and 9 occur (eight absent ids between them): a tiny rate still labels exactly one occurring type
    tokens = torch.tensor([0, 9, 9, 0, 9, 0, 0, 9, 9, 9])
    for seed in range(8):
        control = probes.control_labels(tokens, 0.01, seed=seed)
        assert control.any() and not control.all(), seed
        assert control[tokens == 0].unique().numel() == 1 and control[tokens == 9].unique().numel() == 1


def test_majority_accuracy_by_hand():
    train = torch.tensor([True, True, True, False])
    assert probes.majority_accuracy(train, torch.tensor([True, True, False, False, False])) == pytest.approx(0.4)
    assert probes.majority_accuracy(~train, torch.tensor([True, True, False, False, False])) == pytest.approx(0.6)
