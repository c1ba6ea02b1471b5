"""What mutation testing (`make mutation MODULE=model`) found the model's tests did not notice: each test here names
the behaviour a surviving mutant of components.py, model.py or config.py broke without any test failing."""

from __future__ import annotations

import jaxtyping
import pytest
import torch
import torch.nn.functional as F
from glassbox.components import Attention, LayerNorm
from glassbox.config import TransformerConfig
from glassbox.model import DemoTransformer, Transformer, next_token_loss

SMALL = TransformerConfig(d_model=8, n_layers=2, n_heads=2, d_vocab=10, n_ctx=6)


def test_a_model_without_positions_has_no_position_hook():
    assert "hook_pos_embed" not in Transformer(SMALL.with_(positional_embedding="none")).hook_dict
    assert "hook_pos_embed" in Transformer(SMALL).hook_dict


def test_a_model_built_on_the_meta_device_has_every_tensor_there_and_runs_both_attention_paths():
    """The device a config names is where every parameter and buffer lives (sinusoidal positions and LayerNorm's w, b
    are made without a device); the causal mask is made on the scores' device."""
    for positions in ("learned", "sinusoidal"):
        model = Transformer(SMALL.with_(device="meta", positional_embedding=positions))
        assert {t.device.type for t in [*model.parameters(), *model.buffers()]} == {"meta"}
        assert model(torch.tensor([[1, 2, 3]])).device.type == "meta"
        with model.hooks(fwd_hooks=[("blocks.0.attn.hook_pattern", lambda x, hook: x)]):
            assert model(torch.tensor([[1, 2, 3]])).device.type == "meta"
    scores = torch.zeros(1, 2, 3, 3, device="meta")
    assert Attention(SMALL).apply_causal_mask(scores).device.type == "meta"


def test_tokens_may_be_a_list_or_one_sequence_and_a_single_token_is_a_sequence():
    model = Transformer(SMALL).eval()
    tokens = torch.tensor([[1, 4, 2], [3, 3, 9]])
    expected = model(tokens)
    torch.testing.assert_close(model(tokens.tolist()), expected)
    torch.testing.assert_close(model(tokens[1]), expected[1:])  # [pos] is one sequence: [1, pos]
    assert model(torch.tensor([[7]])).shape == (1, 1, SMALL.d_vocab)  # one token is a valid sequence


def test_bad_tokens_are_named_in_the_error():
    model = Transformer(SMALL)
    text = "a sentence much longer than forty characters, cut in the message"
    with pytest.raises(ValueError) as error:
        model(text)
    assert f"got str {text[:40]!r};" in str(error.value)
    with pytest.raises(ValueError, match=r"shape \[batch, pos\] with pos ≥ 1, got \(2, 0\)"):
        model(torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(ValueError, match="sequence of length 7 is longer than the context n_ctx=6"):
        model(torch.zeros(2, 7, dtype=torch.long))  # batch 2, length 7: the message names the length
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 9\], got ids from 0 to 10"):
        model(torch.tensor([[0, 10]]))  # d_vocab itself is out of range
    model(torch.tensor([[0, 9]]))  # and d_vocab - 1 is in


def test_run_with_cache_passes_its_options_on():
    model = Transformer(SMALL)
    _, cache = model.run_with_cache(torch.tensor([[1, 2]]), names_filter=lambda name: name.endswith("hook_pattern"))
    assert sorted(cache.keys()) == ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"]


def test_a_missing_stacked_weight_is_an_attribute_error():
    # (the message _stack writes never reaches the reader: an AttributeError raised inside a property makes
    # nn.Module.__getattr__ raise its own "'Transformer' object has no attribute 'W_in'")
    with pytest.raises(AttributeError):
        Transformer(SMALL.with_(attn_only=True)).W_in  # noqa: B018


def test_accumulated_bias_by_hand():
    """TransformerLens's definition: the attention (and MLP) output biases of the layers before `layer`; with
    mlp_input, also the attention bias of `layer` itself."""
    model = Transformer(SMALL.with_(n_layers=3))
    with torch.no_grad():
        for i, block in enumerate(model.blocks):
            block.attn.b_O.fill_(10.0**i)  # 1, 10, 100
            block.mlp.b_out.fill_(1000.0 * 10**i)  # 1000, 10000, 100000
    value = lambda *args, **kwargs: model.accumulated_bias(*args, **kwargs)[0].item()  # noqa: E731
    assert value(0) == 0
    assert value(2) == 1 + 10 + 1000 + 10000
    assert value(2, mlp_input=True) == 1 + 10 + 100 + 1000 + 10000
    assert value(2, include_mlp_biases=False) == 11
    assert value(1, mlp_input=True, include_mlp_biases=False) == 11
    attn_only = Transformer(SMALL.with_(attn_only=True))
    with torch.no_grad():
        for i, block in enumerate(attn_only.blocks):
            block.attn.b_O.fill_(10.0**i)
    assert attn_only.accumulated_bias(2)[0].item() == 11
    assert model.accumulated_bias(1).shape == (SMALL.d_model,)


def test_from_transformer_lens_keeps_the_seed_it_is_given():
    bridge = Transformer(SMALL).to_transformer_lens()
    assert Transformer.from_transformer_lens(bridge, seed=7).cfg.seed == 7


def test_demo_transformer_keeps_its_config():
    assert DemoTransformer(SMALL).cfg is SMALL


def test_next_token_loss_from_two_tokens_by_hand_and_refuses_one():
    logits = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]]])
    tokens = torch.tensor([[2, 1]])
    by_hand = -F.log_softmax(logits[0, 0], -1)[1]  # position 0 predicts token 1; position 1 predicts nothing
    torch.testing.assert_close(next_token_loss(logits, tokens), by_hand)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        next_token_loss(logits[:, :1], tokens[:, :1])


@pytest.mark.parametrize("hook", ["hook_scale", "hook_normalized"])
def test_a_hook_on_either_layernorm_hook_point_alone_fires_and_patches(hook):
    ln = LayerNorm(SMALL)
    x = torch.randn(1, 3, SMALL.d_model, generator=torch.Generator().manual_seed(0))
    seen = []
    getattr(ln, hook).add_hook(lambda value, hook: seen.append(value) or value * 2)
    out = ln(x)
    assert len(seen) == 1
    assert not torch.allclose(out, F.layer_norm(x, (SMALL.d_model,), ln.w, ln.b, ln.eps))


@pytest.mark.parametrize("hook", ["hook_attn_scores", "hook_pattern"])
def test_a_hook_on_either_attention_score_hook_point_alone_fires(hook):
    model = Transformer(SMALL).eval()
    seen = []
    model.blocks[0].attn.__getattr__(hook).add_hook(lambda value, hook: seen.append(value.shape) or value)
    model(torch.tensor([[1, 2, 3]]))
    assert seen == [(1, SMALL.n_heads, 3, 3)]


# ------------------------------------------------------------------------------------------------------- config
@pytest.fixture
def without_runtime_type_checks():
    """A reader's run has no jaxtyping/beartype checks (pytest.ini adds them), so a bool field given 1 reaches the
    config's own check: these tests are about that check."""
    before = jaxtyping.config.jaxtyping_disable
    jaxtyping.config.update("jaxtyping_disable", True)
    yield
    jaxtyping.config.update("jaxtyping_disable", before)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(d_head=0), "d_head must be a positive integer or None, got 0"),
        (dict(d_head=True), "d_head must be a positive integer or None, got True"),
        (dict(attn_only=1), "attn_only must be True or False, got 1"),
        (dict(use_residual=0), "use_residual must be True or False, got 0"),
        (dict(act_fn="swish"), "unknown act_fn 'swish'; choose one of relu, gelu, gelu_new"),
        (dict(positional_embedding="rope"), "choose one of learned, sinusoidal, none"),
        (dict(d_model=6, n_heads=1, positional_embedding="sinusoidal"), None),  # even: fine
        (dict(d_model=7, n_heads=1, positional_embedding="sinusoidal"), "need an even d_model, got 7"),
        (dict(eps=True), "eps and init_range must be positive numbers, got True and 0.02"),
        (dict(init_range=True), "eps and init_range must be positive numbers, got 1e-05 and True"),
        (dict(init_range=0.0), "eps and init_range must be positive, got 1e-05 and 0.0"),
        (dict(eps=0.0), "eps and init_range must be positive, got 0.0 and 0.02"),
    ],
)
def test_each_config_check_at_its_boundary_with_its_message(change, message, without_runtime_type_checks):
    fields = dict(d_model=8, n_heads=2, d_vocab=10, n_ctx=6) | change
    if message is None:
        TransformerConfig(**fields)
        return
    with pytest.raises(ValueError) as error:
        TransformerConfig(**fields)
    assert message in str(error.value)


def test_with_recomputes_only_the_sizes_derived_from_what_changed():
    cfg = TransformerConfig(d_model=8, n_heads=2, d_head=3, d_mlp=5)
    assert (cfg.with_(seed=1).d_head, cfg.with_(seed=1).d_mlp) == (3, 5)  # nothing they derive from changed
    assert cfg.with_(n_heads=4).d_head == 2 and cfg.with_(n_heads=4).d_mlp == 5
    assert cfg.with_(n_heads=4, d_head=7).d_head == 7
    assert cfg.with_(d_model=16).d_head == 8 and cfg.with_(d_model=16).d_mlp == 64
    assert cfg.with_(d_model=16, d_mlp=5).d_mlp == 5 and cfg.with_(d_model=16, d_head=3).d_head == 3


def test_without_hooks_the_fused_kernels_run_and_a_hook_on_either_point_turns_them_off(monkeypatch):
    """The fast paths are what makes an unhooked forward cheap: F.layer_norm and one SDPA call per layer, and none of
    them once any hook watches the LayerNorm's or the attention's hook points."""
    from glassbox import components

    calls = {"layer_norm": 0, "scaled_dot_product_attention": 0}
    for name in calls:
        original = getattr(components.F, name)
        monkeypatch.setattr(
            components.F,
            name,
            lambda *a, _name=name, _f=original, **k: calls.__setitem__(_name, calls[_name] + 1) or _f(*a, **k),
        )
    model = Transformer(SMALL).eval()
    model(torch.tensor([[1, 2, 3]]))
    assert calls == {"layer_norm": 2 * 2 + 1, "scaled_dot_product_attention": 2}
    for hook in ("blocks.0.ln1.hook_scale", "blocks.0.ln1.hook_normalized"):
        calls.update(layer_norm=0)
        with model.hooks(fwd_hooks=[(hook, lambda x, hook: x)]):
            model(torch.tensor([[1, 2, 3]]))
        assert calls["layer_norm"] == 4, hook  # the hooked LayerNorm took its own path
    for hook in ("blocks.1.attn.hook_attn_scores", "blocks.1.attn.hook_pattern"):
        calls.update(scaled_dot_product_attention=0)
        with model.hooks(fwd_hooks=[(hook, lambda x, hook: x)]):
            model(torch.tensor([[1, 2, 3]]))
        assert calls["scaled_dot_product_attention"] == 1, hook


def test_accumulated_bias_lives_on_the_models_device():
    assert Transformer(SMALL.with_(device="meta")).accumulated_bias(1).device.type == "meta"
