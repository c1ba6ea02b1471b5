"""Run the chapters that train models as a reader on another machine would, and show how far their numbers move.

    python tests/robustness.py                                  # `make robustness`: every training chapter,
                                                                # every kernel set this CPU has, seeds 0, 1, 2
    python tests/robustness.py --kernels default --seeds 0      # one variant
    python tests/robustness.py ch06 ch06b --kernels default avx2 --seeds 0 1 2

A model trained on one CPU is not the model trained on another: PyTorch picks its vector kernels by CPU
(`ATEN_CPU_CAPABILITY` = `default`, `avx2`, `avx512` forces a set), and those kernels round differently. A Colab
runtime is yet another CPU, or a GPU. So each variant here is a fresh process with:
- `ATEN_CPU_CAPABILITY` set to one kernel set (only those this CPU supports),
- `GLASSBOX_SEED` set to one training seed (`glassbox.runtime.seed_offset`: every model the book trains is seeded
  from it; 0 is the site's run),
- an empty model cache (`GLASSBOX_CACHE`), so every model a chapter needs is trained in that variant,

and every chapter runs top to bottom as the build runs it (`tests/run_chapter.py`). Any cell error fails the run:
a chapter's assertions must hold for any reader's run, not only for the site's. For every number the prose
quotes (each glued value), the spread across variants is printed, and written to `<out>/spread.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from glassbox.glue import glued_values
from glassbox_build.book import REPO_ROOT, TRAINED_CHAPTERS, toc_chapters
from glassbox_build.notebooks import VARYING_NUMBERS

TRAINING = list(TRAINED_CHAPTERS)  # offline, chapter 12 opens chapter 5's model: it trains it
KERNELS = ("default", "avx2", "avx512")


def supported_kernels() -> list[str]:
    """The kernel sets this CPU can run (`avx512` only where the CPU has it)."""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    have = ["default"]
    if " avx2" in flags:
        have.append("avx2")
    if " avx512f" in flags and " avx512bw" in flags and " avx512vl" in flags and " avx512dq" in flags:
        have.append("avx512")
    return have


def run_variant(chapters: list[str], kernels: str, seed: int, out: Path) -> tuple[bool, dict[str, dict[str, str]]]:
    """Run `chapters` in one process with these kernels and this seed from an empty cache; their glued values."""
    name = f"{kernels}-seed{seed}"
    folder = out / name
    env = {
        **os.environ,
        "ATEN_CPU_CAPABILITY": kernels,
        "GLASSBOX_SEED": str(seed),
        "GLASSBOX_CACHE": str(folder / "model-cache"),
        "HF_HUB_OFFLINE": "1",
        "TQDM_DISABLE": "1",
    }
    subprocess.run(["rm", "-rf", str(folder)], check=True)
    folder.mkdir(parents=True)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tests" / "run_chapter.py"), *chapters, "--out", str(folder / "notebooks")],
        env=env,
        capture_output=True,
        text=True,
    )
    (folder / "log.txt").write_text(done.stdout + done.stderr)
    print(f"{name}: {'ok' if done.returncode == 0 else 'FAILED'} in {time.perf_counter() - start:.0f} s", flush=True)
    for line in done.stdout.splitlines():
        print("   ", line[:300], flush=True)
    values = {}
    for chapter in chapters:
        path = folder / "notebooks" / f"{chapter}.ipynb"
        if path.exists():
            values[chapter] = glued_values(nbformat.read(path, as_version=4))
    return done.returncode == 0, values


def number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def spread(runs: dict[str, dict[str, dict[str, str]]]) -> dict[str, dict[str, dict]]:
    """For each chapter's glued numbers: the value in each variant, and min, max and their difference."""
    table: dict[str, dict[str, dict]] = {}
    for variant, chapters in runs.items():
        for chapter, values in chapters.items():
            for name, text in values.items():
                if (value := number(text)) is not None:
                    table.setdefault(chapter, {}).setdefault(name, {"values": {}})["values"][variant] = value
    for names in table.values():
        for row in names.values():
            vs = list(row["values"].values())
            row.update(
                min=min(vs),
                max=max(vs),
                range=max(vs) - min(vs),
                spread=statistics.pstdev(vs),
            )
    return table


def record_varying(table: dict[str, dict[str, dict]]) -> None:
    """Update `VARYING_NUMBERS` (committed): for each chapter run, the glued numbers that moved across the runs
    and those that did not. The Colab notebooks mark the first as the site's run's (`glassbox_build.myst.may_vary`).
    A union with what earlier runs recorded: a number once seen to move stays marked (a run of a few variants sees
    less than all of them did), unless the chapter no longer glues it."""
    path = REPO_ROOT / VARYING_NUMBERS
    known = json.loads(path.read_text()) if path.exists() else {}
    for chapter, names in table.items():
        before = set(known.get(chapter, {}).get("moved", []))
        moved = {n for n, row in names.items() if row["range"] > 0} | (before & set(names))
        known[chapter] = {"moved": sorted(moved), "steady": sorted(set(names) - moved)}
    path.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter stems (default: every chapter that trains)")
    parser.add_argument("--kernels", nargs="+", default=None, help="kernel sets (default: all this CPU supports)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "_build" / "robustness")
    parser.add_argument(
        "--all-seeds-on-each-kernel",
        action="store_true",
        help="every seed under every kernel set (default: the seeds other than 0 on the first set)",
    )
    args = parser.parse_args()
    args.out = args.out.resolve()  # the kernels run in each chapter's folder: GLASSBOX_CACHE must be absolute
    known = {c.stem for c in toc_chapters()}
    chapters = [next((k for k in sorted(known) if k == c or k.startswith(c + "_")), c) for c in args.chapters]
    chapters = chapters or TRAINING
    unknown = [c for c in chapters if c not in known]
    if unknown:
        print(f"not chapters of _toc.yml: {', '.join(unknown)}")
        return 2
    have = supported_kernels()
    kernels = args.kernels or have
    missing = [k for k in kernels if k not in have]
    if missing:
        print(f"this CPU cannot run the kernel set(s) {', '.join(missing)}; it has {', '.join(have)}")
        return 2
    variants = [(k, 0) for k in kernels] if 0 in args.seeds else []
    others = [s for s in args.seeds if s != 0]
    variants += [(k, s) for k in (kernels if args.all_seeds_on_each_kernel else kernels[:1]) for s in others]
    runs, failed = {}, []
    for k, s in variants:
        ok, values = run_variant(chapters, k, s, args.out)
        runs[f"{k}-seed{s}"] = values
        if not ok:
            failed.append(f"{k}-seed{s}")
    table = spread(runs)
    (args.out / "spread.json").write_text(json.dumps(table, indent=1))
    if len(runs) > 1:
        record_varying(table)
    print(f"\nglued numbers across {len(runs)} runs ({', '.join(runs)}):")
    for chapter, names in table.items():
        moving = {n: r for n, r in names.items() if r["range"] > 0}
        print(f"{chapter}: {len(names)} numbers, {len(moving)} move")
        for name, row in sorted(moving.items(), key=lambda kv: -kv[1]["range"] / (abs(kv[1]["max"]) or 1)):
            shown = ", ".join(f"{v:.4g}" for v in row["values"].values())
            print(f"  {name:40s} {row['min']:.4g} … {row['max']:.4g}   ({shown})")
    if failed:
        print(f"FAILED: {', '.join(failed)} (logs in {args.out}/<variant>/log.txt)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
