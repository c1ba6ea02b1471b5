"""Bad input to the model and its config ends in one ValueError naming what was wrong (issue: a library readers can
use), never a TypeError from deep inside torch or a silent wrong answer."""

from __future__ import annotations

import re

import pytest
import torch
from glassbox.config import TransformerConfig
from glassbox.model import Transformer

SMALL = dict(d_model=8, n_heads=2, d_vocab=10, n_ctx=8)


# Only values that the fields' annotations admit (bool is an int to Python): the tests run with jaxtyping's run-time
# type checks, which reject a str or a float before the config sees it; a reader's run has no such checks, and
# __post_init__ names those too.
@pytest.mark.parametrize(
    ("change", "named"),
    [
        (dict(n_heads=True), "n_heads must be a positive integer"),
        (dict(d_mlp=False), "d_mlp must be a positive integer or None"),
        (dict(seed=True), "seed must be an integer or None"),
        (dict(eps=0.0), "eps and init_range must be positive"),
        (dict(init_range=-1.0), "eps and init_range must be positive"),
    ],
)
def test_a_bad_config_field_is_one_line(change, named):
    with pytest.raises(ValueError, match=named):
        TransformerConfig(**{**SMALL, **change})


@pytest.mark.parametrize("tokens", ["hello", [1.5, 2.0], {"a": 1}])
def test_text_or_floats_given_as_tokens_is_a_value_error(tokens):
    model = Transformer(TransformerConfig(**SMALL))
    with pytest.raises(ValueError, match="tokens must be integer ids"):
        model(tokens)


@pytest.mark.parametrize("n", [-3, True])
def test_a_bad_max_new_tokens_is_a_value_error(n):
    model = Transformer(TransformerConfig(**SMALL))
    with pytest.raises(ValueError, match="max_new_tokens must be a whole number"):
        model.generate(torch.tensor([1, 2]), n)


def test_zero_new_tokens_returns_the_prompt():
    model = Transformer(TransformerConfig(**SMALL))
    assert model.generate(torch.tensor([[1, 2]]), 0).tolist() == [[1, 2]]


def test_an_unseeded_sample_differs_from_call_to_call():
    model = Transformer(TransformerConfig(**SMALL))
    samples = {
        tuple(model.generate(torch.tensor([[1, 2]]), 12, temperature=2.0, seed=None)[0].tolist()) for _ in range(4)
    }
    assert len(samples) > 1, "seed=None must not give the same sample every call"
    seeded = {tuple(model.generate(torch.tensor([[1, 2]]), 12, temperature=2.0, seed=3)[0].tolist()) for _ in range(2)}
    assert len(seeded) == 1


# The command line (python -m glassbox.rules): each bad setting, from a flag or a TOML file, is one line from argparse
# before anything trains, never a traceback from inside training.
@pytest.mark.parametrize(
    ("args", "toml", "named"),
    [
        (["--lr", "-1"], None, "lr must be positive, got -1.0"),
        (["--lr", "nan"], None, "lr must be a number, got nan"),
        (["--n-sequences", "1"], None, "n-sequences must be at least 10"),
        (["--n-ctx", "40"], None, "n-ctx must be at most 19 for plus_last_even"),
        (["--seed", "-2"], None, "seed must be 0 or more"),
        (["--steps", "0"], None, "steps must be at least 1"),
        ([], 'd_model = "2"', "d-model must be a whole number, got '2'"),
        ([], 'lr_schedule = "linear"', "lr_schedule must be 'constant' or 'cosine', got 'linear'"),
        ([], "n_heads = 3", r"d-model \(2\) must be a multiple of n-heads \(3\)"),
        ([], "use_residual = 1", "use_residual must be true or false"),
        ([], "weight_decay = -0.5", "weight-decay must be 0 or more"),
    ],
)
def test_a_bad_command_line_setting_is_one_line(args, toml, named, tmp_path, capsys):
    from glassbox.rules.cli import main

    if toml is not None:
        (tmp_path / "bad.toml").write_text(toml + "\n")
        args = [*args, "--config", str(tmp_path / "bad.toml")]
    with pytest.raises(SystemExit) as exit_:
        main(["plus_last_even", *args, "--out", str(tmp_path / "run"), "--no-gifs"])
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert re.search(named, lines[-1]), lines[-1]
    assert "Traceback" not in "\n".join(lines)
    assert not (tmp_path / "run").exists(), "nothing may be trained or written for a bad setting"


def test_remember_refuses_a_model_that_is_not_the_recipes(tmp_path, monkeypatch):
    """Chapter 11's `remember(model)` files a model under the recipe's key: a 3-layer model would break chapters 9
    and 10 later, so it is refused when it is given, and nothing is written."""
    from dataclasses import replace

    from glassbox import induction

    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))
    wrong = Transformer(replace(induction.INDUCTION_RECIPE.model_config(), n_layers=3))
    with pytest.raises(ValueError, match="the model's config is not the recipe's"):
        induction.remember(wrong)
    assert not any(tmp_path.iterdir())
    induction.remember(Transformer(induction.INDUCTION_RECIPE.model_config()))  # the recipe's own shape is kept
    assert any(tmp_path.iterdir())


def test_a_saved_run_is_plain_data_that_survives_a_move(tmp_path):
    """The command line's run.pt: read with weights_only=True (a file from elsewhere cannot run code), checkpoint paths
    relative to the run folder (a moved or renamed folder still draws every step), and a file that cannot be read is one
    line naming it."""
    import shutil
    from dataclasses import replace

    import torch
    from glassbox.rules.gallery import FAST_RECIPE, Recipe
    from glassbox.rules.training import load_run, save_run, train_rule
    from glassbox.train import TrainConfig

    recipe = Recipe(8, TrainConfig(steps=4, eval_every=2, checkpoint_every=2, progress=False))
    assert recipe.batch_size != FAST_RECIPE.batch_size or recipe.train != FAST_RECIPE.train
    run = train_rule("lucky7", recipe, checkpoint_dir=tmp_path / "first" / "checkpoints")
    save_run(run, tmp_path / "first")
    assert isinstance(torch.load(tmp_path / "first" / "run.pt", weights_only=True), dict)
    before = {step: run.at_step(step).state_dict() for step in run.history.checkpoints}
    shutil.move(tmp_path / "first", tmp_path / "moved")
    loaded = load_run(tmp_path / "moved")
    assert replace(loaded.recipe.train, checkpoint_dir=None) == replace(run.recipe.train, checkpoint_dir=None)
    assert loaded.recipe.batch_size == run.recipe.batch_size
    if run.recipe.train.checkpoint_dir is not None:
        assert loaded.recipe.train.checkpoint_dir == tmp_path / "moved" / "checkpoints"
    assert sorted(loaded.history.checkpoints) == [0, 2, 4]  # the initial weights too
    for step in (0, 2, 4):
        torch.testing.assert_close(loaded.at_step(step).state_dict(), before[step], rtol=0, atol=0)
    assert loaded.data.train == run.data.train and loaded.history.val_loss == run.history.val_loss

    (tmp_path / "moved" / "run.pt").write_bytes(b"not a run")
    with pytest.raises(ValueError, match=r"cannot read the run saved in .*run\.pt"):
        load_run(tmp_path / "moved")
    torch.save({"name": "lucky7"}, tmp_path / "moved" / "run.pt")  # an older version's file
    with pytest.raises(ValueError, match="not a run saved by this version"):
        load_run(tmp_path / "moved")


def test_a_weight_an_attention_only_model_lacks_is_named():
    """`model.W_in` of an attention-only model says why, not "'Transformer' object has no attribute 'W_in'" (an
    AttributeError inside a property used to be replaced by nn.Module's own)."""
    model = Transformer(TransformerConfig(**SMALL, attn_only=True))
    with pytest.raises(AttributeError, match=r"this model has no mlp\.W_in \(attn_only=True\)"):
        _ = model.W_in
    assert not hasattr(model, "W_out") and hasattr(model, "W_Q")
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        _ = model.nonsense
