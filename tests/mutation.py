"""Mutation testing, one library module at a time (`make mutation MODULE=sampling`, or every module below).

mutmut 3.8.1 (configured in setup.cfg) mutates a copy of the repository under _build/mutation/<module>/, never the
working tree, and judges each mutant by the fast-tier tests listed here for its module. Prints, per module, the
mutants killed out of those tested and the score; `cd _build/mutation/<module> && ../../../.venv/bin/mutmut show
<name>` shows a survivor.

mutmut 3 leaves every decorated function unmutated (only `@staticmethod` and `@classmethod` are mutated), so the copy
is rewritten first (`undecorate`; never the working tree): a function under `@torch.no_grad()` or `@torch.enable_grad()`
becomes an undecorated one whose body (after its docstring) runs inside `with torch.no_grad():`, and a getter under a
bare `@property` becomes a plain method followed by `name = property(name)`; both mean the same to Python, and the
copy's tests must pass before any mutant is tried. Still unmutated: generators under a grad decorator (the `with`
would outlive each `yield`), property setters, and functions with any other decorator."""

from __future__ import annotations

import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import libcst.matchers as m

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")

# what `make mutation MODULE=<name>` mutates (files under code/glassbox, without .py) and the fast-tier tests that
# should notice it breaking. A name is one module or a group; the score is printed per file.
MODEL_TESTS = [
    "tests/test_twins.py",
    "tests/test_model.py",
    "tests/test_oracles.py",
    "tests/test_bad_input.py",
    "tests/test_properties.py",
    "tests/test_values.py",
    "tests/test_mutants_model.py",
    "tests/test_hooks_fire.py",
    "tests/test_seeding.py",
    "tests/test_mutants_decorated_sampling.py",  # Transformer.generate's defaults, beside sampling.generate's
]
ANALYSIS = ["attention", "attribution", "circuits", "interventions", "neurons", "residual"]  # planar: Part III's
FEATURES = ["superposition", "sae", "probes", "interpret"]
CHECKING_TESTS = [  # test_part4_mistakes and test_exercise_mechanism: 90 s a mutant, too slow to run ~660 times
    "tests/test_checking.py",
    "tests/test_mutants_checking.py",
]
FEATURE_TESTS = {
    "interpret": ["tests/test_features_interpret.py", "tests/test_features_probes.py"],
    "probes": [
        "tests/test_features_probes.py",
        "tests/test_features_controls.py",
        "tests/test_mutants_features_probes.py",
    ],
    "sae": ["tests/test_features_sae.py", "tests/test_mutants_features_sae.py"],
    "superposition": [
        "tests/test_features_superposition.py",
        "tests/test_features_controls.py",
        "tests/test_mutants_features_superposition.py",
    ],
}
ANALYSIS_TESTS = {
    "attention": ["tests/test_analysis_attention.py", "tests/test_analysis_circuits.py"],
    "attribution": ["tests/test_analysis_interventions.py"],
    "circuits": ["tests/test_analysis_circuits.py", "tests/test_analysis_score_decomposition.py"],
    "interventions": [
        "tests/test_analysis_interventions.py",
        "tests/test_analysis_path_patching.py",
        "tests/test_oracles.py",
    ],
    "neurons": ["tests/test_analysis_residual.py"],
    "residual": ["tests/test_analysis_residual.py"],
}
ANALYSIS_TESTS = {name: [*tests, f"tests/test_mutants_analysis_{name}.py"] for name, tests in ANALYSIS_TESTS.items()}
# the functions mutmut reaches only since the copy is undecorated (see `undecorate`) have tests of their own
DECORATED = "tests/test_mutants_decorated_{}.py"
FEATURE_TESTS = {name: [*tests, DECORATED.format(name)] for name, tests in FEATURE_TESTS.items()}
ANALYSIS_TESTS = {name: [*tests, DECORATED.format(name)] for name, tests in ANALYSIS_TESTS.items()}
TARGETS: dict[str, tuple[list[str], list[str]]] = {
    "model": (["components", "model", "config"], MODEL_TESTS),
    "sampling": (
        ["sampling"],
        [
            "tests/test_sampling.py",
            "tests/test_oracles.py",
            "tests/test_properties.py",
            DECORATED.format("sampling"),
        ],
    ),
    "bpe": (["bpe"], ["tests/test_bpe.py", "tests/test_properties.py"]),
    "checking": (["judge", "diagnose", "answer", "checking"], CHECKING_TESTS),
    "features": (
        [f"features/{name}" for name in FEATURES],
        sorted({test for tests in FEATURE_TESTS.values() for test in tests}),
    ),
    # one features module at a time, judged by the tests that call it (a whole-group run takes about an hour here)
    "interpret": (["features/interpret"], FEATURE_TESTS["interpret"]),
    "probes": (["features/probes"], FEATURE_TESTS["probes"]),
    "sae": (["features/sae"], FEATURE_TESTS["sae"]),
    "superposition": (["features/superposition"], FEATURE_TESTS["superposition"]),
    # one analysis module at a time, judged by the tests that import it
    **{name: ([f"analysis/{name}"], tests) for name, tests in ANALYSIS_TESTS.items()},
    "analysis": (
        [f"analysis/{name}" for name in ANALYSIS],
        sorted({test for tests in ANALYSIS_TESTS.values() for test in tests}),
    ),
    "rules": (
        ["rules/base", "rules/definitions", "rules/parity"],  # the rules, split in three files
        ["tests/test_rule_definitions.py", "tests/test_rules_by_hand.py", "tests/test_mutants_rules.py"],
    ),
}
COPIED = {"code/glassbox": "glassbox"}  # the library at the copy's root: mutmut names modules after their paths
COPIED |= {name: name for name in ("solutions", "exercises", "tests", "conftest.py", "pytest.ini", "setup.cfg")}
LEFT_OUT = shutil.ignore_patterns("site", "colab", "node_modules", "__pycache__", "*.egg-info", "mutants")


GRAD_MODES = ("no_grad", "enable_grad")  # `@torch.<mode>()`, rewritten into `with torch.<mode>():`


class Undecorate(cst.CSTTransformer):
    """Rewrites the decorators mutmut skips into forms it mutates, with the same behaviour (module docstring)."""

    def __init__(self) -> None:
        self.rewritten: list[str] = []
        self.properties: list[list[str]] = []  # per class body being visited: its getters made plain methods

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.properties.append([])

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        getters = set(self.properties.pop())
        if not getters:
            return updated
        body: list[cst.BaseStatement] = []
        for statement in updated.body.body:
            body.append(statement)
            if isinstance(statement, cst.FunctionDef) and statement.name.value in getters:
                body.append(cst.parse_statement(f"{statement.name.value} = property({statement.name.value})"))
        return updated.with_changes(body=updated.body.with_changes(body=body))

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        if len(updated.decorators) != 1:
            return updated
        decorator = updated.decorators[0].decorator
        mode = next(
            (
                name
                for name in GRAD_MODES
                if m.matches(decorator, m.Call(func=m.Attribute(value=m.Name("torch"), attr=m.Name(name)), args=[]))
            ),
            None,
        )
        if mode is not None and not m.findall(updated.body, m.Yield()):
            statements = list(updated.body.body)
            docstring = statements[:1] if updated.get_docstring(clean=False) is not None else []
            rest = statements[len(docstring) :]
            with_block = cst.With(
                items=[cst.WithItem(cst.parse_expression(f"torch.{mode}()"))],
                body=cst.IndentedBlock(body=rest),
            )
            self.rewritten.append(f"{updated.name.value} (@torch.{mode}())")
            return updated.with_changes(
                decorators=[],
                leading_lines=[*updated.decorators[0].leading_lines, *updated.leading_lines],
                body=updated.body.with_changes(body=[*docstring, with_block]),
            )
        if m.matches(decorator, m.Name("property")) and self.properties:
            self.properties[-1].append(updated.name.value)
            self.rewritten.append(f"{updated.name.value} (@property)")
            return updated.with_changes(
                decorators=[], leading_lines=[*updated.decorators[0].leading_lines, *updated.leading_lines]
            )
        return updated


def undecorate(path: Path) -> list[str]:
    """Rewrites `path` in place so that mutmut mutates its grad-mode functions and property getters; returns them."""
    transformer = Undecorate()
    tree = cst.parse_module(path.read_text()).visit(transformer)
    path.write_text(tree.code)
    return transformer.rewritten


def prepare(module: str, commit: str | None = None) -> Path:
    """The copy mutmut works in: the working tree's library and tests, or with `commit` both as committed there (so
    that others' unfinished edits are not what gets mutated, and the tests match the library they test)."""
    folder = ROOT / "_build" / "mutation" / module.replace("/", "_")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, target in COPIED.items():
        source = ROOT / name
        if commit:
            archive = subprocess.run(["git", "archive", commit, name], cwd=ROOT, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
            if name != target:
                (folder / name).rename(folder / target)
                (folder / name).parent.rmdir()
        elif source.is_dir():
            shutil.copytree(source, folder / target, ignore=LEFT_OUT)
        else:
            shutil.copy2(source, folder / target)
    config = configparser.ConfigParser()
    config.read(folder / "setup.cfg")
    files, tests = TARGETS[module]
    for name in files:
        rewritten = undecorate(folder / "glassbox" / f"{name}.py")
        print(f"glassbox/{name}.py: undecorated for mutmut:", ", ".join(rewritten) or "nothing")
    config["mutmut"]["only_mutate"] = "\n" + "\n".join(f"glassbox/{name}.py" for name in files)
    tests = [test for test in tests if (folder / test).exists()]  # a test file listed before it is written
    config["mutmut"]["pytest_add_cli_args_test_selection"] = "\n" + "\n".join(tests)
    with open(folder / "setup.cfg", "w") as f:
        config.write(f)
    return folder


def check_clean(folder: Path, env: dict[str, str]) -> None:
    """Runs the copy's tests on its unmutated (but undecorated) library, as mutmut will, and stops if any fails: a
    rewrite that changed behaviour would otherwise read as mutants killed."""
    folder = folder.resolve()
    config = configparser.ConfigParser()
    config.read(folder / "setup.cfg")
    args = [
        *config["mutmut"]["pytest_add_cli_args"].strip().splitlines(),
        *config["mutmut"]["pytest_add_cli_args_test_selection"].strip().splitlines(),
    ]
    probe = "import glassbox, sys; sys.exit(not glassbox.__file__.startswith(sys.argv[1]))"
    env = {**env, "PYTHONPATH": str(folder)}
    if subprocess.run([sys.executable, "-c", probe, str(folder)], cwd=folder, env=env).returncode:
        raise SystemExit(f"{folder}: `import glassbox` does not find the copy's library")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", *args], cwd=folder, env=env)
    if result.returncode:
        raise SystemExit(f"{folder}: the tests fail on the unmutated copy (exit {result.returncode}); no mutants run")


def score(folder: Path) -> dict[str, tuple[int, int, list[str]]]:
    """Per mutated file: (killed, tested, the lines of every mutant not killed), from `mutmut results --all true`.
    A timeout counts as killed (the mutant made the tests hang: they noticed); "no tests" counts as a survivor."""
    out = subprocess.run([MUTMUT, "results", "--all", "true"], cwd=folder, capture_output=True, text=True).stdout
    rows = [line.strip() for line in out.splitlines() if ": " in line]
    per_file: dict[str, tuple[int, int, list[str]]] = {}
    for row in rows:
        name, status = row.rsplit(": ", 1)
        if status in ("not checked", "skipped"):
            continue
        file = re.split(r"\.x(?:_|\u01c1)", name, maxsplit=1)[0]
        killed, tested, others = per_file.get(file, (0, 0, []))
        dead = status in ("killed", "timeout")
        per_file[file] = (killed + dead, tested + 1, others if dead else [*others, row])
    return per_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"modules or groups (default: every one of {', '.join(TARGETS)})")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument(
        "--commit", help="mutate the library, with its tests, as committed at this revision (default: working tree)"
    )
    parser.add_argument(
        "--mutants",
        nargs="+",
        default=[],
        help="only these mutants (mutmut's names, globs allowed: 'glassbox.sampling.x_generate__mutmut_*')",
    )
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in TARGETS]
    if unknown:
        parser.error(f"no tests are listed for {unknown}: add them to TARGETS in {Path(__file__).name}")
    summary = []
    for module in args.modules or list(TARGETS):
        folder = prepare(module, args.commit)
        # one thread: mutmut forks each mutant's test run from a process that has already run torch, and a fork of a
        # process with a live OpenMP thread pool deadlocks (every mutant then reads as a timeout)
        one_thread = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        check_clean(folder, one_thread)
        subprocess.run(
            [MUTMUT, "run", "--max-children", str(args.max_children), *args.mutants],
            cwd=folder,
            check=False,
            env=one_thread,
        )
        for file, (killed, tested, others) in sorted(score(folder).items()):
            print(f"\n{file}: {killed} of {tested} mutants killed", *others, sep="\n  ")
            summary.append(f"{file:36} {killed:4} / {tested:4}  {100 * killed / max(tested, 1):5.1f} %")
    print("\nmutation score (killed / tested)", *summary, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
