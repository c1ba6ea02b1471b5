"""Circuits (chapter 9): the functions mutation testing could not reach while they were under `@torch.no_grad()`
(`path_decomposition`, `decompose_attention_scores`), pinned from their docstrings: each one-head path is what the
model's own `hook_z` says that head writes, less its value bias; the "biases" path is every bias carried to the
logits by hand (pattern rows sum to one, so a head maps a constant stream x to x W_V W_O); a model without positional
embedding; the labels each result is indexed by, and the one-line refusals."""

import pytest
import torch
from glassbox.analysis import circuits
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


def linear_model(n_layers: int = 2, positional_embedding: str = "learned", attn_only: bool = True) -> Transformer:
    cfg = TransformerConfig(
        d_model=12, n_layers=n_layers, n_heads=2, d_head=3, d_vocab=9, n_ctx=6, d_mlp=8, attn_only=attn_only,
        normalization_type=None, positional_embedding=positional_embedding, seed=0,
    )  # fmt: skip
    model = Transformer(cfg).eval().double()
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():  # large weights and non-zero biases: every path and every bias matters
        for param in model.parameters():
            param.copy_(0.4 * torch.randn(param.shape, generator=generator, dtype=param.dtype))
    return model


TOKENS = torch.randint(0, 9, (2, 6), generator=torch.Generator().manual_seed(0))


def test_each_layer_0_head_path_is_its_z_times_W_O_less_its_value_bias():
    model = linear_model()
    paths = circuits.path_decomposition(model, TOKENS)
    _, cache = model.run_with_cache(TOKENS)
    for head in range(2):
        written = (
            cache["blocks.0.attn.hook_z"][:, :, head] @ model.W_O[0, head] - model.b_V[0, head] @ model.W_O[0, head]
        )
        torch.testing.assert_close(paths[f"L0H{head}"], written @ model.W_U)


def test_the_biases_path_is_every_bias_carried_to_the_logits():
    model = linear_model()
    paths = circuits.path_decomposition(model, TOKENS)
    assert paths.labels[-1] == "biases"
    W_OV = model.W_V @ model.W_O  # [layer, head, d_model, d_model]
    # layer 0 writes b_O[0] + Σ_h b_V[0, h] W_O[0, h]: a constant; layer 1 moves it on through each head's OV and adds
    # its own biases
    layer_0 = model.b_O[0] + sum(model.b_V[0, h] @ model.W_O[0, h] for h in range(2))
    layer_1 = model.b_O[1] + sum(model.b_V[1, h] @ model.W_O[1, h] + layer_0 @ W_OV[1, h] for h in range(2))
    expected = (layer_0 + layer_1) @ model.W_U + model.b_U
    torch.testing.assert_close(paths["biases"], expected.expand(*TOKENS.shape, -1))


def test_without_biases_the_biases_path_is_zero_and_b_U_goes_nowhere_else():
    model = linear_model()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if ".b_" in name or name.startswith("b_") or name.endswith("b_U"):
                param.zero_()
    zero_biases = circuits.path_decomposition(model, TOKENS)
    torch.testing.assert_close(zero_biases["biases"], torch.zeros_like(zero_biases["biases"]))
    with torch.no_grad():
        model.b_U.fill_(5.0)
    with_b_U = circuits.path_decomposition(model, TOKENS)
    torch.testing.assert_close(with_b_U.logits[:-1], zero_biases.logits[:-1])  # only the biases path moves
    torch.testing.assert_close(with_b_U["biases"], torch.full_like(with_b_U["biases"], 5.0))


def test_a_model_without_positional_embedding():
    model = linear_model(positional_embedding="none")
    paths = circuits.path_decomposition(model, TOKENS)
    torch.testing.assert_close(paths["direct"], model.W_E[TOKENS] @ model.W_U)
    torch.testing.assert_close(paths.logits.sum(0), model(TOKENS))


def test_path_decomposition_refusal_is_one_sentence():
    with pytest.raises(ValueError) as error:
        circuits.path_decomposition(linear_model(attn_only=False), TOKENS)
    assert str(error.value) == "path decomposition needs an attention-only model without LayerNorm"


def test_score_decomposition_labels_name_each_source():
    model = linear_model(attn_only=False)
    labels = circuits.decompose_attention_scores(model, TOKENS, 1, 0).labels
    assert labels == ["embed", "pos_embed", "L0H0", "L0H1", "L0.mlp", "biases"]
    no_positions = linear_model(positional_embedding="none")
    assert circuits.decompose_attention_scores(no_positions, TOKENS, 1, 1).labels == ["embed", "L0H0", "L0H1", "biases"]


def test_score_decomposition_of_a_one_layer_model_sums_to_its_scores():
    model = linear_model(n_layers=1)
    decomposition = circuits.decompose_attention_scores(model, TOKENS, 0, 1)
    assert decomposition.labels == ["embed", "pos_embed", "biases"]
    _, cache = model.run_with_cache(TOKENS)
    scores = cache["blocks.0.attn.hook_attn_scores"][:, 1]
    mask = torch.tril(torch.ones(6, 6, dtype=torch.bool))
    torch.testing.assert_close(decomposition.parts.sum((0, 1))[:, mask], scores[:, mask])


def test_score_decomposition_refusal_is_one_sentence():
    cfg = linear_model().cfg.with_(normalization_type="LN")
    with pytest.raises(ValueError) as error:
        circuits.decompose_attention_scores(Transformer(cfg), TOKENS, 1, 0)
    assert str(error.value) == (
        "decompose_attention_scores needs a model without LayerNorm, whose residual stream is a sum"
    )
