"""`Transformer`: the full model of chapter 4, a TransformerLens `HookedRootModule`.

Same weight names, layouts and hook names as TransformerLens, so `run_with_cache` returns a real
`ActivationCache` (`cache["pattern", 0]`, `accumulated_resid`, `decompose_resid`, `logit_attrs`, ...), every
`transformer_lens.patching` function but the two direct-path ones runs on it (those need hooks before the Q/K/V
projections; `glassbox.analysis.interventions.path_patch` does that edge; tests/test_analysis_interventions.py),
and weights move to and from a TransformerLens bridge unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor, nn
from transformer_lens import ActivationCache, HookedRootModule
from transformer_lens.hook_points import HookPoint

from glassbox.components import Block, Embed, LayerNorm, PosEmbed, SinusoidalPosEmbed, Unembed
from glassbox.config import TransformerConfig
from glassbox.runtime import training_seed
from glassbox.tl_bridge import bridge_from_model, config_from_tl, load_tl_parameters


class Transformer(HookedRootModule):
    """A GPT-2-style decoder: embed → blocks → final LayerNorm → unembed, with a hook on every activation."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        # The components draw their weights from torch's global generator; a seeded model then re-draws them all from
        # its own (init_weights), so the first draw is thrown away and the global generator is left as the reader had
        # it: building a seeded model changes no random number drawn after it.
        with torch.random.fork_rng(devices=[], enabled=cfg.seed is not None):
            self.build_components(cfg)
        self.init_weights()
        self.to(cfg.device)
        self.setup()  # HookedRootModule: names every HookPoint after its place in the module tree

    def build_components(self, cfg: TransformerConfig) -> None:
        """Embeddings, blocks, the final LayerNorm and the unembedding, with TransformerLens's names."""
        self.embed = Embed(cfg)
        self.hook_embed = HookPoint()  # [batch, pos, d_model]
        if cfg.positional_embedding == "learned":
            self.pos_embed = PosEmbed(cfg)
        elif cfg.positional_embedding == "sinusoidal":
            self.pos_embed = SinusoidalPosEmbed(cfg)
        if cfg.positional_embedding != "none":
            self.hook_pos_embed = HookPoint()  # [batch, pos, d_model]
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_final = LayerNorm(cfg) if cfg.normalization_type == "LN" else nn.Identity()
        self.unembed = Unembed(cfg)

    def init_weights(self) -> None:
        """GPT-2's initialisation: weight matrices ~ N(0, init_range²), biases 0, LayerNorm scales 1."""
        generator = torch.Generator().manual_seed(training_seed(self.cfg.seed)) if self.cfg.seed is not None else None
        for name, param in self.named_parameters():
            if name.split(".")[-1].startswith("W_"):
                with torch.no_grad():
                    param.copy_(torch.randn(param.shape, generator=generator) * self.cfg.init_range)

    # ----------------------------------------------------------------------------------------------- forward
    def validate_tokens(self, tokens: Tensor | Any) -> Int[Tensor, "batch pos"]:
        """Turn `tokens` into a [batch, pos] tensor of ids, or raise one clear ValueError."""
        if not isinstance(tokens, Tensor):
            try:
                tokens = torch.as_tensor(tokens)
            except (TypeError, ValueError, RuntimeError):
                raise ValueError(
                    f"tokens must be integer ids (a tensor or a list of ints), got {type(tokens).__name__} "
                    f"{str(tokens)[:40]!r}; turn text into ids with a tokenizer first"
                ) from None
        if tokens.dtype.is_floating_point or tokens.dtype == torch.bool:
            raise ValueError(f"tokens must be integer ids, got a {tokens.dtype} tensor")
        if tokens.ndim == 1:
            tokens = tokens[None]
        if tokens.ndim != 2 or tokens.shape[-1] == 0:
            raise ValueError(f"tokens must have shape [batch, pos] with pos ≥ 1, got {tuple(tokens.shape)}")
        if tokens.shape[-1] > self.cfg.n_ctx:
            raise ValueError(f"sequence of length {tokens.shape[-1]} is longer than the context n_ctx={self.cfg.n_ctx}")
        low, high = int(tokens.min()), int(tokens.max())
        if low < 0 or high >= self.cfg.d_vocab:
            raise ValueError(f"token ids must lie in [0, {self.cfg.d_vocab - 1}], got ids from {low} to {high}")
        return tokens.to(self.embed.W_E.device).long()

    def embed_tokens(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_model"]:
        """The residual stream before the first block: token embedding plus position embedding."""
        residual = self.hook_embed(self.embed(tokens))
        if self.cfg.positional_embedding != "none":
            residual = residual + self.hook_pos_embed(self.pos_embed(tokens))
        return residual

    def forward(
        self,
        tokens: Tensor | Any,  # Any: whatever is not integer ids is the ValueError of validate_tokens
        return_type: str = "logits",
    ) -> Float[Tensor, "batch pos d_vocab"] | Float[Tensor, ""] | tuple[Tensor, Tensor]:
        """Logits for the next token at every position, the mean next-token loss, or both.

        `tokens` are integer ids, [batch, pos] or [pos]; anything else is a ValueError saying what is wrong.
        """
        if return_type not in ("logits", "loss", "both"):
            raise ValueError(f"return_type must be 'logits', 'loss' or 'both', got {return_type!r}")
        tokens = self.validate_tokens(tokens)
        residual = self.embed_tokens(tokens)
        for block in self.blocks:
            residual = block(residual)
        logits = self.unembed(self.ln_final(residual))
        if return_type == "logits":
            return logits
        loss = next_token_loss(logits, tokens)
        return loss if return_type == "loss" else (logits, loss)

    def run_with_cache(self, *args: Any, **kwargs: Any) -> tuple[Any, ActivationCache]:
        """Run the model and keep every hooked activation, as a TransformerLens `ActivationCache`."""
        output, cache = super().run_with_cache(*args, **kwargs)
        return output, cache if isinstance(cache, ActivationCache) else ActivationCache(cache, self)

    @torch.no_grad()
    def generate(
        self,
        tokens: Tensor,
        max_new_tokens: int,
        temperature: float = 0.0,
        seed: int | None = 0,
    ) -> Int[Tensor, "batch new_pos"]:
        """Extend `tokens` ([batch, pos] or [pos] ids) one token at a time: greedy at temperature 0, sampled
        (seeded) above it.

        Only the last `n_ctx` tokens are fed back, so the output may be longer than the context.
        """
        from glassbox.sampling import generate  # chapter 5b: top-k, top-p, penalties and the KV cache live there

        if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be a whole number ≥ 0, got {max_new_tokens!r}")

        return generate(self, self.validate_tokens(tokens), max_new_tokens, temperature=temperature, seed=seed)

    # ------------------------------------------------------------------------ TransformerLens-shaped views
    def __getattr__(self, name: str) -> Any:
        """nn.Module's lookup of parameters and submodules; for a stacked weight this model lacks (`W_in` of an
        attention-only model), the property's own one-line reason rather than "object has no attribute" (Python
        answers an AttributeError raised inside a property by calling this method, which would hide it)."""
        try:
            return super().__getattr__(name)
        except AttributeError:
            stacked = getattr(type(self), name, None)
            if isinstance(stacked, property):
                stacked.fget(self)  # raises the reason
            raise

    def _stack(self, path: str) -> Tensor:
        """One parameter of every block, stacked over layers (like TransformerLens's `W_Q [n_layers, ...]`)."""
        tensors = []
        for block in self.blocks:
            value: Any = block
            for part in path.split("."):
                value = getattr(value, part, None)
            if value is None:
                raise AttributeError(f"this model has no {path} (attn_only={self.cfg.attn_only})")
            tensors.append(value)
        return torch.stack(tensors)

    W_E = property(lambda self: self.embed.W_E, doc="[d_vocab, d_model]")
    W_pos = property(lambda self: self.pos_embed.W_pos, doc="[n_ctx, d_model]")
    W_U = property(lambda self: self.unembed.W_U, doc="[d_model, d_vocab]")
    b_U = property(lambda self: self.unembed.b_U, doc="[d_vocab]")
    W_Q = property(lambda self: self._stack("attn.W_Q"), doc="[n_layers, n_heads, d_model, d_head]")
    W_K = property(lambda self: self._stack("attn.W_K"), doc="[n_layers, n_heads, d_model, d_head]")
    W_V = property(lambda self: self._stack("attn.W_V"), doc="[n_layers, n_heads, d_model, d_head]")
    W_O = property(lambda self: self._stack("attn.W_O"), doc="[n_layers, n_heads, d_head, d_model]")
    b_Q = property(lambda self: self._stack("attn.b_Q"), doc="[n_layers, n_heads, d_head]")
    b_K = property(lambda self: self._stack("attn.b_K"), doc="[n_layers, n_heads, d_head]")
    b_V = property(lambda self: self._stack("attn.b_V"), doc="[n_layers, n_heads, d_head]")
    b_O = property(lambda self: self._stack("attn.b_O"), doc="[n_layers, d_model]")
    W_in = property(lambda self: self._stack("mlp.W_in"), doc="[n_layers, d_model, d_mlp]")
    W_out = property(lambda self: self._stack("mlp.W_out"), doc="[n_layers, d_mlp, d_model]")
    b_in = property(lambda self: self._stack("mlp.b_in"), doc="[n_layers, d_mlp]")
    b_out = property(lambda self: self._stack("mlp.b_out"), doc="[n_layers, d_model]")

    def tokens_to_residual_directions(self, tokens: Int[Tensor, "..."] | int) -> Float[Tensor, "... d_model"]:
        """The unembedding direction of each token (what `ActivationCache.logit_attrs` projects onto)."""
        return self.W_U[:, torch.as_tensor(tokens, device=self.W_U.device)].movedim(0, -1)

    def accumulated_bias(self, layer: int, mlp_input: bool = False, include_mlp_biases: bool = True) -> Tensor:
        """Sum of the attention (and MLP) output biases before `layer`, as TransformerLens defines it."""
        bias = torch.zeros(self.cfg.d_model, device=self.W_E.device)
        for i, block in enumerate(self.blocks[: layer + (1 if mlp_input else 0)]):
            bias = bias + block.attn.b_O
            if include_mlp_biases and not self.cfg.attn_only and i < layer:
                bias = bias + block.mlp.b_out
        return bias

    # -------------------------------------------------------------------------- to and from TransformerLens
    @classmethod
    def from_transformer_lens(cls, bridge: Any, seed: int | None = None) -> Transformer:
        """A model with the config and weights of a TransformerLens bridge (or any model with `tl_parameters()`)."""
        params = bridge.tl_parameters()
        model = cls(config_from_tl(bridge.cfg, seed=seed)).to(bridge.cfg.dtype)
        load_tl_parameters(model, params)
        return model

    def to_transformer_lens(self) -> Any:
        """A TransformerLens `TransformerBridge` (booted natively) holding exactly our weights."""
        return bridge_from_model(self)


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
        residual = self.hook_embed(self.embed(tokens)) + self.hook_pos_embed(self.pos_embed(tokens))
        for block in self.blocks:
            residual = block(residual)  # [batch, pos, d_model]: each block adds to the stream
        return self.unembed(self.ln_final(residual))


def next_token_loss(logits: Float[Tensor, "batch pos d_vocab"], tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, ""]:
    """Mean cross-entropy of predicting token t+1 from position t (TransformerLens's `lm_cross_entropy_loss`)."""
    if tokens.shape[-1] < 2:
        raise ValueError("the loss needs sequences of at least 2 tokens (one to read, one to predict)")
    return F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())
