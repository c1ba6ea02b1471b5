"""Models the book trains once and later chapters reuse, cached on disk.

`char_model()` is chapter 5's character-level model of this book's text: the same data, configuration, training
recipe and seed as the chapter, with the weights of the evaluation where the validation loss was lowest. It is
trained on first use (about a minute on a laptop CPU) and then loaded from the cache. Chapter 5 stores the model it
trains with `remember`, so a book build trains it once.

The cache (`glassbox.cache`) lives in `$GLASSBOX_CACHE` (default `~/.cache/glassbox`). Each file name carries a hash
of everything that decides the weights (configurations, data, torch version), so a changed recipe never loads stale
weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import Tensor

from glassbox.cache import cache_dir, cached_model, model_file, save_weights  # noqa: F401 (cache_dir: re-exported)
from glassbox.config import TransformerConfig
from glassbox.data import CharTokenizer, book_text, random_windows, split
from glassbox.model import Transformer
from glassbox.runtime import BOOK_THREADS, threads
from glassbox.train import TrainConfig, load_checkpoint, train


@dataclass(frozen=True)
class CharRecipe:
    """Everything that decides chapter 5's weights."""

    n_ctx: int = 64
    batch_size: int = 32
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    act_fn: str = "gelu_new"
    train: TrainConfig = TrainConfig(steps=1500, lr=3e-3, eval_every=50, eval_batches=1, checkpoint_every=50, seed=0)

    def model_config(self, d_vocab: int) -> TransformerConfig:
        return TransformerConfig(
            d_model=self.d_model,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            n_ctx=self.n_ctx,
            d_vocab=d_vocab,
            act_fn=self.act_fn,
            normalization_type="LN",
            seed=0,
        )


CHAR_RECIPE = CharRecipe()


def char_data() -> tuple[CharTokenizer, Tensor, Tensor]:
    """Chapter 5's data: the tokenizer, and the training and validation token streams of the book's text."""
    text = book_text()
    tokenizer = CharTokenizer.from_text(text)
    train_tokens, val_tokens = split(tokenizer.encode(text), val_fraction=0.1)
    return tokenizer, train_tokens, val_tokens


def _file(cfg: TransformerConfig, train_cfg: TrainConfig, batch_size: int) -> Path:
    recipe = replace(train_cfg, progress=True, checkpoint_dir=None)  # neither changes the weights
    return model_file(
        "char_model",
        "char_model",
        repr(cfg.with_(device="cpu")),
        repr(recipe),
        str(batch_size),
        hashlib.sha256(book_text().encode()).hexdigest(),
        torch.__version__,
    )


def remember(model: Transformer, train_cfg: TrainConfig, batch_size: int) -> Path:
    """Store chapter 5's trained model so `char_model()` can reuse it; returns the file written."""
    return save_weights(model, _file(model.cfg, train_cfg, batch_size))


def char_model(recipe: CharRecipe = CHAR_RECIPE) -> tuple[Transformer, CharTokenizer]:
    """Chapter 5's trained character model (its best checkpoint) and its tokenizer, from the cache or trained now."""
    tokenizer, train_tokens, val_tokens = char_data()
    cfg = recipe.model_config(tokenizer.d_vocab)

    def trained() -> Transformer:
        model, n_ctx = Transformer(cfg), recipe.n_ctx
        val_windows = val_tokens[: len(val_tokens) // n_ctx * n_ctx].view(-1, n_ctx)
        with _deterministic():
            history = train(
                model,
                train_batches=lambda generator: random_windows(train_tokens, n_ctx, recipe.batch_size, generator),
                val_batches=lambda generator: val_windows,
                cfg=recipe.train,
            )
        best_step = history.eval_steps[int(torch.tensor(history.val_loss).argmin())]
        return load_checkpoint(model, history.checkpoints[best_step])

    path = _file(cfg, recipe.train, recipe.batch_size)
    # The book's thread count wherever the model is first needed (and recorded so beside it): chapter 5 trains it
    # after book_threads(), but a Colab runtime that opens chapter 9 or 14 first trains it here, on the runtime's
    # own count, and two threads sum in another order than one (the same kernels gave another model).
    with threads(BOOK_THREADS):
        return cached_model(path, lambda: Transformer(cfg), trained), tokenizer


class _deterministic:
    """Deterministic kernels while training, as chapter 5 runs; the previous setting is restored afterwards."""

    def __enter__(self) -> None:
        self.before = torch.are_deterministic_algorithms_enabled()
        torch.use_deterministic_algorithms(True)

    def __exit__(self, *exc) -> None:
        torch.use_deterministic_algorithms(self.before)
