"""Chapter 3, "Components": reference solutions — the library's own components (glassbox/components.py)."""

from glassbox.components import MLP, Attention, Block, Embed, LayerNorm, PosEmbed, Unembed

__all__ = ["Embed", "PosEmbed", "LayerNorm", "Attention", "MLP", "Block", "Unembed"]
