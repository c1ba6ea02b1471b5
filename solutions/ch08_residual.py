"""Chapter 8, "The residual stream": reference solutions."""

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor
from transformer_lens import ActivationCache


def mean_cosine_similarity(
    a: Float[Tensor, "batch pos d_model"], b: Float[Tensor, "batch pos d_model"]
) -> Float[Tensor, ""]:
    """Mean, over batch and positions, of the cosine similarity between a[i, p] and b[i, p]."""
    return F.cosine_similarity(a, b, dim=-1).mean()


def participation_ratio(x: Float[Tensor, "sample d_model"]) -> Float[Tensor, ""]:
    """(Σ λ)² / Σ λ², where λ are the variances of the centred samples along their principal directions: the
    squared singular values of x minus its mean over samples."""
    variances = torch.linalg.svdvals(x - x.mean(dim=0, keepdim=True)) ** 2
    return variances.sum() ** 2 / (variances**2).sum()


def top_activating_contexts(
    cache: ActivationCache, tokens: Int[Tensor, "batch pos"], layer: int, neuron: int, k: int, before: int
) -> Int[Tensor, "k context"]:
    """What makes MLP neuron `neuron` of layer `layer` fire: its `k` largest activations (`blocks.{layer}.mlp.hook_post`
    of `cache`, the run on `tokens`, over every sequence and position), largest first; for each, the `before`
    tokens that precede that position and the token at it, as one row of `before + 1` token ids. A context that would
    start before its sequence is padded on the left with −1 (0 is a real token)."""
    # Step 1: the neuron's activation after the nonlinearity, at every sequence and position.
    acts = cache[f"blocks.{layer}.mlp.hook_post"][:, :, neuron]  # [batch, pos]
    # Step 2: the k largest over the flattened (sequence, position) grid, largest first.
    n_pos = acts.shape[1]
    top = acts.flatten().topk(k).indices  # entry b * n_pos + p is sequence b, position p
    batch_index, pos_index = top // n_pos, top % n_pos
    # Step 3: pad every sequence on the left with `before` −1s, so each window has before + 1 tokens.
    padding = torch.full((tokens.shape[0], before), -1, dtype=tokens.dtype)
    padded = torch.cat([padding, tokens], dim=1)  # position p of `tokens` is position p + before here
    # Step 4: the window ending at the firing token is padded[b, p : p + before + 1].
    offsets = torch.arange(before + 1)
    return padded[batch_index[:, None], pos_index[:, None] + offsets]  # [k, before + 1]
