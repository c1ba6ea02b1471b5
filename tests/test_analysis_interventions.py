"""Ablation and activation patching: known answers, clear errors, and the same numbers as transformer_lens.patching."""

import pytest
import torch
import transformer_lens.patching as tl_patching
from glassbox.analysis import interventions
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


@pytest.fixture(scope="module")
def model() -> Transformer:
    cfg = TransformerConfig(d_model=16, n_layers=2, n_heads=2, d_vocab=13, n_ctx=8, seed=0)
    model = Transformer(cfg)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_((1.0 if name.endswith(".w") else 0.0) + 0.3 * torch.randn(param.shape, generator=generator))
    return model.eval()


@pytest.fixture(scope="module")
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    clean = torch.randint(0, 13, (4, 6), generator=torch.Generator().manual_seed(0))
    corrupted = clean.clone()
    corrupted[:, 2] = (clean[:, 2] + 5) % 13  # only position 2 differs
    return clean, corrupted


def last_logit(logits: torch.Tensor) -> torch.Tensor:
    return logits[:, -1, 0].mean()


def test_components_and_unknown_names(model):
    assert interventions.components(model)[:3] == ["L0H0", "L0H1", "L0.attn"]
    assert "L1.mlp" in interventions.components(model) and "L1" in interventions.components(model)
    with pytest.raises(ValueError, match="unknown component 'L2H0'"):
        interventions.ablation_hooks(model, "L2H0", "zero", torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="kind must be one of"):
        interventions.ablation_hooks(model, "L0H0", "random", torch.zeros(1, 3, dtype=torch.long))


def test_zero_ablating_every_layer_leaves_only_embedding_and_unembedding(model, pair):
    tokens = pair[0]
    hooks = [h for layer in range(2) for h in interventions.ablation_hooks(model, f"L{layer}", "zero", tokens)]
    with torch.no_grad(), model.hooks(fwd_hooks=hooks):
        ablated = model(tokens)
    expected = model.unembed(model.ln_final(model.embed_tokens(tokens)))
    torch.testing.assert_close(ablated, expected)
    assert not model._forward_hooks and all(not m._forward_hooks for m in model.modules())  # hooks removed


def test_zero_ablating_a_head_zeroes_its_z_only(model, pair):
    tokens = pair[0]
    hooks = interventions.ablation_hooks(model, "L1H1", "zero", tokens)
    _, cache = model.run_with_cache(tokens)
    with model.hooks(fwd_hooks=hooks):
        _, ablated = model.run_with_cache(tokens)
    assert ablated["blocks.1.attn.hook_z"][:, :, 1].abs().sum() == 0
    torch.testing.assert_close(ablated["blocks.1.attn.hook_z"][:, :, 0], cache["blocks.1.attn.hook_z"][:, :, 0])


def test_mean_and_resample_ablation_change_nothing_when_all_sequences_agree(model):
    tokens = torch.tensor([[1, 2, 3, 4]] * 3)
    clean = model(tokens)
    for kind in ("mean", "resample"):
        with torch.no_grad(), model.hooks(fwd_hooks=interventions.ablation_hooks(model, "L0", kind, tokens)):
            torch.testing.assert_close(model(tokens), clean)


def test_ranking_is_sorted_by_size_of_effect(model, pair):
    ranking = interventions.rank_components(model, pair[0], last_logit, kind="mean")
    assert sorted(ranking.names) == sorted(interventions.components(model))
    sizes = ranking.effects.abs()
    assert torch.all(sizes[:-1] >= sizes[1:])
    assert ranking.clean == pytest.approx(last_logit(model(pair[0])).item())


def test_patching_the_one_corrupted_position_restores_everything(model, pair):
    clean, corrupted = pair
    patched = interventions.patch_residual(model, clean, corrupted, last_logit)
    ratio = interventions.recovery_ratio(patched, last_logit(model(clean)).item(), last_logit(model(corrupted)).item())
    torch.testing.assert_close(ratio[0, 2], torch.tensor(1.0))
    torch.testing.assert_close(ratio[0, [0, 1, 3, 4]], torch.zeros(4))  # nothing to fix there


def test_patching_equals_transformer_lens(model, pair):
    clean, corrupted = pair
    _, clean_cache = model.run_with_cache(clean)
    torch.testing.assert_close(
        interventions.patch_residual(model, clean, corrupted, last_logit),
        tl_patching.get_act_patch_resid_pre(model, corrupted, clean_cache, last_logit),
    )
    torch.testing.assert_close(
        interventions.patch_head_output(model, clean, corrupted, last_logit),
        tl_patching.get_act_patch_attn_head_out_all_pos(model, corrupted, clean_cache, last_logit),
    )
    torch.testing.assert_close(
        interventions.patch_head_pattern(model, clean, corrupted, last_logit),
        tl_patching.get_act_patch_attn_head_pattern_all_pos(model, corrupted, clean_cache, last_logit),
    )


@pytest.mark.parametrize("part", ["q", "k", "v"])
def test_head_input_patching_equals_transformer_lens(model, pair, part):
    clean, corrupted = pair
    _, clean_cache = model.run_with_cache(clean)
    ours = interventions.patch_head_input(model, corrupted, clean_cache, last_logit, part)
    tl_function = getattr(tl_patching, f"get_act_patch_attn_head_{part}_all_pos")
    torch.testing.assert_close(ours, tl_function(model, corrupted, clean_cache, last_logit))
    assert len(model.mod_dict["blocks.0.attn.hook_q"].fwd_hooks) == 0, "patch_head_input must remove its hooks"


def test_head_input_patching_refuses_an_unknown_part(model, pair):
    clean, corrupted = pair
    _, clean_cache = model.run_with_cache(clean)
    with pytest.raises(ValueError, match="part must be 'q', 'k' or 'v', got 'z'"):
        interventions.patch_head_input(model, corrupted, clean_cache, last_logit, "z")


def test_recovery_ratio_refuses_equal_clean_and_corrupted_metrics():
    with pytest.raises(ValueError, match="same metric"):
        interventions.recovery_ratio(torch.tensor([0.5]), 1.0, 1.0)
    torch.testing.assert_close(
        interventions.recovery_ratio(torch.tensor([1.0, 3.0, 2.0]), 3.0, 1.0), torch.tensor([0.0, 1.0, 0.5])
    )


def test_patching_needs_matching_shapes(model):
    with pytest.raises(ValueError, match="same shape"):
        interventions.patch_residual(
            model, torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 4, dtype=torch.long), last_logit
        )


PATCHING_FUNCTIONS = sorted(name for name in dir(tl_patching) if name.startswith("get_act_patch"))
DIRECT_PATH = {"get_act_patch_direct_path", "get_act_patch_direct_path_all_sources"}


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in PATCHING_FUNCTIONS if n not in DIRECT_PATH])
def test_every_transformer_lens_patching_function_runs_on_our_model(model, pair, name):
    """Each get_act_patch_* runs on our Transformer (key/value head patching reads cfg.n_key_value_heads), and a patch
    at a position before the one corruption changes nothing: the metric stays the corrupted run's."""
    clean, corrupted = pair
    _, clean_cache = model.run_with_cache(clean)
    with torch.no_grad():
        corrupted_value = last_logit(model(corrupted)).item()
    result = getattr(tl_patching, name)(model, corrupted, clean_cache, last_logit)
    assert isinstance(result, torch.Tensor) and torch.isfinite(result).all(), f"{name} gave {result!r}"
    assert result.shape[-1] in (model.cfg.n_heads, clean.shape[1]), f"{name}: unexpected shape {tuple(result.shape)}"
    # the first two positions are identical in both runs: a patch there, on any position axis, is a no-op
    pos_axis = {"by_pos": -2 if "pattern" not in name else -1, "resid": -1, "attn_out": -1, "mlp_out": -1}
    axis = next((a for key, a in pos_axis.items() if key in name), None)
    if axis is not None and "dest_src" not in name and "every" not in name:
        before = result.movedim(axis, 0)[:2]
        torch.testing.assert_close(before, torch.full_like(before, corrupted_value), msg=f"{name}: early patch changed")


def test_direct_path_patching_is_the_one_exception_and_says_why(model, pair):
    """TransformerLens's direct-path patching needs a hook before the Q/K/V projections (`use_split_qkv_input`), which
    neither our Transformer nor a bridge of its weights has; `interventions.path_patch` does that edge instead."""
    clean, corrupted = pair
    _, clean_cache = model.run_with_cache(clean)
    _, corrupted_cache = model.run_with_cache(corrupted)
    with pytest.raises(AttributeError, match="split_qkv_input"):
        tl_patching.get_act_patch_direct_path(model, corrupted, clean_cache, corrupted_cache, last_logit, 0, 0)


def attention_only() -> Transformer:
    cfg = TransformerConfig(
        d_model=16, n_layers=2, n_heads=2, d_vocab=13, n_ctx=8, attn_only=True, normalization_type=None, seed=0
    )
    model = Transformer(cfg)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(0.5 * torch.randn(param.shape, generator=generator))
    return model.eval()


def test_path_patching_and_attribution_patching(pair):
    """Path patching fills only the rows after the sender's layer and changes the metric there; it refuses other
    components and models with LayerNorm. Attribution patching is exact for the last layer's heads, which write
    linearly into the logits."""
    from glassbox.analysis import attribution

    model = attention_only()
    clean, corrupted = pair
    edge = interventions.path_patch(model, clean, corrupted, last_logit, (0, 1), "k")
    assert torch.isnan(edge[0]).all() and torch.isfinite(edge[1]).all()
    with torch.no_grad():
        corrupted_value = last_logit(model(corrupted)).item()
    assert (edge[1] - corrupted_value).abs().max() > 1e-4, "the edge changed nothing"
    with pytest.raises(ValueError, match="component"):
        interventions.path_patch(model, clean, corrupted, last_logit, (0, 1), "z")
    with pytest.raises(ValueError, match="LayerNorm"):
        interventions.path_patch(
            Transformer(TransformerConfig(d_model=16, n_heads=2, d_vocab=13, n_ctx=8)),
            clean,
            corrupted,
            last_logit,
            (0, 0),
        )
    # attribution patching is exact for the last layer's heads (linear into the logits), not in general for layer 0
    exact = interventions.patch_head_output(model, clean, corrupted, last_logit)
    estimate = attribution.attribution_patch_heads(model, clean, corrupted, last_logit)
    torch.testing.assert_close(estimate[1], exact[1], atol=1e-4, rtol=1e-4)


def test_direct_logit_attribution_adds_up_to_the_logit_difference():
    from glassbox.analysis import attribution

    model = attention_only()
    tokens = torch.randint(0, 13, (5, 6), generator=torch.Generator().manual_seed(4))
    correct, wrong = tokens[:, 0], (tokens[:, 0] + 1) % 13
    labels, parts = attribution.head_components(model, tokens, pos=4)
    assert labels[0] == "embed" and labels[-1] == "biases" and len(labels) == 2 + 2 * 2
    dla = attribution.direct_logit_attribution(parts, attribution.logit_diff_directions(model.W_U, correct, wrong))
    with torch.no_grad():
        logits = model(tokens)[:, 4]
    diff = (logits.gather(1, correct[:, None]) - logits.gather(1, wrong[:, None])).mean()
    b_U = (model.b_U[correct] - model.b_U[wrong]).mean()
    torch.testing.assert_close(dla.sum() + b_U, diff, atol=1e-4, rtol=1e-4)
    with pytest.raises(
        (ValueError, TypeError)
    ):  # our ValueError, or jaxtyping's check under the tests' instrumentation
        attribution.direct_logit_attribution(parts[:, :2], attribution.logit_diff_directions(model.W_U, correct, wrong))
