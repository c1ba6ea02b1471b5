"""Chapter 4, "The full model": reference solutions."""

from __future__ import annotations

from glassbox.config import TransformerConfig
from glassbox.model import DemoTransformer, next_token_loss  # one source: the library's are the clear versions

__all__ = ["count_parameters", "next_token_loss", "DemoTransformer"]


def count_parameters(cfg: TransformerConfig) -> int:
    """The number of trainable parameters of `Transformer(cfg)`, from the config alone.

    Count the embeddings, every block's attention (weights and biases), its MLP (`d_mlp` wide, which need not be
    4 · d_model) unless `attn_only`, the LayerNorms (two per block — one in an attention-only block — and a final
    one, unless `normalization_type` is None) and the unembedding. Positions are parameters only when
    `positional_embedding` is "learned"; "sinusoidal" and "none" add none.
    """
    M, H, D, V = cfg.d_model, cfg.n_heads, cfg.d_head, cfg.d_vocab
    embed = V * M + (cfg.n_ctx * M if cfg.positional_embedding == "learned" else 0)
    attention = 3 * (H * M * D + H * D) + H * D * M + M
    mlp = 0 if cfg.attn_only else M * cfg.d_mlp + cfg.d_mlp + cfg.d_mlp * M + M
    layer_norm = 2 * M if cfg.normalization_type == "LN" else 0
    norms_per_block = 1 if cfg.attn_only else 2
    block = attention + mlp + norms_per_block * layer_norm
    return embed + cfg.n_layers * block + layer_norm + M * V + V
