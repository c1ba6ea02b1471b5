"""The book as a whole: its configuration (_config.yml), its chapters in reading order (_toc.yml), and where its pages
and Colab notebooks are published. Every other module reads these facts from here, never from a copy.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
# The chapters whose numbers come from models trained when they run (in Colab: on the reader's runtime), so a
# reader's run may print other numbers than the site's (tests/robustness.py runs them on other kernels and seeds).
TRAINED_CHAPTERS = (
    "ch05_training", "ch05b_sampling", "ch05c_tokens", "ch06_glass_box", "ch06b_more_views", "ch07_gallery",
    "ch07b_gallery_more", "ch08_residual", "ch09_circuits", "ch10_interventions", "ch11_induction", "ch12_gpt2",
    "ch13_superposition", "ch14_sae", "ch15_probes",
)  # fmt: skip
SOLUTIONS_SUFFIX = "_solutions"  # chNN_topic_solutions.ipynb: the chapter with every exercise filled in


def book_config(root: Path = REPO_ROOT) -> dict[str, Any]:
    return yaml.safe_load((root / "_config.yml").read_text())


def colab_branch(root: Path = REPO_ROOT) -> str:
    """The branch the workflow publishes the notebooks to, named once in _config.yml (`glassbox_colab_branch`)."""
    return book_config(root)["sphinx"]["config"]["glassbox_colab_branch"]


def colab_url(docname: str, root: Path = REPO_ROOT, solutions: bool = False) -> str:
    """Where Colab opens the notebook of a page (`book/part1/ch01_attention`) from the published branch."""
    github = book_config(root)["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    suffix = SOLUTIONS_SUFFIX if solutions else ""
    return f"https://colab.research.google.com/github/{github}/blob/{colab_branch(root)}/{docname}{suffix}.ipynb"


def site_url(root: Path = REPO_ROOT) -> str:
    """The published site's address (`html.baseurl` in _config.yml), ending in a slash."""
    return book_config(root)["html"]["baseurl"].rstrip("/") + "/"


def book_revision(root: Path = REPO_ROOT) -> str:
    """The commit the notebooks are built from (git's HEAD): the install cell installs exactly that code."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        raise RuntimeError(
            f"{root} is not a git checkout, so there is no commit for the install cell: {error}"
        ) from None


def toc_chapters(root: Path = REPO_ROOT) -> list[Path]:
    """Every chapter file listed in _toc.yml under book/, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [root / f"{f}.md" for f in files if f.startswith("book/")]
