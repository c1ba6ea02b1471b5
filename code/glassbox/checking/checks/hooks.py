"""Hook points in a reader's module: each one the reference fires must fire in the reader's, with TransformerLens's
shape and the reference's values, and the value it returns must be the one used (so patching a hook changes the
output as it does in the reference). For the module exercises of chapter 3."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from transformer_lens.hook_points import HookPoint

from glassbox.checking.answer import Answer
from glassbox.checking.diagnose import close, non_finite_problem, tensor_problem, value_difference


def _input(cfg) -> torch.Tensor:
    """A residual-stream input [batch 2, pos 5, d_model], the same on every call."""
    return torch.randn(2, 5, cfg.d_model, generator=torch.Generator().manual_seed(11))


LAYOUTS = {  # TransformerLens's layout of each hook point, for the reasons
    "hook_q": "[batch, pos, head_index, d_head]",
    "hook_k": "[batch, pos, head_index, d_head]",
    "hook_v": "[batch, pos, head_index, d_head]",
    "hook_z": "[batch, pos, head_index, d_head]",
    "hook_attn_scores": "[batch, head_index, query_pos, key_pos]",
    "hook_pattern": "[batch, head_index, query_pos, key_pos]",
    "hook_scale": "[batch, pos, 1]",
    "hook_normalized": "[batch, pos, d_model]",
    "hook_pre": "[batch, pos, d_mlp]",
    "hook_post": "[batch, pos, d_mlp]",
}


def _record(
    answer: Answer | None, module: torch.nn.Module, names: list[str], x: torch.Tensor, patch: str | None = None
):
    """Run `module` on `x` with a hook on each of `names` recording what it sees; the hook at `patch` also changes
    the activation. The reader's module runs through `answer` (time limit, one-line errors)."""
    seen: dict[str, torch.Tensor] = {}

    def hook(name):
        def record(mod, inputs, output):
            seen[name] = output.detach().clone() if isinstance(output, torch.Tensor) else output
            return output * 0.5 + 0.25 if name == patch else None

        return record

    handles = [module.get_submodule(name).register_forward_hook(hook(name)) for name in names]
    try:
        x = x.clone()
        if answer is None:
            with torch.no_grad():
                out = module(x)
        else:
            out = answer.call(module, x)
    finally:
        for handle in handles:
            handle.remove()
    return seen, out


def _hook_points(answer: Answer, cfg) -> tuple[torch.nn.Module, torch.nn.Module, list[str], str | None]:
    mine, reference = answer.build(cfg, seed=11)
    names = [name for name, m in reference.named_modules() if isinstance(m, HookPoint)]
    fired = list(_record(None, reference, names, _input(cfg))[0])
    for name in fired:
        try:
            point = mine.get_submodule(name)
        except AttributeError:
            return mine, reference, fired, f"`{name}` is missing: keep the hook points that __init__ declares"
        if not isinstance(point, HookPoint):
            return mine, reference, fired, f"`{name}` is a {type(point).__name__}, not a HookPoint"
    return mine, reference, fired, None


def _hooks_fire(answer: Answer, cfg) -> str | None:
    mine, reference, fired, problem = _hook_points(answer, cfg)
    if problem:
        return problem
    theirs, _ = _record(None, reference, fired, _input(cfg))
    ours, _ = _record(answer, mine, fired, _input(cfg))
    for name in fired:
        layout = LAYOUTS.get(name.split(".")[-1], "")
        if name not in ours:
            point = name.split(".")[-1]
            return (
                f"`{name}` never fires: pass the activation through it (x = self.{point}(x)), so hooks can read "
                "and patch it"
            )
        got, expected = ours[name], theirs[name]
        problem = tensor_problem(got, expected) or non_finite_problem(got, expected)
        if problem:
            return f"`{name}` {layout}: {problem}"
        if not close(got, expected, 1e-4, 1e-4):
            return f"`{name}` {layout} sees other values than the reference's: {value_difference(got, expected)}"
    return None


def _hooks_used(answer: Answer, cfg) -> str | None:
    mine, reference, fired, problem = _hook_points(answer, cfg)
    if problem:
        return problem
    for name in fired:
        _, expected = _record(None, reference, fired, _input(cfg), patch=name)
        _, got = _record(answer, mine, fired, _input(cfg), patch=name)
        if not isinstance(got, torch.Tensor) or not close(got, expected, 1e-4, 1e-4):
            return (
                f"patching `{name}` does not change the output as it should: carry on with the value the hook "
                f"returns (x = self.{name.split('.')[-1]}(x))"
            )
    return None


def hook_behaviours(cfg) -> dict[str, Callable[[Answer], str | None]]:
    """The behaviours of a module exercise whose reference has hook points, checked on a config `cfg`."""
    return {
        "every hook point fires, with TransformerLens's shape and values": partial(_hooks_fire, cfg=cfg),
        "every hook point's value is used (patching a hook changes the output)": partial(_hooks_used, cfg=cfg),
    }
