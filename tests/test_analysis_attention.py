"""Attention scores on hand-made patterns whose answers are known, and on the trained induction model."""

import math

import pytest
import torch
from glassbox.analysis import attention
from glassbox.induction import induction_model, repeated_random_tokens


def one_hot_pattern(keys: list[int]) -> torch.Tensor:
    """A [1, 1, n, n] pattern where query q attends only to keys[q]."""
    n = len(keys)
    pattern = torch.zeros(1, 1, n, n)
    pattern[0, 0, torch.arange(n), torch.tensor(keys)] = 1.0
    return pattern


def test_previous_current_and_first_token_scores_on_exact_heads():
    previous = one_hot_pattern([0, 0, 1, 2, 3, 4])
    current = one_hot_pattern(list(range(6)))
    first = one_hot_pattern([0] * 6)
    assert attention.previous_token_score(previous).item() == 1.0
    assert attention.current_token_score(current).item() == 1.0
    assert attention.first_token_score(first).item() == 1.0
    assert attention.previous_token_score(current).item() == 0.0
    assert attention.first_token_score(previous).item() == pytest.approx(1 / 5)  # only query 1 looks at key 0


def test_induction_score_of_a_perfect_induction_head_is_one():
    half = 5
    keys = [0] * half + [q - half + 1 for q in range(half, 2 * half)]
    assert attention.induction_score(one_hot_pattern(keys)).item() == 1.0
    assert attention.induction_score(one_hot_pattern(list(range(2 * half)))).item() == 0.0


def test_entropy_of_uniform_and_one_hot_attention():
    n = 4
    uniform = torch.ones(n, n).tril()
    uniform = (uniform / uniform.sum(-1, keepdim=True))[None, None]
    expected = sum(math.log(q + 1) for q in range(n)) / n  # query q spreads over q + 1 keys
    assert attention.attention_entropy(uniform).item() == pytest.approx(expected)
    assert attention.attention_entropy(one_hot_pattern([0, 0, 1, 2])).item() == 0.0


def test_head_correlation_is_one_for_identical_heads_and_symmetric():
    generator = torch.Generator().manual_seed(0)
    pattern = torch.rand(2, 3, 5, 5, generator=generator).tril().softmax(-1)
    pattern[:, 1] = pattern[:, 0]
    corr = attention.head_correlation(pattern)
    assert corr.shape == (3, 3)
    assert corr[0, 1].item() == pytest.approx(1.0)
    torch.testing.assert_close(corr, corr.T)


def test_bad_patterns_are_clear_value_errors():
    with pytest.raises(ValueError, match="query = key"):
        attention.previous_token_score(torch.zeros(1, 1, 3, 4))
    with pytest.raises(ValueError, match="even length"):
        attention.induction_score(torch.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match="no query"):
        attention.diagonal_score(torch.zeros(1, 1, 3, 3), offset=3)


@pytest.mark.slow  # trains the induction model on a cold cache (minutes); cached afterwards
def test_detection_finds_the_heads_the_induction_model_trains():
    model = induction_model()
    tokens = repeated_random_tokens(50, 16, model.cfg.d_vocab, torch.Generator().manual_seed(1))
    _, cache = model.run_with_cache(tokens)
    patterns = attention.stack_patterns(cache)
    previous, induction = attention.previous_token_score(patterns), attention.induction_score(patterns)
    assert previous[0].max() > 0.6 and induction[1].max() > 0.6  # a previous-token head, induction heads above it
    assert induction[0].max() < 0.3 and previous[1].max() < 0.3


def test_centred_head_correlation_has_a_zero_that_means_unrelated():
    """Heads that deviate from uniform attention independently correlate near 0 once centred, while the shared
    causal shape alone pushes the uncentred correlation well above 0."""
    generator = torch.Generator().manual_seed(0)
    n = 12
    causal = torch.ones(n, n, dtype=torch.bool).tril()
    scores = torch.randn(400, 2, n, n, generator=generator).masked_fill(~causal, float("-inf"))
    pattern = scores.softmax(-1)
    centred = attention.head_correlation(pattern)[0, 1].item()
    uncentred = attention.head_correlation(pattern, centre=False)[0, 1].item()
    assert abs(centred) < 0.05, f"independent heads should correlate near 0 once centred, got {centred:.3f}"
    assert uncentred > 0.3, f"the uncentred measure should carry the causal baseline, got {uncentred:.3f}"
