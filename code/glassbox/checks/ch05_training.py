"""Checks for chapter 5, "Training a small language model": the distribution sampled at a temperature."""

import torch

from glassbox.diagnose import SOFTMAX_HINT
from glassbox.judge import Case, Exercise


def _cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 7, 11, generator=generator)
    return [
        Case("temperature 1 (the model's own distribution)", (logits, 1.0)),
        Case("temperature 0.5 (sharper)", (logits, 0.5)),
        Case("temperature 2 (flatter)", (logits, 2.0)),
        Case("temperature 0 (greedy: one-hot on the argmax)", (logits, 0.0)),
        Case("temperature 0 with a tie (the first maximum wins)", (torch.tensor([[1.0, 3.0, 3.0, -2.0]]), 0.0)),
        Case("one vector, very large logits", (1e4 * torch.randn(50, generator=generator), 0.7)),
        Case("a negative temperature (a ValueError, as the docstring says)", (logits, -1.0)),
    ]


def _rows_sum_to_one(probs, args) -> str | None:
    if not torch.allclose(probs.sum(-1), torch.ones(())):
        return "each distribution must sum to 1 over the vocabulary (the last dimension)"
    return None


def _multiplied(logits, t):
    return torch.softmax(logits * t, -1)


def _softmax_over_dim0(logits, t):
    return torch.softmax(logits / t, 0) if t else logits


def _independent(logits, t):
    if t:
        return torch.softmax(logits / t, -1)
    return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).float()


EXERCISES = [
    Exercise(
        name="temperature_probs",
        non_finite_hint=SOFTMAX_HINT,
        module="ch05_training",
        cases=_cases,
        mistakes={
            "divide the logits by the temperature; multiplying sharpens where it should flatten": _multiplied,
            "the softmax runs over the vocabulary (the last dimension)": _softmax_over_dim0,
        },
        properties=[_rows_sum_to_one],
        agrees_with={"torch.softmax(logits / T) for T > 0, one-hot argmax for T = 0": _independent},
    ),
]
