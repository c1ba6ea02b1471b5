"""Checks for chapter 8, "The residual stream": cosine similarity between snapshots, participation ratio, and the
contexts in which an MLP neuron fires hardest (token ids, so the learner's mistakes are wrong positions, windows and
layers rather than wrong values)."""

import torch
import torch.nn.functional as F

from glassbox.analysis import neurons, residual
from glassbox.checking.judge import Case, Exercise
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


def _randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _cosine_cases() -> list[Case]:
    a = _randn(3, 5, 8, seed=0)
    return [
        Case("two random streams", (a, _randn(3, 5, 8, seed=1))),
        Case("a stream and a scaled, slightly changed copy", (a, 3 * a + 0.3 * _randn(3, 5, 8, seed=2))),
        Case(
            "orthogonal vectors (similarity 0) and opposite ones (−1)",
            (torch.tensor([[[1.0, 0.0], [0.0, 2.0]]]), torch.tensor([[[0.0, 5.0], [0.0, -1.0]]])),
        ),
    ]


def _ratio_cases() -> list[Case]:
    three_equal = torch.zeros(6, 5)
    three_equal[[0, 1, 2], [0, 1, 2]] = 1.0
    three_equal[[3, 4, 5], [0, 1, 2]] = -1.0  # centred already; variance 2 along each of three axes
    offset = _randn(200, 4, seed=3) @ torch.diag(torch.tensor([3.0, 1.0, 0.5, 0.1])) + 10.0
    return [
        Case("random samples in 6 dimensions", (_randn(50, 6, seed=0),)),
        Case("three directions with equal variance (ratio 3)", (three_equal,)),
        Case("unequal variances far from the origin (centre first)", (offset,)),
    ]


def _unnormalised(a, b):
    return (a * b).sum(-1).mean()


def _along_positions(a, b):
    return F.cosine_similarity(a, b, dim=1).mean()


def _uncentred(x):
    variances = torch.linalg.svdvals(x) ** 2
    return variances.sum() ** 2 / (variances**2).sum()


def _singular_values_as_variances(x):
    s = torch.linalg.svdvals(x - x.mean(0))
    return s.sum() ** 2 / (s**2).sum()


def _library_ratio(x):
    return torch.tensor(residual.participation_ratio(x))


def _context_cases() -> list[Case]:
    """Chapter 5's kind of model, small: two layers with GELU MLPs, run on random tokens; its cache and tokens."""
    cfg = TransformerConfig(d_model=16, n_layers=2, n_heads=2, d_vocab=11, n_ctx=8, d_mlp=12, init_range=0.5, seed=3)
    model = Transformer(cfg).eval()
    tokens = torch.randint(0, cfg.d_vocab, (4, 8), generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens)
    return [
        Case("layer 1, neuron 3, top 5, 3 tokens before", (cache, tokens, 1, 3, 5, 3)),
        Case("layer 0, neuron 0, top 6, 7 tokens before (most contexts padded)", (cache, tokens, 0, 0, 6, 7)),
        Case("layer 1, neuron 7, top 1, no tokens before (the firing token alone)", (cache, tokens, 1, 7, 1, 0)),
    ]


def _contexts(cache, tokens, layer, before, batch_index, pos_index, pad=-1, shift=0):
    padded = torch.cat([torch.full((tokens.shape[0], before + 1), pad, dtype=tokens.dtype), tokens], dim=1)
    return padded[batch_index[:, None], pos_index[:, None] + 1 + shift + torch.arange(before + 1)]


def _top(cache, layer, neuron, k, hook="post", largest=True):
    acts = cache[f"blocks.{layer}.mlp.hook_{hook}"][:, :, neuron]
    return acts, acts.flatten().topk(k, largest=largest).indices


def _ctx_library(cache, tokens, layer, neuron, k, before):
    top = neurons.top_activations(cache[f"blocks.{layer}.mlp.hook_post"], neuron, k)
    return neurons.context_tokens(tokens, top, before)


def _ctx_variant(cache, tokens, layer, neuron, k, before, *, hook="post", largest=True, pad=-1, shift=0):
    acts, top = _top(cache, layer, neuron, k, hook, largest)
    return _contexts(cache, tokens, layer, before, top // acts.shape[1], top % acts.shape[1], pad, shift)


def _ctx_shifted(cache, tokens, layer, neuron, k, before):
    return _ctx_variant(cache, tokens, layer, neuron, k, before, shift=-1)


def _ctx_smallest(cache, tokens, layer, neuron, k, before):
    return _ctx_variant(cache, tokens, layer, neuron, k, before, largest=False)


def _ctx_layer_0(cache, tokens, layer, neuron, k, before):
    return _ctx_variant(cache, tokens, 0, neuron, k, before)


def _ctx_pre(cache, tokens, layer, neuron, k, before):
    return _ctx_variant(cache, tokens, layer, neuron, k, before, hook="pre")


def _ctx_zero_padding(cache, tokens, layer, neuron, k, before):
    return _ctx_variant(cache, tokens, layer, neuron, k, before, pad=0)


def _ctx_unsorted(cache, tokens, layer, neuron, k, before):
    acts, top = _top(cache, layer, neuron, k)
    top = top.sort().values  # the k largest, in the order they appear in the text
    return _contexts(cache, tokens, layer, before, top // acts.shape[1], top % acts.shape[1])


def _ctx_per_sequence(cache, tokens, layer, neuron, k, before):
    acts = cache[f"blocks.{layer}.mlp.hook_post"][:, :, neuron]
    best = acts.max(dim=1)  # each sequence's best position only
    order = best.values.argsort(descending=True)[:k]
    order = torch.cat([order, order[-1:].expand(max(0, k - len(order)))])
    return _contexts(cache, tokens, layer, before, order, best.indices[order])


EXERCISES = [
    Exercise(
        name="mean_cosine_similarity",
        module="ch08_residual",
        cases=_cosine_cases,
        mistakes={
            "normalise each vector by its own length: cosine similarity ignores the scale": _unnormalised,
            "compare along d_model (the last dimension), one similarity per batch item and position": _along_positions,
        },
        agrees_with={"glassbox.analysis.residual.mean_cosine_similarity": residual.mean_cosine_similarity},
    ),
    Exercise(
        name="participation_ratio",
        module="ch08_residual",
        cases=_ratio_cases,
        mistakes={
            "centre the samples first (subtract their mean), or a constant offset counts as a direction": _uncentred,
            "λ are variances, the squares of the singular values": _singular_values_as_variances,
        },
        agrees_with={"glassbox.analysis.residual.participation_ratio": _library_ratio},
        rtol=1e-4,
    ),
    Exercise(
        name="top_activating_contexts",
        module="ch08_residual",
        cases=_context_cases,
        mistakes={
            "the context ends with the token the neuron fired on: tokens[b, p − before : p + 1], not one earlier": (
                _ctx_shifted
            ),
            "topk gives the largest by default: largest=False (or argmin) picks where the neuron is most silent": (
                _ctx_smallest
            ),
            'read the layer you are given: f"blocks.{layer}.mlp.hook_post", not layer 0': _ctx_layer_0,
            "a neuron's activation is after the nonlinearity (mlp.hook_post), not before it (mlp.hook_pre)": _ctx_pre,
            "pad with −1 where a context starts before its sequence: 0 is a real token": _ctx_zero_padding,
            "largest first: keep topk's order (or sort the activations descending), not the order in the text": (
                _ctx_unsorted
            ),
            "rank every (sequence, position), not only each sequence's best: one sequence can hold several": (
                _ctx_per_sequence
            ),
        },
        agrees_with={"glassbox.analysis.neurons (top_activations, then context_tokens)": _ctx_library},
    ),
]
