"""Interventions (chapter 10): the functions mutation testing could not reach while they were under
`@torch.no_grad()` (`ablation_hooks`, `rank_components`, `path_patch`, …), pinned from their docstrings: what each
kind of ablation puts in a head's z (zero; the mean over `reference`'s sequences, of any batch size; by default the
batch rolled by one for resample), only that head touched; each effect is metric(ablated) − metric(clean) for the
components asked for; path_patch's default edge is into the keys and equals the frozen procedure's denoising table;
and the sentences of the refusals."""

import pytest
import torch
from glassbox.analysis import interventions
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from jaxtyping import TypeCheckError


def small(attn_only: bool = True) -> Transformer:
    cfg = TransformerConfig(
        d_model=8,
        n_layers=2,
        n_heads=2,
        n_ctx=5,
        d_vocab=7,
        attn_only=attn_only,
        normalization_type=None,
        seed=0,
        init_range=0.5,  # large weights: every patch and ablation moves the metric visibly
    )
    return Transformer(cfg).eval()


def last_logit(logits: torch.Tensor) -> torch.Tensor:
    return logits[:, -1, 0].mean()


TOKENS = torch.tensor([[1, 2, 3, 4, 5], [6, 0, 1, 3, 2], [4, 4, 0, 6, 1]])  # three sequences: a roll by 1 ≠ by 2
Z = "blocks.0.attn.hook_z"


def z_under(model, hooks, tokens=TOKENS):
    with torch.no_grad(), model.hooks(fwd_hooks=hooks):
        _, cache = model.run_with_cache(tokens)
    return cache[Z]


def test_resample_by_default_gives_each_sequence_the_previous_ones_activation():
    model = small()
    clean = z_under(model, [])
    ablated = z_under(model, interventions.ablation_hooks(model, "L0H1", "resample", TOKENS))
    torch.testing.assert_close(ablated[:, :, 1], clean[[2, 0, 1], :, 1])  # sequence i gets sequence i − 1's
    torch.testing.assert_close(ablated[:, :, 0], clean[:, :, 0])  # the other head untouched


def test_resample_with_a_reference_takes_the_references_activation():
    model = small()
    reference = TOKENS.flip(0)
    ablated = z_under(model, interventions.ablation_hooks(model, "L0H0", "resample", TOKENS, reference))
    torch.testing.assert_close(ablated[:, :, 0], z_under(model, [], reference)[:, :, 0])


def test_mean_ablation_is_the_mean_over_the_references_sequences_at_each_position():
    model = small()
    clean = z_under(model, [])
    ablated = z_under(model, interventions.ablation_hooks(model, "L0H1", "mean", TOKENS))
    torch.testing.assert_close(ablated[:, :, 1], clean[:, :, 1].mean(0, keepdim=True).expand(3, -1, -1))
    torch.testing.assert_close(ablated[:, :, 0], clean[:, :, 0])
    reference = torch.tensor([[0, 1, 2, 3, 4], [5, 6, 0, 1, 2]])  # another batch size: allowed for the mean
    ablated = z_under(model, interventions.ablation_hooks(model, "L0H1", "mean", TOKENS, reference))
    expected = z_under(model, [], reference)[:, :, 1].mean(0, keepdim=True).expand(3, -1, -1)
    torch.testing.assert_close(ablated[:, :, 1], expected)


def test_ablation_refusals_are_one_sentence():
    model = small()
    with pytest.raises(ValueError) as error:
        interventions.ablation_hooks(model, "L0H0", "noise", TOKENS)
    assert str(error.value) == "kind must be one of zero, mean, resample, got 'noise'"
    with pytest.raises((ValueError, TypeCheckError)) as error:
        interventions.ablation_hooks(model, "L0H0", "resample", TOKENS, TOKENS[:2])
    if error.type is ValueError:  # jaxtyping's check may refuse first where the tests turn it on
        assert str(error.value) == "resample ablation needs reference tokens of shape (3, 5), got (2, 5)"


def by_hand_effect(model, component, kind, reference=None):
    """metric(ablated) − metric(clean), the ablation's hooks applied by hand."""
    with torch.no_grad():
        clean = last_logit(model(TOKENS)).item()
        with model.hooks(fwd_hooks=interventions.ablation_hooks(model, component, kind, TOKENS, reference)):
            return last_logit(model(TOKENS)).item() - clean


def test_rank_components_effects_are_ablated_minus_clean_by_zero_ablation_by_default():
    model = small(attn_only=False)
    ranking = interventions.rank_components(model, TOKENS, last_logit)
    assert sorted(ranking.names) == sorted(interventions.components(model))
    for name, effect in zip(ranking.names, ranking.effects.tolist(), strict=True):
        assert effect == pytest.approx(by_hand_effect(model, name, "zero"), abs=1e-5), name
    assert ranking.clean == pytest.approx(last_logit(model(TOKENS)).item(), abs=1e-6)
    sizes = ranking.effects.abs()
    assert (sizes[:-1] >= sizes[1:]).all(), "largest |effect| first"


def test_rank_components_ablates_only_the_names_asked_for_with_the_reference_given():
    model = small()
    reference = TOKENS.flip(0)
    ranking = interventions.rank_components(model, TOKENS, last_logit, "resample", ["L1H0", "L0H1"], reference)
    assert sorted(ranking.names) == ["L0H1", "L1H0"]
    for name, effect in zip(ranking.names, ranking.effects.tolist(), strict=True):
        assert effect == pytest.approx(by_hand_effect(model, name, "resample", reference), abs=1e-5), name


def test_path_patch_default_is_the_keys_and_equals_frozen_denoising():
    model = small()
    clean, corrupted = TOKENS, TOKENS.flip(1)
    table = interventions.path_patch(model, clean, corrupted, last_logit, (0, 0))
    frozen = interventions.path_patch_frozen_heads(model, corrupted, clean, last_logit, (0, 0), part="k")
    torch.testing.assert_close(table, frozen, equal_nan=True, atol=1e-5, rtol=1e-5)
    assert table[0].isnan().all() and not table[1].isnan().any()
    queries = interventions.path_patch(model, clean, corrupted, last_logit, (0, 0), component="q")
    assert not torch.allclose(table[1], queries[1]), "keys and queries give other tables"


def test_path_patch_refusals_are_one_sentence():
    model = small()
    for sender in [(2, 0), (0, 2), (-1, 0), (0, -1), (5, 0)]:
        with pytest.raises(ValueError) as error:
            interventions.path_patch(model, TOKENS, TOKENS, last_logit, sender)
        assert str(error.value) == f"no head L{sender[0]}H{sender[1]} in a model of 2 × 2 heads"
    with pytest.raises(ValueError) as error:
        interventions.path_patch(
            Transformer(model.cfg.with_(normalization_type="LN")), TOKENS, TOKENS, last_logit, (0, 0)
        )
    assert str(error.value) == "path_patch adds to a head's q/k/v directly, which needs a model without LayerNorm"
