"""Building a seeded model leaves torch's global generator alone (issue: a library readers can use): the reader's
`torch.manual_seed(0); model = Transformer(cfg); x = torch.randn(...)` draws the same x with or without the model."""

from __future__ import annotations

import torch
from glassbox.config import TransformerConfig
from glassbox.model import Transformer

CFG = dict(d_model=8, n_layers=2, n_heads=2, d_head=4, d_mlp=16, d_vocab=11, n_ctx=6)


def test_a_seeded_model_draws_nothing_from_the_global_generator():
    torch.manual_seed(0)
    expected = torch.randn(5)
    torch.manual_seed(0)
    model = Transformer(TransformerConfig(**CFG, seed=3))
    assert torch.equal(torch.randn(5), expected)
    torch.manual_seed(123)  # and its weights are the seed's, whatever the global state was
    again = Transformer(TransformerConfig(**CFG, seed=3))
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_an_unseeded_model_draws_from_the_global_generator():
    torch.manual_seed(0)
    a = Transformer(TransformerConfig(**CFG, seed=None))
    torch.manual_seed(0)
    b = Transformer(TransformerConfig(**CFG, seed=None))
    torch.manual_seed(1)
    c = Transformer(TransformerConfig(**CFG, seed=None))
    assert torch.equal(a.W_E, b.W_E) and not torch.equal(a.W_E, c.W_E)
