"""The pytest command printed under each exercise (book/_ext/glassbox_book.py) selects exactly that exercise's test,
and `--impl` mistakes (no such file or module, a syntax error, a failing import) are one line, not a traceback."""

import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from glassbox.checking.checks import EXERCISES

pytestmark = pytest.mark.slow  # runs pytest in subprocesses

ROOT = Path(__file__).resolve().parents[1]

SELECTION_PLUGIN = textwrap.dedent(
    """
    import json, os
    from _pytest.mark import KeywordMatcher
    from _pytest.mark.expression import Expression

    def pytest_collection_modifyitems(session, config, items):
        selectors = json.loads(os.environ["SELECTORS"])
        found = {name: [item.name for item in items if Expression.compile(k).evaluate(KeywordMatcher.from_item(item))]
                 for name, k in selectors.items()}
        with open(os.environ["SELECTED"], "w") as f:
            json.dump(found, f)
    """
)


def printed_selector() -> str:
    """The `-k` argument the exercise directive prints, as a template on the exercise's name."""
    source = (ROOT / "book" / "_ext" / "glassbox_book.py").read_text()
    return re.search(r'-k \\?"(.*?)\\?"', source).group(1)  # the quotes may be escaped or not


def run_pytest(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider"],
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_printed_command_selects_exactly_its_exercise(tmp_path):
    (tmp_path / "selection_plugin.py").write_text(SELECTION_PLUGIN)
    selectors = {name: printed_selector().format(name=name) for name in EXERCISES}
    run_pytest(
        "tests/exercises",
        "--collect-only",
        "-p",
        "selection_plugin",
        env={
            "PYTHONPATH": str(tmp_path),
            "SELECTORS": json.dumps(selectors),
            "SELECTED": str(tmp_path / "selected.json"),
        },
    )
    selected = json.loads((tmp_path / "selected.json").read_text())
    assert selected == {name: [f"test_exercise[{name}]"] for name in EXERCISES}


def one_line(result: subprocess.CompletedProcess) -> list[str]:
    text = result.stdout + result.stderr
    assert "Traceback" not in text and 'File "' not in text, text[-3000:]
    return [line for line in text.splitlines() if "--impl" in line]


def test_a_missing_impl_file_or_module_stops_the_run_in_one_line():
    for impl, why in (("no/such/answers.py", "no such file"), ("no_such_module", "no module or package named")):
        result = run_pytest("tests/exercises", "--impl", impl)
        lines = one_line(result)
        assert result.returncode != 0 and len(lines) == 1 and why in lines[0], result.stdout + result.stderr


def test_a_broken_chapter_module_fails_its_exercises_with_one_line_each(tmp_path):
    package = tmp_path / "broken_answers"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "ch01_attention.py").write_text("def causal_mask(n_pos)\n    return None\n")  # a missing colon
    (package / "ch02_positions.py").write_text("import not_a_real_package\n")
    report = tmp_path / "report.xml"
    result = run_pytest(
        "tests/exercises",
        "--impl",
        "broken_answers",
        "-k",
        "[causal_mask] or [gelu]",
        f"--junitxml={report}",
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert "Traceback" not in result.stdout
    failures = {
        case.get("name"): case.find("failure").get("message") for case in ET.parse(report).getroot().iter("testcase")
    }
    assert list(failures) == ["test_exercise[causal_mask]", "test_exercise[gelu]"]
    syntax, missing = failures.values()
    assert "ch01_attention.py, line 1: SyntaxError" in syntax and "\n" not in syntax.strip(), syntax
    assert "ModuleNotFoundError: No module named 'not_a_real_package'" in missing and "\n" not in missing.strip(), (
        missing
    )
