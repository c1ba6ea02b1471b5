"""Where the book's models and tensors live: one device, chosen here and nowhere else (every chapter, every runtime).

The book's models are small enough that a CPU trains them in seconds to minutes, and on a CPU every number comes
out the same on every machine (the site's, Colab's, yours). So the book runs on the CPU, even in a Colab runtime
with a GPU, unless you ask for another device with the environment variable `GLASSBOX_DEVICE` ("cuda", "mps" or
"auto" for whatever accelerator is present), set before the first `import glassbox`. Models
(`TransformerConfig.device`), cached models (`glassbox.zoo`, `glassbox.induction`) and GPT-2
(`glassbox.pretrained`) all read `book_device()`; a model moves its input tokens to its own device.
"""

from __future__ import annotations

import os

import torch

CHOICES = ("cpu", "cuda", "mps", "auto")


def book_device() -> str:
    """The device the book builds its models on: `$GLASSBOX_DEVICE`, or "cpu"."""
    choice = os.environ.get("GLASSBOX_DEVICE", "cpu").strip().lower() or "cpu"
    if choice not in CHOICES:
        raise ValueError(f"GLASSBOX_DEVICE must be one of {', '.join(CHOICES)}, got {choice!r}")
    if choice == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if torch.backends.mps.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("GLASSBOX_DEVICE=cuda, but torch sees no CUDA GPU (in Colab: Runtime → Change runtime type)")
    return choice
