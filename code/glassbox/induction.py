"""Repeated random tokens and the two-layer attention-only model that learns induction on them (chapter 11).

A sequence of `half` uniformly random tokens followed by the same `half` tokens again: the first half cannot be
predicted (its loss stays at ln d_vocab), the second half can, but only by a model that looks back at what followed
the previous occurrence of the current token — an induction head. The model trains on `periodic_random_tokens`, a
random block repeated with a period that changes from sequence to sequence, so that no fixed look-back distance can
do the job: only matching content can. `induction_model()` trains the book's model once and keeps it on disk
(`glassbox.cache`), so chapters 9 and 10 can open it; chapter 11 trains it in front of you.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor

from glassbox.cache import cached_model, model_file, save_weights
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from glassbox.train import History, TrainConfig, train


def repeated_random_tokens(
    batch: int, half: int, d_vocab: int, generator: torch.Generator | None = None
) -> Int[Tensor, "batch two_half"]:
    """`batch` sequences of `half` uniformly random tokens, each followed by a copy of itself."""
    if batch <= 0 or half <= 0 or d_vocab <= 1:
        raise ValueError(f"batch and half must be positive and d_vocab > 1, got {batch}, {half}, {d_vocab}")
    first = torch.randint(0, d_vocab, (batch, half), generator=generator)
    return torch.cat([first, first], dim=1)


def periodic_random_tokens(
    batch: int, n_ctx: int, d_vocab: int, min_period: int, generator: torch.Generator | None = None
) -> Int[Tensor, "batch n_ctx"]:
    """`batch` sequences of length `n_ctx`, each a block of random tokens repeated over and over; each sequence's
    period (block length) is drawn uniformly from `min_period` … `n_ctx // 2`, so every block appears at least twice."""
    if not 1 <= min_period <= n_ctx // 2:
        raise ValueError(f"min_period must lie in 1 … n_ctx // 2 = {n_ctx // 2}, got {min_period}")
    tokens = torch.randint(0, d_vocab, (batch, n_ctx), generator=generator)
    period = torch.randint(min_period, n_ctx // 2 + 1, (batch, 1), generator=generator)
    return tokens.gather(1, torch.arange(n_ctx) % period)  # position j copies position j mod period


def per_token_loss(
    logits: Float[Tensor, "batch pos d_vocab"], tokens: Int[Tensor, "batch pos"]
) -> Float[Tensor, "batch pos_minus_1"]:
    """The loss of predicting token t+1 at each position t (not averaged)."""
    return F.cross_entropy(logits[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none")


def second_half_loss(logits: Float[Tensor, "batch pos d_vocab"], tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, ""]:
    """Mean next-token loss of the predictions made at positions half … 2·half − 2, whose targets (the tokens at
    half + 1 … 2·half − 1) are copies of tokens the model has already seen (exercise 11.2; chapter 10's metric)."""
    half = tokens.shape[-1] // 2
    return per_token_loss(logits, tokens)[:, half:].mean()


@dataclass(frozen=True)
class HalfLosses:
    """Mean next-token loss on the first half (unpredictable) and on the second half (copyable) of the sequences."""

    first: float
    second: float


def half_losses(logits: Float[Tensor, "batch pos d_vocab"], tokens: Int[Tensor, "batch pos"]) -> HalfLosses:
    """Split the loss of repeated sequences into its two halves.

    Predictions made at positions 0 … half−2 are of first-half tokens; those at half … 2·half−2 are of tokens that
    already appeared (the prediction at half−1, of the repeat's first token, belongs to neither).
    """
    if tokens.shape[-1] % 2 or tokens.shape[-1] < 4:
        raise ValueError(f"repeated sequences have an even length ≥ 4, got {tokens.shape[-1]}")
    half = tokens.shape[-1] // 2
    first = per_token_loss(logits, tokens)[:, : half - 1].mean()
    return HalfLosses(first=first.item(), second=second_half_loss(logits, tokens).item())


@dataclass(frozen=True)
class InductionRecipe:
    """Everything that decides the induction model's weights."""

    d_vocab: int = 64
    half: int = 16  # n_ctx = 2 * half: the evaluation sequences repeat a block of `half` tokens once
    min_period: int = 4
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2  # the induction circuit needs two heads in series; more layers are an experiment (ch11)
    batch_size: int = 64
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=600, lr=1e-2, eval_every=10, eval_batches=1, seed=0)
    )

    def model_config(self) -> TransformerConfig:
        return TransformerConfig(
            d_model=self.d_model,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            n_ctx=2 * self.half,
            d_vocab=self.d_vocab,
            attn_only=True,
            normalization_type=None,
            seed=0,
        )

    def batches(self, generator: torch.Generator) -> Int[Tensor, "batch pos"]:
        return periodic_random_tokens(self.batch_size, 2 * self.half, self.d_vocab, self.min_period, generator)


INDUCTION_RECIPE = InductionRecipe()


def train_induction_model(
    recipe: InductionRecipe = INDUCTION_RECIPE, evaluate: Callable[[Transformer], dict[str, float]] | None = None
) -> tuple[Transformer, History]:
    """Train the two-layer attention-only model on repeated random tokens; returns it and its history."""
    model = Transformer(recipe.model_config())
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)  # the same weights on every run (embedding gradients add up in order)
    try:
        history = train(model, recipe.batches, recipe.batches, cfg=recipe.train, evaluate=evaluate)
    finally:
        torch.use_deterministic_algorithms(deterministic)
    return model.eval(), history


def _path(recipe: InductionRecipe):
    return model_file("induction_model", repr(recipe.model_config()), repr(recipe), torch.__version__)


def remember(model: Transformer, recipe: InductionRecipe = INDUCTION_RECIPE) -> None:
    """Store the trained model so `induction_model()` can reuse it. The file is keyed on `recipe`, so the model must
    have the recipe's shape: another one (3 layers, other widths) is refused in one line rather than served later."""
    if model.cfg.with_(device="cpu") != recipe.model_config().with_(device="cpu"):
        raise ValueError(
            "remember(model, recipe): the model's config is not the recipe's; pass the recipe it was trained with "
            f"(model: {model.cfg.n_layers} layers, n_heads={model.cfg.n_heads}, d_model={model.cfg.d_model})"
        )
    save_weights(model, _path(recipe))


def induction_model(recipe: InductionRecipe = INDUCTION_RECIPE) -> Transformer:
    """The trained induction model, from the cache or trained now."""
    return cached_model(
        _path(recipe), lambda: Transformer(recipe.model_config()), lambda: train_induction_model(recipe)[0]
    )
