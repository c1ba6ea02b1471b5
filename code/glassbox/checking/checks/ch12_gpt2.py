"""Checks for chapter 12, "GPT-2 small": previous-token scores of every head, one token's stream through the layers,
induction scores on repeated random tokens, and the logit difference of indirect-object patching."""

import torch
import torch.nn.functional as F

from glassbox.analysis.attention import diagonal_score
from glassbox.analysis.attribution import logit_difference as library_logit_difference
from glassbox.checking.judge import Case, Exercise

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


def _repeated_patterns(generator, layers, heads, batch, n_prefix, half, plant=None) -> torch.Tensor:
    """Random causal patterns on n_prefix + 2 · half positions; `plant` = (layer, head) attends like an induction
    head (every second-copy query to the token after its earlier occurrence, with weight 0.9)."""
    pos = n_prefix + 2 * half
    patterns = _causal_patterns(generator, layers * batch, heads, pos).view(layers, batch, heads, pos, pos)
    if plant is not None:
        queries = torch.arange(n_prefix + half, pos)
        target = torch.zeros(pos, pos)
        target[queries, queries - half + 1] = 1.0
        mixed = patterns[plant[0], :, plant[1]].clone()
        mixed[:, queries] = 0.9 * target[queries] + 0.1 * mixed[:, queries]
        patterns[plant[0], :, plant[1]] = mixed
    return patterns


def _induction_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(3)
    return [
        Case(
            "2 layers × 3 heads, batch 2, no prefix, 4 tokens repeated",
            (_repeated_patterns(generator, 2, 3, 2, 0, 4), 4, 0),
        ),
        Case(
            "a BOS token first, 5 tokens repeated, an induction head planted at L1H2",
            (_repeated_patterns(generator, 2, 3, 3, 1, 5, plant=(1, 2)), 5, 1),
        ),
        Case(
            "GPT-2 small's shape: 12 layers × 12 heads, BOS, 6 tokens repeated, a head planted at L5H5",
            (_repeated_patterns(generator, 12, 12, 1, 1, 6, plant=(5, 5)), 6, 1),
        ),
        Case(
            "a sequence too short for its two copies (a ValueError, as the docstring says)",
            (_repeated_patterns(generator, 1, 2, 1, 0, 3)[..., :5, :5], 3, 0),
        ),
    ]


def _planted_induction_head_scores_highest(scores: torch.Tensor, args) -> str | None:
    patterns, half, n_prefix = args
    queries = torch.arange(n_prefix + half, n_prefix + 2 * half)
    weights = patterns[:, :, :, queries, queries - half + 1].amin(dim=(1, 3))  # [layer, head]
    if weights.max() < 0.85:  # no planted head in this case
        return None
    if scores.flatten().argmax() != weights.flatten().argmax():
        return "the planted induction head (attending to the token after the earlier copy) should score highest"
    return None


def _induction_indices(patterns, half, n_prefix, query_shift=0, key_shift=0):
    queries = torch.arange(n_prefix + half, n_prefix + 2 * half) + query_shift
    return patterns[:, :, :, queries, queries - half + 1 + key_shift].mean(dim=(1, 3))


def _induction_same_token(patterns, half, n_prefix):
    return _induction_indices(patterns, half, n_prefix, key_shift=-1)


def _induction_before(patterns, half, n_prefix):
    return _induction_indices(patterns, half, n_prefix, key_shift=-2)


def _induction_no_prefix(patterns, half, n_prefix):
    return _induction_indices(patterns, half, 0)


def _induction_every_query(patterns, half, n_prefix):
    return patterns.diagonal(-(half - 1), -2, -1).mean(dim=(1, 3))  # every query q ≥ half − 1, first copy too


def _induction_over_heads(patterns, half, n_prefix):
    score = _induction_indices(patterns, half, n_prefix)
    return score.mean(dim=1, keepdim=True).expand_as(score)


def _logit_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(4)

    def case(batch: int, pos: int, d_vocab: int) -> tuple:
        logits = 3 * torch.randn(batch, pos, d_vocab, generator=generator)
        right = torch.randint(0, d_vocab, (batch,), generator=generator)
        wrong = (right + torch.randint(1, d_vocab, (batch,), generator=generator)) % d_vocab
        return logits, torch.stack([right, wrong], dim=1)

    return [
        Case("4 prompts of 6 tokens, 20-token vocabulary, the mean", case(4, 6, 20)),
        Case("3 prompts, one value per prompt", (*case(3, 5, 11), True)),
        Case("one prompt of one token, 50,257 tokens like GPT-2's", case(1, 1, 50257)),
        Case("5 prompts of 8 tokens, 7 tokens, per prompt", (*case(5, 8, 7), True)),
    ]


def _ld_first_position(logits, answers, per_prompt=False):
    return library_logit_difference(logits[:, :1], answers, per_prompt)


def _ld_reversed(logits, answers, per_prompt=False):
    return -library_logit_difference(logits, answers, per_prompt)


def _ld_probabilities(logits, answers, per_prompt=False):
    return library_logit_difference(logits.softmax(-1), answers, per_prompt)


def _ld_every_pair(logits, answers, per_prompt=False):
    final = logits[:, -1]
    diff = final[:, answers[:, 0]] - final[:, answers[:, 1]]  # [batch, batch]: every prompt's answers in every row
    return diff.mean(-1) if per_prompt else diff.mean()


def _ld_first_prompts_answers(logits, answers, per_prompt=False):
    return library_logit_difference(logits, answers[:1].expand_as(answers), per_prompt)


def _ld_summed(logits, answers, per_prompt=False):
    diff = library_logit_difference(logits, answers, True)
    return diff if per_prompt else diff.sum()


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
    Exercise(
        name="repeated_induction_scores",
        module="ch12_gpt2",
        cases=_induction_cases,
        mistakes={
            "attend to the token after the earlier copy, key q − half + 1, not the earlier copy itself (q − half)": (
                _induction_same_token
            ),
            "the key to copy from is q − half + 1 (after the earlier copy), not q − half − 1": _induction_before,
            "the second copy starts at n_prefix + half: count the BOS (n_prefix) in the query positions": (
                _induction_no_prefix
            ),
            "average over the second copy's queries only (n_prefix + half … n_prefix + 2 · half − 1)": (
                _induction_every_query
            ),
            "average over the batch and the queries, one score per head: not over the heads": _induction_over_heads,
        },
        properties=[_planted_induction_head_scores_highest],
        agrees_with={
            "glassbox.analysis.attention.diagonal_score(patterns, half − 1, n_prefix + half)": (
                lambda patterns, half, n_prefix: diagonal_score(patterns, half - 1, n_prefix + half)
            ),
        },
    ),
    Exercise(
        name="logit_difference",
        module="ch12_gpt2",
        cases=_logit_cases,
        mistakes={
            "read the last position's logits (logits[:, -1]), where the prompt ends, not the first": (
                _ld_first_position
            ),
            "right answer minus wrong one: answers[:, 0] first, not answers[:, 1] − answers[:, 0]": _ld_reversed,
            "subtract logits, not probabilities: no softmax (a log-softmax would give the same difference)": (
                _ld_probabilities
            ),
            "take each prompt's own answers (gather, or final[arange(batch), answers[:, 0]]), not "
            "final[:, answers[:, 0]], which is [batch, batch]": _ld_every_pair,
            "each prompt has its own answers: index with answers[:, 0] and answers[:, 1], not answers[0]": (
                _ld_first_prompts_answers
            ),
            "the mean over the prompts, not the sum": _ld_summed,
        },
        agrees_with={"glassbox.analysis.attribution.logit_difference": library_logit_difference},
    ),
]
