"""Chapter 6's score terms and key-position hooks (`glassbox.analysis.planar`): the `+` query's score is a token term
plus a position term, so which key wins can be read off the two terms alone, with the position term scaled by any
factor; and the hook that scales it does what the terms say (the model's own attention agrees)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from glassbox.analysis import planar
from glassbox.model import Transformer
from glassbox.rules import get_rule, get_setup

RULE = get_rule("plus_last_even")


@pytest.fixture(scope="module")
def model() -> Transformer:
    """An untrained planar model with every weight drawn from N(0, 1): sharp, varied scores (at initialisation's
    scale the attention is nearly uniform and every top key a near tie)."""
    model = Transformer(get_setup("plus_last_even").model_config(RULE.d_vocab, seed=5)).eval()
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return model


def windows(n: int = 300, seed: int = 0) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, RULE.d_vocab, int(rng.integers(2, 9))).tolist() for _ in range(n)]


@pytest.mark.parametrize("factor", [0.0, 1.0, 2.5, -1.0])
def test_the_top_key_read_off_the_terms_is_where_the_scaled_head_attends_most(model, factor):
    cases = windows()
    _, patterns = planar.last_position(model, cases, planar.scaled_key_positions(model, factor))
    attended = patterns.argmax(-1).numpy()
    top_two = patterns.topk(2, -1).values
    clear = (top_two[:, 0] - top_two[:, 1] > 1e-4).numpy()  # a near tie is decided by float rounding
    assert clear.mean() > 0.5  # at factor 0 a token seen twice ties with itself
    np.testing.assert_array_equal(planar.top_keys(model, cases, factor)[clear], attended[clear])


def test_factor_one_changes_nothing_and_zero_is_the_flat_hook(model):
    tokens = torch.tensor(windows(50, seed=1)[0])[None]
    plain = model(tokens)
    with model.hooks(fwd_hooks=planar.scaled_key_positions(model, 1.0)):
        torch.testing.assert_close(model(tokens), plain)
    with model.hooks(fwd_hooks=planar.scaled_key_positions(model, 0.0)):
        zero = model(tokens)
    with model.hooks(fwd_hooks=planar.flat_key_positions(model)):
        torch.testing.assert_close(model(tokens), zero)
    assert not torch.allclose(zero, plain), "flattening the position term changes the model"


def test_scaling_scales_the_position_term_of_the_scores(model):
    """With the hook, the last query's scores are token[t_j] + factor × place[j] up to one constant per window."""
    window = [3, 4, 1, 11, 2, 7, 5, 11]
    token, place = planar.score_terms(model, window[-1], len(window) - 1)
    with model.hooks(fwd_hooks=planar.scaled_key_positions(model, 2.0)):
        _, cache = model.run_with_cache(torch.tensor([window]), names_filter="blocks.0.attn.hook_attn_scores")
    scores = cache["blocks.0.attn.hook_attn_scores"][0, 0, -1].double()
    expected = (token[window] + 2.0 * place).double()
    difference = scores - expected
    torch.testing.assert_close(difference, difference.mean().expand_as(difference), atol=1e-4, rtol=0)
