"""The code stays ruff-clean under the committed configuration (ruff.toml): the checks pre-commit runs."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs ruff over the repository

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_finds_nothing():
    result = ruff("check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_code_is_formatted():
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout[-3000:]
