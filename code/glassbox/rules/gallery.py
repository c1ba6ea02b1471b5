"""Part III's gallery: each rule paired with the glass-box model that learns it, and the training recipes
(chapters 6 and 7).

`Setup` fixes a rule's model (a 2-D residual stream and one head for most rules); `GALLERY` names the entries of
chapter 7, `MORE_GALLERY` those of chapter 7b (`SETUPS`: both); `SEED_RECIPE` is the seed project's training recipe,
`FAST_RECIPE` the book's; `pytorch_default_init` starts the tiny models as PyTorch's own layers would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from glassbox.components import LayerNorm
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from glassbox.runtime import training_seed
from glassbox.train import TrainConfig


@dataclass(frozen=True)
class Recipe:
    """How to train: batch size and the `TrainConfig` (steps, learning rate, evaluation and checkpoint periods)."""

    batch_size: int
    train: TrainConfig


# The seed project's recipe, kept as it was: AdamW (PyTorch's defaults, so weight decay on every parameter, not the
# library's matrices-only default), lr 1e-3, batch 8, 20,000 steps, no gradient clipping, evaluated every 200 steps,
# checkpointed every 100.
SEED_RECIPE = Recipe(
    8,
    TrainConfig(
        steps=20_000,
        lr=1e-3,
        betas=(0.9, 0.999),
        weight_decay=0.01,
        decay="all",
        grad_clip=None,
        eval_every=200,
        eval_batches=1,
        checkpoint_every=100,
    ),
)
# The book's recipe: the same optimiser (decay on every parameter too, so that chapter 6 compares the two recipes in
# batch, rate and schedule alone) with batches of 128, a learning rate thirty times larger that decays to zero
# along a cosine, 4,000 steps. A larger batch gives a less noisy gradient, so each step can go further, and on a CPU
# a step of a model this small costs about the same at batch 8 or 128; the decay lets the last steps settle the
# attention exactly. 2,000 steps learned the rule from some initial weights and not from others (GLASSBOX_SEED=1
# stalled at 95 %); 4,000 learned it from every start we tried. See chapter 6 and benchmarks/rules_training.py.
FAST_RECIPE = Recipe(
    128,
    TrainConfig(
        steps=4_000,
        lr=3e-2,
        betas=(0.9, 0.999),
        weight_decay=0.01,
        decay="all",
        grad_clip=None,
        eval_every=100,
        eval_batches=1,
        checkpoint_every=50,
        lr_schedule="cosine",
    ),
)


@dataclass(frozen=True)
class Setup:
    """A rule with the model that learns it: the gallery of chapter 7 is a list of these."""

    rule: str
    d_model: int = 2
    n_ctx: int = 8
    d_mlp: int = 32
    use_residual: bool = True
    n_sequences: int = 2000
    title: str = ""
    n_heads: int = 1  # heads of d_model // n_heads each, written side by side into the stream (no W_O)

    def model_config(self, d_vocab: int, seed: int = 0) -> TransformerConfig:
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads})")
        return TransformerConfig(
            d_model=self.d_model,
            n_layers=1,
            n_heads=self.n_heads,
            d_head=self.d_model // self.n_heads,
            d_mlp=self.d_mlp,
            d_vocab=d_vocab,
            n_ctx=self.n_ctx,
            act_fn="relu",
            normalization_type=None,
            attn_bias=False,
            attn_out_proj=False,
            use_residual=self.use_residual,
            seed=seed,
        )


def fan_in(model: nn.Module, name: str) -> int:
    """How many inputs each output unit of weight `name` sums over, read from the shapes (our layouts):
    `[d_in, d_out]` matrices read d_in; per-head `[head_index, d_in, d_out]` read d_in (heads are separate maps),
    except W_O, whose heads' outputs add up, so it reads head_index * d_head; a bias reads what its weight reads."""
    module_name, _, kind = name.rpartition(".")
    if kind.startswith("b_"):
        kind = "W_" + kind[2:]
    weight = model.get_submodule(module_name).get_parameter(kind) if module_name else model.get_parameter(kind)
    if weight.ndim == 3 and kind == "W_O":
        return weight.shape[0] * weight.shape[1]
    return weight.shape[-2]


@torch.no_grad()
def pytorch_default_init(model: Transformer, seed: int = 0) -> Transformer:
    """Re-draw `model`'s weights as PyTorch's own layers would (the seed project's models were built from them):
    embeddings ~ N(0, 1) as `nn.Embedding`, LayerNorm weight 1 and bias 0 as `nn.LayerNorm`, every other weight and
    bias ~ U(-1/√fan_in, 1/√fan_in) as `nn.Linear`, with the fan-in read from the shapes (`fan_in`).

    GPT-2's N(0, 0.02²) suits wide models; in a 2-D model it leaves every dot product near zero and training
    stalls for thousands of steps, so the tiny models start from PyTorch's defaults.
    """
    generator = torch.Generator().manual_seed(training_seed(seed))
    for name, param in model.named_parameters():
        kind = name.split(".")[-1]
        if kind in ("W_E", "W_pos"):
            param.copy_(torch.randn(param.shape, generator=generator))
        elif isinstance(model.get_submodule(name.rpartition(".")[0]), LayerNorm):
            param.fill_(1.0 if kind == "w" else 0.0)
        else:
            bound = fan_in(model, name) ** -0.5
            param.copy_((torch.rand(param.shape, generator=generator) * 2 - 1) * bound)
    return model


# Chapter 7's recipe: the book's steps and schedule with batches of 64 (ten rules must train in one chapter)
GALLERY_RECIPE = Recipe(64, replace(FAST_RECIPE.train, steps=2_000, lr=2e-2, eval_every=500, checkpoint_every=None))

GALLERY: dict[str, Setup] = {
    "plus_last_even": Setup("plus_last_even"),
    "lucky7": Setup("lucky7"),
    "lucky7_no_residual": Setup("lucky7", use_residual=False, title="lucky7 without residual"),
    "step_back": Setup("step_back", d_model=4, n_ctx=16),  # the seed: 8,000 sequences (chapter 7 has no time)
    "plus_max_of_two": Setup("plus_max_of_two"),
    "plus_means_even": Setup("plus_means_even"),
    "copy_modulo": Setup("copy_modulo"),
    "successor": Setup("successor"),
    "conditional_transform": Setup("conditional_transform"),
    "lookup_permutation": Setup("lookup_permutation"),
}

# The seed project's seven other configs (chapter 7b), with its model and data settings: d_mlp is 16 × d_model as in
# its models. Three of its configs ask for heads wider than the stream (head_size 16 with n_embd 3, 128 with 2, two
# of 32 with 32), which its model cannot add back into the residual stream; those heads are d_model / n_heads wide.
# parity_based's stream is 4 wide, not 32: two heads of 2 learn it, and a 32-wide model (33,000 parameters) takes
# longer to train than the rest of chapter 7b together.
MORE_GALLERY: dict[str, Setup] = {
    "odd_even_index": Setup("odd_even_index"),
    "even_to_odd_transition": Setup("even_to_odd_transition", d_model=1, d_mlp=16, n_sequences=1500),
    "even_repeat_last_odd": Setup("even_repeat_last_odd", d_model=12, n_heads=2, n_ctx=12, d_mlp=192, n_sequences=1500),
    "even_abs_diff": Setup("even_abs_diff", d_model=12, n_heads=2, n_ctx=12, d_mlp=192, n_sequences=1500),
    "even_greater_than_10": Setup("even_greater_than_10", d_model=3, n_ctx=10, d_mlp=48, n_sequences=1500),
    "parity_based": Setup("parity_based", d_model=4, n_heads=2, n_ctx=16, d_mlp=64, n_sequences=1500),
    "two_token_parity": Setup("two_token_parity", n_ctx=10, n_sequences=5000),
}
# Chapter 7b's recipe: chapter 7's with half the steps (seven rules, some with wider models, must train in one page)
MORE_RECIPE = GALLERY_RECIPE  # 1,000 steps left two_token_parity at chance from some initial weights
SETUPS: dict[str, Setup] = GALLERY | MORE_GALLERY  # every entry the command line and `get_setup` know


def get_setup(name: str) -> Setup:
    """The gallery entry called `name` (chapter 7's or 7b's); an unknown name is an error that lists the known ones."""
    if name not in SETUPS:
        raise ValueError(f"unknown rule {name!r}; known rules: {', '.join(SETUPS)}")
    return SETUPS[name]
