"""Mutation testing, one library module at a time (`make mutation MODULE=sampling`, or every module below).

mutmut 3.8.1 (configured in setup.cfg) mutates a copy of the repository under _build/mutation/<module>/, never the
working tree, and judges each mutant by the fast-tier tests listed here for its module. Prints, per module, the
mutants killed out of those tested and the score; `cd _build/mutation/<module> && ../../../.venv/bin/mutmut show
<name>` shows a survivor."""

from __future__ import annotations

import argparse
import configparser
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")

# module (under code/glassbox) -> the tests that should notice it breaking
TARGETS = {
    "components": ["tests/test_twins.py", "tests/test_model.py", "tests/test_oracles.py"],
    "sampling": ["tests/test_sampling.py", "tests/test_oracles.py"],
    "bpe": ["tests/test_bpe.py"],
    "features/sae": ["tests/test_features_sae.py"],
    "features/superposition": ["tests/test_features_superposition.py"],
    "features/probes": ["tests/test_features_probes.py"],
    "rules/definitions": ["tests/test_rule_definitions.py", "tests/test_rules_by_hand.py", "tests/test_rules_more.py"],
    "checking": ["tests/test_checking.py"],
    "judge": ["tests/test_checking.py"],
    "analysis/interventions": ["tests/test_analysis_interventions.py", "tests/test_oracles.py", "tests/test_twins.py"],
}
COPIED = {"code/glassbox": "glassbox"}  # the library at the copy's root: mutmut names modules after their paths
COPIED |= {name: name for name in ("solutions", "exercises", "tests", "conftest.py", "pytest.ini", "setup.cfg")}
LEFT_OUT = shutil.ignore_patterns("site", "colab", "node_modules", "__pycache__", "*.egg-info", "mutants")


def prepare(module: str) -> Path:
    folder = ROOT / "_build" / "mutation" / module.replace("/", "_")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, target in COPIED.items():
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / target, ignore=LEFT_OUT)
        else:
            shutil.copy2(source, folder / target)
    config = configparser.ConfigParser()
    config.read(folder / "setup.cfg")
    config["mutmut"]["only_mutate"] = f"glassbox/{module}.py"
    config["mutmut"]["pytest_add_cli_args_test_selection"] = "\n" + "\n".join(TARGETS[module])
    with open(folder / "setup.cfg", "w") as f:
        config.write(f)
    return folder


def score(folder: Path) -> tuple[int, int, list[str]]:
    """(killed, tested, the lines of every mutant not killed) from `mutmut results --all true`."""
    out = subprocess.run([MUTMUT, "results", "--all", "true"], cwd=folder, capture_output=True, text=True).stdout
    rows = [line.strip() for line in out.splitlines() if ": " in line]
    killed = sum(row.endswith(": killed") for row in rows)
    tested = sum(not row.endswith((": not checked", ": skipped")) for row in rows)
    return killed, tested, [row for row in rows if not row.endswith(": killed")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"modules under code/glassbox (default: {', '.join(TARGETS)})")
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in TARGETS]
    if unknown:
        parser.error(f"no tests are listed for {unknown}: add them to TARGETS in {Path(__file__).name}")
    summary = []
    for module in args.modules or list(TARGETS):
        folder = prepare(module)
        subprocess.run([MUTMUT, "run", "--max-children", str(args.max_children)], cwd=folder, check=False)
        killed, tested, others = score(folder)
        print(f"\n{module}: {killed} of {tested} mutants killed", *others, sep="\n  ")
        summary.append(f"{module:28} {killed:4} / {tested:4}  {100 * killed / max(tested, 1):5.1f} %")
    print("\nmutation score (killed / tested)", *summary, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
