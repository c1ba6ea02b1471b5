"""Chapter 12's repeated random tokens: the BOS token and the random ones end on one device, whichever device the
model's tokens live on (a GPU run used to join CPU and GPU tensors). The 'meta' device stands in for a GPU here."""

from types import SimpleNamespace

import pytest
import torch
from glassbox.pretrained import ChapterModel


def chapter_model(is_gpt2: bool, device: str) -> ChapterModel:
    return ChapterModel(
        model=SimpleNamespace(cfg=SimpleNamespace(d_vocab=50, device=device)),
        name="stand-in",
        is_gpt2=is_gpt2,
        reason="a test",
        n_params=0,
        _to_tokens=lambda text: torch.full((1, len(text) + 1), 7, device=device),  # a BOS-like first token
        _token_str=str,
    )


@pytest.mark.parametrize("is_gpt2", [True, False])
def test_repeated_tokens_lie_on_the_device_of_the_models_tokens(is_gpt2):
    tokens = chapter_model(is_gpt2, "meta").repeated_random_tokens(8, 5, seed=12)
    assert tokens.device.type == "meta" and tokens.shape == (8, (1 if is_gpt2 else 0) + 10)


def test_repeated_tokens_are_the_cpu_draw_repeated_after_the_prefix():
    tokens = chapter_model(True, "cpu").repeated_random_tokens(8, 5, seed=12)
    first = torch.randint(0, 50, (8, 5), generator=torch.Generator().manual_seed(12))
    torch.testing.assert_close(tokens, torch.cat([torch.full((8, 1), 7), first, first], dim=1))
    assert chapter_model(False, "cpu").repeated_random_tokens(2, 3).shape == (2, 6)
    with pytest.raises(ValueError, match="positive"):
        chapter_model(False, "cpu").repeated_random_tokens(0, 3)
