"""The README's library snippet runs and prints what its comment says."""

import contextlib
import io
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.slow
def test_use_the_library_snippet_runs_and_prints_what_it_promises():
    section = README.split("## Use the library", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, flags=re.S)[1]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(snippet, "README.md", "exec"), {})
    promised = re.search(r"print\(.*\)\s+# (.*)", snippet)[1]
    assert printed.getvalue().strip() == promised.strip()


def test_readme_names_the_two_commands():
    assert "make book" in README and "make test" in README
