"""Sampling (chapter 5b): the functions mutation testing could not reach while they were under `@torch.no_grad()`
(`generate`, `beam_search_sequences`), pinned from their docstrings and signatures: greedy by default and when top-k
or top-p leaves one token; token ids checked against the vocabulary; no cache and seed 0 unless asked; the beam
search's refusals, its default of one sequence, and when it stops (counted in model calls on a Markov chain whose
log-probabilities are written out, so each step's scores can be done by hand)."""

import math
from types import SimpleNamespace

import pytest
import torch
from glassbox import sampling
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


@pytest.fixture(scope="module")
def model() -> Transformer:
    return Transformer(TransformerConfig(d_model=16, n_layers=1, n_heads=2, d_vocab=17, n_ctx=6, init_range=0.5)).eval()


PROMPT = torch.tensor([[1, 5, 3], [4, 4, 0]])


def greedy(model, tokens, n):
    """Greedy decoding written out: append the argmax of the last position's logits, reading the last n_ctx tokens."""
    with torch.no_grad():
        for _ in range(n):
            tokens = torch.cat([tokens, model(tokens[:, -model.cfg.n_ctx :])[:, -1].argmax(-1, keepdim=True)], -1)
    return tokens


def test_generate_is_greedy_by_default_and_when_top_k_or_top_p_leaves_one_token(model):
    expected = greedy(model, PROMPT, 8)
    torch.testing.assert_close(sampling.generate(model, PROMPT, 8), expected)
    torch.testing.assert_close(sampling.generate(model, PROMPT, 8, temperature=2.0, top_k=1), expected)
    torch.testing.assert_close(sampling.generate(model, PROMPT, 8, temperature=2.0, top_p=1e-6), expected)
    assert not torch.equal(sampling.generate(model, PROMPT, 8, temperature=2.0), expected), "sampling differs"


def test_generate_checks_token_ids_against_the_vocabulary(model):
    with pytest.raises(ValueError) as error:
        sampling.generate(model, torch.tensor([[0, 17]]), 1)
    assert str(error.value) == "token ids must lie in [0, 16], got 0 to 17"


def test_generate_uses_no_cache_unless_asked(model):
    def no_forward(*args):
        raise AssertionError("the cached forward ran without use_cache")

    torch.testing.assert_close(sampling.generate(model, PROMPT, 3, forward=no_forward), greedy(model, PROMPT, 3))


def test_generate_seed_is_0_by_default_and_the_model_method_has_the_same_defaults(model):
    sampled = sampling.generate(model, PROMPT, 10, temperature=2.0)
    torch.testing.assert_close(sampled, sampling.generate(model, PROMPT, 10, temperature=2.0, seed=0))
    assert not torch.equal(sampled, sampling.generate(model, PROMPT, 10, temperature=2.0, seed=1))
    torch.testing.assert_close(model.generate(PROMPT, 10, temperature=2.0), sampled)
    torch.testing.assert_close(model.generate(PROMPT, 8), greedy(model, PROMPT, 8))  # greedy by default


class Chain:
    """A model whose next-token log-probabilities depend on the last token only (`probs[last]`), counting its calls."""

    def __init__(self, probs: list[list[float]], n_ctx: int = 8):
        self.logprobs = torch.tensor(probs).log()
        self.cfg = SimpleNamespace(n_ctx=n_ctx, d_vocab=len(probs))
        self.calls = 0

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.logprobs[tokens]  # [beam, pos, d_vocab]


EOS = 2


def test_beam_search_stops_when_a_finished_beam_ties_the_best_live_one():
    # from any token: eos or 0 with probability 1/2 each. Step 1 keeps [0, eos] (finished, log 1/2) and [0, 0] (live,
    # log 1/2): the finished beam scores at least as high as the best live one, so the search stops after one call
    chain = Chain([[0.5, 1e-6, 0.5]] * 3)
    answer = sampling.beam_search_sequences(chain, torch.tensor([0]), 2, 4, eos_token=EOS)
    torch.testing.assert_close(answer, torch.tensor([[0, EOS, EOS, EOS, EOS]]))  # padded after its end with eos
    assert chain.calls == 1


def test_beam_search_stops_on_the_best_finished_beam_not_the_last_one():
    # prompt 3 → 0 (log 0.7 = −0.357, live) or eos (log 0.2 = −1.609, finished); then 0 → eos (−0.357 + log 0.6
    # = −0.868, finished) or 3 (−0.357 + log 0.3 = −1.561, live). Finished: −0.868, −1.609; the best live −1.561 lies
    # between them, below the best finished: stop after two calls
    probs = [[0.05, 0.05, 0.6, 0.3], [0.25] * 4, [0.25] * 4, [0.7, 0.05, 0.2, 0.05]]
    chain = Chain(probs)
    answer = sampling.beam_search_sequences(chain, torch.tensor([3]), 2, 4, eos_token=EOS)
    torch.testing.assert_close(answer, torch.tensor([[3, 0, EOS, EOS, EOS]]))
    assert chain.calls == 2
    assert math.log(0.7) + math.log(0.3) > math.log(0.2), "the live beam beats the worse finished one"


def test_beam_search_returns_one_sequence_by_default_and_may_fill_the_context():
    chain = Chain([[0.4, 0.3, 0.3]] * 3, n_ctx=5)
    answer = sampling.beam_search_sequences(chain, torch.tensor([1, 1]), 2, 3)  # 2 + 3 = n_ctx: allowed
    assert answer.shape == (1, 5)
    torch.testing.assert_close(answer, torch.tensor([[1, 1, 0, 0, 0]]))


def test_beam_search_refusals_are_one_sentence():
    chain = Chain([[0.4, 0.3, 0.3]] * 3)
    with pytest.raises(ValueError) as error:
        sampling.beam_search_sequences(chain, torch.tensor([1]), 0, 2)
    assert str(error.value) == "n_beams must be a positive integer, got 0"
    for n in (0, 3):
        with pytest.raises(ValueError) as error:
            sampling.beam_search_sequences(chain, torch.tensor([1]), 2, 2, num_return_sequences=n)
        assert str(error.value) == f"num_return_sequences must lie in [1, n_beams=2], got {n}"
