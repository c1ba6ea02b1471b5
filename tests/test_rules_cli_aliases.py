"""The command line speaks the seed project's language too: its config names and flags, `--figure 8`, a map from
its figures to our files and chapter figures, and an answer to `--help` or a wrong argument without torch."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from glassbox.rules import SETUPS, Setup, cli


def test_the_command_lines_lists_match_the_library() -> None:
    assert list(cli.RULE_NAMES) == list(SETUPS), "cli.RULE_NAMES must list rules.SETUPS, in order"
    assert cli.setup_fields() == {f.name for f in fields(Setup)} - {"rule", "title"}
    assert set(cli.RECIPE_NAMES) == set(cli.recipes())
    assert set(cli.SEED_NAMES.values()) <= set(SETUPS)


def test_help_and_errors_answer_without_importing_torch() -> None:
    script = (
        "import sys\n"
        "from glassbox.rules import cli\n"
        "for argv in (['--help'], ['nope'], ['lucky7', '--steps', '0'], ['--map']):\n"
        "    try:\n"
        "        cli.main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('torch' in sys.modules, 'matplotlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False False", "parse the arguments before importing torch"


@pytest.mark.parametrize(("seed_name", "ours"), sorted(cli.SEED_NAMES.items()))
def test_the_seeds_config_names_are_accepted(seed_name: str, ours: str, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):  # no saved run there: the error comes after the name is understood
        cli.main([seed_name, "--figures-only", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert f"(the seed project's configs/{seed_name}.yaml) is {ours} here" in out
    assert "no saved run" in err and "unknown rule" not in err


def test_the_seeds_flags_are_answered(capsys) -> None:
    assert cli._seed_flags(["lucky7", "--visualize"]) == ["lucky7", "--figures-only"]
    assert cli._seed_flags(["lucky7", "--force-retrain", "--video"]) == ["lucky7"]
    assert capsys.readouterr().out.count("so the flag is ignored") == 2
    for flag, named in (("--journal", "no A4 versions"), ("--video-qkv", "--figure learning_qkv")):
        with pytest.raises(SystemExit) as exit_:  # a usage error, as argparse's: status 2
            cli._seed_flags([flag])
        assert exit_.value.code == 2 and named in capsys.readouterr().err


def test_figure_numbers_as_the_seed_wrote_them() -> None:
    assert cli._figure_names(["8", "15", "07", "learning_qkv"]) == ["08", "15", "07", "learning_qkv"]
    assert cli._figure_names(None) is None


def test_the_figure_map_names_files_the_command_writes(capsys) -> None:
    assert cli.main(["--map"]) == 0
    printed = capsys.readouterr().out
    assert "supplementary 16 value arrows" in printed and "11_1_plus_score_row" in printed


def test_chapter_6_shows_the_same_figure_map_as_the_command_line() -> None:
    """Chapter 6's table of the project's figures is `FIGURE_MAP`, row for row: the design document's name, the file
    at HEAD, the file the command writes, and a reference to each chapter figure, which exists on its page."""
    from glassbox.rules.seed_project import FIGURE_MAP

    book = Path(__file__).resolve().parents[1] / "book" / "part3"
    page = (book / "ch06_glass_box.md").read_text()
    opening = next(line for line in page.splitlines() if line.startswith("```{table}"))
    assert "`" not in opening[3:], "a backtick in the caption unmakes the fence (CommonMark): the rest is swallowed"
    table = page.split(":name: tab-glassbox-seed-figures")[1].split("```")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "{numref}" in line]
    assert len(rows) == len(FIGURE_MAP)
    names = set(re.findall(r"name: (fig-[\w-]+)", page + (book / "ch06b_more_views.md").read_text()))
    for row, seed in zip(rows, FIGURE_MAP, strict=True):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[0] == seed.design and f"`{seed.file}`" == cells[2], row
        assert re.findall(r"\{numref\}`([\w-]+)`", cells[3]) == list(seed.figures), row
        assert set(seed.figures) <= names, f"{seed.figures}: no such figure on chapter 6 or 6b"
        assert all(part.split(" (")[0].strip(" `") in seed.head for part in cells[1].split(", ")), row
