"""Checks for chapter 9, "Attention patterns and circuits": QK and OV circuits, composition score, one head's path."""

import torch
from transformer_lens import FactoredMatrix
from transformer_lens.utilities import composition_scores

from glassbox.checking.judge import Case, Exercise


def _randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _qk_cases() -> list[Case]:
    return [
        Case("d_vocab 7, d_model 6, d_head 3", (_randn(7, 6, seed=0), _randn(6, 3, seed=1), _randn(6, 3, seed=2))),
        Case(
            "d_vocab 30, d_model 16, d_head 4", (_randn(30, 16, seed=3), _randn(16, 4, seed=4), _randn(16, 4, seed=5))
        ),
        Case("d_head 1: a rank-one circuit", (_randn(9, 5, seed=6), _randn(5, 1, seed=7), _randn(5, 1, seed=8))),
    ]


def _ov_weights(d_vocab: int, d_model: int, d_head: int, seed: int) -> tuple[torch.Tensor, ...]:
    """W_E, W_V, W_O, W_U, each from its own seed."""
    shapes = ((d_vocab, d_model), (d_model, d_head), (d_head, d_model), (d_model, d_vocab))
    return tuple(_randn(*shape, seed=seed + i) for i, shape in enumerate(shapes))


def _ov_cases() -> list[Case]:
    return [
        Case("d_vocab 7, d_model 6, d_head 3", _ov_weights(7, 6, 3, seed=0)),
        Case("d_vocab 30, d_model 16, d_head 4", _ov_weights(30, 16, 4, seed=4)),
        Case("d_head 1: a rank-one circuit", _ov_weights(9, 5, 1, seed=8)),
    ]


def _composition_cases() -> list[Case]:
    low_rank = _randn(8, 2, seed=0) @ _randn(2, 8, seed=1)
    return [
        Case("two random 8×8 matrices", (_randn(8, 8, seed=2), _randn(8, 8, seed=3))),
        Case("rank-two matrices, as a head's W_V W_O is", (low_rank, _randn(8, 2, seed=4) @ _randn(2, 8, seed=5))),
        Case("the identity with itself (score 1/√8)", (torch.eye(8), torch.eye(8))),
    ]


def _path_cases() -> list[Case]:
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    pattern = _randn(2, 5, 5, seed=0).masked_fill(~causal, float("-inf")).softmax(-1)
    previous = torch.eye(5).roll(-1, 1).tril()  # each query on the key before it (the first on itself)
    previous[0, 0] = 1.0
    weights = (_randn(6, 3, seed=2), _randn(3, 6, seed=3), _randn(6, 9, seed=4))
    return [
        Case("a causal pattern over 5 positions", (pattern, _randn(2, 5, 6, seed=1), *weights)),
        Case(
            "a previous-token head (rows move the stream one step)",
            (previous[None].repeat(2, 1, 1), _randn(2, 5, 6, seed=5), *weights),
        ),
        Case("one position", (torch.ones(1, 1, 1), _randn(1, 1, 6, seed=6), *weights)),
    ]


def _qk_transposed(W_E, W_Q, W_K):
    return (W_E @ W_K) @ (W_E @ W_Q).T


def _qk_factored(W_E, W_Q, W_K):
    return FactoredMatrix(W_E @ W_Q, (W_E @ W_K).T).AB


def _ov_transposed(W_E, W_V, W_O, W_U):
    return (W_E @ W_V @ W_O @ W_U).T


def _ov_factored(W_E, W_V, W_O, W_U):
    return FactoredMatrix(W_E @ W_V, W_O @ W_U).AB


def _unnormalised(left, right):
    return (left @ right).norm()


def _reversed(left, right):
    return (right @ left).norm() / (left.norm() * right.norm())


def _transformer_lens_score(left, right):
    identity = FactoredMatrix(left, torch.eye(left.shape[1])), FactoredMatrix(right, torch.eye(right.shape[1]))
    return composition_scores(*identity)


def _pattern_transposed(pattern, stream, W_V, W_O, W_U):
    return torch.einsum("bkq,bkm->bqm", pattern, stream) @ W_V @ W_O @ W_U


def _pattern_skipped(pattern, stream, W_V, W_O, W_U):
    return stream @ W_V @ W_O @ W_U


def _copying_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(9)
    low_rank = torch.randn(12, 3, generator=generator) @ torch.randn(3, 12, generator=generator)
    copier = torch.eye(10) * 2 + 0.3 * torch.randn(10, 10, generator=generator)
    rotation = torch.tensor([[0.0, -1.0], [1.0, 0.0]]).kron(torch.eye(3)) + 0.1 * torch.eye(6)
    return [
        Case("a random 8 × 8 matrix", (torch.randn(8, 8, generator=generator),)),
        Case("a copier: 2·I plus noise, 10 × 10", (copier,)),
        Case("a suppressor: −(2·I plus noise)", (-copier,)),
        Case("rank 3 in 12 × 12, as an OV circuit of d_head 3", (low_rank,)),
        Case("complex eigenvalues: a rotation by 90° (pairs ±i) plus 0.1·I", (rotation,)),
    ]


def _copying_library(ov):
    eigenvalues = FactoredMatrix(ov, torch.eye(len(ov))).eigenvalues
    return eigenvalues.sum().real / eigenvalues.abs().sum()


def _copying_unnormalised(ov):
    return torch.linalg.eigvals(ov).real.sum()


def _copying_singular(ov):
    singular = torch.linalg.svdvals(ov)
    return singular.sum() / singular.abs().sum()


def _copying_real_parts(ov):
    real = torch.linalg.eigvals(ov).real
    return real.sum() / real.abs().sum()


def _copying_trace_norm(ov):
    return ov.trace() / ov.norm()


EXERCISES = [
    Exercise(
        name="qk_circuit_full",
        module="ch09_circuits",
        cases=_qk_cases,
        mistakes={
            "rows are query tokens and columns key tokens: (W_E W_Q)(W_E W_K)ᵀ, not its transpose": _qk_transposed,
        },
        agrees_with={"TransformerLens FactoredMatrix(W_E W_Q, (W_E W_K)ᵀ).AB": _qk_factored},
    ),
    Exercise(
        name="ov_circuit_full",
        module="ch09_circuits",
        cases=_ov_cases,
        mistakes={
            "rows are the token attended to, columns the logits it changes: W_E W_V W_O W_U, not its transpose": (
                _ov_transposed
            ),
        },
        agrees_with={"TransformerLens FactoredMatrix(W_E W_V, W_O W_U).AB": _ov_factored},
    ),
    Exercise(
        name="composition_score",
        module="ch09_circuits",
        cases=_composition_cases,
        mistakes={
            "divide by the product of the two norms, so that the score does not depend on the matrices' scale": (
                _unnormalised
            ),
            "the earlier head writes first: the product is left @ right": _reversed,
        },
        agrees_with={"transformer_lens.utilities.composition_scores": _transformer_lens_score},
    ),
    Exercise(
        name="head_path_logits",
        module="ch09_circuits",
        cases=_path_cases,
        mistakes={
            "the pattern's rows are queries: position q receives Σ_k pattern[q, k] · stream[k]": _pattern_transposed,
            "the head moves the stream with its pattern before W_V W_O and W_U read it — did you skip the pattern?": (
                _pattern_skipped
            ),
        },
    ),
    Exercise(
        name="eigenvalue_copying_score",
        module="ch09_circuits",
        cases=_copying_cases,
        mistakes={
            "divide by the sum of the eigenvalues' absolute values, so the score lies in [−1, 1]": (
                _copying_unnormalised
            ),
            "eigenvalues, not singular values: singular values are never negative, so every matrix would copy": (
                _copying_singular
            ),
            "the denominator is Σ|λ| with |λ| the complex modulus, not the absolute real part": _copying_real_parts,
            "the score uses eigenvalues: trace / Frobenius norm is another number": _copying_trace_norm,
        },
        agrees_with={"TransformerLens FactoredMatrix.eigenvalues": _copying_library},
    ),
]
