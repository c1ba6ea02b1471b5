"""Chapter 3, "Components": reference solutions, written to be read.

Each class has exactly its stub's `__init__` and computes in named steps, with einsum strings that name every
dimension and every activation passed through its hook. The library's own components (glassbox/components.py)
compute the same functions with fast paths (fused LayerNorm and attention kernels when no hook is attached) and the
extra flags of Part III; tests/test_twins.py holds the two to the same numbers on every config variant.
"""

from __future__ import annotations

import math

import einops
import torch
from glassbox.components import ACTIVATIONS, weight  # activations by name; GPT-2 init
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
        return self.W_E[tokens]  # indexing [d_vocab, d_model] by [batch, pos] gives [batch, pos, d_model]


class PosEmbed(nn.Module):
    """Learned position embedding (GPT-2): row `p` of `W_pos` is added at position `p`."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.W_pos = weight(cfg, cfg.n_ctx, cfg.d_model)

    def forward(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_model"]:
        """The embedding of each position 0 … pos-1, the same for every sequence of the batch."""
        batch, pos = tokens.shape
        return einops.repeat(self.W_pos[:pos], "pos d_model -> batch pos d_model", batch=batch)


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
        centred = x - x.mean(dim=-1, keepdim=True)
        variance = centred.pow(2).mean(dim=-1, keepdim=True)  # biased: divide by d_model
        scale = self.hook_scale((variance + self.eps).sqrt())  # [batch, pos, 1]
        normalized = self.hook_normalized(centred / scale)
        return normalized * self.w + self.b


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
        scores = einops.einsum(
            q,
            k,
            "batch query_pos head_index d_head, batch key_pos head_index d_head -> batch head_index query_pos key_pos",
        )
        return scores / self.attn_scale

    def apply_causal_mask(
        self, scores: Float[Tensor, "batch head_index query_pos key_pos"]
    ) -> Float[Tensor, "batch head_index query_pos key_pos"]:
        """Set the score of every key after its query to -inf, so the softmax gives it no weight."""
        n_query, n_key = scores.shape[-2:]
        key_after_query = torch.ones(n_query, n_key, dtype=torch.bool, device=scores.device).triu(diagonal=1)
        return scores.masked_fill(key_after_query, float("-inf"))  # a new tensor: the input is left as it was

    def project(
        self,
        x: Float[Tensor, "batch pos d_model"],
        W: Float[Tensor, "head_index d_model d_head"],
        b: Float[Tensor, "head_index d_head"],
    ) -> Float[Tensor, "batch pos head_index d_head"]:
        """Every head's projection of every position's vector (queries, keys or values)."""
        projected = einops.einsum(x, W, "batch pos d_model, head_index d_model d_head -> batch pos head_index d_head")
        return projected + b

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        """Project to q, k, v; score, mask, softmax; weigh the values; map every head's z back with W_O and sum.

        q, k, v, the masked scores, the pattern and z pass through `hook_q`, `hook_k`, `hook_v`,
        `hook_attn_scores`, `hook_pattern` and `hook_z`.
        """
        # 1. queries, keys and values, per head
        q = self.hook_q(self.project(x, self.W_Q, self.b_Q))
        k = self.hook_k(self.project(x, self.W_K, self.b_K))
        v = self.hook_v(self.project(x, self.W_V, self.b_V))
        # 2. who attends to whom: scaled scores, the causal mask, a softmax over keys
        scores = self.hook_attn_scores(self.apply_causal_mask(self.attention_scores(q, k)))
        pattern = self.hook_pattern(scores.softmax(dim=-1))
        # 3. each query's weighted average of the values
        z = self.hook_z(
            einops.einsum(
                pattern,
                v,
                "batch head_index query_pos key_pos, batch key_pos head_index d_head"
                " -> batch query_pos head_index d_head",
            )
        )
        # 4. every head writes to the residual stream through its W_O; the heads' writes add up
        out = einops.einsum(z, self.W_O, "batch pos head_index d_head, head_index d_head d_model -> batch pos d_model")
        return out + self.b_O


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
        pre = self.hook_pre(
            einops.einsum(x, self.W_in, "batch pos d_model, d_model d_mlp -> batch pos d_mlp") + self.b_in
        )
        post = self.hook_post(self.act_fn(pre))
        return einops.einsum(post, self.W_out, "batch pos d_mlp, d_mlp d_model -> batch pos d_model") + self.b_out


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
        resid_pre = self.hook_resid_pre(resid_pre)
        # communication: attention reads a normalised copy of the stream and adds what it found
        attn_out = self.hook_attn_out(self.attn(self.ln1(resid_pre)))
        resid_mid = resid_pre + attn_out if self.cfg.use_residual else attn_out
        if self.cfg.attn_only:
            return self.hook_resid_post(resid_mid)
        resid_mid = self.hook_resid_mid(resid_mid)
        # computation: the MLP works on each position's normalised vector and adds its result
        mlp_out = self.hook_mlp_out(self.mlp(self.ln2(resid_mid)))
        resid_post = resid_mid + mlp_out if self.cfg.use_residual else mlp_out
        return self.hook_resid_post(resid_post)


class Unembed(nn.Module):
    """Map the final residual stream to one logit per vocabulary token."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.W_U = weight(cfg, cfg.d_model, cfg.d_vocab)
        self.b_U = nn.Parameter(torch.zeros(cfg.d_vocab))

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_vocab"]:
        """One logit per vocabulary token at every position."""
        return einops.einsum(x, self.W_U, "batch pos d_model, d_model d_vocab -> batch pos d_vocab") + self.b_U
