"""`circuits.decompose_attention_scores`: the parts sum to the head's own scores (its `hook_attn_scores`), each
part is what the score would be if the model's stream held only that pair of sources (an oracle that rebuilds the
query and key from one source each by hand), and a LayerNorm model is refused with one line."""

import pytest
import torch
from glassbox.analysis import circuits
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


def _model(attn_only: bool = True, layer_norm: bool = False, n_layers: int = 2) -> Transformer:
    cfg = TransformerConfig(
        d_model=16, n_layers=n_layers, n_heads=3, d_head=4, d_vocab=11, n_ctx=8, d_mlp=20, attn_only=attn_only,
        normalization_type="LN" if layer_norm else None, init_range=0.4, seed=1,
    )  # fmt: skip
    model = Transformer(cfg).eval().double()
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():  # non-zero biases, so the "biases" source is tested too
        for name, param in model.named_parameters():
            if ".b_" in name:
                param.copy_(0.3 * torch.randn(param.shape, generator=generator, dtype=param.dtype))
    return model


TOKENS = torch.randint(0, 11, (3, 7), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(("attn_only", "n_layers", "layer"), [(True, 2, 1), (False, 3, 2), (True, 2, 0)])
def test_parts_sum_to_the_heads_scores(attn_only, n_layers, layer):
    model = _model(attn_only, n_layers=n_layers)
    _, cache = model.run_with_cache(TOKENS)
    for head in range(3):
        decomposition = circuits.decompose_attention_scores(model, TOKENS, layer, head)
        expected_sources = 2 + layer * (3 + (0 if attn_only else 1)) + 1
        assert len(decomposition.labels) == expected_sources and decomposition.labels[-1] == "biases"
        total = decomposition.parts.sum((0, 1))  # [batch, query, key]
        scores = cache[f"blocks.{layer}.attn.hook_attn_scores"][:, head]
        allowed = torch.ones(7, 7, dtype=torch.bool).tril()
        torch.testing.assert_close(total[:, allowed], scores[:, allowed], atol=1e-10, rtol=0)


def test_each_part_is_one_query_source_against_one_key_source():
    """Oracle: rebuild the query from the L0H2 output alone and the key from the token embedding alone."""
    model = _model()
    _, cache = model.run_with_cache(TOKENS)
    decomposition = circuits.decompose_attention_scores(model, TOKENS, 1, 0)
    i, j = decomposition.labels.index("L0H2"), decomposition.labels.index("embed")
    head_out = torch.einsum("bpd,dm->bpm", cache["blocks.0.attn.hook_z"][:, :, 2], model.W_O[0, 2])
    q = head_out @ model.W_Q[1, 0]
    k = model.W_E[TOKENS] @ model.W_K[1, 0]
    torch.testing.assert_close(decomposition.parts[i, j], q @ k.transpose(1, 2) / 2.0, atol=1e-10, rtol=0)
    b = decomposition.labels.index("biases")  # the biases' query: b_O of layer 0 through W_Q, plus b_Q
    q_bias = model.b_O[0] @ model.W_Q[1, 0] + model.b_Q[1, 0]
    torch.testing.assert_close(decomposition.parts[b, j], (k @ q_bias / 2.0)[:, None, :].expand(3, 7, 7))


def test_layer_norm_and_unknown_heads_are_refused_in_one_line():
    with pytest.raises(ValueError, match="without LayerNorm"):
        circuits.decompose_attention_scores(_model(layer_norm=True), TOKENS, 1, 0)
    with pytest.raises(ValueError, match="no head L2H0"):
        circuits.decompose_attention_scores(_model(), TOKENS, 2, 0)
