"""Every hook a reader adds fires, whichever API adds it (issue: a library readers can use). The components skip
materialising activations nothing reads (`components.is_hooked`); a global PyTorch hook used to see 13 of a one-layer
model's 21 hook points, because the fast paths could not see it."""

from __future__ import annotations

import pytest
import torch
from glassbox import components
from glassbox.components import fast_paths, is_hooked
from glassbox.config import TransformerConfig
from glassbox.model import Transformer

CFG = TransformerConfig(d_model=8, n_layers=2, n_heads=2, d_head=4, d_mlp=16, d_vocab=11, n_ctx=6, seed=1)
TOKENS = torch.tensor([[1, 4, 2, 9, 3, 7]])


@pytest.fixture(scope="module")
def model():
    return Transformer(CFG).eval()


def fired_with(model, api: str) -> set[str]:
    """The hook names whose hook ran during one forward pass, the hook added with `api`."""
    fired: set[str] = set()
    names = list(model.hook_dict)

    def record(name):
        def hook(activation, hook=None):
            fired.add(name)

        return hook

    if api == "run_with_cache":
        _, cache = model.run_with_cache(TOKENS)
        return set(cache.keys())
    if api == "hooks":
        with model.hooks(fwd_hooks=[(n, record(n)) for n in names]):
            model(TOKENS)
    elif api == "run_with_hooks":
        model.run_with_hooks(TOKENS, fwd_hooks=[(n, record(n)) for n in names])
    elif api == "add_hook":
        for n in names:
            model.add_hook(n, record(n))
        model(TOKENS)
        model.reset_hooks()
    elif api == "torch register_forward_hook":
        handles = [hp.register_forward_hook(lambda m, i, o, n=n: fired.add(n)) for n, hp in model.hook_dict.items()]
        model(TOKENS)
        for handle in handles:
            handle.remove()
    elif api == "torch global hook":
        by_module = {hp: n for n, hp in model.hook_dict.items()}
        handle = torch.nn.modules.module.register_module_forward_hook(
            lambda m, i, o: fired.add(by_module[m]) if m in by_module else None
        )
        try:
            model(TOKENS)
        finally:
            handle.remove()
    return fired


@pytest.mark.parametrize(
    "api", ["run_with_cache", "hooks", "run_with_hooks", "add_hook", "torch register_forward_hook", "torch global hook"]
)
def test_every_hook_point_fires_with_every_api(model, api):
    assert len(model.hook_dict) == 2 + 17 * CFG.n_layers + 2  # embeddings, 17 a block, ln_final
    missed = set(model.hook_dict) - fired_with(model, api)
    assert not missed, f"{api}: {len(missed)} hook points never fired: {sorted(missed)}"
    assert not is_hooked(*model.hook_dict.values()), "every hook is removed afterwards, so the fast paths come back"


def test_a_renamed_pytorch_registry_takes_the_hooked_path(model, monkeypatch):
    """PyTorch keeps hooks in private registries; this PyTorch has them all (a rename fails here, by name), and a
    missing one makes every component take its hooked path rather than skip a hook."""
    for name in components._GLOBAL_REGISTRIES:
        assert hasattr(torch.nn.modules.module, name), f"torch.nn.modules.module.{name} is gone: update is_hooked"
    hp = model.blocks[0].attn.hook_pattern
    for name in components._MODULE_REGISTRIES:
        assert hasattr(hp, name), f"nn.Module.{name} is gone: update is_hooked"
    assert not is_hooked(hp)
    monkeypatch.setattr(components, "_GLOBAL_REGISTRIES", (*components._GLOBAL_REGISTRIES, "_renamed_hooks"))
    assert is_hooked(hp)
    monkeypatch.setattr(components, "_GLOBAL_REGISTRIES", components._GLOBAL_REGISTRIES[:-1])
    monkeypatch.setattr(components, "_MODULE_REGISTRIES", ("_renamed_hooks",))
    assert is_hooked(hp)


def test_the_public_switch_turns_the_fast_paths_off(model):
    fast = model(TOKENS)
    with fast_paths(False):
        assert components.FAST_PATHS is False and is_hooked(model.blocks[0].attn.hook_pattern)
        slow = model(TOKENS)
    assert components.FAST_PATHS is True
    torch.testing.assert_close(slow, fast, atol=1e-5, rtol=1e-5)
