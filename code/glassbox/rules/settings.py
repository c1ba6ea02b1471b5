"""The command line's settings checked before anything trains (`python -m glassbox.rules`): each wrong value, from a
flag or a `--config` TOML file, is named in one line rather than surfacing as a traceback from inside training."""

from __future__ import annotations

import math
from typing import Any

WHOLE_NUMBERS = ("steps", "batch_size", "d_model", "n_ctx", "d_mlp", "n_sequences", "n_heads", "seed", "eval_every")


def settings_problem(settings: dict[str, Any]) -> str | None:
    """What is wrong with the settings (from flags or a TOML file), in one line, or None. Checked before anything
    trains, so a wrong value is named rather than surfacing as a traceback from deep inside training."""
    for name, value in settings.items():
        flag = name.replace("_", "-")
        if name in WHOLE_NUMBERS or name == "checkpoint_every":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{flag} must be a whole number, got {value!r}"
        elif name in ("lr", "weight_decay"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                return f"{flag} must be a number, got {value!r}"
        elif name == "use_residual" and not isinstance(value, bool):
            return f"use_residual must be true or false, got {value!r}"
        elif name == "lr_schedule" and value not in ("constant", "cosine"):
            return f"lr_schedule must be 'constant' or 'cosine', got {value!r}"
    for name in ("steps", "batch_size", "d_model", "n_ctx", "d_mlp", "n_heads", "eval_every", "checkpoint_every"):
        if name in settings and settings[name] < 1:
            return f"{name.replace('_', '-')} must be at least 1, got {settings[name]}"
    if settings.get("seed", 0) < 0:
        return f"seed must be 0 or more, got {settings['seed']}"
    if settings.get("lr", 1) <= 0:
        return f"lr must be positive, got {settings['lr']}"
    if settings.get("weight_decay", 0) < 0:
        return f"weight-decay must be 0 or more, got {settings['weight_decay']}"
    if settings.get("n_sequences", 10) < 10:
        return f"n-sequences must be at least 10 (a tenth is held out for validation), got {settings['n_sequences']}"
    return None


def setup_problem(rule: str, d_model: int, n_heads: int, n_ctx: int) -> str | None:
    """What is wrong with a model's shape for `rule`, in one line, or None: heads must split the stream, and every
    sequence of the rule must hold a training window of n_ctx + 1 tokens."""
    from glassbox.rules.definitions import get_rule

    if d_model % n_heads:
        return f"d-model ({d_model}) must be a multiple of n-heads ({n_heads})"
    shortest = get_rule(rule).min_length
    if n_ctx + 1 > shortest:
        return (
            f"n-ctx must be at most {shortest - 1} for {rule} (its shortest sequences have {shortest} tokens), "
            f"got {n_ctx}"
        )
    return None
