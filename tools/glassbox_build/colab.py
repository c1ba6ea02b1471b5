"""The first cell of every Colab notebook: install the book's pinned packages and its code at one commit, then restart.

Colab imports numpy, matplotlib and pillow before the first cell runs; installing newer ones under the running kernel
would leave the old ones in memory. So the cell installs, then ends the kernel process (Colab restarts it), and does
nothing the second time: it checks that the book's code at that commit, and every pinned package, is what is
installed. `tests/colab/simulate.py` runs it as Colab does.
"""

from __future__ import annotations

from pathlib import Path

from glassbox_build.book import REPO_ROOT, book_config, book_revision


def colab_requirements(requirements: Path = REPO_ROOT / "requirements.txt") -> list[str]:
    """The pins a chapter needs at run time: the library section of requirements.txt.

    Colab keeps its own torch (pinned on the first line, outside every section) and its own kernel packages (IPython,
    ipywidgets: a section of their own), which its running kernel depends on.
    """
    pins, section = [], None
    for line in requirements.read_text().splitlines():
        if line.startswith("# ---"):
            section = line
        elif line and not line.startswith("#") and section and "library" in section:
            pins.append(line.split("#")[0].strip())
    return pins


INSTALL_CELL = """# Colab set-up, once per session (about {minutes} minutes): installs the book's code as of commit
# {short} and the packages it pins, then restarts Python so it loads them (Colab reports a crash: that is the
# restart). Then run the notebook again from the top: this cell does nothing the second time, nor outside Colab.
import importlib.metadata, json, os, subprocess, sys

REPOSITORY, REVISION = "{url}", "{revision}"
PINS = {pins}


def book_installed() -> bool:
    \"\"\"True when the book's code at REVISION and every pinned package are what is installed.\"\"\"
    try:
        source = json.loads(importlib.metadata.distribution("glassbox").read_text("direct_url.json") or "{{}}")
        versions = [importlib.metadata.version(pin.split("==")[0]) == pin.split("==")[1] for pin in PINS]
    except importlib.metadata.PackageNotFoundError:
        return False
    return source.get("vcs_info", {{}}).get("commit_id") == REVISION and all(versions)


if "google.colab" in sys.modules and not book_installed():
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *PINS], check=True)
    subprocess.run([*pip, "--no-deps", "--force-reinstall", f"git+{{REPOSITORY}}@{{REVISION}}#subdirectory=code"],
                   check=True)
    print("Installed. Restarting Python so that it loads the new packages: now run the notebook again from the top.")
    os.kill(os.getpid(), 9)"""
INSTALL_MINUTES = 2  # measured by tests/colab/simulate.py, which prints the install cell's time


def install_source(root: Path = REPO_ROOT, revision: str | None = None) -> str:
    """The first cell of every Colab notebook: install the pinned packages and the book's code at `revision`."""
    revision = revision or book_revision(root)
    pins = "[\n" + "".join(f"    {pin!r},\n" for pin in colab_requirements(root / "requirements.txt")) + "]"
    return INSTALL_CELL.format(
        minutes=INSTALL_MINUTES,
        short=revision[:7],
        url=book_config(root)["repository"]["url"],
        revision=revision,
        pins=pins,
    )
