"""`analysis.planar`'s landscape is the model's own forward pass from the stream after attention: with LayerNorm too
(issue: a library readers can use — it skipped `ln2` and `ln_final`, and was off by up to 0.256 in probability)."""

from __future__ import annotations

import pytest
import torch
from glassbox.analysis.planar import output_probabilities
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


@pytest.mark.parametrize("normalization_type", ["LN", None])
@pytest.mark.parametrize("use_residual", [True, False])
def test_output_probabilities_equal_the_forward_pass(normalization_type, use_residual):
    cfg = TransformerConfig(
        d_model=4, n_layers=1, n_heads=1, d_head=4, d_mlp=16, d_vocab=7, n_ctx=6, seed=3,
        normalization_type=normalization_type, use_residual=use_residual, init_range=0.5,
    )  # fmt: skip
    model = Transformer(cfg).eval()
    tokens = torch.tensor([[1, 5, 2, 6, 0, 3]])
    logits, cache = model.run_with_cache(tokens)
    got = output_probabilities(model, cache["resid_mid", 0][0])  # [pos, d_vocab]
    torch.testing.assert_close(got, logits[0].softmax(-1), atol=1e-6, rtol=1e-5)
