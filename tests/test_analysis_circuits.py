"""Circuits: QK/OV matrices, path decomposition summing to the logits, composition scores equal to TransformerLens."""

import pytest
import torch
from glassbox.analysis import circuits
from glassbox.config import TransformerConfig
from glassbox.induction import repeated_random_tokens
from glassbox.model import Transformer
from transformer_lens import FactoredMatrix
from transformer_lens.utilities import composition_scores


def random_model(**changes) -> Transformer:
    cfg = TransformerConfig(
        d_model=16, n_layers=2, n_heads=2, d_vocab=11, n_ctx=8, attn_only=True, normalization_type=None, seed=0
    ).with_(**changes)
    model = Transformer(cfg)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():  # large weights and non-zero biases, so that every path and bias term matters
        for param in model.parameters():
            param.copy_(0.5 * torch.randn(param.shape, generator=generator))
    return model.eval()


def test_qk_and_ov_circuits_equal_the_full_products():
    model = random_model()
    W_E, W_U = model.W_E, model.W_U
    qk = circuits.qk_circuit(model, 1, 0)
    ov = circuits.ov_circuit(model, 0, 1)
    assert isinstance(qk, FactoredMatrix) and qk.shape == (11, 11)
    torch.testing.assert_close(qk.AB, W_E @ model.W_Q[1, 0] @ model.W_K[1, 0].T @ W_E.T)
    torch.testing.assert_close(ov.AB, W_E @ model.W_V[0, 1] @ model.W_O[0, 1] @ W_U)
    assert circuits.positional_qk_circuit(model, 0, 0).shape == (8, 8)
    with pytest.raises(ValueError, match="no head L2H0"):
        circuits.qk_circuit(model, 2, 0)


def test_path_decomposition_sums_to_the_logits():
    model = random_model()
    tokens = repeated_random_tokens(3, 4, 11, torch.Generator().manual_seed(0))
    paths = circuits.path_decomposition(model, tokens)
    assert len(paths.labels) == 1 + 2 + 2 + 2 * 2 + 1  # direct, heads of each layer, pairs, biases
    assert "L0H1→L1H0" in paths.labels
    torch.testing.assert_close(paths.logits.sum(0), model(tokens), atol=1e-4, rtol=1e-4)


def test_direct_path_is_the_embedding_read_by_the_unembedding():
    model = random_model()
    tokens = torch.tensor([[1, 2, 3]])
    direct = circuits.path_decomposition(model, tokens)["direct"]
    torch.testing.assert_close(direct, (model.W_E[tokens] + model.W_pos[:3]) @ model.W_U)


def test_path_decomposition_needs_a_linear_model():
    with pytest.raises(ValueError, match="attention-only model without LayerNorm"):
        circuits.path_decomposition(random_model(normalization_type="LN"), torch.tensor([[1, 2]]))


def test_composition_score_known_cases():
    eye = torch.eye(4)
    assert circuits.composition_score(eye, eye) == pytest.approx(0.5)  # ‖I‖ = 2: 2 / (2 · 2)
    a = torch.zeros(4, 4)
    a[0, 0] = 1.0
    b = torch.zeros(4, 4)
    b[1, 1] = 1.0
    assert circuits.composition_score(a, a) == pytest.approx(1.0)  # rank one, aligned
    assert circuits.composition_score(a, b) == 0.0  # writes where the other does not read
    with pytest.raises(ValueError, match="composition needs"):
        circuits.composition_score(torch.zeros(3, 4), torch.zeros(3, 4))


@pytest.mark.parametrize("mode", ["Q", "K", "V"])
def test_all_composition_scores_equal_transformer_lens(mode):
    model = random_model()
    ours = circuits.all_composition_scores(model, mode)
    theirs = model.to_transformer_lens().all_composition_scores(mode)
    torch.testing.assert_close(ours, theirs.float())
    # and TransformerLens's function on the single pair
    W_OV = FactoredMatrix(model.W_V[0, 1], model.W_O[0, 1])
    reads = {
        "Q": FactoredMatrix(model.W_Q[1, 0], model.W_K[1, 0].T),
        "K": FactoredMatrix(model.W_Q[1, 0], model.W_K[1, 0].T).T,
        "V": FactoredMatrix(model.W_V[1, 0], model.W_O[1, 0]),
    }[mode]
    assert ours[0, 1, 1, 0].item() == pytest.approx(composition_scores(W_OV, reads).item(), rel=1e-5)
    assert ours[1, :, 0].abs().sum() == 0 and ours[0, :, 0].abs().sum() == 0  # only later heads compose


def test_composition_mode_is_checked():
    with pytest.raises(ValueError, match="mode must be"):
        circuits.all_composition_scores(random_model(), "O")


@pytest.mark.slow  # trains the induction model on a cold cache (minutes); cached afterwards
def test_k_composition_circuit_equals_its_product_and_is_diagonal_for_the_induction_model():
    model = random_model()
    kc = circuits.k_composition_circuit(model, (0, 1), (1, 0))
    expected = model.W_E @ model.W_Q[1, 0] @ model.W_K[1, 0].T @ (model.W_V[0, 1] @ model.W_O[0, 1]).T @ model.W_E.T
    torch.testing.assert_close(kc.AB, expected, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="earlier layer"):
        circuits.k_composition_circuit(model, (1, 0), (0, 1))

    from glassbox.analysis import attention
    from glassbox.induction import induction_model

    trained = induction_model()
    tokens = repeated_random_tokens(20, 16, trained.cfg.d_vocab, torch.Generator().manual_seed(1))
    patterns = attention.stack_patterns(trained.run_with_cache(tokens)[1])
    prev = int(attention.previous_token_score(patterns)[0].argmax())
    ind = int(attention.induction_score(patterns)[1].argmax())
    full = circuits.k_composition_circuit(trained, (0, prev), (1, ind)).AB
    assert (full.argmax(1) == torch.arange(len(full))).float().mean() > 0.9  # each token looks for itself one step back


def test_eigenvalue_copying_score_is_plus_one_for_copiers_and_minus_one_for_suppressors():
    copier = FactoredMatrix(torch.eye(6)[:, :3] * 2, torch.eye(6)[:3])  # rank 3, eigenvalues 2, 2, 2
    assert circuits.copying_score(copier) == pytest.approx(1.0)
    assert circuits.copying_score(FactoredMatrix(-copier.A, copier.B)) == pytest.approx(-1.0)
