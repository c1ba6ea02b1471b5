"""Chapter 12, "GPT-2 small": exercise stubs (fill in each body)."""

import torch
from jaxtyping import Float, Int
from torch import Tensor


def prev_token_scores(patterns: Float[Tensor, "layer head query_pos key_pos"]) -> Float[Tensor, "layer head"]:
    """How much each head attends to the previous token: the attention weight from position q to q - 1, averaged
    over the query positions q = 1, …, pos - 1 (position 0 has no previous token).

    A score near 1 marks a previous-token head. Fewer than two positions is a ValueError.
    """
    raise NotImplementedError()


def cosine_to_final(resid: Float[Tensor, "layer pos d_model"]) -> Float[Tensor, "layer pos"]:
    """Cosine similarity between each position's residual stream at every layer and the same position's stream at
    the last layer (whose row is therefore all ones)."""
    raise NotImplementedError()


def repeated_induction_scores(
    patterns: Float[Tensor, "layer batch head query_pos key_pos"], half: int, n_prefix: int = 0
) -> Float[Tensor, "layer head"]:
    """The induction score of every head on sequences of `n_prefix` tokens (GPT-2's BOS: 1; none: 0) followed by
    `half` random tokens repeated once: the attention from each position q of the second copy to the key just after
    the first occurrence of q's token, averaged over those queries and the batch. `patterns` stacks every layer's
    `cache["pattern", layer]`. A sequence shorter than n_prefix + 2 · half is a ValueError."""
    raise NotImplementedError()


def logit_difference(
    logits: Float[Tensor, "batch pos d_vocab"], answers: Int[Tensor, "batch 2"], per_prompt: bool = False
) -> Float[Tensor, "*batch"]:
    """The metric of indirect-object patching: at each prompt's last position, the logit of its right answer
    (`answers[:, 0]`, e.g. " Mary") minus the logit of its wrong one (`answers[:, 1]`, " John"). The mean over the
    prompts, or one value per prompt when `per_prompt` is True."""
    raise NotImplementedError()
