"""Attribution (chapter 10), pinned where mutation testing found the suite silent: the logit difference by hand
(each prompt's own two answers at its last position, the mean unless asked per prompt), the errors' sentences, and
attribution patching leaving no gradients on the model."""

import pytest
import torch
from glassbox.analysis import attribution
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from jaxtyping import TypeCheckError

# the functions' own checks; jaxtyping's annotation check refuses these inputs first where the tests turn it on
REFUSED = (ValueError, TypeCheckError)


def test_logit_difference_by_hand():
    logits = torch.zeros(2, 3, 4)  # batch 2, pos 3, d_vocab 4
    logits[0, -1] = torch.tensor([1.0, 5.0, 2.0, 0.0])
    logits[1, -1] = torch.tensor([3.0, 0.0, 7.0, 1.0])
    logits[:, 1] = 100.0  # the position before the last: not read
    answers = torch.tensor([[1, 2], [3, 2]])  # prompt 0: 5 − 2 = 3; prompt 1: 1 − 7 = −6
    torch.testing.assert_close(attribution.logit_difference(logits, answers, per_prompt=True), torch.tensor([3.0, -6]))
    torch.testing.assert_close(attribution.logit_difference(logits, answers), torch.tensor(-1.5))


def test_logit_difference_refuses_answers_of_the_wrong_shape_in_one_sentence():
    logits = torch.zeros(2, 3, 4)
    for answers in (torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 2, dtype=torch.long)):
        with pytest.raises(
            REFUSED, match=rf"answers must be \[batch, 2\] = \[2, 2\], got \({answers.shape[0]}, \d\)|Type-check error"
        ):
            attribution.logit_difference(logits, answers)
    with pytest.raises(REFUSED, match=r"answers must be \[batch, 2\] = \[2, 2\], got \(2,\)|Type-check error"):
        attribution.logit_difference(logits, torch.zeros(2, dtype=torch.long))


def test_logit_diff_directions_and_attribution_refuse_mismatches_in_one_sentence():
    W_U = torch.randn(5, 7)
    torch.testing.assert_close(
        attribution.logit_diff_directions(W_U, torch.tensor([3]), torch.tensor([1])), (W_U[:, 3] - W_U[:, 1])[None]
    )
    with pytest.raises(
        REFUSED, match=r"correct and wrong must be 1-d and alike, got \(2,\) and \(3,\)|Type-check error"
    ):
        attribution.logit_diff_directions(W_U, torch.tensor([1, 2]), torch.tensor([1, 2, 3]))
    with pytest.raises(
        REFUSED,
        match=r"components \[component, batch, d_model\] \(4, 2, 5\) do not match directions \[batch, d_model\] "
        r"\(3, 5\)|Type-check error",
    ):
        attribution.direct_logit_attribution(torch.zeros(4, 2, 5), torch.zeros(3, 5))


def test_attribution_patching_leaves_no_gradients_on_the_model():
    cfg = TransformerConfig(d_model=8, n_layers=2, n_heads=2, n_ctx=5, d_vocab=7, attn_only=True, seed=0)
    model = Transformer(cfg).eval()
    generator = torch.Generator().manual_seed(0)
    clean, corrupted = torch.randint(0, 7, (2, 2, 5), generator=generator)
    estimate = attribution.attribution_patch_heads(model, clean, corrupted, lambda logits: logits[:, -1, 0].mean())
    assert estimate.shape == (2, 2) and not estimate.requires_grad
    assert all(parameter.grad is None for parameter in model.parameters())
