"""Trained models kept on disk, so a chapter that opens a model trained elsewhere in the book need not retrain it.

One mechanism for every cached model (chapter 5's character model in `glassbox.zoo`, chapter 11's induction model in
`glassbox.induction`, and those of later parts): a file named after the model and a hash of everything that decides
its weights — the configuration, recipe and data its caller names, plus, added here for every model, the source of
the library code that trains models (`code_fingerprint`) and the training seed shift (`GLASSBOX_SEED`) — so a
changed recipe or an edited training loop never loads stale weights. `cached_model` loads it or trains it on first
use, and writes beside it what made it (`<file>.json`: torch version, CPU kernels, threads, seed shift). A file that
cannot be read is named in one line and retrained. The folder is `$GLASSBOX_CACHE`, or `~/.cache/glassbox`
(`make clean` does not empty it: `rm -r ~/.cache/glassbox` does).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

import glassbox
from glassbox import runtime

# The library code whose every edit can change a trained model: a change to any of these retrains (not plots).
TRAINING_CODE = (
    "config.py",
    "components.py",
    "model.py",
    "parameters.py",
    "train.py",
    "data.py",
    "runtime.py",
    "zoo.py",
    "induction.py",
    "rules/base.py",
    "rules/definitions.py",
    "rules/parity.py",
    "rules/data.py",
    "rules/gallery.py",
    "rules/training.py",
    "features/superposition.py",
    "features/sae.py",
    "features/probes.py",
)


@functools.cache
def code_fingerprint() -> str:
    """A hash of the library source that trains the book's models (`TRAINING_CODE`)."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for name in TRAINING_CODE:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """Where trained models are kept: `$GLASSBOX_CACHE`, or `~/.cache/glassbox`."""
    return Path(os.environ.get("GLASSBOX_CACHE") or Path.home() / ".cache" / "glassbox")


def model_file(name: str, *decided_by: str) -> Path:
    """The file of model `name`, keyed by the texts that decide its weights (e.g. reprs of its config and recipe),
    the library's training code and version, and the training seed shift."""
    texts = [*decided_by, code_fingerprint(), f"glassbox {glassbox.__version__}", f"seed shift {runtime.seed_offset()}"]
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    return cache_dir() / f"{name}-{key}.pt"


def save_weights(model: nn.Module, path: Path) -> Path:
    """Write `model`'s weights (on the CPU) to `path`, atomically: a process loading it never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, partial)
    os.replace(partial, path)
    write_provenance(path)
    return path


def write_provenance(path: Path) -> None:
    """Record beside `path` what trained it: `<path>.json` (torch, CPU kernels, threads, seed shift)."""
    record = path.with_name(path.name + ".json")
    record.write_text(json.dumps({**runtime.provenance(), "code": code_fingerprint()}, indent=1))


def unreadable(path: Path, error: Exception) -> None:
    """Say in one line that a cached model could not be read and will be trained again."""
    warnings.warn(f"{path}: cached model unreadable ({type(error).__name__}: {error}); training it again", stacklevel=3)


def cached_model(path: Path, untrained: Callable[[], nn.Module], trained: Callable[[], nn.Module]) -> nn.Module:
    """The model stored at `path` (weights loaded into `untrained()`), or `trained()` — stored there for next time."""
    if path.exists():
        model = untrained()
        try:
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            return model.eval()
        except (OSError, RuntimeError, EOFError, ValueError) as error:  # truncated, corrupt or another model's file
            unreadable(path, error)
    model = trained()
    save_weights(model, path)
    return model.eval()
