"""The wheel a reader installs (Colab's install cell, `pip install`) holds every module and declares every import.

Built from a clean copy of the sources and imported from the wheel's own files in a fresh interpreter, never from
the editable install the other tests use: a module left out of the wheel fails here, not in a reader's Colab.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

pytestmark = pytest.mark.slow  # builds the wheel and imports every module from it in subprocesses

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("glassbox", "glassbox_exercises", "glassbox_solutions")
SOURCES = {
    "glassbox": ROOT / "code" / "glassbox",
    "glassbox_exercises": ROOT / "exercises",
    "glassbox_solutions": ROOT / "solutions",
}


def module_names() -> list[str]:
    """Every module of the three packages, as dotted names, from the source tree."""
    names = []
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__main__":
                continue  # runs a command line when imported: `python -m` is its only use
            names.append(".".join((package, *parts[:-1])) if parts[-1] == "__init__" else ".".join((package, *parts)))
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a clean copy (no stale build/ folder can add a module the sources lost)."""
    work = tmp_path_factory.mktemp("wheel")
    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    for name in ("code", "exercises", "solutions"):
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "./code",
            "--wheel-dir",
            str(work / "dist"),
        ],
        cwd=work,
        check=True,
    )
    (found,) = (work / "dist").glob("glassbox-*.whl")
    return found


def test_the_wheel_ships_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in module_names():
        path = module.replace(".", "/")
        assert f"{path}.py" in names or f"{path}/__init__.py" in names, f"the wheel lacks {module}"
    assert "glassbox/datasets/book_text.txt" in names
    quizzes = SOURCES["glassbox"] / "checking" / "quizzes"
    assert {f"glassbox/checking/quizzes/{p.name}" for p in quizzes.glob("*.yml")} <= names


def test_the_wheel_holds_the_library_not_the_books_build_machinery(wheel):
    """Readers install the library, its checks and the exercises; the notebooks generator, the MyST conversion and
    the site check are ../tools (glassbox_build), installed only where the book is built."""
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops - {"glassbox-0.1.0.dist-info"} == set(PACKAGES), sorted(tops)
    machinery = {p.stem for p in (ROOT / "tools" / "glassbox_build").glob("*.py")} - {"__init__"}
    assert {"notebooks", "myst", "colab", "sitecheck", "book", "exercise_blocks"} <= machinery
    shipped = {n.rsplit("/", 1)[-1].removesuffix(".py") for n in zipfile.ZipFile(wheel).namelist()}
    assert not machinery & shipped, f"build machinery in the wheel: {sorted(machinery & shipped)}"


def test_every_module_imports_from_the_wheel_alone(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = (
        "import importlib, json, sys\n"
        f"names = {module_names()!r}\n"
        "files = {n: importlib.import_module(n).__file__ for n in names}\n"
        "print(json.dumps(files))\n"
    )
    # the wheel's folder comes first on the path, ahead of the editable install's finder
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHONPATH": str(site), "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1]
    files = json.loads(result.stdout.strip().splitlines()[-1])
    outside = [name for name, file in files.items() if not file.startswith(str(site))]
    assert not outside, f"imported from outside the wheel: {outside}"


def top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_project_declares_exactly_the_packages_its_code_imports():
    project = tomllib.loads((ROOT / "code" / "pyproject.toml").read_text())["project"]
    declared = {canonical(d) for d in project["dependencies"]}
    extras = {canonical(d) for group in project.get("optional-dependencies", {}).values() for d in group}
    distributions = importlib.metadata.packages_distributions()
    imported = set()
    for folder in SOURCES.values():
        for path in folder.rglob("*.py"):
            imported |= top_level_imports(path)
    imported -= set(sys.stdlib_module_names) | set(PACKAGES) | {"__future__"}
    needed = {canonical(dist) for module in imported for dist in distributions.get(module, [module])}
    assert needed - declared - extras == set(), "imported but not declared in code/pyproject.toml"
    assert declared - needed == set(), "declared in code/pyproject.toml but imported nowhere"
    pinned = {
        canonical(line.split("==")[0])
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert (declared | extras) - pinned == set(), "requirements.txt must pin every dependency"
