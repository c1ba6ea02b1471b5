"""The parts of a transformer, in build order (chapter 3): `Embed, PosEmbed, SinusoidalPosEmbed, LayerNorm,
Attention, MLP, Block, Unembed`.

Weights have TransformerLens names and layouts (per-head `W_Q [n_heads, d_model, d_head]`, ...) and every
activation passes through a `HookPoint` with TransformerLens's name, so TransformerLens tools and our model speak
the same language.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import einops
import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor, nn
from transformer_lens.hook_points import HookPoint

from glassbox.config import TransformerConfig


def gelu_new(x: Float[Tensor, "..."]) -> Float[Tensor, "..."]:
    """GPT-2's tanh approximation of GELU (TransformerLens's `gelu_new`).

    0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), computed by PyTorch's fused kernel: one pass forward and one
    backward instead of about eight of each (the largest single cost of a small model's training step on CPU).
    """
    return F.gelu(x, approximate="tanh")


FAST_PATHS = True  # False: every component always takes its hooked path (a public switch; see `fast_paths`)

_MODULE_REGISTRIES = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
_GLOBAL_REGISTRIES = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
                      "_global_backward_pre_hooks")  # fmt: skip


def is_hooked(*hook_points: HookPoint) -> bool:
    """Whether any hook can see one of `hook_points`: one attached to them (`add_hook`, `run_with_cache`, `hooks()`,
    or PyTorch's `register_forward_hook`), or a global PyTorch hook on every module
    (`torch.nn.modules.module.register_module_forward_hook`). Components use it to skip materialising activations
    that nothing reads or patches.

    The choice is made for the reader on purpose: a switch a reader had to remember would let a hook on
    `hook_pattern` silently never fire. PyTorch keeps hooks in private registries; should a PyTorch release rename
    one, this answers True (the hooked path: slower, never wrong) rather than miss a hook, and a test names the
    rename. `FAST_PATHS = False` (or `with fast_paths(False):`) turns the fast paths off altogether."""
    if not FAST_PATHS:
        return True
    global_registries = [getattr(torch.nn.modules.module, name, None) for name in _GLOBAL_REGISTRIES]
    if any(registry is None or registry for registry in global_registries):
        return True
    return any(getattr(hp, name, True) for hp in hook_points for name in _MODULE_REGISTRIES)


@contextlib.contextmanager
def fast_paths(enabled: bool) -> Iterator[None]:
    """`with fast_paths(False):` runs every component on its hooked path (the one the hooks describe), e.g. to time
    the difference or to rule the fused kernels out while debugging; the previous setting is restored after."""
    global FAST_PATHS
    previous, FAST_PATHS = FAST_PATHS, bool(enabled)
    try:
        yield
    finally:
        FAST_PATHS = previous


def weight(cfg: TransformerConfig, *shape: int) -> nn.Parameter:
    """A weight matrix drawn from N(0, init_range²), GPT-2's initialisation (from torch's global generator: seed it
    with `torch.manual_seed` for a reproducible component; `Transformer` re-draws all weights from `cfg.seed`)."""
    return nn.Parameter(torch.randn(*shape) * cfg.init_range)


ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu, "gelu_new": gelu_new}


class Embed(nn.Module):
    """Token embedding: row `t` of `W_E` is the vector of token `t`."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.W_E = weight(cfg, cfg.d_vocab, cfg.d_model)

    def forward(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_model"]:
        """Look up the embedding of every token."""
        return F.embedding(tokens, self.W_E)  # = W_E[tokens], with a backward pass that is the same on every run


class PosEmbed(nn.Module):
    """Learned position embedding (GPT-2): row `p` of `W_pos` is added at position `p`."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.W_pos = weight(cfg, cfg.n_ctx, cfg.d_model)

    def forward(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_model"]:
        """The embedding of each position 0 … pos-1, the same for every sequence of the batch."""
        batch, pos = tokens.shape
        return einops.repeat(self.W_pos[:pos], "pos d_model -> batch pos d_model", batch=batch)


class SinusoidalPosEmbed(nn.Module):
    """Fixed sine/cosine position encodings ("Attention Is All You Need"), stored as a buffer named `W_pos`."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        position = torch.arange(cfg.n_ctx, dtype=torch.float32)[:, None]
        frequency = 10000.0 ** (-torch.arange(0, cfg.d_model, 2, dtype=torch.float32) / cfg.d_model)
        encoding = torch.zeros(cfg.n_ctx, cfg.d_model)
        encoding[:, 0::2] = torch.sin(position * frequency)
        encoding[:, 1::2] = torch.cos(position * frequency)
        self.register_buffer("W_pos", encoding)

    forward = PosEmbed.forward  # the same lookup; only where W_pos comes from differs


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
        if not is_hooked(self.hook_scale, self.hook_normalized):
            # nothing reads or patches the scale: PyTorch's fused kernel computes the same function, faster
            return F.layer_norm(x, self.w.shape, self.w, self.b, self.eps)
        x = x - x.mean(dim=-1, keepdim=True)
        scale = self.hook_scale((x.pow(2).mean(dim=-1, keepdim=True) + self.eps).sqrt())
        return self.hook_normalized(x / scale) * self.w + self.b


class Attention(nn.Module):
    """Causal multi-head self-attention; every head reads and writes the residual stream on its own."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        H, M, D = cfg.n_heads, cfg.d_model, cfg.d_head
        self.W_Q = weight(cfg, H, M, D)
        self.W_K = weight(cfg, H, M, D)
        self.W_V = weight(cfg, H, M, D)
        if cfg.attn_out_proj:
            self.W_O = weight(cfg, H, D, M)
        else:  # the tiny models of Part III: head h's z lands on dimensions h·d_head … (h+1)·d_head - 1
            self.register_buffer("W_O", torch.eye(M).reshape(H, D, M))
        for name, shape in (("b_Q", (H, D)), ("b_K", (H, D)), ("b_V", (H, D)), ("b_O", (M,))):
            if cfg.attn_bias:
                setattr(self, name, nn.Parameter(torch.zeros(shape)))
            else:  # fixed zeros: not trained, not counted, but every formula and view still reads them
                self.register_buffer(name, torch.zeros(shape))
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
        """Set the score of every key after its query to -inf, so the softmax gives it no weight. The queries are the
        last n_query positions of the n_key (all of them without a cache): query i sits at n_key - n_query + i."""
        n_query, n_key = scores.shape[-2:]
        future = torch.ones(n_query, n_key, dtype=torch.bool, device=scores.device).triu(n_key - n_query + 1)
        return scores.masked_fill(future, float("-inf"))

    def project(
        self,
        x: Float[Tensor, "batch pos d_model"],
        W: Float[Tensor, "head_index d_model d_head"],
        b: Float[Tensor, "head_index d_head"],
    ) -> Float[Tensor, "batch pos head_index d_head"]:
        """Every head's projection of every position's vector (queries, keys or values)."""
        # the einsum "batch pos d_model, head_index d_model d_head -> batch pos head_index d_head", written as one
        # matrix product with every head's columns side by side (half the time of an einsum call for small models)
        W_all = einops.rearrange(W, "head_index d_model d_head -> d_model (head_index d_head)")
        return (
            einops.rearrange(
                x @ W_all, "batch pos (head_index d_head) -> batch pos head_index d_head", head_index=W.shape[0]
            )
            + b
        )

    def forward(self, x: Float[Tensor, "batch pos d_model"], cache: Any = None) -> Float[Tensor, "batch pos d_model"]:
        """Project to q, k, v; score, mask, softmax; weigh the values; map every head's z back with W_O and sum.

        q, k, v, the masked scores, the pattern and z pass through `hook_q`, `hook_k`, `hook_v`,
        `hook_attn_scores`, `hook_pattern` and `hook_z`. With a key-value `cache` (this layer's entry of a
        `glassbox.sampling.KVCache`, as TransformerLens passes a past_kv_cache_entry), `x` holds only the new
        positions: `cache.append(k, v)` keeps their keys and values after the earlier ones and returns them all, and
        the new queries attend to every one up to their own position.
        """
        q = self.hook_q(self.project(x, self.W_Q, self.b_Q))
        k = self.hook_k(self.project(x, self.W_K, self.b_K))
        v = self.hook_v(self.project(x, self.W_V, self.b_V))
        if cache is not None:
            k, v = cache.append(k, v)  # [batch, cached + new positions, head_index, d_head]
        if is_hooked(self.hook_attn_scores, self.hook_pattern):
            scores = self.hook_attn_scores(self.apply_causal_mask(self.attention_scores(q, k)))
            pattern = self.hook_pattern(scores.softmax(dim=-1))
            z = einops.einsum(
                pattern,
                v,
                "batch head_index query_pos key_pos, batch key_pos head_index d_head"
                " -> batch query_pos head_index d_head",
            )
        else:  # nothing reads or patches the scores or the pattern: one fused kernel computes the same z, faster
            n_query, n_key = q.shape[1], k.shape[1]
            # is_causal aligns the mask to the top left: right only when the queries are all the positions
            mask = (
                {"is_causal": True}
                if n_query == n_key
                else {"attn_mask": torch.ones(n_query, n_key, dtype=torch.bool, device=q.device).tril(n_key - n_query)}
            )
            z = F.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), scale=1 / self.attn_scale, **mask
            ).transpose(1, 2)
        z = self.hook_z(z)
        # "batch pos head_index d_head, head_index d_head d_model -> batch pos d_model": concatenate the heads' z and
        # multiply once by W_O stacked over heads, which sums every head's contribution
        z_all = einops.rearrange(z, "batch pos head_index d_head -> batch pos (head_index d_head)")
        return z_all @ einops.rearrange(self.W_O, "head_index d_head d_model -> (head_index d_head) d_model") + self.b_O


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
        pre = self.hook_pre(x @ self.W_in + self.b_in)
        post = self.hook_post(self.act_fn(pre))
        return post @ self.W_out + self.b_out


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

    def forward(
        self, resid_pre: Float[Tensor, "batch pos d_model"], cache: Any = None
    ) -> Float[Tensor, "batch pos d_model"]:
        """resid_mid = resid_pre + attn(ln1(resid_pre)); resid_post = resid_mid + mlp(ln2(resid_mid)).

        Without the residual (use_residual=False) each sublayer's output replaces the stream; attention-only
        blocks stop after attention. Every intermediate passes through its hook. `cache` (this layer's key-value
        cache entry) goes to the attention: see `Attention.forward`.
        """
        resid_pre = self.hook_resid_pre(resid_pre)
        attn_out = self.hook_attn_out(self.attn(self.ln1(resid_pre), cache))
        if self.cfg.attn_only:
            return self.hook_resid_post(resid_pre + attn_out if self.cfg.use_residual else attn_out)
        resid_mid = self.hook_resid_mid(resid_pre + attn_out if self.cfg.use_residual else attn_out)
        mlp_out = self.hook_mlp_out(self.mlp(self.ln2(resid_mid)))
        return self.hook_resid_post(resid_mid + mlp_out if self.cfg.use_residual else mlp_out)


class Unembed(nn.Module):
    """Map the final residual stream to one logit per vocabulary token."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.W_U = weight(cfg, cfg.d_model, cfg.d_vocab)
        self.b_U = nn.Parameter(torch.zeros(cfg.d_vocab))

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_vocab"]:
        """One logit per vocabulary token at every position."""
        return x @ self.W_U + self.b_U
