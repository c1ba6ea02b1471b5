"""Execute one or more chapters as the book build does, without touching the build's cache, and time each.

    python tests/run_chapter.py ch05_training ch06_glass_box     # `make chapter CH="ch05_training ch06_glass_box"`

Each chapter's MyST source is read with jupytext and run by nbclient in the chapter's own folder (as Jupyter Book
runs it), with the build's environment (`HF_HUB_OFFLINE`, `TQDM_DISABLE`). The executed notebook is written to
`_build/single/<chapter>.ipynb`. Prints each chapter's wall time, any output a cell wrote to stderr (the build
flags those) and exits 1 on a cell error. For working on a chapter: the final word is `make book`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from glassbox.book import REPO_ROOT, toc_chapters
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def run(chapter: Path, out: Path) -> tuple[float, list[str]]:
    """Execute `chapter` in its folder; return its wall time and the stderr texts its cells wrote."""
    notebook = jupytext.read(chapter)
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": chapter.parent}}
    )
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        out.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out / f"{chapter.stem}.ipynb")
    stderr = [
        output["text"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]
    return time.perf_counter() - start, stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+", help="chapter stems or their number, e.g. ch05 or ch05_training")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "_build" / "single")
    args = parser.parse_args()
    known = toc_chapters()
    failed = False
    for name in args.chapters:
        matches = [c for c in known if c.stem == name or c.stem.startswith(name + "_")]  # ch05: not ch05b_sampling
        if len(matches) != 1:
            print(f"{name!r} names {len(matches)} chapters of _toc.yml; give one stem, e.g. {known[0].stem}")
            return 2
        try:
            seconds, stderr = run(matches[0], args.out)
        except CellExecutionError as error:
            print(f"{matches[0].stem}: FAILED\n{error}")
            failed = True
            continue
        print(f"{matches[0].stem}: {seconds:.1f} s" + (f", {len(stderr)} stderr outputs" if stderr else ""))
        for text in stderr:
            print("  stderr:", text.strip()[:500])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
