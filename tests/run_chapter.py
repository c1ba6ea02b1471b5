"""Execute one or more chapters as the book build does, without touching the build's cache, and time each.

    python tests/run_chapter.py ch05_training ch06_glass_box     # `make chapter CH="ch05_training ch06_glass_box"`

Each chapter's MyST source is read with jupytext and run by nbclient in the chapter's own folder (as Jupyter Book
runs it), with the build's environment (`HF_HUB_OFFLINE`, `TQDM_DISABLE`). The executed notebook is written to
`_build/single/<chapter>.ipynb`. Prints each chapter's wall time, any output a cell wrote to stderr (the build
flags those) and exits 1 on a cell error. For working on a chapter: the final word is `make book`.

    python tests/run_chapter.py ch09 ch12 --audit-figures audit.jsonl

also measures every figure a chapter shows, as the page shows it (`glassbox.plots.core.smallest_text`: its
smallest text in points at display size, any text cut off at its edge, and its display width), and lists those
whose text is under `MIN_POINTS` or cut off: the book-wide legibility audit, one line per figure in the file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from glassbox_build.book import REPO_ROOT, toc_chapters
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

# Run first in an audited chapter: every BookFigure the page shows reports its smallest text at display size.
AUDIT_CELL = """
import json as _json
import glassbox.plots.core as _core

def _audited(self, include=None, exclude=None, _shown=_core.BookFigure._repr_mimebundle_, _count=[0]):
    _count[0] += 1
    points, text = _core.smallest_text(self)
    titles = [self._suptitle.get_text()] if self._suptitle else []
    titles = [t for t in titles + [a.get_title() for a in self.axes] if t]
    with open({path!r}, "a") as out:
        out.write(_json.dumps({{"chapter": {chapter!r}, "figure": _count[0], "points": round(points, 2), "text": text,
                                "clipped": _core.clipped_text(self)[:4], "display_px": self.display_pixels(),
                                "titles": titles[:4]}}) + "\\n")
    return _shown(self, include, exclude)

_core.BookFigure._repr_mimebundle_ = _audited
"""


def run(chapter: Path, out: Path, audit: Path | None = None) -> tuple[float, list[str]]:
    """Execute `chapter` in its folder; return its wall time and the stderr texts its cells wrote. With `audit`,
    every figure's smallest text at display size is appended to that file (see `AUDIT_CELL`)."""
    notebook = jupytext.read(chapter)
    if audit is not None:
        cell = nbformat.v4.new_code_cell(AUDIT_CELL.format(path=str(audit.resolve()), chapter=chapter.stem))
        notebook.cells.insert(0, cell)
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
    parser.add_argument("--audit-figures", type=Path, metavar="FILE", help="append each figure's smallest text here")
    args = parser.parse_args()
    known = toc_chapters()
    failed = False
    for name in args.chapters:
        matches = [c for c in known if c.stem == name or c.stem.startswith(name + "_")]  # ch05: not ch05b_sampling
        if len(matches) != 1:
            print(f"{name!r} names {len(matches)} chapters of _toc.yml; give one stem, e.g. {known[0].stem}")
            return 2
        try:
            seconds, stderr = run(matches[0], args.out, args.audit_figures)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:  # the next chapter still runs
            print(f"{matches[0].stem}: FAILED\n{error}")
            failed = True
            continue
        print(f"{matches[0].stem}: {seconds:.1f} s" + (f", {len(stderr)} stderr outputs" if stderr else ""))
        for text in stderr:
            print("  stderr:", text.strip()[:500])
    if args.audit_figures is not None:
        report_audit(args.audit_figures)
    return 1 if failed else 0


def report_audit(path: Path) -> None:
    """Print the audited figures whose smallest text is under `MIN_POINTS` at display size."""
    import json

    from glassbox.plots.core import MIN_POINTS

    rows = [json.loads(line) for line in path.read_text().splitlines()]
    small = [r for r in rows if r["points"] < MIN_POINTS or r.get("clipped")]
    print(f"figures audited: {len(rows)}; text under {MIN_POINTS} pt at display size or cut off: {len(small)}")
    for r in small:
        print(
            f"  {r['chapter']} figure {r['figure']} ({r['display_px']} px, {', '.join(r['titles'])[:60]}): "
            f"{r['points']} pt {r['text'][:30]!r}" + (f", cut off: {r['clipped']}" if r.get("clipped") else "")
        )


if __name__ == "__main__":
    sys.exit(main())
