"""The settings that decide a trained model besides its code (glassbox.runtime), and the cache that keys on them."""

from __future__ import annotations

import json

import pytest
import torch
from glassbox import cache, runtime
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from glassbox.rules.gallery import pytorch_default_init

CFG = TransformerConfig(d_model=8, n_layers=1, n_heads=2, d_vocab=11, n_ctx=6, seed=0)


def test_seed_offset_reads_glassbox_seed(monkeypatch):
    monkeypatch.delenv("GLASSBOX_SEED", raising=False)
    assert runtime.seed_offset() == 0 and runtime.training_seed(7) == 7
    monkeypatch.setenv("GLASSBOX_SEED", "2")
    assert runtime.training_seed(7) == 7 + 2 * runtime.SEED_STRIDE


@pytest.mark.parametrize("bad", ["one", "-1", "1.5"])
def test_a_bad_glassbox_seed_is_one_line(monkeypatch, bad):
    monkeypatch.setenv("GLASSBOX_SEED", bad)
    with pytest.raises(ValueError, match="GLASSBOX_SEED must be a whole number"):
        runtime.seed_offset()


def test_glassbox_seed_changes_every_initialisation_and_only_it(monkeypatch):
    monkeypatch.delenv("GLASSBOX_SEED", raising=False)
    site = Transformer(CFG).state_dict()
    site_plain = pytorch_default_init(Transformer(CFG), 0).state_dict()
    assert torch.equal(Transformer(CFG).state_dict()["embed.W_E"], site["embed.W_E"])  # seeded: the same twice
    monkeypatch.setenv("GLASSBOX_SEED", "1")
    other = Transformer(CFG).state_dict()
    other_plain = pytorch_default_init(Transformer(CFG), 0).state_dict()
    assert not torch.equal(other["embed.W_E"], site["embed.W_E"])
    assert not torch.equal(other_plain["embed.W_E"], site_plain["embed.W_E"])


def test_the_cache_key_covers_the_seed_shift_and_the_training_code(monkeypatch, tmp_path):
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))
    monkeypatch.delenv("GLASSBOX_SEED", raising=False)
    site = cache.model_file("m", "recipe")
    assert cache.model_file("m", "recipe") == site
    monkeypatch.setenv("GLASSBOX_SEED", "1")
    assert cache.model_file("m", "recipe") != site
    monkeypatch.delenv("GLASSBOX_SEED")
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "edited training loop")
    assert cache.model_file("m", "recipe") != site


def test_the_fingerprint_reads_the_training_code():
    assert {"train.py", "model.py", "components.py", "rules/training.py"} <= set(cache.TRAINING_CODE)
    assert len(cache.code_fingerprint()) == 16


def test_a_cached_model_records_what_made_it_and_a_corrupt_one_is_retrained(monkeypatch, tmp_path):
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))
    path = cache.model_file("tiny", "recipe")
    trained = []

    def train():
        trained.append(1)
        return Transformer(CFG)

    cache.cached_model(path, lambda: Transformer(CFG), train)
    record = json.loads(path.with_name(path.name + ".json").read_text())
    assert record["kernels"] == torch.backends.cpu.get_cpu_capability() and record["torch"] == torch.__version__
    cache.cached_model(path, lambda: Transformer(CFG), train)
    assert len(trained) == 1, "the second call loads the stored model"
    path.write_bytes(path.read_bytes()[:100])  # truncated, as an interrupted copy leaves it
    with pytest.warns(UserWarning, match=f"{path.name}: cached model unreadable"):
        cache.cached_model(path, lambda: Transformer(CFG), train)
    assert len(trained) == 2, "a corrupt file is trained again"


def test_threads_restores_the_callers_count():
    before = torch.get_num_threads()
    torch.set_num_threads(3)  # a count of its own, not 1 (a pytest-xdist worker computes on one thread)
    try:
        with runtime.threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
