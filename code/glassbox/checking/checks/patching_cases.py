"""The cases and named mistakes of chapter 10's patching exercises that run a model: patching a head's input,
noising block outputs, and path patching with the other heads frozen (a module of their own to keep
`ch10_interventions` short; its name does not start with "ch", so `glassbox.checking.checks` does not take it for a
chapter)."""

from functools import partial

import torch

from glassbox.checking.judge import Case
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


def _model(seed: int, *, n_layers: int, n_heads: int, d_head: int, layer_norm: bool, attn_only: bool) -> Transformer:
    """A small model of random weights (init_range 0.5: large enough that every component moves the metric)."""
    cfg = TransformerConfig(
        d_model=12, n_layers=n_layers, n_heads=n_heads, d_head=d_head, d_vocab=9, n_ctx=8, d_mlp=16,
        attn_only=attn_only, normalization_type="LN" if layer_norm else None, init_range=0.5, seed=seed,
    )  # fmt: skip
    return Transformer(cfg).eval()


def _clean_corrupted(d_vocab: int, corrupt_at: int, generator: torch.Generator) -> tuple:
    """Three clean sequences of 6 tokens, the same with position `corrupt_at` changed to another token, and the
    metric: the logit of the clean answer (the last token) above the mean logit, at the last position."""
    clean = torch.randint(0, d_vocab, (3, 6), generator=generator)
    corrupted = clean.clone()
    shift = 1 + torch.randint(0, d_vocab - 1, (3,), generator=generator)
    corrupted[:, corrupt_at] = (clean[:, corrupt_at] + shift) % d_vocab
    answer = clean[:, -1]

    def metric(logits: torch.Tensor) -> torch.Tensor:
        last = logits[:, -1]
        return (last.gather(1, answer[:, None]).squeeze(1) - last.mean(1)).mean()

    return clean, corrupted, metric


def _head_input_cases() -> list[Case]:
    """A two-layer model with three heads (layers ≠ heads, so a [head, layer] table has the wrong shape)."""

    def case(part: str, seed: int, layer_norm: bool, attn_only: bool) -> tuple:
        model = _model(seed, n_layers=2, n_heads=3, d_head=4, layer_norm=layer_norm, attn_only=attn_only)
        clean, corrupted, metric = _clean_corrupted(model.cfg.d_vocab, 2, torch.Generator().manual_seed(seed))
        _, cache = model.run_with_cache(clean)
        return model, corrupted, cache, metric, part

    return [
        Case("keys ('k'), attention-only, no LayerNorm", case("k", 0, False, True)),
        Case("queries ('q'), attention-only, LayerNorm", case("q", 1, True, True)),
        Case("values ('v'), with MLPs and LayerNorm", case("v", 2, True, False)),
    ]


def _head_input_variant(model, corrupted, cache, metric, part, *, hook_of=None, index=None) -> torch.Tensor:
    """The reference's loop with one thing changed: which hook it patches, or which slice."""
    result = torch.zeros(model.cfg.n_layers, model.cfg.n_heads)

    def patch(activation, hook, head):
        patched = activation.clone()
        where = index(head) if index else (slice(None), slice(None), head)
        patched[where] = cache[hook.name][where]
        return patched

    for layer in range(model.cfg.n_layers):
        name = f"blocks.{layer}.attn.hook_{hook_of or part}"
        for head in range(model.cfg.n_heads):
            with model.hooks(fwd_hooks=[(name, partial(patch, head=head))]):
                result[layer, head] = metric(model(corrupted))
    return result


def _input_every_head(model, corrupted, cache, metric, part):
    return _head_input_variant(model, corrupted, cache, metric, part, index=lambda head: (slice(None),))


def _input_position_axis(model, corrupted, cache, metric, part):
    return _head_input_variant(model, corrupted, cache, metric, part, index=lambda head: (slice(None), head))


def _input_always_keys(model, corrupted, cache, metric, part):
    return _head_input_variant(model, corrupted, cache, metric, part, hook_of="k")


def _input_output_instead(model, corrupted, cache, metric, part):
    return _head_input_variant(model, corrupted, cache, metric, part, hook_of="z")


def _noise_cases() -> list[Case]:
    """A three-layer model with MLPs and LayerNorm, where the blocks' effects on the metric differ."""

    def case(block: str, seed: int, n_layers: int = 3) -> tuple:
        model = _model(seed, n_layers=n_layers, n_heads=2, d_head=6, layer_norm=True, attn_only=False)
        clean, corrupted, metric = _clean_corrupted(model.cfg.d_vocab, 1, torch.Generator().manual_seed(seed))
        _, cache = model.run_with_cache(corrupted)
        return model, clean, cache, metric, block

    return [
        Case("attention outputs", case("attn", 0)),
        Case("MLP outputs", case("mlp", 1)),
        Case("MLP outputs of a one-layer model", case("mlp", 2, n_layers=1)),
    ]


def _noise_nothing(model, clean, cache, metric, block):
    return metric(model(clean)).expand(model.cfg.n_layers).clone()


def _noise_always_attn(model, clean, cache, metric, block):
    return _noise_reference(model, clean, cache, metric, "attn")


def _noise_resid(model, clean, cache, metric, block):
    out = torch.zeros(model.cfg.n_layers)
    for layer in range(model.cfg.n_layers):
        name = f"blocks.{layer}.hook_resid_post"
        out[layer] = metric(model.run_with_hooks(clean, fwd_hooks=[(name, lambda a, hook: cache[hook.name])]))
    return out


def _noise_cumulative(model, clean, cache, metric, block):
    out = torch.zeros(model.cfg.n_layers)
    for layer in range(model.cfg.n_layers):
        hooks = [(f"blocks.{k}.hook_{block}_out", lambda a, hook: cache[hook.name]) for k in range(layer + 1)]
        out[layer] = metric(model.run_with_hooks(clean, fwd_hooks=hooks))
    return out


def _noise_reference(model, clean, cache, metric, block):
    out = torch.zeros(model.cfg.n_layers)
    for layer in range(model.cfg.n_layers):
        name = f"blocks.{layer}.hook_{block}_out"
        out[layer] = metric(model.run_with_hooks(clean, fwd_hooks=[(name, lambda a, hook: cache[hook.name])]))
    return out


def _frozen_cases() -> list[Case]:
    """Three-layer models, so that heads sit between sender and receiver (freezing them matters) and after it (the
    receiver's change must flow on); LayerNorm weights away from 1, so the receiver's own LayerNorm matters."""

    def case(seed: int, noising: bool, sender, receivers, part: str, layer_norm: bool, attn_only: bool) -> tuple:
        model = _model(seed, n_layers=3, n_heads=2, d_head=6, layer_norm=layer_norm, attn_only=attn_only)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "ln" in name:
                    param.add_(0.3 * torch.randn(param.shape, generator=generator))
        clean, corrupted, metric = _clean_corrupted(model.cfg.d_vocab, 1, generator)
        base, source = (clean, corrupted) if noising else (corrupted, clean)
        return model, base, source, metric, sender, receivers, part

    return [
        Case("noising L0H1 → L2H0's keys, with MLPs and LayerNorm", case(0, True, (0, 1), [(2, 0)], "k", True, False)),
        Case(
            "denoising L0H0 → L1H1's queries, attention-only with LayerNorm",
            case(1, False, (0, 0), [(1, 1)], "q", True, True),
        ),
        Case(
            "noising L0H1 → the values of L1H0 and L2H1, attention-only, no LayerNorm",
            case(2, True, (0, 1), [(1, 0), (2, 1)], "v", False, True),
        ),
    ]  # fmt: skip


def _frozen_variant(
    model, base, source, metric, sender, receivers, part, *, freeze=True, scales=False, keep=False, whole=False
) -> torch.Tensor:
    """The reference's three steps with one thing changed: nothing frozen in step 2 (`freeze`), the LayerNorm scales
    frozen too (`scales`), the freezing hooks kept in step 3 (`keep`), the whole hook patched in step 3 (`whole`)."""
    _, base_cache = model.run_with_cache(base)
    _, source_cache = model.run_with_cache(source)
    sender_name = f"blocks.{sender[0]}.attn.hook_z"

    def step_2_hook(activation, hook):
        out = base_cache[hook.name].clone() if freeze or hook.name == sender_name else activation.clone()
        if hook.name == sender_name:
            out[:, :, sender[1]] = source_cache[hook.name][:, :, sender[1]]
        return out

    names = [f"blocks.{layer}.attn.hook_z" for layer in range(model.cfg.n_layers)]
    names += [name for name in base_cache if name.endswith("hook_scale")] if scales else []
    frozen = [(name, step_2_hook) for name in names]
    with model.hooks(fwd_hooks=frozen):
        _, step_2 = model.run_with_cache(base)

    def step_3_hook(activation, hook):
        out = activation.clone()
        for layer, head in receivers:
            if hook.name == f"blocks.{layer}.attn.hook_{part}":
                where = (slice(None),) if whole else (slice(None), slice(None), head)
                out[where] = step_2[hook.name][where]
        return out

    receiving = {f"blocks.{layer}.attn.hook_{part}" for layer, _ in receivers}
    hooks = [(name, step_3_hook) for name in receiving] + ([h for h in frozen if h[0] != sender_name] if keep else [])
    with model.hooks(fwd_hooks=hooks):
        return metric(model(base))


def _frozen_nothing(*args):
    return _frozen_variant(*args, freeze=False)


def _frozen_scales(*args):
    return _frozen_variant(*args, scales=True)


def _frozen_in_step_3(*args):
    return _frozen_variant(*args, keep=True)


def _frozen_whole_hook(*args):
    return _frozen_variant(*args, whole=True)


def _frozen_swapped(model, base, source, metric, sender, receivers, part):
    return _frozen_variant(model, source, base, metric, sender, receivers, part)


def _frozen_receiver_instead(model, base, source, metric, sender, receivers, part):
    _, source_cache = model.run_with_cache(source)

    def patch(activation, hook):
        out = activation.clone()
        for layer, head in receivers:
            if hook.name == f"blocks.{layer}.attn.hook_{part}":
                out[:, :, head] = source_cache[hook.name][:, :, head]
        return out

    names = {f"blocks.{layer}.attn.hook_{part}" for layer, _ in receivers}
    with model.hooks(fwd_hooks=[(name, patch) for name in names]):
        return metric(model(base))
