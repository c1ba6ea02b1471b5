"""Counting a model's parameters, the one place the book does it (chapters 4 and 12): per component
("blocks.0.attn"), per kind of component (embedding, attention, MLP, LayerNorm, unembedding), and GPT-2 small's
shapes read off its published configuration without downloading a weight.

Everything works from TransformerLens parameter names, so our `Transformer`, a bridge's `tl_parameters()` and a
model built on the 'meta' device are counted the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from glassbox.config import TransformerConfig
from glassbox.model import Transformer

KINDS = ("embedding", "attention", "MLP", "LayerNorm", "unembedding")


def parameter_counts(named_parameters: Iterable[tuple[str, Tensor]]) -> dict[str, int]:
    """Parameter counts per component, from TransformerLens-style names: "embed", "pos_embed", "blocks.0.attn",
    "blocks.0.mlp", "blocks.0.ln1", …, "ln_final", "unembed" (works on `model.named_parameters()` and on a
    bridge's `tl_parameters().items()`)."""
    counts: dict[str, int] = {}
    for name, param in named_parameters:
        parts = name.split(".")
        component = ".".join(parts[:3]) if parts[0] == "blocks" else parts[0]
        counts[component] = counts.get(component, 0) + param.numel()
    return counts


def component_kind(name: str) -> str:
    """The kind of component a TransformerLens parameter name (or component, "blocks.0.attn") belongs to: one of
    `KINDS` (token and position embeddings are both "embedding")."""
    parts = name.split(".")
    if parts[0] in ("embed", "pos_embed"):
        return "embedding"
    if parts[0] == "unembed":
        return "unembedding"
    if parts[0] == "ln_final" or (parts[0] == "blocks" and parts[2].startswith("ln")):
        return "LayerNorm"
    if parts[0] == "blocks" and parts[2] in ("attn", "mlp"):
        return "attention" if parts[2] == "attn" else "MLP"
    raise ValueError(f"{name!r} is not a TransformerLens parameter name of a GPT-2-style model")


def counts_by_kind(named_shapes: dict[str, torch.Size]) -> dict[str, int]:
    """Parameters per kind of component, from TransformerLens names and shapes (works for models on 'meta')."""
    counts = dict.fromkeys(KINDS, 0)
    for name, shape in named_shapes.items():
        counts[component_kind(name)] += torch.Size(shape).numel()
    return counts


def gpt2_small_shapes() -> dict[str, torch.Size]:
    """Parameter names and shapes of GPT-2 small in TransformerLens's layout, read off its published configuration.

    Built on the 'meta' device: no weights are allocated or downloaded, so this works offline. `unembed.W_U` is
    listed although GPT-2 stores it as the transpose of `embed.W_E` (tied weights).
    """
    from transformers import GPT2Config

    hf = GPT2Config()  # the defaults are GPT-2 small's
    cfg = TransformerConfig(
        d_model=hf.n_embd,
        n_layers=hf.n_layer,
        n_heads=hf.n_head,
        d_vocab=hf.vocab_size,
        n_ctx=hf.n_positions,
        act_fn="gelu_new",
        seed=None,
        device="meta",
    )
    with torch.device("meta"):
        model = Transformer(cfg)
    return {name: p.shape for name, p in model.named_parameters()}
