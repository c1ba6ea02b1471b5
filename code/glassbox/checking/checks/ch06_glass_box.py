"""Checks for chapter 6, "A transformer you can see": the map from a point of the 2-D residual stream (after
attention) to P(next token), against the reference, a trained-shape model's own MLP and unembedding, and the usual
mistakes."""

import torch
import torch.nn.functional as F

from glassbox.checking.diagnose import SOFTMAX_HINT
from glassbox.checking.judge import Case, Exercise


def _weights(generator: torch.Generator, d_model: int = 2, d_mlp: int = 32, d_vocab: int = 12):
    return (
        torch.randn(d_model, d_mlp, generator=generator),
        torch.randn(d_mlp, generator=generator),
        0.3 * torch.randn(d_mlp, d_model, generator=generator),
        torch.randn(d_model, generator=generator),
        torch.randn(d_model, d_vocab, generator=generator),
        torch.randn(d_vocab, generator=generator),
    )


def _cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)
    weights = _weights(generator)
    grid = torch.stack(torch.meshgrid(torch.linspace(-3, 3, 5), torch.linspace(-3, 3, 5), indexing="xy"), -1)
    return [
        Case("one point of the plane", (torch.tensor([0.5, -1.0]), *weights)),
        Case(
            "a batch of points, [96, 2] (every token at every position)",
            (3 * torch.randn(96, 2, generator=generator), *weights),
        ),
        Case("a grid of points, [5, 5, 2] (the landscape's plane)", (grid, *weights)),
        Case(
            "a wider stream (d_model 4, d_vocab 11)",
            (torch.randn(7, 4, generator=generator), *_weights(generator, 4, 16, 11)),
        ),
    ]


def _is_distribution(probs, args) -> str | None:
    if not torch.allclose(probs.sum(-1), torch.ones(())):
        return "each output must be a distribution over the vocabulary: softmax over the last dimension"
    return None


def _through_modules(x, W_in, b_in, W_out, b_out, W_U, b_U):
    """The same map built from torch.nn layers."""
    mlp = torch.nn.Sequential(torch.nn.Linear(*W_in.shape), torch.nn.ReLU(), torch.nn.Linear(*W_out.shape))
    unembed = torch.nn.Linear(*W_U.shape)
    with torch.no_grad():
        for layer, W, b in ((mlp[0], W_in, b_in), (mlp[2], W_out, b_out), (unembed, W_U, b_U)):
            layer.weight.copy_(W.T)
            layer.bias.copy_(b)
        return unembed(x + mlp(x)).softmax(-1)


def _mlp_alone(x, W_in, b_in, W_out, b_out, W_U, b_U):
    return ((F.relu(x @ W_in + b_in) @ W_out + b_out) @ W_U + b_U).softmax(-1)


def _no_relu(x, W_in, b_in, W_out, b_out, W_U, b_U):
    return ((x + (x @ W_in + b_in) @ W_out + b_out) @ W_U + b_U).softmax(-1)


def _logits(x, W_in, b_in, W_out, b_out, W_U, b_U):
    return (x + F.relu(x @ W_in + b_in) @ W_out + b_out) @ W_U + b_U


EXERCISES = [
    Exercise(
        name="landscape_probs",
        non_finite_hint=SOFTMAX_HINT,
        module="ch06_glass_box",
        cases=_cases,
        mistakes={
            "the MLP's output is added to the stream (x + MLP(x)), not used alone": _mlp_alone,
            "the ReLU goes between the two MLP layers": _no_relu,
            "return probabilities (softmax), not logits": _logits,
        },
        properties=[_is_distribution],
        agrees_with={"torch.nn.Linear and ReLU layers holding the same weights": _through_modules},
    ),
]
