"""Chapter 9, "Attention patterns and circuits": reference solutions."""

import torch
from jaxtyping import Float
from torch import Tensor


def qk_circuit_full(
    W_E: Float[Tensor, "d_vocab d_model"], W_Q: Float[Tensor, "d_model d_head"], W_K: Float[Tensor, "d_model d_head"]
) -> Float[Tensor, "d_vocab d_vocab"]:
    """One head's full QK circuit W_E W_Q W_Kᵀ W_Eᵀ: entry [i, j] is the attention score a query holding token i
    gives a key holding token j (embeddings only: no positions, no biases)."""
    return (W_E @ W_Q) @ (W_E @ W_K).T


def ov_circuit_full(
    W_E: Float[Tensor, "d_vocab d_model"],
    W_V: Float[Tensor, "d_model d_head"],
    W_O: Float[Tensor, "d_head d_model"],
    W_U: Float[Tensor, "d_model d_vocab"],
) -> Float[Tensor, "d_vocab d_vocab"]:
    """One head's full OV circuit W_E W_V W_O W_U: row i is what the head adds to every output logit when it
    attends fully to a position holding token i."""
    return W_E @ W_V @ W_O @ W_U


def composition_score(left: Float[Tensor, "rows inner"], right: Float[Tensor, "inner cols"]) -> Float[Tensor, ""]:
    """‖left · right‖_F / (‖left‖_F · ‖right‖_F), where `left` writes (an earlier head's W_V W_O) and `right` reads
    (a later head's W_Q W_Kᵀ, W_K W_Qᵀ or W_V W_O)."""
    return (left @ right).norm() / (left.norm() * right.norm())


def head_path_logits(
    pattern: Float[Tensor, "batch query key"],
    stream: Float[Tensor, "batch key d_model"],
    W_V: Float[Tensor, "d_model d_head"],
    W_O: Float[Tensor, "d_head d_model"],
    W_U: Float[Tensor, "d_model d_vocab"],
) -> Float[Tensor, "batch query d_vocab"]:
    """The logits of one path through one head (biases aside): the head moves `stream` (the part of the residual
    stream the path carries) from each key to each query with its pattern, maps it with W_V W_O, and the
    unembedding reads it."""
    moved = torch.einsum("bqk,bkm->bqm", pattern, stream)  # [batch, query, d_model]
    return moved @ W_V @ W_O @ W_U


def eigenvalue_copying_score(ov: Float[Tensor, "d_vocab d_vocab"]) -> Float[Tensor, ""]:
    """The eigenvalue copying score of a full OV circuit: the sum of its (complex) eigenvalues' real parts divided by
    the sum of their absolute values. 1 for a head whose eigenvalues are all positive (it copies), −1 for one that
    suppresses what it reads, near 0 for a random matrix."""
    eigenvalues = torch.linalg.eigvals(ov)  # complex: a real matrix can have complex eigenvalue pairs
    return eigenvalues.real.sum() / eigenvalues.abs().sum()
