"""Training and measuring glass-box models: the 250-parameter model, windows one token longer than the context,
teacher-forced predictions, rule accuracy on a hand-made case, and the command line."""

from dataclasses import dataclass, replace

import numpy as np
import pytest
import torch
from glassbox import rules
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from glassbox.rules import PlusLastEven, cli, get_rule
from glassbox.train import TrainConfig

TINY = rules.Recipe(
    16, TrainConfig(steps=20, lr=1e-2, eval_every=10, eval_batches=1, checkpoint_every=10, progress=False)
)


def test_the_plus_last_even_model_has_250_parameters():
    rule = get_rule("plus_last_even")
    model = Transformer(rules.get_setup("plus_last_even").model_config(rule.d_vocab))
    assert sum(p.numel() for p in model.parameters()) == 250
    cfg = model.cfg
    assert (cfg.d_model, cfg.n_heads, cfg.d_head, cfg.n_ctx, cfg.d_mlp) == (2, 1, 2, 8, 32)
    assert cfg.normalization_type is None and not cfg.attn_bias and not cfg.attn_out_proj


def test_windows_are_one_token_longer_than_the_context():
    sequences = [list(range(20)), list(range(100, 130))]
    batch = rules.window_sampler(sequences, 8, 32)(torch.Generator().manual_seed(0))
    assert batch.shape == (32, 9)
    assert (batch[:, 1:] - batch[:, :-1] == 1).all(), "a window is consecutive tokens of one sequence"
    assert rules.all_windows(sequences, 8).shape == (12 + 22, 9)


def test_teacher_forced_logits_equal_the_model_on_each_window():
    model = Transformer(TransformerConfig(d_model=4, n_layers=1, n_heads=1, d_vocab=12, n_ctx=8, seed=1))
    sequence = np.random.default_rng(0).integers(0, 12, 20).tolist()
    logits = rules.next_token_logits(model, [sequence])[0]
    assert logits.shape == (19, 12)
    with torch.no_grad():
        torch.testing.assert_close(logits[3], model(torch.tensor(sequence[:8])[None])[0, 3])
        torch.testing.assert_close(logits[15], model(torch.tensor(sequence[8:16])[None])[0, -1])


@dataclass
class _Cfg:
    n_ctx: int
    d_vocab: int


class LatestEvenOracle(torch.nn.Module):
    """Predicts, after a `+`, the latest even number in its window — and 0 everywhere else."""

    def __init__(self, rule, n_ctx):
        super().__init__()
        self.rule, self.cfg = rule, _Cfg(n_ctx, rule.d_vocab)

    def forward(self, windows):
        logits = torch.zeros(*windows.shape, self.rule.d_vocab)
        for b, window in enumerate(windows.tolist()):
            for p in range(len(window)):
                j = self.rule.last_even(window, p) if window[p] == self.rule.plus else None
                logits[b, p, window[j] if j is not None else 0] = 1.0
        return logits


def test_rule_accuracy_on_a_hand_made_case():
    rule = PlusLastEven()
    # context 4. Constrained positions: after each `+`.
    #   index 2: latest even 4 at index 0, inside the window      -> the oracle says 4: right
    #   index 8: latest even 4 at index 3, outside (window 4…7)   -> the oracle sees none, says 0: wrong
    #   index 1 of the second: no even number at all, target 6    -> the oracle says 0: wrong
    #   index 4 of the second: latest even 6 at index 1, inside   -> right
    sequences = [rule.encode("4 + 4 4 1 3 5 + 4 1"), rule.encode("+ 6 1 + 6 3")]
    assert all(rule.verify(s) for s in sequences)
    accuracy = rules.rule_accuracy(LatestEvenOracle(rule, 4), sequences, rule)
    assert accuracy.counts == {"inside the window": 2, "outside the window": 1, "no even number": 1}
    assert accuracy.correct == {"inside the window": 2, "outside the window": 0, "no even number": 0}
    assert accuracy.overall == 0.5 and accuracy.learnable == 1.0
    with pytest.raises(ValueError, match="no group 'elsewhere'"):
        accuracy.accuracy("elsewhere")


def test_any_allowed_token_counts_for_rules_with_a_free_choice():
    rule = get_rule("plus_means_even")
    sequences = [rule.encode("1 + 4 3 + 8")]  # the oracle says 0 after each +: even, so right
    accuracy = rules.rule_accuracy(LatestEvenOracle(PlusLastEven(), 4), sequences, rule)
    assert accuracy.correct == accuracy.counts == {"constrained": 2}


@pytest.mark.slow
def test_training_records_rule_error_and_checkpoints(tmp_path):
    run = rules.train_rule("successor", TINY, checkpoint_dir=tmp_path / "ckpt")
    assert run.history.eval_steps == [0, 10, 20] and len(run.history.metrics["rule_error"]) == 3
    assert sorted(run.history.checkpoints) == [0, 10, 20]
    assert not torch.equal(run.at_step(0).W_E, run.model.W_E)
    with pytest.raises(ValueError, match="no checkpoint at step 5"):
        run.at_step(5)


@pytest.mark.slow
def test_command_line_trains_saves_and_redraws(tmp_path, capsys):
    out = tmp_path / "step_back"  # d_model 4: the figures that do not need a plane (the 2-D ones are
    assert cli.main(["step_back", "--out", str(out), "--steps", "20"]) == 0  # tested in test_plots_planar)
    assert (out / "run.pt").exists() and sorted(p.name for p in out.glob("*.png")) == [
        "01_architecture.png",
        "02_learning_curve.png",
        "03_training_data.png",
        "04_generated_sequences.png",
        "05_token_embeddings_pca.png",
        "08_2_qkv_per_dimension.png",
        "13_attention_per_head.png",
        "supplementary_14_attention_matrix.png",
    ]
    printed = capsys.readouterr().out
    assert "rule accuracy on the learnable cases of 300 fresh sequences" in printed
    assert "not drawn for d_model=4 (they draw a plane): 05_token_embeddings, " in printed
    (out / "02_learning_curve.png").unlink()
    assert cli.main(["step_back", "--out", str(out), "--figures-only"]) == 0
    assert (out / "02_learning_curve.png").exists()


@pytest.mark.slow
def test_command_line_draws_chosen_figures_at_a_chosen_step_from_settings(tmp_path, capsys):
    out, config = tmp_path / "run", tmp_path / "lucky7.toml"
    config.write_text("steps = 20\nd_mlp = 8\nlr = 0.01\n")
    argv = ["lucky7", "--out", str(out), "--config", str(config), "--batch-size", "16", "--no-gifs", "--figure", "01"]
    assert cli.main(argv) == 0
    run = rules.load_run(out)  # the settings travel with the run
    assert (run.setup.d_mlp, run.recipe.batch_size, run.recipe.train.steps, run.recipe.train.lr) == (8, 16, 20, 0.01)
    assert [p.name for p in out.glob("*.png")] == ["01_architecture.png"]
    assert "(gallery recipe)" in capsys.readouterr().out  # chapter 7's recipe, so the numbers are the chapter's
    steps = sorted(run.history.checkpoints)
    assert cli.main(["lucky7", "--out", str(out), "--figures-only", "--step", str(steps[0]), "--figure", "02"]) == 0
    assert f"lucky7 at step {steps[0]}:" in capsys.readouterr().out


@pytest.mark.slow
def test_a_command_line_run_loads_in_another_process(tmp_path):
    """`python -m glassbox.rules` runs cli as __main__; what it saves must not name __main__ (it did: Recipe)."""
    import subprocess
    import sys

    out = tmp_path / "run"
    args = [sys.executable, "-m", "glassbox.rules", "step_back", "--out", str(out), "--steps", "2", "--no-gifs"]
    subprocess.run([*args, "--figure", "01"], check=True, capture_output=True)
    assert rules.load_run(out).recipe.train.steps == 2


@pytest.mark.slow  # trains a run and draws a figure to test the errors about it
def test_command_line_errors_name_the_problem(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["nope"])
    assert "unknown rule 'nope'; known rules: plus_last_even" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["lucky7", "--out", str(tmp_path), "--figures-only"])
    assert "no saved run" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["lucky7", "--steps", "0"])
    assert "steps must be at least 1, got 0" in capsys.readouterr().err
    config = tmp_path / "bad.toml"
    config.write_text("stepz = 3\n")
    with pytest.raises(SystemExit):
        cli.main(["lucky7", "--config", str(config)])
    error = capsys.readouterr().err
    assert "unknown settings in" in error and "stepz" in error
    out = tmp_path / "saved"
    assert cli.main(["successor", "--out", str(out), "--steps", "2", "--no-gifs", "--figure", "01"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli.main(["lucky7", "--out", str(out), "--figures-only"])
    assert "is of 'successor', not 'lucky7'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["successor", "--out", str(out), "--figures-only", "--step", "7"])
    assert "no checkpoint at step 7" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["successor", "--out", str(out), "--figures-only", "--figure", "99"])
    assert "no figure 99; figures: 01_architecture" in capsys.readouterr().err


def test_gallery_setups_fit_their_rules():
    for name, setup in rules.GALLERY.items():
        rule = get_rule(setup.rule)
        cfg = setup.model_config(rule.d_vocab)
        assert cfg.d_model == setup.d_model and cfg.use_residual == setup.use_residual, name
    assert rules.GALLERY["step_back"].n_ctx == 16 and not rules.GALLERY["lucky7_no_residual"].use_residual
    assert replace(rules.FAST_RECIPE.train, steps=1).steps == 1


def test_pytorch_default_init_reads_fan_in_from_shapes_for_any_setup():
    """LayerNorm and attention biases used to raise KeyError ('w', 'b_Q'): the fan-in now comes from the shapes."""
    from glassbox.config import TransformerConfig
    from glassbox.model import Transformer

    cfg = TransformerConfig(d_model=6, n_layers=1, n_heads=2, d_mlp=10, d_vocab=7, n_ctx=5, normalization_type="LN")
    model = rules.pytorch_default_init(Transformer(cfg), seed=0)
    params = dict(model.named_parameters())
    assert torch.equal(params["blocks.0.ln1.w"], torch.ones(6)) and torch.equal(
        params["blocks.0.ln1.b"], torch.zeros(6)
    )
    for name, reads in {
        "blocks.0.attn.W_Q": 6,
        "blocks.0.attn.b_Q": 6,
        "blocks.0.attn.W_O": 6,
        "blocks.0.mlp.W_out": 10,
        "blocks.0.mlp.b_out": 10,
        "unembed.W_U": 6,
    }.items():
        bound = reads**-0.5
        assert params[name].abs().max() <= bound and params[name].abs().max() > 0.5 * bound, name


@pytest.mark.slow
def test_cached_run_trains_once_and_loads_after(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))
    recipe = rules.Recipe(16, TrainConfig(steps=3, eval_every=3, eval_batches=1, progress=False))
    first = rules.cached_run("successor", recipe)
    folder = rules.run_folder("successor", recipe)
    assert (folder / "run.pt").exists() and folder.parent == tmp_path
    again = rules.cached_run("successor", recipe)
    for a, b in zip(first.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert again.history.val_loss == first.history.val_loss and again.data.val == first.data.val
    other = rules.Recipe(16, TrainConfig(steps=4, eval_every=4, eval_batches=1, progress=False))
    assert rules.run_folder("successor", other) != folder, "another recipe, another file"
