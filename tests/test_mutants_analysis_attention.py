"""Attention scores (chapters 9, 11), pinned where mutation testing found the suite silent: one number per head when
layers are stacked in front (and heads are fewer than positions), the scores' windows at their edges (the first
query in a current-token score, the last first-half query out of an induction score), the shortest sequences each
score accepts, the sentences of the errors, and stack_patterns against the cache's own hook names."""

import math

import pytest
import torch
from glassbox.analysis import attention
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from jaxtyping import TypeCheckError


def one_hot(keys: list[int]) -> torch.Tensor:
    """An [n, n] pattern where query q attends only to keys[q]."""
    n = len(keys)
    pattern = torch.zeros(n, n)
    pattern[torch.arange(n), torch.tensor(keys)] = 1.0
    return pattern


def uniform(n: int) -> torch.Tensor:
    causal = torch.ones(n, n).tril()
    return causal / causal.sum(-1, keepdim=True)


def stacked() -> torch.Tensor:
    """[layer 2, batch 1, head 3, query 6, key 6]: every head a different exact or uniform pattern."""
    current, previous, first = one_hot(list(range(6))), one_hot([0, 0, 1, 2, 3, 4]), one_hot([0] * 6)
    return torch.stack([torch.stack([current, previous, first]), torch.stack([uniform(6), first, previous])])[:, None]


def test_scores_give_one_number_per_layer_and_head():
    pattern = stacked()
    torch.testing.assert_close(
        attention.current_token_score(pattern),
        torch.tensor([[1.0, 1 / 6, 1 / 6], [sum(1 / (q + 1) for q in range(6)) / 6, 1 / 6, 1 / 6]]),
    )
    torch.testing.assert_close(
        attention.previous_token_score(pattern),
        torch.tensor([[0.0, 1.0, 1 / 5], [sum(1 / (q + 1) for q in range(1, 6)) / 5, 1 / 5, 1.0]]),
    )
    torch.testing.assert_close(
        attention.first_token_score(pattern),
        torch.tensor([[0.0, 1 / 5, 1.0], [sum(1 / (q + 1) for q in range(1, 6)) / 5, 1.0, 1 / 5]]),
    )
    entropy = sum(math.log(q + 1) for q in range(6)) / 6
    torch.testing.assert_close(attention.attention_entropy(pattern), torch.tensor([[0.0, 0.0, 0.0], [entropy, 0, 0]]))


def test_a_current_token_score_counts_the_first_query():
    # query 0 can only attend to itself: with the other five at one half, the mean over all six is (1 + 2.5) / 6
    pattern = 0.5 * one_hot(list(range(6))) + 0.5 * one_hot([0] * 6)
    assert attention.current_token_score(pattern[None, None]).item() == pytest.approx(3.5 / 6)
    assert attention.diagonal_score(pattern[None, None], offset=0, first_query=1).item() == pytest.approx(0.5)


def test_an_induction_score_reads_the_second_half_only():
    # every first-half query attends to itself, so the last of them (q = half − 1) does not look at key 0
    half = 4
    keys = list(range(half)) + [q - half + 1 for q in range(half, 2 * half)]
    assert attention.induction_score(one_hot(keys)[None, None]).item() == 1.0
    assert attention.induction_score(one_hot([0, 0, 1, 2, 1, 2, 0, 0])[None, None]).item() == 0.5  # length 8
    assert attention.induction_score(one_hot([0, 0, 1, 0])[None, None]).item() == 0.5  # length 4, the shortest
    with pytest.raises(ValueError) as error:
        attention.induction_score(torch.zeros(1, 3, 5, 5))
    assert str(error.value) == "induction scores need a repeated sequence of even length ≥ 4, got 5"


def test_a_first_token_score_needs_two_positions_and_says_so():
    assert attention.first_token_score(one_hot([0, 0])[None, None]).item() == 1.0
    with pytest.raises(ValueError) as error:
        attention.first_token_score(torch.ones(1, 1, 1, 1))
    assert str(error.value) == "the first-token score needs at least two positions"


def test_head_correlation_refuses_stacked_layers_in_one_sentence():
    # the function's own check; jaxtyping's annotation check refuses it first where the tests turn it on
    with pytest.raises(
        (ValueError, TypeCheckError),
        match=r"one layer's pattern \[batch, head, query, key\], got \(2, 1, 3, 6, 6\)|Type-check error",
    ):
        attention.head_correlation(stacked())


def test_stack_patterns_reads_every_layer_from_the_cache():
    cfg = TransformerConfig(d_model=8, n_layers=3, n_heads=2, n_ctx=5, d_vocab=7, attn_only=True, seed=0)
    model = Transformer(cfg).eval()
    _, cache = model.run_with_cache(torch.randint(0, 7, (2, 5), generator=torch.Generator().manual_seed(0)))
    expected = torch.stack([cache[f"blocks.{layer}.attn.hook_pattern"] for layer in range(3)])
    assert torch.equal(attention.stack_patterns(cache), expected)
