"""Data that ships with the book (no downloads): the book's own text, a character tokenizer, and batching.

`book_text()` is a snapshot of the book's chapters, kept in the package so that Colab and a laptop train on the
same characters; `python -m glassbox.data` refreshes it from book/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch
from jaxtyping import Int
from torch import Tensor

CORPUS = "book_text.txt"


def book_text() -> str:
    """The book's own text — chapters, README and library code — the corpus of chapter 5."""
    return (resources.files("glassbox.datasets") / CORPUS).read_text(encoding="utf-8")


def chapters_as_text(root: Path) -> str:
    """The book's own text: its chapters (without YAML front matter and cell options), the README, and the
    library's source, joined in order."""
    texts = []
    paths = [
        *sorted((root / "book").rglob("*.md")),
        root / "README.md",
        *sorted((root / "code" / "glassbox").rglob("*.py")),
    ]
    for path in paths:
        text = re.sub(r"\A---\n.*?\n---\n", "", path.read_text(encoding="utf-8"), flags=re.S)
        text = re.sub(r"^:[\w-]+:.*\n", "", text, flags=re.M)
        texts.append(text.strip())
    return "\n\n".join(texts) + "\n"


@dataclass(frozen=True)
class CharTokenizer:
    """One token per distinct character of a text, in sorted order."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls("".join(sorted(set(text))))

    @property
    def d_vocab(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> Int[Tensor, "pos"]:
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - index.keys())
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def decode(self, tokens: Int[Tensor, "pos"]) -> str:
        return "".join(self.chars[i] for i in tokens.tolist())


def split(tokens: Int[Tensor, "n"], val_fraction: float = 0.1) -> tuple[Tensor, Tensor]:
    """The first (1 - val_fraction) of a token stream for training, the rest for validation."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    cut = int(len(tokens) * (1 - val_fraction))
    return tokens[:cut], tokens[cut:]


def random_windows(
    tokens: Int[Tensor, "n"], n_ctx: int, batch_size: int, generator: torch.Generator
) -> Int[Tensor, "batch n_ctx"]:
    """`batch_size` windows of `n_ctx` consecutive tokens, at random (seeded) starting points."""
    if len(tokens) < n_ctx:
        raise ValueError(f"a stream of {len(tokens)} tokens is shorter than one window of {n_ctx}")
    starts = torch.randint(0, len(tokens) - n_ctx + 1, (batch_size,), generator=generator)
    return torch.stack([tokens[s : s + n_ctx] for s in starts.tolist()])


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2]
    target = Path(__file__).parent / "datasets" / CORPUS
    target.write_text(chapters_as_text(root), encoding="utf-8")
    print(f"wrote {target} ({target.stat().st_size} bytes)")
