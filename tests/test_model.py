"""Our Transformer equals a TransformerLens native bridge on the same weights, and speaks TransformerLens."""

import pytest
import torch
import transformer_lens.patching as patching
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from transformer_lens import ActivationCache

VARIANTS = {
    "gelu_new + LN": {},
    "gelu (erf) + LN": {"act_fn": "gelu"},
    "relu + LN": {"act_fn": "relu"},
    "no LayerNorm": {"normalization_type": None},
    "attention-only": {"attn_only": True},
    "attention-only, no LayerNorm": {"attn_only": True, "normalization_type": None},
}
SMALL = TransformerConfig(d_model=32, n_layers=2, n_heads=4, d_vocab=23, n_ctx=16)


def random_model(cfg: TransformerConfig, dtype=torch.float64, scale=0.3) -> Transformer:
    """A model whose every parameter (biases and LayerNorm too) is random, so none is tested by accident."""
    model = Transformer(cfg).to(dtype)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator, dtype=dtype) * scale)
    return model


def tokens(cfg=SMALL, batch=3, pos=11, seed=2):
    return torch.randint(0, cfg.d_vocab, (batch, pos), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("variant", VARIANTS, ids=list(VARIANTS))
def test_logits_equal_a_transformer_lens_bridge_with_the_same_weights(variant):
    model = random_model(SMALL.with_(**VARIANTS[variant]))
    bridge = model.to_transformer_lens()
    toks = tokens()
    torch.testing.assert_close(model(toks), bridge(toks), atol=1e-5, rtol=0)


def test_float32_models_also_agree_to_1e_5():
    model = Transformer(SMALL)
    toks = tokens()
    torch.testing.assert_close(model(toks), model.to_transformer_lens()(toks), atol=1e-5, rtol=0)


def test_round_trip_ours_to_transformer_lens_to_ours_is_exact():
    model = random_model(SMALL)
    back = Transformer.from_transformer_lens(model.to_transformer_lens())
    assert back.cfg.d_model == SMALL.d_model and back.W_E.dtype == torch.float64
    for (name, ours), (_, theirs) in zip(model.named_parameters(), back.named_parameters(), strict=True):
        assert torch.equal(ours, theirs), name


def test_cache_holds_every_transformer_lens_hook_with_its_shape():
    cfg = SMALL
    model = Transformer(cfg)
    _, cache = model.run_with_cache(tokens(batch=2, pos=5))
    assert isinstance(cache, ActivationCache)
    b, p, H, D, M = 2, 5, cfg.n_heads, cfg.d_head, cfg.d_model
    expected = {
        "hook_embed": (b, p, M),
        "hook_pos_embed": (b, p, M),
        "blocks.0.hook_resid_pre": (b, p, M),
        "blocks.0.ln1.hook_scale": (b, p, 1),
        "blocks.0.ln1.hook_normalized": (b, p, M),
        "blocks.0.attn.hook_q": (b, p, H, D),
        "blocks.0.attn.hook_k": (b, p, H, D),
        "blocks.0.attn.hook_v": (b, p, H, D),
        "blocks.0.attn.hook_attn_scores": (b, H, p, p),
        "blocks.0.attn.hook_pattern": (b, H, p, p),
        "blocks.0.attn.hook_z": (b, p, H, D),
        "blocks.0.hook_attn_out": (b, p, M),
        "blocks.0.hook_resid_mid": (b, p, M),
        "blocks.0.mlp.hook_pre": (b, p, cfg.d_mlp),
        "blocks.0.mlp.hook_post": (b, p, cfg.d_mlp),
        "blocks.0.hook_mlp_out": (b, p, M),
        "blocks.1.hook_resid_post": (b, p, M),
        "ln_final.hook_scale": (b, p, 1),
        "ln_final.hook_normalized": (b, p, M),
    }
    for name, shape in expected.items():
        assert tuple(cache[name].shape) == shape, name
    assert torch.equal(cache["pattern", 0], cache["blocks.0.attn.hook_pattern"])


def test_shared_hooks_equal_the_bridge_cache():
    model = random_model(SMALL)
    toks = tokens()
    _, ours = model.run_with_cache(toks)
    _, theirs = model.to_transformer_lens().run_with_cache(toks)
    # hook_attn_scores (the pattern on the bridge) and hook_resid_mid (an MLP-input alias there) differ by design
    for name in [
        "hook_embed",
        "blocks.0.attn.hook_q",
        "blocks.1.attn.hook_pattern",
        "blocks.1.attn.hook_z",
        "blocks.0.ln1.hook_normalized",
        "blocks.1.mlp.hook_post",
        "blocks.1.hook_resid_post",
    ]:
        torch.testing.assert_close(ours[name], theirs[name], atol=1e-9, rtol=0, msg=name)


def test_activation_cache_tools_work_on_our_model():
    model = random_model(SMALL)
    toks = tokens()
    logits, cache = model.run_with_cache(toks)
    components = cache.decompose_resid()
    torch.testing.assert_close(components.sum(0), cache["blocks.1.hook_resid_post"])
    accumulated = cache.accumulated_resid(apply_ln=True)
    torch.testing.assert_close(accumulated[-1] @ model.W_U + model.b_U, logits)
    # stack_head_results and logit_attrs: by value in tests/test_values.py


def test_hooks_intervene_and_are_removed_afterwards():
    model = Transformer(SMALL)
    toks = tokens()
    clean = model(toks)

    def zero_attention(z, hook):
        return torch.zeros_like(z)

    with model.hooks(fwd_hooks=[("blocks.0.attn.hook_z", zero_attention)]):
        ablated = model(toks)
    assert not torch.allclose(clean, ablated)
    torch.testing.assert_close(model(toks), clean)
    via_run = model.run_with_hooks(toks, fwd_hooks=[("blocks.0.attn.hook_z", zero_attention)])
    torch.testing.assert_close(via_run, ablated)


@pytest.mark.slow
def test_transformer_lens_patching_runs_on_our_model_and_matches_the_bridge():
    model = random_model(SMALL).eval()
    bridge = model.to_transformer_lens()
    clean, corrupted = tokens(seed=3), tokens(seed=4)
    answer = clean[:, -1]

    def metric(logits):
        return logits[torch.arange(len(answer)), -1, answer].mean()

    ours = patching.get_act_patch_resid_pre(model, corrupted, model.run_with_cache(clean)[1], metric)
    theirs = patching.get_act_patch_resid_pre(bridge, corrupted, bridge.run_with_cache(clean)[1], metric)
    assert ours.shape == (SMALL.n_layers, clean.shape[1])
    torch.testing.assert_close(ours, theirs, atol=1e-8, rtol=0)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"d_model": 30, "n_heads": 4}, "not divisible by n_heads"),
        ({"act_fn": "swish"}, "unknown act_fn 'swish'"),
        ({"n_layers": 0}, "n_layers must be a positive integer"),
        ({"d_vocab": -3}, "d_vocab must be a positive integer"),
        ({"normalization_type": "RMS"}, "normalization_type must be 'LN' or None"),
        ({"positional_embedding": "rotary"}, "unknown positional_embedding 'rotary'"),
    ],
)
def test_config_errors_are_clear(changes, message):
    with pytest.raises(ValueError, match=message):
        TransformerConfig(**{**dict(d_model=32, n_heads=4), **changes})


def test_derived_sizes_and_copies():
    cfg = TransformerConfig(d_model=48, n_heads=3)
    assert (cfg.d_head, cfg.d_mlp) == (16, 192)
    wider = cfg.with_(d_model=96)
    assert (wider.d_head, wider.d_mlp) == (32, 384)
    assert TransformerConfig(d_model=30, n_heads=4, d_head=8).d_head == 8


@pytest.mark.parametrize(
    "bad, message",
    [
        (torch.tensor([[1, 2, 99]]), r"token ids must lie in \[0, 22\], got ids from 1 to 99"),
        (torch.tensor([[-1, 2]]), "token ids must lie in"),
        (torch.zeros(1, 17, dtype=torch.long), "longer than the context n_ctx=16"),
        (torch.zeros(1, 4), "tokens must be integer ids"),
        (torch.zeros(2, 3, 4, dtype=torch.long), r"shape \[batch, pos\]"),
    ],
)
def test_bad_tokens_are_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        Transformer(SMALL)(bad)


def test_variants_needed_later_run():
    for changes in [
        {"positional_embedding": "sinusoidal"},  # use_residual=False: by value in tests/test_values.py
        {"positional_embedding": "none"},
        {"d_model": 2, "n_heads": 1, "d_mlp": 32},
        {"d_model": 1, "n_heads": 1, "normalization_type": None},
    ]:
        model = Transformer(SMALL.with_(**changes))
        assert model(tokens()).shape == (3, 11, SMALL.d_vocab)


def test_components_built_alone_have_finite_gpt2_initial_weights():
    from glassbox.components import MLP, Attention, Embed, PosEmbed, Unembed

    for component in (Embed, PosEmbed, Attention, MLP, Unembed):
        for name, param in component(SMALL).named_parameters():
            assert torch.isfinite(param).all(), f"{component.__name__}.{name}"
            if name.startswith("W_"):
                assert 0.5 * SMALL.init_range < param.std() < 2 * SMALL.init_range, f"{component.__name__}.{name}"


def test_weights_are_seeded_and_views_are_stacked_like_transformer_lens():
    a, b = Transformer(SMALL), Transformer(SMALL)
    assert torch.equal(a.W_Q, b.W_Q) and not torch.equal(a.W_Q, Transformer(SMALL.with_(seed=1)).W_Q)
    L, H, M, D = SMALL.n_layers, SMALL.n_heads, SMALL.d_model, SMALL.d_head
    assert a.W_Q.shape == (L, H, M, D) and a.W_O.shape == (L, H, D, M)
    assert a.W_in.shape == (L, M, SMALL.d_mlp) and a.W_U.shape == (M, SMALL.d_vocab)
    with pytest.raises(AttributeError, match="W_in"):
        _ = Transformer(SMALL.with_(attn_only=True)).W_in


def test_loss_and_generation():
    model = Transformer(SMALL)
    toks = tokens()
    logits, loss = model(toks, return_type="both")
    assert loss.shape == () and torch.isclose(loss, model(toks, return_type="loss"))
    greedy = model.generate(toks[:, :3], max_new_tokens=20)
    assert greedy.shape == (3, 23)  # longer than n_ctx: only the last n_ctx tokens are fed back
    assert torch.equal(greedy, model.generate(toks[:, :3], max_new_tokens=20))
    sampled = model.generate(toks[:, :3], 8, temperature=1.0, seed=5)
    assert torch.equal(sampled, model.generate(toks[:, :3], 8, temperature=1.0, seed=5))
    with pytest.raises(ValueError, match="return_type"):
        model(toks, return_type="probs")


def test_tiny_model_without_attention_biases_or_output_projection():
    """Part III's 2-D model: no b_Q/b_K/b_V/b_O and W_O fixed to I — 250 parameters, still equal to TransformerLens."""
    cfg = TransformerConfig(
        d_model=2,
        n_layers=1,
        n_heads=1,
        d_mlp=32,
        d_vocab=12,
        n_ctx=8,
        act_fn="relu",
        normalization_type=None,
        attn_bias=False,
        attn_out_proj=False,
        seed=3,
    )
    model = Transformer(cfg)
    assert sum(p.numel() for p in model.parameters()) == 250
    assert torch.equal(model.W_O[0, 0], torch.eye(2)) and not model.b_Q.any()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 1, generator=torch.Generator().manual_seed(p.numel()))
    tokens = torch.randint(0, 12, (4, 8), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.to_transformer_lens()(tokens), model(tokens), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="n_heads \\* d_head must equal d_model"):
        TransformerConfig(d_model=4, n_heads=1, d_head=2, attn_out_proj=False)
