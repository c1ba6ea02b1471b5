"""The reader's answer as the checks call it (`Answer`): every call under a time limit and every error one line
(`ReaderFailed`), a class built and given the reference's random weights (`build_like`), and the global random
state left as the reader had it (`preserved_random_state`). Used by `glassbox.checking.judge` and the chapters' checks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from glassbox.checking.diagnose import describe, first_line
from glassbox.checking.time_limit import TimeLimitExceeded, call_with_time_limit

TIME_LIMIT = 10.0  # seconds for one call of the reader's code; every reference answer takes milliseconds
NOT_IMPLEMENTED = "not implemented yet (the body still raises NotImplementedError)"


class ReaderFailed(Exception):
    """The reader's code raised, ran too long, or built something the checks cannot use; `reason` says so."""

    def __init__(self, reason: str, error: BaseException | None = None):
        super().__init__(reason)
        self.reason, self.error = reason, error


@dataclass
class Answer:
    """The reader's function or class, called only through `call`: under the time limit, every error one line."""

    obj: Any
    reference: Any
    time_limit: float | None = TIME_LIMIT

    def call(self, fn: Callable[..., Any], *args: Any, first: bool = False) -> Any:
        try:
            return call_with_time_limit(fn, self.time_limit, *args)
        except TimeLimitExceeded as error:
            raise ReaderFailed(str(error), error) from None
        except NotImplementedError as error:
            reason = NOT_IMPLEMENTED if first and not str(error).strip() else f"raised {first_line(error)}"
            raise ReaderFailed(reason, error) from None
        except (Exception, SystemExit) as error:  # the reader's code may raise anything (even exit()): one line
            raise ReaderFailed(f"raised {first_line(error)}", error) from None

    def build(self, cfg: Any, seed: int = 0, first: bool = False) -> tuple[torch.nn.Module, torch.nn.Module]:
        """The reader's module and the reference's, both holding the reference's random weights."""
        reference = randomize(self.reference(cfg), seed).eval()
        return build_like(self, reference, cfg, first), reference


def randomize(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every parameter random values (seeded), so that no bias or LayerNorm weight is tested by accident."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            noise = torch.randn(param.shape, generator=generator)
            param.copy_(1 + 0.2 * noise if name.split(".")[-1] == "w" else 0.3 * noise)
    return module


def build_like(answer: Answer, reference: torch.nn.Module, cfg: Any, first: bool = False) -> torch.nn.Module:
    """Build the reader's module and give it the reference's weights, or raise ReaderFailed saying what differs."""
    module = answer.call(answer.obj, cfg, first=first)
    if not isinstance(module, torch.nn.Module):
        raise ReaderFailed(f"{answer.obj.__name__}(cfg) built a {describe(module)}, not a torch.nn.Module")
    ours, theirs = dict(module.named_parameters()), dict(reference.named_parameters())
    missing, unexpected = sorted(theirs.keys() - ours.keys()), sorted(ours.keys() - theirs.keys())
    if missing or unexpected:
        raise ReaderFailed(f"parameters differ from the reference's: missing {missing}, unexpected {unexpected}")
    for name, param in theirs.items():
        if ours[name].shape != param.shape:
            raise ReaderFailed(f"{name} has shape {tuple(ours[name].shape)}, the reference's {tuple(param.shape)}")
    with torch.no_grad():
        for name, param in theirs.items():
            if ours[name].device != param.device:
                raise ReaderFailed(f"parameter {name} is on device {ours[name].device}, the inputs on {param.device}")
            ours[name].copy_(param)
    return module.eval()


@contextmanager
def preserved_random_state() -> Iterator[None]:
    """Leave Python's, NumPy's and PyTorch's global random generators as they were (checks draw from them)."""
    states = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.random.set_rng_state(states[2])
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
