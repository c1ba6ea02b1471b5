"""Circuits (chapter 9), pinned where mutation testing found the suite silent: the K-composition circuit against the
attention score a forward pass gives when the key position holds the earlier head's output, the heads each circuit
refuses (the same layer, one head past the last) in one sentence, and composition_score's shape check."""

import pytest
import torch
from glassbox.analysis import circuits
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from jaxtyping import TypeCheckError


def model_without_biases() -> Transformer:
    cfg = TransformerConfig(
        d_model=12, n_layers=2, n_heads=2, d_head=4, n_ctx=4, d_vocab=9, attn_only=True,
        normalization_type=None, positional_embedding="none", seed=0,
    )  # fmt: skip
    model = Transformer(cfg).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if ".b_" in name or name.startswith("b_"):
                parameter.zero_()
    return model


def test_k_composition_circuit_is_the_score_of_a_query_token_for_an_earlier_heads_output():
    model = model_without_biases()
    circuit = circuits.k_composition_circuit(model, (0, 1), (1, 0)).AB  # [query token, token at the key]
    assert circuit.shape == (9, 9)
    for a, b in [(2, 5), (7, 7), (0, 3)]:
        written = model.W_E[b] @ model.W_V[0, 1] @ model.W_O[0, 1]  # what head L0H1 writes reading token b

        def stream(activation, hook, written=written, a=a):
            return torch.stack([written, model.W_E[a]])[None]  # key position 0, query position 1

        with model.hooks(fwd_hooks=[("blocks.1.hook_resid_pre", stream)]):
            _, cache = model.run_with_cache(torch.tensor([[0, 0]]))
        score = cache["blocks.1.attn.hook_attn_scores"][0, 0, 1, 0] * model.blocks[1].attn.attn_scale
        torch.testing.assert_close(circuit[a, b], score, rtol=1e-4, atol=1e-5)


def test_circuits_refuse_heads_that_do_not_exist_or_do_not_compose():
    model = model_without_biases()
    for bad in [(2, 0), (0, 2), (-1, 0)]:
        with pytest.raises(ValueError) as error:
            circuits.qk_circuit(model, *bad)
        assert str(error.value) == f"no head L{bad[0]}H{bad[1]} in a model of 2 layers × 2 heads"
        with pytest.raises(ValueError, match=f"no head L{bad[0]}H{bad[1]} in a model"):
            circuits.k_composition_circuit(model, bad, (1, 0))
        with pytest.raises(ValueError, match=f"no head L{bad[0]}H{bad[1]} in a model"):
            circuits.k_composition_circuit(model, (0, 0), bad)
    for earlier, later in [((1, 0), (1, 1)), ((1, 0), (0, 1))]:
        with pytest.raises(ValueError) as error:
            circuits.k_composition_circuit(model, earlier, later)
        assert str(error.value) == (
            f"the earlier head must be in an earlier layer, got layers {earlier[0]} and {later[0]}"
        )


def test_composition_score_refuses_a_vector_in_one_sentence():
    # the function's own check; jaxtyping's annotation check refuses it first where the tests turn it on
    with pytest.raises((ValueError, TypeCheckError), match=r"left \[a, b\] and right \[b, c\], got \(3,\)|Type-check"):
        circuits.composition_score(torch.ones(3), torch.ones(3, 2))
    # by hand: left writes along e1 only, right reads both: ‖LR‖ = 1, ‖L‖ = 1, ‖R‖ = √2
    score = circuits.composition_score(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.eye(2))
    assert score == pytest.approx(2**-0.5)
