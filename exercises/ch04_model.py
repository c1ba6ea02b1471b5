"""Chapter 4, "The full model": exercise stubs (fill in each body)."""

from __future__ import annotations

from typing import Any

from glassbox.config import TransformerConfig
from jaxtyping import Float, Int
from torch import Tensor, nn
from transformer_lens import HookedRootModule
from transformer_lens.hook_points import HookPoint

__all__ = ["count_parameters", "next_token_loss", "DemoTransformer"]


def count_parameters(cfg: TransformerConfig) -> int:
    """The number of trainable parameters of `Transformer(cfg)`, from the config alone.

    Count the embeddings, every block's attention (weights and biases), its MLP (`d_mlp` wide, which need not be
    4 · d_model) unless `attn_only`, the LayerNorms (two per block — one in an attention-only block — and a final
    one, unless `normalization_type` is None) and the unembedding. Positions are parameters only when
    `positional_embedding` is "learned"; "sinusoidal" and "none" add none.
    """
    raise NotImplementedError()


def next_token_loss(logits: Float[Tensor, "batch pos d_vocab"], tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, ""]:
    """Mean cross-entropy of predicting token t+1 from position t (TransformerLens's `lm_cross_entropy_loss`)."""
    raise NotImplementedError()


class DemoTransformer(HookedRootModule):
    """The full model assembled from chapter 3's parts, written to be read (chapter 4's exercise): embed the tokens
    and their positions, run the blocks, apply the final LayerNorm, unembed.

    `parts` is any module with chapter 3's `Embed, PosEmbed, LayerNorm, Block, Unembed` — yours
    (`exercises.ch03_components`, once filled in), the book's clear solutions, or by default the library's. The
    parameter and hook names are TransformerLens's, so the same weights load into this model, into `Transformer`
    and into a TransformerLens bridge, and give the same logits (tests/test_twins.py pins this model to
    `Transformer`).
    """

    def __init__(self, cfg: TransformerConfig, parts: Any = None):
        super().__init__()
        if cfg.positional_embedding != "learned":
            raise ValueError(f"DemoTransformer is GPT-2: learned positions only, not {cfg.positional_embedding!r}")
        if parts is None:
            from glassbox import components as parts
        self.cfg = cfg
        self.embed = parts.Embed(cfg)
        self.pos_embed = parts.PosEmbed(cfg)
        self.blocks = nn.ModuleList(parts.Block(cfg) for _ in range(cfg.n_layers))
        self.ln_final = parts.LayerNorm(cfg) if cfg.normalization_type == "LN" else nn.Identity()
        self.unembed = parts.Unembed(cfg)
        self.hook_embed = HookPoint()  # [batch, pos, d_model]
        self.hook_pos_embed = HookPoint()  # [batch, pos, d_model]
        self.setup()  # names every HookPoint after its place: "blocks.0.attn.hook_pattern", ...

    def forward(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_vocab"]:
        """Logits for the next token at every position; the embeddings pass through `hook_embed` and
        `hook_pos_embed`."""
        raise NotImplementedError()
