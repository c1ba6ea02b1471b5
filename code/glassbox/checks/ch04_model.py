"""Checks for chapter 4, "The full model": parameter counting and the next-token loss."""

import torch
from transformer_lens.utilities import lm_cross_entropy_loss

from glassbox.config import TransformerConfig
from glassbox.judge import Case, Exercise
from glassbox.model import Transformer


def _configs() -> list[Case]:
    base = TransformerConfig(d_model=64, n_layers=2, n_heads=4, d_vocab=100, n_ctx=32)
    variants = {
        "GPT-2-like": {},
        "attention-only": {"attn_only": True},
        "no LayerNorm": {"normalization_type": None},
        "sinusoidal positions (not parameters)": {"positional_embedding": "sinusoidal"},
        "d_head ≠ d_model / n_heads": {"n_heads": 3, "d_head": 5},
        "two-dimensional residual stream": {"d_model": 2, "n_heads": 1, "d_mlp": 32, "n_layers": 1},
        "no position embedding at all": {"positional_embedding": "none"},
        "d_mlp ≠ 4 · d_model": {"d_mlp": 48},
    }
    return [Case(name, (base.with_(**changes),)) for name, changes in variants.items()]


def _counted(cfg: TransformerConfig) -> int:
    return sum(p.numel() for p in Transformer(cfg).parameters())


def _loss_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)

    def case(name, batch, pos, vocab, scale=1.0):
        logits = scale * torch.randn(batch, pos, vocab, generator=generator)
        return Case(name, (logits, torch.randint(0, vocab, (batch, pos), generator=generator)))

    return [
        case("random batch", 3, 8, 20),
        case("batch of 1, two positions", 1, 2, 5),
        case("large logits", 2, 6, 50, scale=1e3),
    ]


def _no_shift(logits, tokens):
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), tokens.flatten())


def _sum_not_mean(logits, tokens):
    return torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten(), reduction="sum")


EXERCISES = [
    Exercise(
        name="count_parameters",
        module="ch04_model",
        cases=_configs,
        agrees_with={"the parameters of Transformer(cfg)": _counted},
    ),
    Exercise(
        name="next_token_loss",
        module="ch04_model",
        cases=_loss_cases,
        mistakes={
            "shift by one: logits at position t predict the token at t+1 (drop the last logit and the first "
            "token)": _no_shift,
            "take the mean over positions and batch, not the sum": _sum_not_mean,
        },
        agrees_with={"transformer_lens lm_cross_entropy_loss": lm_cross_entropy_loss},
        atol=1e-4,
    ),
]
