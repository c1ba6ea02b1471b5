"""Chapter 11, "Induction heads, trained here": reference solutions."""

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor


def induction_score(pattern: Float[Tensor, "batch head query key"]) -> Float[Tensor, "head"]:
    """Each head's mean attention, on sequences whose second half repeats the first, from every second-half query
    q to the key just after the first occurrence of its token: q − half + 1 (half = sequence length / 2)."""
    half = pattern.shape[-1] // 2
    queries = torch.arange(half, 2 * half)
    return pattern[:, :, queries, queries - half + 1].mean(dim=(0, 2))


def second_half_loss(logits: Float[Tensor, "batch pos d_vocab"], tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, ""]:
    """Mean next-token loss of the predictions made at positions half … 2·half − 2, whose targets (the tokens at
    half + 1 … 2·half − 1) are copies of tokens the model has already seen."""
    half = tokens.shape[-1] // 2
    return F.cross_entropy(logits[:, half:-1].flatten(0, 1), tokens[:, half + 1 :].flatten())
