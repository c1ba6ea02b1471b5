"""Hundreds of wrong answers (tests/wrong_answers.py), each through both paths a reader has: `check(...)` in a plain
Python process (as in a notebook, without the tests' jaxtyping instrumentation) and `pytest tests/exercises --impl`.
Every one must fail, with exactly one line that names the reason, the same line in both paths; no false pass, no
hang, no traceback of the checker's own, and the reader's random state left as it was."""

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import wrong_answers

pytestmark = (
    pytest.mark.slow
)  # runs every wrong answer of the catalogue through check() and through pytest in a subprocess

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def both_paths(tmp_path_factory):
    """Run the two paths side by side (two processes); return (check() report, pytest report)."""
    folder = tmp_path_factory.mktemp("wrong")
    packages = wrong_answers.write_packages(folder)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT / "tests")])}
    # The two runs side by side on one thread each, as the book trains: with torch's default threads the two processes
    # fight over the cores and a check that trains probes (15.4) took 35 times longer than its time limit allows.
    env["OMP_NUM_THREADS"] = "1"
    junit = folder / "report.xml"
    pytest_run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/exercises",
            "--impl",
            ",".join(packages),
            "--time-limit",
            str(wrong_answers.TIME_LIMIT),
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    check_run = subprocess.run(
        [sys.executable, "tests/wrong_answers.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    output, _ = pytest_run.communicate(timeout=600)
    assert check_run.returncode == 0, check_run.stderr[-2000:]
    assert junit.exists(), output[-2000:]
    return json.loads(check_run.stdout), wrong_answers.pytest_reasons(junit)


def test_the_catalogue_covers_every_exercise_and_every_kind_of_mistake():
    catalogue = wrong_answers.catalogue()
    assert set(catalogue) == set(wrong_answers.EXERCISES)
    kinds = Counter(kind for answers in catalogue.values() for kind in answers)
    for kind in (
        "wrong shape",
        "wrong dtype",
        "NaN",
        "inf",
        "returns None",
        "raises",
        "in place",
        "numpy array",
        "list",
        "wrong device",
        "off by a little",
        "off by a lot",
        "batch of 1 only",
        "constant",
        "hangs",
        "unimported module",
        "hooks never fire",
        "step methods left raising",
        "use_residual ignored",
        "eps hard-coded to 1e-5",
        "biases ignored",
        "seed ignored (global rng)",
        "seed ignored (fixed)",
        "only length 20",
        "one sequence n times",
        "documented ValueError not raised",
    ):
        assert kinds[kind] >= 1, kind
    assert all(kind in wrong_answers.EXPECTED for kind in kinds), set(kinds) - set(wrong_answers.EXPECTED)
    assert sum(kinds.values()) >= 450


def test_check_fails_every_wrong_answer_in_one_line_naming_the_reason(both_paths):
    check_report, _ = both_paths
    problems = []
    for case, outcome in check_report.items():
        name, kind = case.split("/", 1)
        lines = outcome["lines"]
        fails = [line for line in lines if line.startswith("FAIL")]
        if len(fails) != 1 or any(line.startswith(("Traceback", "CHECK ITSELF")) for line in lines):
            problems.append(f"{case}: {lines}")
        elif "could not read your answer" in fails[0] or not re.search(wrong_answers.EXPECTED[kind], fails[0]):
            problems.append(f"{case}: the reason does not name the mistake: {fails[0]}")
        elif lines[-1] != f"{name}: not yet — see the FAIL above.":
            problems.append(f"{case}: no verdict line: {lines[-1]}")
        elif not outcome["rng kept"]:
            problems.append(f"{case}: check() changed the global random state")
    assert not problems, "\n".join(problems[:20])


def test_pytest_fails_every_wrong_answer_with_the_same_line_as_check(both_paths):
    check_report, pytest_report = both_paths
    problems = []
    for case, message in pytest_report.items():
        name = case.split("/", 1)[0]
        if message is None or message == "missing":
            problems.append(f"{case}: {'passed' if message is None else 'did not run'} under pytest --impl")
            continue
        fail = next(line for line in check_report[case]["lines"] if line.startswith("FAIL"))
        if message.removeprefix("Failed: ").strip() != f"{name} — {fail}":
            problems.append(f"{case}: pytest says {message!r}, check() says {fail!r}")
    assert not problems, "\n".join(problems[:20])
