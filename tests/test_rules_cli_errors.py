"""Every mistake in `python -m glassbox.rules`'s arguments is answered before anything trains: in one line, with
argparse's exit status 2, and (where the rule's settings are not needed) before torch is imported."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from glassbox import rules
from glassbox.rules import cli
from glassbox.rules.seed_project import SEED_FLAGS, SEED_NAMES
from glassbox.train import TrainConfig

# argv (after the rule), what the one line of error says: each is known from the arguments alone
BEFORE_TORCH = [
    (["--figure", "nope"], "no figure nope; figures: 01_architecture, "),
    (["--figure", "07", "99"], "no figure 99; figures: 01_architecture, "),
    (["--no-gifs", "--figure", "learning_qkv"], "learning_qkv is an animation, and --no-gifs skips the animations"),
    (["--step", "-1"], "--step must be 0 or more, got -1"),
    (["--out", "{file}"], "--out {file} is a file, not a folder"),
    (["--out", "{file}/run"], "--out {file}/run: {file} is a file, so the folder cannot be made"),
    (["--out", "{tmp}/run", "--figures-only", "--recipe", "seed"], "--figures-only draws a saved run; it takes no"),
    (["--journal"], "the seed's --journal also wrote A4 journal-sized copies of the figures; here there are no A4"),
]


def one_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1].removeprefix("python -m glassbox.rules: error: ")


@pytest.mark.parametrize(("args", "said"), BEFORE_TORCH)
def test_a_wrong_argument_is_one_line_with_status_2_before_training(args, said, tmp_path, capsys) -> None:
    (tmp_path / "file").write_text("not a folder")
    fill = {"file": str(tmp_path / "file"), "tmp": str(tmp_path)}
    args = [arg.format(**fill) for arg in args]
    out = [] if "--out" in args else ["--out", str(tmp_path / "run")]
    with pytest.raises(SystemExit) as exit_:
        cli.main(["plus_last_even", "--steps", "1", *out, *args])
    assert exit_.value.code == 2
    assert one_error(capsys).startswith(said.format(**fill))
    assert not (tmp_path / "run").exists(), "nothing may be trained or written"


def test_those_errors_answer_without_importing_torch_in_a_blink(tmp_path) -> None:
    (tmp_path / "file").write_text("")
    argvs = [
        ["plus_last_even", "--steps", "1", "--out", str(tmp_path / "run"), *args]
        for args, _ in BEFORE_TORCH
        if "--out" not in args
    ] + [["plus_last_even", "--steps", "1", "--out", str(tmp_path / "file")], ["--help"]]
    script = (
        "import sys, time\n"
        "from glassbox.rules import cli\n"
        f"for argv in {argvs!r}:\n"
        "    start = time.perf_counter()\n"
        "    try:\n"
        "        cli.main(argv)\n"
        "    except SystemExit as exit_:\n"
        "        assert exit_.code in (0, 2), (argv, exit_.code)\n"
        "    assert time.perf_counter() - start < 0.3, argv\n"
        "print('torch' in sys.modules, 'matplotlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False False"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_an_out_folder_that_cannot_be_written_is_refused(tmp_path, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["plus_last_even", "--steps", "1", "--out", str(locked / "run")])
    assert exit_.value.code == 2 and one_error(capsys) == f"--out {locked / 'run'}: cannot write in {locked}"


@pytest.mark.parametrize(
    ("args", "said"),
    [  # known once the rule's model and recipe are: after torch loads, still before training
        (["step_back", "--figure", "07"], "figure 07_output_probabilities is not drawn for this model: it draws"),
        (["lucky7", "--figure", "11_1"], "no figure 11_1; figures: 01_architecture, "),  # no + in lucky7
        (["plus_last_even", "--step", "7"], "no checkpoint at step 7; this run checkpoints every 50 steps: 0, 50,"),
        (["plus_last_even", "--steps", "10", "--step", "20"], "no checkpoint at step 20; this run checkpoints"),
    ],
)
def test_what_needs_the_rules_settings_is_checked_before_training(args, said, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main([*args, "--out", str(tmp_path / "run")])
    assert exit_.value.code == 2 and one_error(capsys).startswith(said)
    assert not (tmp_path / "run").exists(), "nothing may be trained or written"


@pytest.mark.parametrize("flag", sorted(SEED_FLAGS))
def test_each_seed_flag_says_in_one_sentence_what_it_did_and_what_to_use(flag, capsys) -> None:
    did, here, kind = SEED_FLAGS[flag]
    if kind == "refused":
        with pytest.raises(SystemExit) as exit_:
            cli.main(["plus_last_even", flag, "10"] if flag == "--fps" else ["plus_last_even", flag])
        assert exit_.value.code == 2
        line = one_error(capsys)
    else:
        assert cli._seed_flags(["plus_last_even", flag]) == ["plus_last_even", *(["--figures-only"] * (kind == "read"))]
        [line] = capsys.readouterr().out.splitlines()
        line = line.removeprefix("note: ")
    assert line == f"the seed's {flag} {did}; here {here}"
    assert "nothing:" not in line and line.count(". ") == 0


@pytest.mark.parametrize("name", sorted(SEED_NAMES))
def test_each_seed_name_says_what_it_is_here(name, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main([name, "--figures-only", "--out", str(tmp_path)])
    assert capsys.readouterr().out.splitlines() == [
        f"note: {name} (the seed project's configs/{name}.yaml) is {SEED_NAMES[name]} here"
    ]


def test_the_docstring_names_the_test_sets_the_headline_uses() -> None:
    text = " ".join(cli.__doc__.split())
    assert f"{cli.TEST_SETS['plus_last_even'][0]} for plus_last_even" in text
    assert f"{cli.TEST_SEQUENCES} for the others" in text


def tiny_run(name: str) -> rules.Run:
    recipe = rules.Recipe(16, TrainConfig(steps=2, eval_every=1, eval_batches=1, checkpoint_every=1, progress=False))
    return rules.train_rule(name, recipe, progress=False)


@pytest.mark.slow  # trains four tiny models
@pytest.mark.parametrize("name", ["plus_last_even", "lucky7", "step_back", "even_repeat_last_odd"])
def test_the_names_checked_before_training_are_the_names_drawn(name) -> None:
    from glassbox.plots.planar import VALUE_DEMO_STAGES

    run = tiny_run(name)
    cfg = run.model.cfg
    names, refused = cli.known_figures(run.rule.has_plus, cfg.d_model, cfg.d_head, cfg.n_ctx)
    drawn = [*cli.figure_makers(run), *cli.animation_makers(run)]

    def frozen_as_pattern(name: str) -> str:
        return re.sub(r"^(frozen_output_pos\d+_).*", r"\1*", name)

    assert sorted(names) == sorted(map(frozen_as_pattern, drawn))
    assert refused == {frozen_as_pattern(n): reason for n, reason in cli.refused_figures(run).items()}
    assert cli.VALUE_DEMO_STAGES == VALUE_DEMO_STAGES


@pytest.mark.slow  # trains a tiny model
def test_the_residual_on_the_argmax_map_draws_chapter_6s_window(monkeypatch) -> None:
    """Fig. 33 of chapter 6 (fig-glassbox-residual-argmax), which the seed-figure map says this file is, draws the
    second demo window: the first is the residual figure's just before it."""
    from glassbox.plots import planar

    run = tiny_run("plus_last_even")
    windows, continuations = rules.demo_windows(run)
    drawn = []
    monkeypatch.setattr(planar, "landscape_summary", lambda model, rule, *window: drawn.append(window))
    cli.figure_makers(run)["15_2_residual_on_argmax_map"]()
    assert drawn == [(windows[1], continuations[1])]


@pytest.mark.slow  # trains two tiny models
def test_a_stalled_chapter_6_run_says_so_and_names_the_next_seed(monkeypatch) -> None:
    stalled = tiny_run("plus_last_even")  # two steps: far from the bar
    note = cli.stall_note(stalled, seed=3)
    assert note.startswith("note: this run reached ") and note.endswith("(here: --seed 4)") and "\n" not in note
    assert cli.stall_note(tiny_run("lucky7"), seed=0) is None, "other rules: chapter 7 reports partial learning as is"
    from glassbox.rules import accuracy

    learned = type("Scored", (), {"learnable": 0.999})
    monkeypatch.setattr(accuracy, "rule_accuracy", lambda *a: learned)
    assert cli.stall_note(stalled, seed=0) is None, "at the bar: nothing to say"
