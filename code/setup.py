"""Which packages the wheel holds (the rest of the metadata is in pyproject.toml).

Every package under glassbox/ (found, not listed by hand), and the exercise stubs and reference solutions, which live
beside the book (../exercises, ../solutions) and are installed under names of their own, `glassbox_exercises` and
`glassbox_solutions`, so `check(...)`, the tests and the chapters import them from any folder. The book's build
machinery is not here: it is ../tools (glassbox_build), installed only where the book is built.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["glassbox", "glassbox.*"]), "glassbox_exercises", "glassbox_solutions"],
    package_dir={"glassbox_exercises": "../exercises", "glassbox_solutions": "../solutions"},
)
