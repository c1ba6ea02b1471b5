"""What TransformerLens itself computes for one component, given its weights (chapter 3 and its checks).

A one-layer model of ours with those weights is booted as a TransformerLens bridge (`glassbox.tl_bridge`), the
component's input hook is overwritten with the given activation, and the output hook is read back: the reference
the chapter's components are compared against, computed by TransformerLens rather than by us.
"""

from __future__ import annotations

import torch
from torch import Tensor

from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from glassbox.tl_bridge import bridge_from_model


def component_through_bridge(
    cfg: TransformerConfig,
    prefix: str,
    weights: dict[str, Tensor],
    out_hook: str,
    x: Tensor | None = None,
    in_hook: str | None = None,
    tokens: Tensor | None = None,
) -> Tensor:
    """What one component computes inside a one-layer TransformerLens bridge, given its weights.

    The bridge gets `weights` under `prefix` (e.g. "blocks.0.attn."), the activation at `in_hook` is replaced by
    `x`, and the activation at `out_hook` is returned: TransformerLens's own computation of that component.
    """
    model = Transformer(cfg.with_(n_layers=1))
    with torch.no_grad():
        for name, value in weights.items():
            model.get_parameter(prefix + name).copy_(value)
    bridge = bridge_from_model(model)
    if tokens is None:
        tokens = torch.zeros(x.shape[:2], dtype=torch.long)
    seen: dict[str, Tensor] = {}
    hooks = [(out_hook, lambda act, hook: seen.__setitem__("out", act.detach()))]
    if in_hook is not None:
        hooks.insert(0, (in_hook, lambda act, hook: x.to(act.dtype)))
    with torch.no_grad():
        bridge.run_with_hooks(tokens, fwd_hooks=hooks)
    return seen["out"]
