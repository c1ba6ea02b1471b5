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


# ------------------------------------------------------------------------------ GPT-2's own checkpoint format
def config_from_gpt2(hf_config: Any, seed: int | None = None) -> TransformerConfig:
    """Our config from a Hugging Face `GPT2Config` (n_embd, n_layer, n_head, n_positions, vocab_size)."""
    if getattr(hf_config, "activation_function", "gelu_new") != "gelu_new":
        raise ValueError(f"GPT-2 uses gelu_new, this config {hf_config.activation_function!r}")
    return TransformerConfig(
        d_model=hf_config.n_embd,
        n_layers=hf_config.n_layer,
        n_heads=hf_config.n_head,
        d_mlp=hf_config.n_inner or 4 * hf_config.n_embd,
        d_vocab=hf_config.vocab_size,
        n_ctx=hf_config.n_positions,
        act_fn="gelu_new",
        eps=hf_config.layer_norm_epsilon,
        seed=seed,
        device="cpu",
    )


def gpt2_weights(state_dict: dict[str, Tensor], cfg: TransformerConfig) -> dict[str, Tensor]:
    """GPT-2's weights as Hugging Face stores them (`GPT2LMHeadModel.state_dict()`), renamed and reshaped into
    TransformerLens's names and per-head layouts, ready for `load_tl_parameters`.

    GPT-2's `Conv1D` layers compute x @ W + b (weights stored [in, out], no transpose); `c_attn` holds W_Q, W_K
    and W_V side by side, each [d_model, n_heads · d_head]; the unembedding is tied to the token embedding, and
    GPT-2 has no unembedding bias (b_U = 0).
    """
    import einops

    sd = {k.removeprefix("transformer."): v.detach() for k, v in state_dict.items()}
    H, D = cfg.n_heads, cfg.d_head
    out = {"embed.W_E": sd["wte.weight"], "pos_embed.W_pos": sd["wpe.weight"]}
    for layer in range(cfg.n_layers):
        h, ours = f"h.{layer}.", f"blocks.{layer}."
        W_Q, W_K, W_V = sd[h + "attn.c_attn.weight"].split(H * D, dim=1)  # each [d_model, n_heads·d_head]
        b_Q, b_K, b_V = sd[h + "attn.c_attn.bias"].split(H * D)
        for name, W, b in (("Q", W_Q, b_Q), ("K", W_K, b_K), ("V", W_V, b_V)):
            out[ours + f"attn.W_{name}"] = einops.rearrange(
                W, "d_model (head_index d_head) -> head_index d_model d_head", head_index=H
            )
            out[ours + f"attn.b_{name}"] = einops.rearrange(b, "(head_index d_head) -> head_index d_head", head_index=H)
        out[ours + "attn.W_O"] = einops.rearrange(
            sd[h + "attn.c_proj.weight"], "(head_index d_head) d_model -> head_index d_head d_model", head_index=H
        )
        out[ours + "attn.b_O"] = sd[h + "attn.c_proj.bias"]
        for theirs, mine in (("ln_1", "ln1"), ("ln_2", "ln2")):
            out[ours + f"{mine}.w"], out[ours + f"{mine}.b"] = sd[h + theirs + ".weight"], sd[h + theirs + ".bias"]
        out[ours + "mlp.W_in"], out[ours + "mlp.b_in"] = sd[h + "mlp.c_fc.weight"], sd[h + "mlp.c_fc.bias"]
        out[ours + "mlp.W_out"], out[ours + "mlp.b_out"] = sd[h + "mlp.c_proj.weight"], sd[h + "mlp.c_proj.bias"]
    out["ln_final.w"], out["ln_final.b"] = sd["ln_f.weight"], sd["ln_f.bias"]
    out["unembed.W_U"] = sd.get("lm_head.weight", sd["wte.weight"]).T  # tied: the same matrix, transposed
    out["unembed.b_U"] = torch.zeros(cfg.d_vocab, dtype=out["unembed.W_U"].dtype)
    return out
