"""Chapter 12, "GPT-2 small": reference solutions."""

from jaxtyping import Float
from torch import Tensor


def prev_token_scores(patterns: Float[Tensor, "layer head query_pos key_pos"]) -> Float[Tensor, "layer head"]:
    """How much each head attends to the previous token: the attention weight from position q to q - 1, averaged
    over the query positions q = 1, …, pos - 1 (position 0 has no previous token).

    A score near 1 marks a previous-token head. Fewer than two positions is a ValueError.
    """
    if patterns.shape[-1] < 2:
        raise ValueError(f"a previous-token score needs at least 2 positions, got {patterns.shape[-1]}")
    return patterns.diagonal(offset=-1, dim1=-2, dim2=-1).mean(dim=-1)


def cosine_to_final(resid: Float[Tensor, "layer pos d_model"]) -> Float[Tensor, "layer pos"]:
    """Cosine similarity between each position's residual stream at every layer and the same position's stream at
    the last layer (whose row is therefore all ones)."""
    unit = resid / resid.norm(dim=-1, keepdim=True)
    return (unit * unit[-1]).sum(dim=-1)
