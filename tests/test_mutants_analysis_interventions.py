"""Interventions (chapter 10), pinned where mutation testing found the suite silent: the components an attention-only
model has, the hook each component writes through, the recovery ratio's relative tolerance, the sentences of the
errors, and path_patch_frozen_heads as its docstring defines it (each later head alone as receiver, NaN rows up to
the sender's layer, keys by default) on a model of one head per layer."""

import math

import pytest
import torch
from glassbox.analysis import interventions
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


def small(attn_only: bool, n_layers: int = 2, n_heads: int = 2) -> Transformer:
    cfg = TransformerConfig(
        d_model=8, n_layers=n_layers, n_heads=n_heads, n_ctx=5, d_vocab=7, attn_only=attn_only, seed=0
    )
    return Transformer(cfg).eval()


def last_logit(logits: torch.Tensor) -> torch.Tensor:
    return logits[:, -1, 0].mean()


def test_components_of_an_attention_only_model_are_its_heads_and_layers():
    assert interventions.components(small(True)) == ["L0H0", "L0H1", "L0.attn", "L1H0", "L1H1", "L1.attn"]
    assert interventions.components(small(False, n_layers=1)) == ["L0H0", "L0H1", "L0.attn", "L0.mlp", "L0"]


def test_each_component_is_ablated_through_its_own_hook():
    model, tokens = small(False), torch.zeros(1, 5, dtype=torch.long)
    sites = {
        "L1H1": ["blocks.1.attn.hook_z"],
        "L0.attn": ["blocks.0.hook_attn_out"],
        "L1.mlp": ["blocks.1.hook_mlp_out"],
        "L0": ["blocks.0.hook_attn_out", "blocks.0.hook_mlp_out"],
    }
    for component, names in sites.items():
        assert [name for name, _ in interventions.ablation_hooks(model, component, "zero", tokens)] == names
    with pytest.raises(ValueError) as error:
        interventions.ablation_hooks(small(True), "L0.mlp", "zero", tokens)
    assert str(error.value) == "unknown component 'L0.mlp'; this model has L0H0, L0H1, L0.attn, L1H0, L1H1, L1.attn"


def test_recovery_ratio_by_hand_and_its_relative_tolerance():
    torch.testing.assert_close(interventions.recovery_ratio(torch.tensor([1.0, 3.0, 2.0]), 3.0, 1.0),
                               torch.tensor([0.0, 1.0, 0.5]))  # fmt: skip
    with pytest.raises(ValueError) as error:
        interventions.recovery_ratio(torch.tensor([1.0]), 2.5, 2.5)
    assert str(error.value) == (
        "clean and corrupted runs give the same metric (2.5): nothing to recover — "
        "choose a corruption that changes the metric"
    )
    # a metric of 10⁹ whose runs differ by 1 differ below float32's resolution: the same metric
    with pytest.raises(ValueError, match="the same metric"):
        interventions.recovery_ratio(torch.tensor([0.0]), 1e9, 1e9 + 1)
    assert interventions.recovery_ratio(torch.tensor([1e-6]), 1e-6, 0.0).item() == pytest.approx(1.0)


def test_patching_refuses_tokens_of_another_shape_in_one_sentence():
    model = small(True)
    with pytest.raises(ValueError) as error:
        interventions.patch_head_output(model, torch.zeros(2, 5, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long),
                                        last_logit)  # fmt: skip
    assert str(error.value) == "clean and corrupted tokens must have the same shape, got (2, 5) and (2, 4)"


def test_path_patching_names_the_heads_it_refuses():
    model, tokens = small(True, n_layers=3), torch.zeros(1, 5, dtype=torch.long)

    def refused(sender, receivers) -> str:
        with pytest.raises(ValueError) as error:
            interventions.path_patch_frozen(model, tokens, tokens, last_logit, sender, receivers)
        return str(error.value)

    assert refused((3, 0), [(2, 0)]) == "no head L3H0 in a model of 3 × 2 heads"
    assert refused((0, 0), [(2, 2)]) == "no head L2H2 in a model of 3 × 2 heads"
    assert refused((1, 0), []) == "path patching needs at least one receiver head"
    assert (
        refused((1, 0), [(0, 1), (1, 1), (2, 0)]) == "receivers must sit in a layer after the sender L1H0: L0H1, L1H1"
    )
    with pytest.raises(ValueError) as error:
        interventions.path_patch_frozen_heads(model, tokens, tokens, last_logit, (2, 1))
    assert str(error.value) == "the sender L2H1 is in the last layer: no head reads its output"


def test_path_patch_frozen_heads_is_each_later_head_alone_as_receiver_of_its_keys():
    model = small(False, n_layers=3, n_heads=1)  # one head a layer, MLPs and LayerNorm
    generator = torch.Generator().manual_seed(0)
    base, source = torch.randint(0, 7, (2, 3, 5), generator=generator)
    table = interventions.path_patch_frozen_heads(model, base, source, last_logit, (0, 0))
    assert table.shape == (3, 1) and math.isnan(table[0, 0])
    for layer in (1, 2):
        expected = interventions.path_patch_frozen(model, base, source, last_logit, (0, 0), [(layer, 0)], part="k")
        torch.testing.assert_close(table[layer, 0], expected)
    queries = interventions.path_patch_frozen_heads(model, base, source, last_logit, (0, 0), part="q")
    assert not torch.equal(queries[1:], table[1:])  # the default reads the keys, not the queries


def test_a_sender_in_the_second_last_layer_has_the_last_layer_as_receivers():
    model = small(True, n_layers=2)
    generator = torch.Generator().manual_seed(1)
    base, source = torch.randint(0, 7, (2, 3, 5), generator=generator)
    table = interventions.path_patch_frozen_heads(model, base, source, last_logit, (0, 1))
    assert table[0].isnan().all() and not table[1].isnan().any()
    for head in (0, 1):
        expected = interventions.path_patch_frozen(model, base, source, last_logit, (0, 1), [(1, head)])
        torch.testing.assert_close(table[1, head], expected)
