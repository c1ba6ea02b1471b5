"""Trained models kept on disk, so a chapter that opens a model trained elsewhere in the book need not retrain it.

One mechanism for every cached model (chapter 5's character model in `glassbox.zoo`, chapter 11's induction model in
`glassbox.induction`, and those of later parts): a file named after the model and a hash of everything that decides
its weights (configuration, recipe, data, torch version), so a changed recipe never loads stale weights, and
`cached_model` loads it or trains it on first use. The folder is `$GLASSBOX_CACHE`, or `~/.cache/glassbox`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn


def cache_dir() -> Path:
    """Where trained models are kept: `$GLASSBOX_CACHE`, or `~/.cache/glassbox`."""
    return Path(os.environ.get("GLASSBOX_CACHE") or Path.home() / ".cache" / "glassbox")


def model_file(name: str, *decided_by: str) -> Path:
    """The file of model `name`, keyed by the texts that decide its weights (e.g. reprs of its config and recipe)."""
    key = hashlib.sha256("\n".join(decided_by).encode()).hexdigest()[:16]
    return cache_dir() / f"{name}-{key}.pt"


def save_weights(model: nn.Module, path: Path) -> Path:
    """Write `model`'s weights (on the CPU) to `path`, atomically: a process loading it never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, partial)
    os.replace(partial, path)
    return path


def cached_model(path: Path, untrained: Callable[[], nn.Module], trained: Callable[[], nn.Module]) -> nn.Module:
    """The model stored at `path` (weights loaded into `untrained()`), or `trained()` — stored there for next time."""
    if path.exists():
        model = untrained()
        model.load_state_dict(torch.load(path, map_location="cpu"))
        return model.eval()
    model = trained()
    save_weights(model, path)
    return model.eval()
