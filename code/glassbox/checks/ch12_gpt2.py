"""Checks for chapter 12, "GPT-2 small": previous-token scores of every head, and one token's stream through the
layers."""

import torch
import torch.nn.functional as F

from glassbox.judge import Case, Exercise

THRESHOLD = 0.9  # a planted previous-token head must score at least this, and above every other head


def _causal_patterns(generator: torch.Generator, layers: int, heads: int, pos: int) -> torch.Tensor:
    scores = 2 * torch.randn(layers, heads, pos, pos, generator=generator)
    mask = torch.ones(pos, pos, dtype=torch.bool).tril()
    return scores.masked_fill(~mask, float("-inf")).softmax(-1)


def _plant_previous_token_head(patterns: torch.Tensor, layer: int, head: int, strength: float) -> torch.Tensor:
    """Mix an exact previous-token pattern (position 0 attends to itself) into one head."""
    pos = patterns.shape[-1]
    exact = torch.zeros(pos, pos)
    exact[0, 0] = 1.0
    exact[torch.arange(1, pos), torch.arange(pos - 1)] = 1.0
    patterns = patterns.clone()
    patterns[layer, head] = strength * exact + (1 - strength) * patterns[layer, head]
    return patterns


def _score_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)
    return [
        Case("random causal patterns, 3 layers × 4 heads × 7 positions", (_causal_patterns(generator, 3, 4, 7),)),
        Case(
            "a planted previous-token head (layer 1, head 2)",
            (_plant_previous_token_head(_causal_patterns(generator, 2, 4, 9), 1, 2, 0.97),),
        ),
        Case("two positions only", (_causal_patterns(generator, 1, 3, 2),)),
        Case(
            "GPT-2 small's shape: 12 layers × 12 heads, a head planted at 4.11",
            (_plant_previous_token_head(_causal_patterns(generator, 12, 12, 10), 4, 11, 1.0),),
        ),
        Case("one position: no previous token (a ValueError, as the docstring says)", (torch.ones(2, 2, 1, 1),)),
    ]


def _planted_heads_score_high(scores: torch.Tensor, args) -> str | None:
    (patterns,) = args
    pos = patterns.shape[-1]
    below = patterns.diagonal(offset=-1, dim1=-2, dim2=-1)  # [layer, head, pos - 1]
    planted = below.min(dim=-1).values >= 0.95  # heads built to look back one token
    if pos < 3 or not planted.any():
        return None
    top = torch.zeros_like(planted)
    top.view(-1)[scores.flatten().topk(int(planted.sum())).indices] = True
    if not torch.equal(top, planted):
        return "the top-scoring heads should be the heads that attend to the previous token"
    if scores[planted].min() < THRESHOLD:
        return f"a head that attends to the previous token should score above {THRESHOLD}"
    return None


def _cosine_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(1)
    drifting = torch.cumsum(torch.randn(13, 6, 32, generator=generator), dim=0)  # a stream that accumulates
    return [
        Case("a residual stream that accumulates over 13 snapshots", (drifting,)),
        Case(
            "random vectors of very different lengths",
            (torch.randn(4, 5, 16, generator=generator) * torch.logspace(-2, 3, 5)[:, None],),
        ),
        Case("one position, d_model 768", (torch.randn(3, 1, 768, generator=generator),)),
    ]


def _last_row_is_one(cosines: torch.Tensor, args) -> str | None:
    if not torch.allclose(cosines[-1], torch.ones(()), atol=1e-5):
        return "the last layer's stream is compared with itself: its row must be all ones"
    if (cosines.abs() > 1 + 1e-5).any():
        return "a cosine similarity lies between -1 and 1: normalise both vectors over d_model"
    return None


def _main_diagonal(p):
    return p.diagonal(0, -2, -1)[..., 1:].mean(-1)


def _above_diagonal(p):
    return p.diagonal(1, -2, -1).mean(-1)


def _divided_by_all_positions(p):
    return p.diagonal(-1, -2, -1).sum(-1) / p.shape[-1]


def _loop_over_queries(p):
    return torch.stack([p[..., q, q - 1] for q in range(1, p.shape[-1])], -1).mean(-1)


def _to_first(r):
    return F.cosine_similarity(r, r[:1], dim=-1)


def _normalised_over_layers(r):
    unit = r / r.norm(dim=0, keepdim=True)
    return (unit * unit[-1]).sum(-1)


def _dot_product(r):
    return (r * r[-1]).sum(-1)


def _torch_cosine(r):
    return F.cosine_similarity(r, r[-1:], dim=-1)


EXERCISES = [
    Exercise(
        name="prev_token_scores",
        module="ch12_gpt2",
        cases=_score_cases,
        mistakes={
            "that is attention to the token itself (the main diagonal): use offset=-1": _main_diagonal,
            "offset=+1 is above the diagonal, where the causal mask leaves only zeros: use offset=-1": _above_diagonal,
            "position 0 has no previous token: average over the pos - 1 queries that have one": (
                _divided_by_all_positions
            ),
        },
        properties=[_planted_heads_score_high],
        agrees_with={"a loop over query positions": _loop_over_queries},
    ),
    Exercise(
        name="cosine_to_final",
        module="ch12_gpt2",
        cases=_cosine_cases,
        mistakes={
            "compare with the last layer's stream, not the first's": _to_first,
            "normalise over d_model (the last dimension)": _normalised_over_layers,
            "a dot product is not a cosine: divide by both norms": _dot_product,
        },
        properties=[_last_row_is_one],
        agrees_with={"torch.nn.functional.cosine_similarity": _torch_cosine},
    ),
]
