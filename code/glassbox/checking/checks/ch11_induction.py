"""Checks for chapter 11, "Induction heads, trained here": the induction score, the second-half loss, and an
attention score split by the sources of its query and key."""

import torch
import torch.nn.functional as F

from glassbox.analysis.attention import diagonal_score, induction_score
from glassbox.checking.judge import Case, Exercise
from glassbox.induction import per_token_loss, repeated_random_tokens


def _patterns(batch: int, heads: int, n: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    scores = 3 * torch.randn(batch, heads, n, n, generator=generator)
    causal = torch.ones(n, n, dtype=torch.bool).tril()
    return scores.masked_fill(~causal, float("-inf")).softmax(-1)


def _score_cases() -> list[Case]:
    perfect = torch.zeros(1, 1, 8, 8)
    perfect[0, 0, :4, 0] = 1
    perfect[0, 0, torch.arange(4, 8), torch.arange(1, 5)] = 1  # a perfect induction head: score 1
    return [
        Case("random causal patterns, 12 positions", (_patterns(3, 4, 12, 0),)),
        Case("random causal patterns, 32 positions", (_patterns(2, 2, 32, 1),)),
        Case("a perfect induction head (score 1)", (perfect,)),
    ]


def _loss_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)
    tokens = repeated_random_tokens(4, 8, 11, generator)
    return [
        Case("random logits on repeated tokens", (torch.randn(4, 16, 11, generator=generator), tokens)),
        Case("confident copying logits", (10 * F.one_hot(tokens.roll(-1, 1), 11).float(), tokens)),
        Case(
            "the shortest repeat: 4 tokens (half 2)",
            (torch.randn(3, 4, 5, generator=generator), repeated_random_tokens(3, 2, 5, generator)),
        ),
    ]


def _copy_key(p):
    return diagonal_score(p, p.shape[-1] // 2, p.shape[-1] // 2)


def _every_query(p):
    return diagonal_score(p, p.shape[-1] // 2 - 1)


def _one_number(p):
    return diagonal_score(p, p.shape[-1] // 2 - 1, p.shape[-1] // 2).mean().expand(p.shape[1])


def _from_half_minus_one(logits, tokens):
    return per_token_loss(logits, tokens)[:, tokens.shape[-1] // 2 - 1 :].mean()


def _unshifted(logits, tokens):
    half = tokens.shape[-1] // 2
    return F.cross_entropy(logits[:, half:].flatten(0, 1), tokens[:, half:].flatten())


def _library_second_half(logits, tokens):
    return per_token_loss(logits, tokens)[:, tokens.shape[-1] // 2 :].mean()


def _parts_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(3)

    def parts(n_q: int, n_k: int, batch: int, pos: int, d_head: int) -> tuple:
        return (torch.randn(n_q, batch, pos, d_head, generator=generator),
                torch.randn(n_k, batch, pos, d_head, generator=generator))  # fmt: skip

    return [
        Case("four sources on each side, d_head 4", parts(4, 4, 2, 5, 4)),
        Case("one source each: the plain score q·k / √d_head", parts(1, 1, 3, 6, 9)),
        Case("three query sources, two key sources, d_head 16", parts(3, 2, 2, 4, 16)),
    ]


def _parts_sum_to_the_score(out, args) -> str | None:
    q_parts, k_parts = args
    q, k = q_parts.sum(0), k_parts.sum(0)
    score = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
    if out.shape[2:] == score.shape and not torch.allclose(out.sum((0, 1)), score, atol=1e-4, rtol=1e-4):
        return "summed over both source axes the parts must give the score q·k / √d_head"
    return None


def _parts_loop(q_parts, k_parts):
    return torch.stack([torch.stack([q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5 for k in k_parts]) for q in q_parts])


def _parts_unscaled(q_parts, k_parts):
    return torch.einsum("ibqd,jbkd->ijbqk", q_parts, k_parts)


def _parts_by_d_head(q_parts, k_parts):
    return torch.einsum("ibqd,jbkd->ijbqk", q_parts, k_parts) / q_parts.shape[-1]


def _parts_key_rows(q_parts, k_parts):
    return torch.einsum("ibqd,jbkd->ijbkq", q_parts, k_parts) / q_parts.shape[-1] ** 0.5


def _parts_sources_swapped(q_parts, k_parts):
    return torch.einsum("ibqd,jbkd->jibqk", q_parts, k_parts) / q_parts.shape[-1] ** 0.5


def _parts_softmaxed(q_parts, k_parts):
    return (torch.einsum("ibqd,jbkd->ijbqk", q_parts, k_parts) / q_parts.shape[-1] ** 0.5).softmax(-1)


EXERCISES = [
    Exercise(
        name="induction_score",
        module="ch11_induction",
        cases=_score_cases,
        mistakes={
            "an induction head looks at the token AFTER the earlier copy: key q − half + 1, not q − half": _copy_key,
            "score only second-half queries (q ≥ half); first-half tokens have no earlier copy": _every_query,
            "average over the batch and the queries, keeping one score per head": _one_number,
        },
        agrees_with={"glassbox.analysis.attention.induction_score": induction_score},
    ),
    Exercise(
        name="second_half_loss",
        module="ch11_induction",
        cases=_loss_cases,
        mistakes={
            "the prediction at position half − 1 (of the repeat's first token) cannot use the repeat: start at half": (
                _from_half_minus_one
            ),
            "the target of position t is the token at t + 1 (shift by one)": _unshifted,
        },
        agrees_with={"glassbox.induction.per_token_loss over positions half …": _library_second_half},
    ),
    Exercise(
        name="attention_score_parts",
        module="ch11_induction",
        cases=_parts_cases,
        mistakes={
            "divide each part by √d_head, as the score itself is divided": _parts_unscaled,
            "the score is divided by √d_head, not by d_head": _parts_by_d_head,
            "rows are queries and columns keys: entry [i, j, b, q, k], not [i, j, b, k, q]": _parts_key_rows,
            "the first axis is the query's source and the second the key's: [i, j], not [j, i]": (
                _parts_sources_swapped
            ),
            "a part is a dot product: the softmax comes after the parts are summed, and does not split": (
                _parts_softmaxed
            ),
        },
        properties=[_parts_sum_to_the_score],
        agrees_with={"a loop over the query and key sources": _parts_loop},
        atol=1e-4,
    ),
]
