"""Chapter 12, "GPT-2 small": reference solutions."""

import einops
import torch
from jaxtyping import Float, Int
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


def repeated_induction_scores(
    patterns: Float[Tensor, "layer batch head query_pos key_pos"], half: int, n_prefix: int = 0
) -> Float[Tensor, "layer head"]:
    """The induction score of every head on sequences of `n_prefix` tokens (GPT-2's BOS: 1; none: 0) followed by
    `half` random tokens repeated once: the attention from each position q of the second copy to the key just after
    the first occurrence of q's token, averaged over those queries and the batch. `patterns` stacks every layer's
    `cache["pattern", layer]`. A sequence shorter than n_prefix + 2 · half is a ValueError."""
    n_pos = patterns.shape[-1]
    if half < 1 or n_pos < n_prefix + 2 * half:
        raise ValueError(f"need n_prefix + 2 · half = {n_prefix + 2 * half} positions (half ≥ 1), got {n_pos}")
    # Step 1: the queries, every position of the second copy.
    queries = torch.arange(n_prefix + half, n_prefix + 2 * half)
    # Step 2: the same token sat `half` positions earlier; the token after it, at q − half + 1, is what to copy.
    keys = queries - half + 1
    # Step 3: one attention weight per (layer, batch, head, query), then the mean over batch and queries.
    induction_weights = patterns[:, :, :, queries, keys]  # [layer, batch, head, query]
    return einops.reduce(induction_weights, "layer batch head query -> layer head", "mean")


def logit_difference(
    logits: Float[Tensor, "batch pos d_vocab"], answers: Int[Tensor, "batch 2"], per_prompt: bool = False
) -> Float[Tensor, "*batch"]:
    """The metric of indirect-object patching: at each prompt's last position, the logit of its right answer
    (`answers[:, 0]`, e.g. " Mary") minus the logit of its wrong one (`answers[:, 1]`, " John"). The mean over the
    prompts, or one value per prompt when `per_prompt` is True."""
    # Step 1: the prediction after the whole prompt.
    final_logits = logits[:, -1]  # [batch, d_vocab]
    # Step 2: each prompt's own two answers (gather picks answers[b] from row b, not every prompt's from every row).
    answer_logits = final_logits.gather(dim=-1, index=answers)  # [batch, 2]
    # Step 3: right minus wrong, then the mean unless every prompt's value is asked for.
    diff = answer_logits[:, 0] - answer_logits[:, 1]  # [batch]
    return diff if per_prompt else diff.mean()
