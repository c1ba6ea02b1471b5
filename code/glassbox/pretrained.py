"""GPT-2 small through TransformerLens 4.x, and an honest stand-in when it cannot be had (chapter 12).

`find_gpt2` decides *before* touching `transformers` where GPT-2's weights would come from: a local folder, the
Hugging Face cache, or the hub — and, when none will do, says why in one sentence. It never waits on the network
for long: with `HF_HUB_OFFLINE=1` it only looks at the disk, and otherwise one request to the hub, bounded by a
timeout, decides whether the hub can be reached. `load_gpt2` then boots the real model with
`TransformerBridge.boot_transformers` and switches on `enable_compatibility_mode()` (LayerNorm folded into the
next weights and writing weights centred, as `HookedTransformer.from_pretrained` did in TransformerLens 2.x), or
raises `GPT2Unavailable` with that reason.

`load_chapter_model` is what chapter 12 calls: GPT-2 when it can be loaded, otherwise the book's own model from
chapter 5 (`glassbox.zoo.char_model`), behind one small interface (`ChapterModel`) so that every section of the
chapter runs unchanged on either. Both are TransformerLens `HookedRootModule`s with the same hook names.

Longer than 300 lines: finding GPT-2, loading it, and the stand-in's interface with its tokenizers are one
decision that chapter 12 makes once, kept in one place.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from jaxtyping import Int
from torch import Tensor

from glassbox.device import book_device

GPT2 = "openai-community/gpt2"  # the official id; "gpt2-small" is a deprecated TransformerLens alias
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
TOKENIZER_FILES = (("tokenizer.json",), ("vocab.json", "merges.txt"))  # either a fast tokenizer or BPE files
HUB_TIMEOUT_S = 3.0  # the whole decision stays under 5 s even when DNS or the route hangs
OFFLINE_NOTICE = (
    "GPT-2's weights could not be loaded where this chapter ran, so the outputs below come from the book's own "
    "model trained in chapter 5."
)


class GPT2Unavailable(RuntimeError):
    """GPT-2's weights cannot be loaded here; `reason` says why in one sentence."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Source:
    """Where GPT-2 would be loaded from: `path` for `boot_transformers` (a folder or a hub id), or None and why."""

    path: str | None
    where: str  # "local folder", "Hugging Face cache", "Hugging Face hub", or "nowhere"
    reason: str

    @property
    def available(self) -> bool:
        return self.path is not None


def hub_offline() -> bool:
    """True when the environment forbids the hub (`HF_HUB_OFFLINE` or `TRANSFORMERS_OFFLINE` set to a true value)."""
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def complete_folder(folder: Path) -> str | None:
    """None when `folder` holds a config, weights and a tokenizer; otherwise what is missing."""
    if not (folder / "config.json").is_file():
        return "no config.json"
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        return f"no weights ({' or '.join(WEIGHT_FILES)})"
    if not any(all((folder / name).is_file() for name in names) for names in TOKENIZER_FILES):
        return "no tokenizer (tokenizer.json, or vocab.json and merges.txt)"
    return None


def cached_snapshot(repo_id: str = GPT2, cache_dir: str | Path | None = None) -> Path | None:
    """The folder of a complete cached copy of `repo_id` in the Hugging Face cache, or None (reads the disk only)."""
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(repo_id, "config.json", cache_dir=cache_dir)
    if not isinstance(config, str):  # None (never cached) or a sentinel (known to be missing upstream)
        return None
    folder = Path(config).parent
    return folder if complete_folder(folder) is None else None


def hub_unreachable(repo_id: str = GPT2, timeout: float = HUB_TIMEOUT_S) -> str | None:
    """None when the hub answers a request for `repo_id`'s config within `timeout` seconds; otherwise why not.

    The request runs in a daemon thread that is abandoned after `timeout`, so a hanging DNS lookup or a route
    that drops packets costs `timeout` seconds, not minutes of retries.
    """
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    url = f"{endpoint}/{repo_id}/resolve/main/config.json"
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            request = urllib.request.Request(url, method="HEAD")
            with urllib.request.urlopen(request, timeout=timeout):
                outcome.append(None)
        except urllib.error.HTTPError as error:  # the hub answered, but not with the file
            outcome.append(None if error.code in (401, 403) else f"{url} answered HTTP {error.code}")
        except (OSError, ValueError) as error:  # URLError, timeouts, refused connections, bad endpoints
            outcome.append(f"cannot reach {endpoint} ({getattr(error, 'reason', error)})")

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        return f"no answer from {endpoint} within {timeout:g} s"
    return outcome[0]


def find_gpt2(model_name: str = GPT2, cache_dir: str | Path | None = None, timeout: float = HUB_TIMEOUT_S) -> Source:
    """Decide, without waiting on the network, where `model_name` can be loaded from.

    In order: `model_name` is a local folder → that folder; a complete copy in the Hugging Face cache → the
    cached folder (loaded with no network at all); the hub forbidden (`HF_HUB_OFFLINE=1`) → unavailable; the hub
    answers within `timeout` → the hub; otherwise unavailable, with the reason.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    folder = Path(model_name).expanduser()
    if folder.is_dir():
        missing = complete_folder(folder)
        if missing:
            return Source(None, "nowhere", f"the folder {folder} cannot be loaded: {missing}")
        return Source(str(folder), "local folder", f"loaded from the folder {folder}")
    snapshot = cached_snapshot(model_name, cache_dir)
    if snapshot is not None:
        return Source(str(snapshot), "Hugging Face cache", f"loaded from the Hugging Face cache ({snapshot})")
    if hub_offline():
        return Source(None, "nowhere", f"HF_HUB_OFFLINE is set and {model_name} is not in the Hugging Face cache")
    problem = hub_unreachable(model_name, timeout)
    if problem:
        return Source(None, "nowhere", f"{model_name} is not in the Hugging Face cache and {problem}")
    return Source(model_name, "Hugging Face hub", f"downloaded from the Hugging Face hub ({model_name})")


def load_gpt2(
    device: str | None = None,
    model_name: str = GPT2,
    compatibility_mode: bool = True,
    cache_dir: str | Path | None = None,
    timeout: float = HUB_TIMEOUT_S,
) -> Any:
    """GPT-2 as a TransformerLens `TransformerBridge`, or `GPT2Unavailable` (raised within seconds) saying why.

    `compatibility_mode` folds LayerNorm and centres the writing weights, the numerics analysis tools assume
    (logit lens, residual norms, direct logit attribution); the next-token probabilities are unchanged.
    """
    return boot(find_gpt2(model_name, cache_dir, timeout), device, compatibility_mode)


def boot(source: Source, device: str | None = None, compatibility_mode: bool = True) -> Any:
    """Boot the bridge from a `Source` that `find_gpt2` found, or raise `GPT2Unavailable` with its reason.

    `device` defaults to the book's (`glassbox.device`): left to itself TransformerLens would pick a GPU where there is
    one, while the book's tokens and models stay where `book_device()` puts them.
    """
    if not source.available:
        raise GPT2Unavailable(source.reason)
    from transformer_lens import TransformerBridge

    with contextlib.redirect_stdout(io.StringIO()), _quiet_progress_bars():  # no "Moving model to device", no bars
        bridge = TransformerBridge.boot_transformers(source.path, device=device or book_device())
        if compatibility_mode:
            bridge.enable_compatibility_mode(disable_warnings=True)
    return bridge.eval()


@contextlib.contextmanager
def _quiet_progress_bars():
    """Silence the download and weight-loading bars of huggingface_hub and transformers (a built page shows
    them as widgets or stderr), restoring their previous state afterwards."""
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
    from transformers.utils import logging as hf_logging

    hub_was_on, hf_was_on = not are_progress_bars_disabled(), hf_logging.is_progress_bar_enabled()
    disable_progress_bars()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if hub_was_on:
            enable_progress_bars()
        if hf_was_on:
            hf_logging.enable_progress_bar()


@dataclass(repr=False)
class ChapterModel:
    """The model chapter 12 opens, GPT-2 or the book's own, with the few things the chapter needs from either.

    `model` runs `run_with_cache` and names its hooks as TransformerLens does; `to_tokens` and `to_str_tokens`
    hide the two tokenizers (GPT-2's BPE with a BOS token in front, or chapter 5's characters).
    """

    model: Any
    name: str
    is_gpt2: bool
    reason: str
    n_params: int  # parameters the model stores (GPT-2 ties its unembedding to its embedding: counted once)
    _to_tokens: Callable[[str], Tensor]
    _token_str: Callable[[int], str]

    @property
    def notice(self) -> str | None:
        """What the page must say when it does not show GPT-2."""
        return None if self.is_gpt2 else OFFLINE_NOTICE

    def __repr__(self) -> str:
        return f"ChapterModel({self.name}: {self.notice or self.reason})"

    def _repr_html_(self) -> str:
        """A notice: a warning when this is not GPT-2, a note when it is. It carries the classes of a MyST/Sphinx
        admonition, so a themed page (the book) draws a notice box; plain Jupyter or Colab show a title and a line."""
        if self.notice:
            kind, title, body = "warning", "Not GPT-2", f"{self.notice} Why: {self.reason}."
        else:
            kind, title, body = "note", self.name, f"The outputs below come from {self.name}, {self.reason}."
        return (
            f'<div class="admonition {kind}"><p class="admonition-title">{html.escape(title, quote=False)}</p>'
            f"<p>{html.escape(body, quote=False)}</p></div>"
        )

    @property
    def cfg(self) -> Any:
        return self.model.cfg

    def to_tokens(self, text: str) -> Int[Tensor, "1 pos"]:
        """Token ids of `text` as a batch of one, ready for `run_with_cache`."""
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty string, got {text!r}")
        return self._to_tokens(text)

    def to_str_tokens(self, text: str) -> list[str]:
        """Each token of `text` as the string it stands for."""
        return [self.token_str(int(t)) for t in self.to_tokens(text)[0]]

    def token_str(self, token: int) -> str:
        """The string one token id stands for."""
        return self._token_str(token)

    @property
    def n_prefix(self) -> int:
        """Tokens the model reads before any text: GPT-2's BOS token, none for the character model."""
        return 1 if self.is_gpt2 else 0

    def repeated_random_tokens(self, batch: int, half: int, seed: int = 0) -> Int[Tensor, "batch pos"]:
        """`batch` sequences of `half` random tokens repeated once, after the BOS token where the model reads one.
        The draw is made on the CPU (the same tokens on every machine) and the result lies on the device of the
        model's tokens, so that the BOS token and the random ones can be joined on a GPU too."""
        if batch <= 0 or half <= 0:
            raise ValueError(f"batch and half must be positive, got {batch} and {half}")
        prefix = self.to_tokens("x")[:, : self.n_prefix]
        generator = torch.Generator().manual_seed(seed)
        first = torch.randint(0, self.cfg.d_vocab, (batch, half), generator=generator).to(prefix.device)
        return torch.cat([prefix.expand(batch, -1), first, first], dim=1)


def stored_parameters(bridge: Any) -> int:
    """How many parameters the Hugging Face model behind a bridge stores, tied weights counted once.

    Counting the bridge's own parameters would not do: it keeps GPT-2's fused QKV matrix next to its split Q, K
    and V, and compatibility mode adds processed copies. So the count comes from a fresh model of the same config
    built on the 'meta' device (shapes only, no memory).
    """
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        fresh = AutoModelForCausalLM.from_config(bridge.original_model.config)
    return sum(p.numel() for p in fresh.parameters())


def gpt2_chapter_model(bridge: Any, name: str = "GPT-2 small", reason: str = "") -> ChapterModel:
    """Wrap a TransformerLens bridge (GPT-2 or any model booted with a tokenizer)."""
    tokenizer = bridge.tokenizer
    return ChapterModel(
        model=bridge,
        name=name,
        is_gpt2=True,
        reason=reason,
        n_params=stored_parameters(bridge),
        _to_tokens=lambda text: bridge.to_tokens(text).to(bridge.cfg.device),
        _token_str=lambda token: tokenizer.decode([token]),
    )


def char_chapter_model(reason: str = "") -> ChapterModel:
    """Chapter 5's character model (from the cache `glassbox.zoo` keeps, trained if it is missing)."""
    from glassbox.zoo import char_model

    model, tokenizer = char_model()
    return ChapterModel(
        model=model,
        name="chapter 5's character model",
        is_gpt2=False,
        reason=reason,
        n_params=sum(p.numel() for p in model.parameters()),
        _to_tokens=lambda text: tokenizer.encode(text)[None].to(model.cfg.device),
        _token_str=lambda token: tokenizer.chars[token],
    )


def load_chapter_model(device: str | None = None, model_name: str | None = None) -> ChapterModel:
    """GPT-2 when its weights can be had (decided within seconds), otherwise the book's own model, with the reason.

    `model_name` defaults to `$GLASSBOX_GPT2` or GPT-2 small's hub id; the variable lets a test run the chapter on
    a small GPT-2 saved in a folder.
    """
    model_name = model_name or os.environ.get("GLASSBOX_GPT2") or GPT2
    source = find_gpt2(model_name)
    if not source.available:
        return char_chapter_model(reason=source.reason)
    name = "GPT-2 small" if model_name == GPT2 else Path(model_name).name
    return gpt2_chapter_model(boot(source, device), name=name, reason=source.reason)
