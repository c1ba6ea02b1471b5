"""Residual-stream metrics on hand-made cases with known answers, and the logit lens on a small model."""

import math

import pytest
import torch
from glassbox.analysis import residual
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


def test_norm_and_cosine_of_known_vectors():
    a = torch.tensor([[[3.0, 4.0], [0.0, 2.0]]])  # [batch 1, pos 2, d_model 2]
    assert residual.mean_norm(a).item() == pytest.approx(3.5)
    assert residual.mean_cosine_similarity(a, 2 * a).item() == pytest.approx(1.0)
    assert residual.mean_cosine_similarity(a, -a).item() == pytest.approx(-1.0)
    b = torch.tensor([[[-4.0, 3.0], [5.0, 0.0]]])  # orthogonal to a at both positions
    assert residual.mean_cosine_similarity(a, b).item() == pytest.approx(0.0)
    with pytest.raises(ValueError, match="same shape"):
        residual.mean_cosine_similarity(a, a[:, :1])


def test_similarity_matrix_is_one_on_the_diagonal():
    resid = torch.randn(3, 2, 4, 8, generator=torch.Generator().manual_seed(0))
    sim = residual.similarity_matrix(resid)
    torch.testing.assert_close(sim.diagonal(), torch.ones(3))
    torch.testing.assert_close(sim[0, 1], residual.mean_cosine_similarity(resid[0], resid[1]))


def test_effective_ranks_count_equal_directions():
    k, d = 3, 8
    x = torch.cat([torch.eye(d)[:k], -torch.eye(d)[:k]])  # variance along exactly k axes, equally
    assert residual.participation_ratio(x) == pytest.approx(k)
    assert residual.spectral_effective_rank(x) == pytest.approx(k)
    line = torch.linspace(-1, 1, 20)[:, None] * torch.ones(1, d) + 5.0  # one direction, far from the origin
    assert residual.participation_ratio(line) == pytest.approx(1.0, abs=1e-4)
    noise = torch.randn(20000, d, generator=torch.Generator().manual_seed(0))
    assert residual.participation_ratio(noise) == pytest.approx(d, rel=0.05)
    with pytest.raises(ValueError, match="at least two samples"):
        residual.participation_ratio(torch.ones(1, d))


def test_logit_lens_of_the_final_stream_is_the_models_logits():
    model = Transformer(TransformerConfig(d_model=16, n_layers=2, n_heads=2, d_vocab=11, n_ctx=8, seed=0)).eval()
    tokens = torch.randint(0, 11, (3, 8), generator=torch.Generator().manual_seed(0))
    _, cache = model.run_with_cache(tokens)
    resid = cache.accumulated_resid(incl_mid=True)
    lens = residual.logit_lens(model, resid)
    torch.testing.assert_close(lens[-1], model(tokens), atol=1e-5, rtol=1e-5)
    losses = residual.next_token_losses(lens, tokens)
    assert losses.shape == (5,)
    assert losses[-1].item() == pytest.approx(model(tokens, return_type="loss").item(), rel=1e-5)
    assert abs(losses[0].item() - math.log(11)) < 0.1  # an untrained model is near the uniform guess everywhere


def test_top_activations_and_their_contexts():
    from glassbox.analysis import neurons

    acts = torch.zeros(2, 5, 3)
    acts[1, 3, 2], acts[0, 1, 2] = 5.0, 4.0
    top = neurons.top_activations(acts, neuron=2, k=2)
    assert top.values.tolist() == [5.0, 4.0] and top.batch.tolist() == [1, 0] and top.pos.tolist() == [3, 1]
    tokens = torch.tensor([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
    texts = neurons.contexts(tokens, top, lambda t: "".join("abcdefghij"[i] for i in t.tolist()), before=2, after=1)
    assert texts == ["gh⟦i⟧j", "a⟦b⟧c"]
    with pytest.raises(ValueError, match="k must lie"):
        neurons.top_activations(acts, neuron=0, k=11)
    assert neurons.write_sizes(acts, torch.ones(3, 4)).argmax().item() == 2
    windows = neurons.context_tokens(tokens, top, before=2)  # the firing token last, −1 before the sequence starts
    assert windows.tolist() == [[6, 7, 8], [-1, 0, 1]]
