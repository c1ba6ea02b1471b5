"""Chapter 3, "Components": exercise stubs. Each `__init__` is written; fill in the methods that raise."""

from __future__ import annotations

import math

import einops
import torch
import torch.nn.functional as F
from glassbox.components import ACTIVATIONS, is_hooked, weight  # activations by name; hook use; GPT-2 init
from glassbox.config import TransformerConfig
from jaxtyping import Float, Int
from torch import Tensor, nn
from transformer_lens.hook_points import HookPoint

__all__ = ["Embed", "PosEmbed", "LayerNorm", "Attention", "MLP", "Block", "Unembed"]


class Embed(nn.Module):
    """Token embedding: row `t` of `W_E` is the vector of token `t`."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.W_E = weight(cfg, cfg.d_vocab, cfg.d_model)

    def forward(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_model"]:
        """Look up the embedding of every token."""
        raise NotImplementedError()


class PosEmbed(nn.Module):
    """Learned position embedding (GPT-2): row `p` of `W_pos` is added at position `p`."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.W_pos = weight(cfg, cfg.n_ctx, cfg.d_model)

    def forward(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_model"]:
        """The embedding of each position 0 … pos-1, the same for every sequence of the batch."""
        raise NotImplementedError()


class LayerNorm(nn.Module):
    """Centre and rescale each vector, then scale by `w` and shift by `b` (biased variance, eps inside the root)."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.eps = cfg.eps
        self.w = nn.Parameter(torch.ones(cfg.d_model))
        self.b = nn.Parameter(torch.zeros(cfg.d_model))
        self.hook_scale = HookPoint()  # [batch, pos, 1]
        self.hook_normalized = HookPoint()  # [batch, pos, d_model], before w and b (as in TransformerLens 4)

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        """Normalise over d_model; pass the scale through `hook_scale` and (x - mean) / scale through
        `hook_normalized` before applying w and b."""
        raise NotImplementedError()


class Attention(nn.Module):
    """Causal multi-head self-attention; every head reads and writes the residual stream on its own."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        H, M, D = cfg.n_heads, cfg.d_model, cfg.d_head
        self.W_Q = weight(cfg, H, M, D)
        self.W_K = weight(cfg, H, M, D)
        self.W_V = weight(cfg, H, M, D)
        self.W_O = weight(cfg, H, D, M)
        self.b_Q = nn.Parameter(torch.zeros(H, D))
        self.b_K = nn.Parameter(torch.zeros(H, D))
        self.b_V = nn.Parameter(torch.zeros(H, D))
        self.b_O = nn.Parameter(torch.zeros(M))
        self.attn_scale = math.sqrt(D)
        self.hook_q = HookPoint()  # [batch, pos, head_index, d_head]
        self.hook_k = HookPoint()  # [batch, pos, head_index, d_head]
        self.hook_v = HookPoint()  # [batch, pos, head_index, d_head]
        self.hook_attn_scores = HookPoint()  # [batch, head_index, query_pos, key_pos], after the mask
        self.hook_pattern = HookPoint()  # [batch, head_index, query_pos, key_pos]
        self.hook_z = HookPoint()  # [batch, pos, head_index, d_head]

    def attention_scores(
        self, q: Float[Tensor, "batch query_pos head_index d_head"], k: Float[Tensor, "batch key_pos head_index d_head"]
    ) -> Float[Tensor, "batch head_index query_pos key_pos"]:
        """Scaled dot products between every query and every key, per head."""
        raise NotImplementedError()

    def apply_causal_mask(
        self, scores: Float[Tensor, "batch head_index query_pos key_pos"]
    ) -> Float[Tensor, "batch head_index query_pos key_pos"]:
        """Set the score of every key after its query to -inf, so the softmax gives it no weight."""
        raise NotImplementedError()

    def project(
        self,
        x: Float[Tensor, "batch pos d_model"],
        W: Float[Tensor, "head_index d_model d_head"],
        b: Float[Tensor, "head_index d_head"],
    ) -> Float[Tensor, "batch pos head_index d_head"]:
        """Every head's projection of every position's vector (queries, keys or values)."""
        raise NotImplementedError()

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        """Project to q, k, v; score, mask, softmax; weigh the values; map every head's z back with W_O and sum.

        q, k, v, the masked scores, the pattern and z pass through `hook_q`, `hook_k`, `hook_v`,
        `hook_attn_scores`, `hook_pattern` and `hook_z`.
        """
        raise NotImplementedError()


class MLP(nn.Module):
    """Position-wise feed-forward network: d_model → d_mlp → activation → d_model."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.W_in = weight(cfg, cfg.d_model, cfg.d_mlp)
        self.b_in = nn.Parameter(torch.zeros(cfg.d_mlp))
        self.W_out = weight(cfg, cfg.d_mlp, cfg.d_model)
        self.b_out = nn.Parameter(torch.zeros(cfg.d_model))
        self.act_fn = ACTIVATIONS[cfg.act_fn]
        self.hook_pre = HookPoint()  # [batch, pos, d_mlp]
        self.hook_post = HookPoint()  # [batch, pos, d_mlp]

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        """W_in, the activation, W_out; the pre- and post-activation values pass through `hook_pre`, `hook_post`."""
        raise NotImplementedError()


class Block(nn.Module):
    """Transformer block: communication (attention) followed by computation (MLP), each added to the stream."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        norm = LayerNorm if cfg.normalization_type == "LN" else lambda cfg: nn.Identity()
        self.ln1 = norm(cfg)
        self.attn = Attention(cfg)
        if not cfg.attn_only:
            self.ln2 = norm(cfg)
            self.mlp = MLP(cfg)
        self.hook_resid_pre = HookPoint()  # [batch, pos, d_model]
        self.hook_attn_out = HookPoint()  # [batch, pos, d_model]
        self.hook_resid_mid = HookPoint()  # [batch, pos, d_model]
        self.hook_mlp_out = HookPoint()  # [batch, pos, d_model]
        self.hook_resid_post = HookPoint()  # [batch, pos, d_model]

    def forward(self, resid_pre: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        """resid_mid = resid_pre + attn(ln1(resid_pre)); resid_post = resid_mid + mlp(ln2(resid_mid)).

        Without the residual (use_residual=False) each sublayer's output replaces the stream; attention-only
        blocks stop after attention. Every intermediate passes through its hook.
        """
        raise NotImplementedError()


class Unembed(nn.Module):
    """Map the final residual stream to one logit per vocabulary token."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.W_U = weight(cfg, cfg.d_model, cfg.d_vocab)
        self.b_U = nn.Parameter(torch.zeros(cfg.d_vocab))

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_vocab"]:
        """One logit per vocabulary token at every position."""
        raise NotImplementedError()
