"""Probes (chapter 15): the functions mutation testing could not reach while they were decorated (`train_probe` under
`@torch.enable_grad()`, `Probe.direction` a property), pinned from their docstrings: train_probe's own defaults
(300 steps of size 1) against gradient descent with the analytic gradient of logistic regression, and the direction
as the unit-length gradient of the probe's logit with respect to the raw activation."""

import torch
from glassbox.features import probes


def gradient_descent(X, y, steps, lr):
    """Full-batch gradient descent from zero on the mean binary cross-entropy of sigmoid(X w), with its analytic
    gradient Xᵀ (sigmoid(X w) − y) / n."""
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    for _ in range(steps):
        w = w - lr * X.T @ (torch.sigmoid(X @ w) - y.to(X.dtype)) / len(y)
    return w


def separable_classes(n=40, seed=0):
    """Linearly separable classes: the weights grow without end (like log t), so gradient descent is still moving at
    step 300 and a step more, or a rate other than 1, gives other weights."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    return X, X[:, 0] - 0.5 * X[:, 1] > 0


def test_train_probe_defaults_are_300_steps_at_rate_1():
    X, y = separable_classes()
    weights = probes.train_probe(X, y)
    torch.testing.assert_close(weights, gradient_descent(X, y, 300, 1.0), rtol=1e-9, atol=1e-12)
    assert not torch.allclose(weights, gradient_descent(X, y, 301, 1.0), rtol=1e-7, atol=0), "not yet converged"


def test_train_probe_trains_inside_no_grad():
    X, y = separable_classes()
    with torch.no_grad():
        torch.testing.assert_close(probes.train_probe(X, y, steps=20), gradient_descent(X, y, 20, 1.0))


def test_direction_is_the_unit_gradient_of_the_logit_in_raw_activation_space():
    generator = torch.Generator().manual_seed(1)
    probe = probes.Probe(
        mean=torch.tensor([1.0, -2.0, 0.5]),
        std=torch.tensor([0.5, 3.0, 2.0]),
        weights=torch.tensor([2.0, 3.0, -1.0, 0.7]),
    )
    acts = torch.randn(1, 3, generator=generator, requires_grad=True)
    (probe.features(acts) @ probe.weights).sum().backward()
    gradient = acts.grad[0]
    torch.testing.assert_close(probe.direction, gradient / gradient.norm())
    # by hand: w / std = (4, 1, -0.5), of norm sqrt(17.25)
    torch.testing.assert_close(probe.direction, torch.tensor([4.0, 1.0, -0.5]) / 17.25**0.5)
    torch.testing.assert_close(probe.direction.norm(), torch.tensor(1.0))
