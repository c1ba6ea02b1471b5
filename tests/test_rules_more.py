"""The seed project's seven further rules (chapter 7b): each rule by hand, its setup's model, a short training run
of each setup, the command line for each, and the figures for models whose stream is not a plane."""

import numpy as np
import pytest
import torch
from glassbox import rules
from glassbox.plots import gallery as gallery_plots
from glassbox.plots.core import MIN_POINTS, smallest_text
from glassbox.rules import cli, get_rule
from glassbox.train import TrainConfig

SMOKE = rules.Recipe(16, TrainConfig(steps=5, lr=1e-2, eval_every=5, eval_batches=1, progress=False))


def test_each_rule_by_hand():
    index, to_odd = get_rule("odd_even_index"), get_rule("even_to_odd_transition")
    assert index.verify([0, 3, 20, 19]) and not index.verify([0, 3, 20, 18]) and not index.verify([1, 3])
    assert to_odd.verify([4, 7, 7, 8, 1]) and not to_odd.verify([4, 8]) and to_odd.allowed([3], 1) is None
    repeat = get_rule("even_repeat_last_odd")
    assert repeat.target([5, 2], 2) == 5 and repeat.allowed([2, 4], 2) is None  # no odd number yet: free
    assert repeat.target([5, 7, 4], 3) == 7 and not repeat.verify([5, 7, 4, 5])
    diff = get_rule("even_abs_diff")
    assert diff.target([3, 10], 2) == 7 and diff.target([12, 4], 2) == 8 and diff.allowed([3, 5], 2) is None
    assert diff.allowed([4], 1) is None  # from the third position on
    above = get_rule("even_greater_than_10")
    assert above.allowed([4], 1) == frozenset(range(11, 21)) and above.allowed([5], 1) == frozenset(range(10))
    assert not above.verify([4, 10]) and not above.verify([5, 10])  # 10 follows neither
    parity, two = get_rule("parity_based"), get_rule("two_token_parity")
    assert parity.allowed([2, 4], 2) == frozenset(parity.evens) and parity.allowed([2, 3], 2) == frozenset(parity.odds)
    assert two.allowed([1, 3], 2) == frozenset(range(10)) and two.allowed([1, 2], 2) == frozenset(range(10, 21))
    assert parity.allowed([2], 1) is None and two.allowed([2], 1) is None


def test_the_repeat_rule_groups_cases_by_the_window():
    rule = get_rule("even_repeat_last_odd")
    sequence = [5] + [2] * 20
    assert rule.accuracy_group(sequence, 3, n_ctx=12) == "inside the window"
    assert rule.accuracy_group(sequence, 20, n_ctx=12) == "outside the window"  # an unlearnable group


@pytest.mark.slow
@pytest.mark.parametrize("name", rules.MORE_GALLERY)
def test_each_new_setup_builds_and_trains(name):
    setup = rules.get_setup(name)
    rule = get_rule(setup.rule)
    cfg = setup.model_config(rule.d_vocab)
    assert (cfg.d_model, cfg.n_heads, cfg.n_heads * cfg.d_head) == (setup.d_model, setup.n_heads, setup.d_model)
    run = rules.train_rule(name, SMOKE, setup=setup, progress=False)
    assert len(run.history.train_loss) == 5 and np.isfinite(run.history.train_loss).all()
    accuracy = rules.rule_accuracy(run.model, rule.generate(5, np.random.default_rng(1)), rule)
    assert 0 <= accuracy.learnable <= 1


def test_setups_refuse_heads_that_do_not_divide_the_stream():
    with pytest.raises(ValueError, match="d_model \\(3\\) must be a multiple of n_heads \\(2\\)"):
        rules.Setup("parity_based", d_model=3, n_heads=2).model_config(21)


@pytest.mark.slow
@pytest.mark.parametrize("name", rules.MORE_GALLERY)
def test_the_command_line_accepts_each_new_rule(name, tmp_path, capsys):
    out = tmp_path / name
    assert cli.main([name, "--out", str(out), "--steps", "3", "--no-gifs", "--figure", "02"]) == 0
    assert "rule accuracy on the learnable cases" in capsys.readouterr().out
    assert rules.load_run(out).setup == rules.get_setup(name)


def _trained(name: str):
    torch.manual_seed(0)
    return rules.train_rule(name, SMOKE, progress=False)


@pytest.mark.slow
def test_line_landscape_for_a_one_dimensional_model():
    run = _trained("even_to_odd_transition")
    probabilities = gallery_plots.line_probabilities(run.model, run.rule.odds, np.linspace(-3, 3, 7))
    assert probabilities.shape == (7,) and ((0 <= probabilities) & (probabilities <= 1)).all()
    fig = gallery_plots.line_landscape(run.model, run.rule, run.rule.odds, "odd")
    assert smallest_text(fig)[0] >= MIN_POINTS
    with pytest.raises(ValueError, match="needs a model with d_model = 1, got 2"):
        gallery_plots.line_landscape(_trained("two_token_parity").model, run.rule, [1], "odd")


@pytest.mark.slow
def test_pca_and_attention_figures_for_wider_models():
    points, share = gallery_plots.pca(np.array([[1.0, 0, 0], [-1, 0, 0], [0, 0.5, 0], [0, -0.5, 0]]))
    assert np.allclose(share, [0.8, 0.2]) and np.allclose(np.abs(points[:, 0]), [1, 1, 0, 0])
    run = _trained("even_repeat_last_odd")
    for fig in (
        gallery_plots.embedding_pca(run.model, run.rule),
        gallery_plots.attention_windows(run.model, run.rule, run.data.val[0][:12]),
    ):
        assert smallest_text(fig)[0] >= MIN_POINTS


@pytest.mark.slow
def test_the_seed_recipe_benchmark_compares_like_with_like():
    """benchmarks/seed_recipe.py swaps initial weights between the seed's plain model and ours: the copy must make
    the two compute the same function, and chapter 7's stored runs must hold every variant it reads."""
    import importlib.util
    import json
    from importlib import resources
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "seed_recipe.py"
    spec = importlib.util.spec_from_file_location("seed_recipe", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    torch.manual_seed(3)
    plain, ours = bench.SeedModel(), bench.our_model(seed=5)
    tokens = torch.randint(0, 12, (4, 8))
    assert not torch.allclose(plain(tokens), ours(tokens), atol=1e-3)
    bench.copy_weights(plain, ours, to_ours=True)
    torch.testing.assert_close(plain(tokens), ours(tokens), atol=1e-5, rtol=1e-5)
    ours = bench.our_model(seed=6)
    bench.copy_weights(plain, ours, to_ours=False)
    torch.testing.assert_close(plain(tokens), ours(tokens), atol=1e-5, rtol=1e-5)
    stored = json.loads((resources.files("glassbox.rules") / "seed_recipe.json").read_text())
    variants = {(run["variant"], run["seed"]) for run in stored["runs"]}
    assert {("ours", 0), ("plain", 0), ("ours from plain's init", 0), ("plain from our init", 0)} <= variants
