"""Exercises: stubs mirror solutions, every stub fails its test with a one-line reason, every exercise is checked."""

import ast
import importlib
import inspect
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from glassbox.checking.checks import EXERCISES

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT / "solutions").glob("ch*.py"))


def public_objects(module):
    """The exercises of a module: its `__all__`, or the functions and classes it defines."""
    if hasattr(module, "__all__"):
        return {name: getattr(module, name) for name in module.__all__}
    return {
        name: obj
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    }


def methods(cls):
    return {name: fn for name, fn in vars(cls).items() if inspect.isfunction(fn)}


def test_exercises_and_solutions_hold_the_same_modules():
    assert MODULES, "no solution modules found"
    assert MODULES == sorted(p.stem for p in (ROOT / "exercises").glob("ch*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_stubs_keep_the_signatures_and_docstrings_of_the_solutions(module):
    stubs = public_objects(importlib.import_module(f"glassbox_exercises.{module}"))
    references = public_objects(importlib.import_module(f"glassbox_solutions.{module}"))
    assert stubs.keys() == references.keys()
    for name, reference in references.items():
        stub = stubs[name]
        assert inspect.getdoc(stub) and inspect.getdoc(stub) == inspect.getdoc(reference), f"{module}.{name} docstring"
        pairs = (
            [(name, stub, reference)]
            if inspect.isfunction(reference)
            else [(f"{name}.{m}", methods(stub).get(m), fn) for m, fn in methods(reference).items()]
        )
        for label, mine, theirs in pairs:
            assert mine is not None, f"{module}.{label} is missing from the stub"
            assert str(inspect.signature(mine)) == str(inspect.signature(theirs)), label
            assert inspect.getdoc(mine) == inspect.getdoc(theirs), f"{label} docstring"


def raises_not_implemented(fn: ast.FunctionDef) -> bool:
    body = fn.body[1:] if isinstance(fn.body[0], ast.Expr) else fn.body
    return len(body) == 1 and isinstance(body[0], ast.Raise) and "NotImplementedError" in ast.unparse(body[0])


@pytest.mark.parametrize("module", MODULES)
def test_stub_bodies_only_raise_not_implemented(module):
    tree = ast.parse((ROOT / "exercises" / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            assert raises_not_implemented(node), f"{module}.{node.name} is more than a stub"
        elif isinstance(node, ast.ClassDef):
            todo = [f for f in node.body if isinstance(f, ast.FunctionDef) and f.name != "__init__"]
            given_only = f"{module}.{node.name}: only __init__ is given"
            assert todo and all(raises_not_implemented(f) for f in todo), given_only


def given_init(cls) -> str | None:
    """The statements of `cls.__init__` (its docstring and comments left out), or None if the class defines none or
    leaves it to the learner (it raises NotImplementedError)."""
    init = vars(cls).get("__init__")
    if init is None:
        return None
    function = ast.parse(inspect.cleandoc("\n" + inspect.getsource(init))).body[0]
    if raises_not_implemented(function):
        return None
    body = function.body
    return ast.dump(ast.Module(body=body[1:] if isinstance(body[0], ast.Expr) else body, type_ignores=[]))


@pytest.mark.parametrize("module", MODULES)
def test_a_given_constructor_is_the_references_own(module):
    """A stub class shows the learner its constructor (chapter 4's DemoTransformer builds itself from the parts):
    that copy must build exactly what the reference builds, or the learner's model would not load the weights the
    chapters give it."""
    stubs = public_objects(importlib.import_module(f"glassbox_exercises.{module}"))
    references = public_objects(importlib.import_module(f"glassbox_solutions.{module}"))
    for name, reference in references.items():
        if inspect.isclass(reference) and given_init(stubs[name]) is not None:
            assert given_init(stubs[name]) == given_init(reference), (
                f"{module}.{name}.__init__ differs from the reference's"
            )


def test_every_exercise_function_has_a_check_and_every_check_an_exercise():
    functions = {
        (module, name)
        for module in MODULES
        for name in public_objects(importlib.import_module(f"glassbox_solutions.{module}"))
    }
    assert functions == {(ex.module, ex.name) for ex in EXERCISES.values()}


@pytest.mark.slow
def test_every_exercise_test_fails_on_its_stub_with_a_one_line_reason(tmp_path):
    report = tmp_path / "stubs.xml"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/exercises",
            "--impl",
            "exercises",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    cases = ET.parse(report).getroot().iter("testcase")
    outcomes = {case.get("name"): case.find("failure") for case in cases}
    assert len(outcomes) == len(EXERCISES), f"expected one test an exercise, ran {sorted(outcomes)}"
    for name, failure in outcomes.items():
        assert failure is not None, f"{name} passed on its stub: the test cannot fail"
        message = failure.get("message", "")
        assert "not implemented yet" in message and "\n" not in message.strip(), f"{name}: {message!r}"
