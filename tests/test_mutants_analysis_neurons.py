"""Single neurons (chapter 8), pinned where mutation testing found the suite silent: top_activations refuses a bad
neuron or k in one sentence at exactly its limits, contexts take 12 tokens before and 2 after and stay on one line,
write sizes by hand, context tokens keep the tokens' dtype."""

import pytest
import torch
from glassbox.analysis import neurons
from jaxtyping import TypeCheckError


def test_top_activations_accept_exactly_their_range_and_name_it():
    acts = torch.zeros(2, 5, 3)  # batch 2, pos 5, neuron 3: 10 places
    acts[1, 3, 2], acts[0, 4, 2], acts[1, 0, 2] = 9.0, 8.0, 7.0
    top = neurons.top_activations(acts, 2, 3)
    assert top.values.tolist() == [9.0, 8.0, 7.0]
    assert top.batch.tolist() == [1, 0, 1] and top.pos.tolist() == [3, 4, 0]
    assert len(neurons.top_activations(acts, 0, 1).values) == 1
    assert len(neurons.top_activations(acts, 2, 10).values) == 10  # every place
    for neuron in (3, 4, -1):
        with pytest.raises(ValueError) as error:
            neurons.top_activations(acts, neuron, 1)
        assert str(error.value) == f"acts must be [batch, pos, neuron] with neuron < 3, got {neuron}"
    # [pos, neuron], no batch: the function's own check (jaxtyping's refuses it first where the tests turn it on)
    with pytest.raises((ValueError, TypeCheckError), match=r"acts must be \[batch, pos, neuron\]|Type-check error"):
        neurons.top_activations(acts[0], 1, 1)
    for k in (0, 11):
        with pytest.raises(ValueError) as error:
            neurons.top_activations(acts, 2, k)
        assert str(error.value) == f"k must lie in 1 … 10, got {k}"


def test_contexts_take_12_tokens_before_and_2_after_on_one_line():
    tokens = torch.arange(30)[None] % 26
    where = neurons.TopActivations(torch.tensor([1.0, 0.5]), torch.tensor([0, 0]), torch.tensor([20, 1]))

    def decode(ids):
        return "".join("\n" if i == 10 else chr(ord("a") + i) for i in ids.tolist())

    assert neurons.contexts(tokens, where, decode) == ["ij⏎lmnopqrst⟦u⟧vw", "a⟦b⟧cd"]  # positions 8-19, 20, 21-22
    assert neurons.contexts(tokens, where, decode, before=1, after=0) == ["t⟦u⟧", "a⟦b⟧"]


def test_write_sizes_by_hand():
    acts = torch.tensor([[[2.0, -1.0], [-2.0, 0.0]]])  # mean |activation|: 2 and 0.5
    W_out = torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]])  # row norms 5 and 1
    torch.testing.assert_close(neurons.write_sizes(acts, W_out), torch.tensor([10.0, 0.5]))


def test_context_tokens_keep_the_tokens_dtype_and_pad_with_minus_one():
    tokens = torch.tensor([[5, 6, 7, 8]], dtype=torch.int32)
    where = neurons.TopActivations(torch.ones(2), torch.tensor([0, 0]), torch.tensor([1, 3]))
    found = neurons.context_tokens(tokens, where, before=2)
    assert found.dtype == torch.int32
    assert found.tolist() == [[-1, 5, 6], [6, 7, 8]]
