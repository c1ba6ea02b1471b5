"""Moving weights between our `Transformer` and a TransformerLens 4.x `TransformerBridge` (chapter 4).

Both sides use TransformerLens parameter names and layouts, so the move is a rename-free copy:
`bridge.tl_parameters()` → our `load_state_dict`, and our parameters → `convert_tl_checkpoint` → the bridge.

Hook semantics that differ on the native bridge (TransformerLens 4.3), and where ours keep the classic meaning:
`attn.hook_attn_scores` is the softmax pattern there (the masked scores here); `hook_resid_mid` there is only
the MLP's input (here the residual stream itself, so patching it changes what later layers read).
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import torch
from torch import Tensor

from glassbox.config import TransformerConfig


def config_from_tl(tl_cfg: Any, seed: int | None = None) -> TransformerConfig:
    """Our config from a TransformerLens config (a bridge's `cfg`, or anything with the same fields)."""
    positions = getattr(tl_cfg, "positional_embedding_type", "standard")
    if positions != "standard":
        raise ValueError(f"only learned ('standard') positions can be copied, not {positions!r}")
    return TransformerConfig(
        d_model=tl_cfg.d_model,
        n_layers=tl_cfg.n_layers,
        n_heads=tl_cfg.n_heads,
        d_head=tl_cfg.d_head,
        d_mlp=tl_cfg.d_mlp,
        d_vocab=tl_cfg.d_vocab,
        n_ctx=tl_cfg.n_ctx,
        act_fn=tl_cfg.act_fn,
        normalization_type=tl_cfg.normalization_type,
        attn_only=tl_cfg.attn_only,
        eps=getattr(tl_cfg, "eps", 1e-5),
        seed=seed,
        device=str(getattr(tl_cfg, "device", "cpu") or "cpu"),
    )


def load_tl_parameters(model: torch.nn.Module, params: dict[str, Tensor]) -> None:
    """Copy TransformerLens-named weights into `model`; a missing or unexpected name is a clear error."""
    ours = dict(model.named_parameters())
    # an attention-only bridge still lists (zero) MLP weights: they have no place in an attention-only model
    params = {k: v for k, v in params.items() if k in ours or ".mlp." not in k}
    missing, unexpected = sorted(ours.keys() - params.keys()), sorted(params.keys() - ours.keys())
    if missing or unexpected:
        raise ValueError(f"TransformerLens weights do not fit this model: missing {missing}, unexpected {unexpected}")
    with torch.no_grad():
        for name, value in params.items():
            if ours[name].shape != value.shape:
                raise ValueError(
                    f"{name}: TransformerLens has shape {tuple(value.shape)}, ours {tuple(ours[name].shape)}"
                )
            ours[name].copy_(value.detach())


def bridge_config(cfg: TransformerConfig) -> Any:
    """The `TransformerBridgeConfig` of a native TransformerLens model with our shape."""
    from transformer_lens import TransformerBridgeConfig

    if cfg.positional_embedding != "learned":
        raise ValueError(
            f"TransformerLens's native bridge has learned positions only, not {cfg.positional_embedding!r}"
        )
    if not cfg.use_residual:
        raise ValueError("TransformerLens's native bridge always has residual connections (use_residual=False)")
    return TransformerBridgeConfig(
        d_model=cfg.d_model,
        n_layers=cfg.n_layers,
        n_heads=cfg.n_heads,
        d_head=cfg.d_head,
        d_mlp=cfg.d_mlp,
        d_vocab=cfg.d_vocab,
        n_ctx=cfg.n_ctx,
        act_fn=cfg.act_fn,
        normalization_type=cfg.normalization_type,
        attn_only=cfg.attn_only,
        eps=cfg.eps,
        positional_embedding_type="standard",
        seed=cfg.seed,
        device=cfg.device,
    )


def bridge_from_model(model: Any, dtype: torch.dtype | None = None) -> Any:
    """Boot a native `TransformerBridge` of the same shape as `model` and load exactly its weights."""
    from transformer_lens import TransformerBridge
    from transformer_lens.utilities.tl_checkpoint_conversion import convert_tl_checkpoint

    dtype = dtype or model.W_E.dtype
    with contextlib.redirect_stdout(io.StringIO()):  # TransformerLens prints "Moving model to device"
        bridge = TransformerBridge.boot_native(bridge_config(model.cfg), dtype=dtype)
        # parameters, and the fixed zero biases or identity W_O of a model without them (kept as buffers)
        weights = {name: t.detach().to(dtype).cpu() for name, t in model.state_dict().items()}
        bridge.load_state_dict(convert_tl_checkpoint(weights, bridge.cfg), strict=True)
        return bridge.to(model.W_E.device).eval()
