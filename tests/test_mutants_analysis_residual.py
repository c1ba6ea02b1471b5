"""Residual-stream metrics (chapter 8), pinned where mutation testing found the suite silent: one number per
snapshot when snapshots are stacked in front, two samples enough for an effective rank, centring per dimension, and
the participation ratio and spectral effective rank of unequal variances by hand."""

import math

import pytest
import torch
from glassbox.analysis import residual
from jaxtyping import TypeCheckError


def test_mean_norm_and_cosine_keep_every_leading_dimension():
    # [point 2, batch 1, pos 2, d_model 2]: point 0 has norms 5 and 1, point 1 norms 2 and 4
    resid = torch.tensor([[[[3.0, 4.0], [0.0, 1.0]]], [[[2.0, 0.0], [0.0, -4.0]]]])
    torch.testing.assert_close(residual.mean_norm(resid), torch.tensor([3.0, 3.0]))
    torch.testing.assert_close(residual.mean_norm(resid[:, :, :1]), torch.tensor([5.0, 2.0]))
    other = torch.tensor([[[[3.0, 4.0], [1.0, 0.0]]], [[[-1.0, 0.0], [0.0, -1.0]]]])  # cosines 1, 0 and -1, 1
    torch.testing.assert_close(residual.mean_cosine_similarity(resid, other), torch.tensor([0.5, 0.0]))


def test_similarity_matrix_against_pairwise_cosines():
    resid = torch.randn(3, 2, 4, 5, generator=torch.Generator().manual_seed(1))
    expected = torch.tensor(
        [[torch.cosine_similarity(resid[i], resid[j], dim=-1).mean().item() for j in range(3)] for i in range(3)]
    )
    torch.testing.assert_close(residual.similarity_matrix(resid), expected)


def test_two_samples_are_enough_for_an_effective_rank():
    two = torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])  # two points span one direction
    assert residual.participation_ratio(two) == pytest.approx(1.0)
    assert residual.spectral_effective_rank(two) == pytest.approx(1.0)
    # a vector: the function's own check (jaxtyping's annotation check refuses it first where the tests turn it on)
    with pytest.raises((ValueError, TypeCheckError), match=r"at least two samples, got \(3,\)|Type-check error"):
        residual.participation_ratio(torch.ones(3))


def test_ranks_of_unequal_variances_by_hand():
    # samples ±2 e1 and ±1 e2: XᵀX = diag(8, 2), so the variances are in ratio 4 : 1 and σ in ratio 2 : 1
    x = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    assert residual.participation_ratio(x) == pytest.approx((4 + 1) ** 2 / (4**2 + 1**2))  # 25 / 17
    p = torch.tensor([2 / 3, 1 / 3])
    assert residual.spectral_effective_rank(x) == pytest.approx(math.exp(-(p * p.log()).sum().item()))
    # an offset of its own in every dimension changes nothing: each dimension is centred on its own mean
    shifted = x + torch.tensor([10.0, -3.0])
    assert residual.participation_ratio(shifted) == pytest.approx(25 / 17, rel=1e-4)
    assert residual.spectral_effective_rank(shifted) == pytest.approx(residual.spectral_effective_rank(x), rel=1e-4)
