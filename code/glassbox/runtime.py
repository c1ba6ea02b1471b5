"""What a trained number depends on besides the code: the training seed, the CPU's kernels and the thread count.

The same code trains a different model on another machine: PyTorch picks its vector kernels by CPU (AVX-512,
AVX2 or portable ones, forced with `ATEN_CPU_CAPABILITY`), they round differently, and a tiny difference in step 1
is a visibly different model after thousands of steps. The thread count changes the order of sums too. So the book
states only what holds for any reasonable run, checks that with other seeds and kernels (`make robustness`), and
keeps here, in one place, the three settings that decide a run:

- `training_seed(seed)`: every seed the library trains with (initial weights, batch order) passes through it.
  `GLASSBOX_SEED` (default 0, the site's run) shifts them all, so one setting trains every model of the book from
  another seed, e.g. `GLASSBOX_SEED=1 make chapter CH=ch06`.
- `BOOK_THREADS` and `book_threads()`: the thread count the chapters compute with (one: the book's models are so
  small that a second thread costs more than it gains, and one thread is the same on every machine).
- `provenance()`: what made a trained model (torch version, kernel set, threads, seed shift), recorded beside each
  model the cache keeps (`glassbox.cache`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

BOOK_THREADS = 1  # the chapters' thread count: the book's models are tiny; one thread is faster and reproducible
SEED_STRIDE = 1000  # GLASSBOX_SEED=k shifts every training seed by k·1000, clear of the +1, +2 a recipe adds


def seed_offset() -> int:
    """`GLASSBOX_SEED` as an integer ≥ 0 (0 when unset): which of the book's training runs to make."""
    text = os.environ.get("GLASSBOX_SEED", "").strip() or "0"
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"GLASSBOX_SEED must be a whole number ≥ 0, got {text!r}") from None
    if value < 0:
        raise ValueError(f"GLASSBOX_SEED must be a whole number ≥ 0, got {value}")
    return value


def training_seed(seed: int) -> int:
    """The seed a model is actually trained (or initialised) with: `seed`, shifted by `GLASSBOX_SEED`."""
    return seed + SEED_STRIDE * seed_offset()


def kernel_set() -> str:
    """The CPU kernels PyTorch runs here: "AVX512", "AVX2", "DEFAULT", … (`ATEN_CPU_CAPABILITY` forces one)."""
    return torch.backends.cpu.get_cpu_capability()


def book_threads() -> None:
    """Compute with the book's thread count from now on (each chapter calls it once, at its top)."""
    torch.set_num_threads(BOOK_THREADS)


@contextlib.contextmanager
def threads(n: int = BOOK_THREADS) -> Iterator[None]:
    """`n` CPU threads inside the block, the caller's count after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def provenance() -> dict[str, str | int]:
    """What a model trained now is made by, besides its recipe and code: recorded beside each cached model."""
    return {
        "torch": torch.__version__,
        "kernels": kernel_set(),
        "threads": torch.get_num_threads(),
        "glassbox_seed": seed_offset(),
        "device": "cuda"
        if torch.cuda.is_available() and os.environ.get("GLASSBOX_DEVICE") in ("cuda", "auto")
        else "cpu",
    }
