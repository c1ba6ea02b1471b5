"""Where a chapter's exercise has a twin in the library (the reader writes it; later chapters use the library's), the
two are pinned to the same numbers and the same errors here, so neither can drift from the other."""

import pytest
import torch
from glassbox import induction
from glassbox.analysis import attention, interventions

from solutions import ch10_interventions, ch11_induction, ch12_gpt2


def test_recovery_ratio_is_the_same_function_in_the_library_and_the_solution():
    patched = torch.tensor([0.0, 0.5, 2.0, -1.0])
    for clean, corrupted in ((3.0, 1.0), (-2.0, 0.5), (1e-3, 2e-3)):
        torch.testing.assert_close(
            ch10_interventions.recovery_ratio(patched, clean, corrupted),
            interventions.recovery_ratio(patched, clean, corrupted),
        )
    for clean, corrupted in ((2.0, 2.0), (1.0, 1.0 + 1e-12)):  # equal, and equal but for rounding
        for twin in (ch10_interventions.recovery_ratio, interventions.recovery_ratio):
            with pytest.raises(ValueError, match="nothing to recover"):
                twin(patched, clean, corrupted)


def test_previous_token_scores_average_the_same_way():
    patterns = torch.rand(3, 4, 7, 7).tril().softmax(-1)  # [layer, head, query, key]
    torch.testing.assert_close(
        ch12_gpt2.prev_token_scores(patterns), attention.previous_token_score(patterns[:, None])
    )  # the library's has a batch


def test_second_half_loss_is_one_quantity_in_the_exercise_the_library_and_half_losses():
    generator = torch.Generator().manual_seed(0)
    tokens = induction.repeated_random_tokens(5, 6, 11, generator)
    logits = torch.randn(5, 12, 11, generator=generator)
    expected = ch11_induction.second_half_loss(logits, tokens)
    torch.testing.assert_close(induction.second_half_loss(logits, tokens), expected)
    assert induction.half_losses(logits, tokens).second == pytest.approx(expected.item(), rel=1e-6)
