"""One place chooses the device: the environment variable, the CPU by default, a clear error for a wrong name."""

import pytest
import torch
from glassbox.config import TransformerConfig
from glassbox.device import book_device
from glassbox.model import Transformer


def test_the_book_runs_on_the_cpu_unless_told(monkeypatch):
    monkeypatch.delenv("GLASSBOX_DEVICE", raising=False)
    assert book_device() == "cpu"
    assert TransformerConfig().device == "cpu" and Transformer(TransformerConfig(d_vocab=5)).W_E.device.type == "cpu"


@pytest.mark.parametrize(
    "cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")], ids=str
)
def test_auto_picks_cuda_then_mps_then_the_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.setenv("GLASSBOX_DEVICE", "auto")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert book_device() == expected and TransformerConfig().device == expected


def test_the_environment_variable_moves_every_new_model(monkeypatch):
    monkeypatch.setenv("GLASSBOX_DEVICE", "cpu")
    assert Transformer(TransformerConfig(d_vocab=5)).W_E.device.type == "cpu"
    monkeypatch.setenv("GLASSBOX_DEVICE", " CPU ")  # spaces and capitals are forgiven
    assert book_device() == "cpu"


@pytest.mark.parametrize(
    "value, message", [("gpu", "must be one of cpu, cuda, mps, auto, got 'gpu'"), ("cuda", "sees no CUDA GPU")]
)
def test_a_wrong_device_is_one_clear_error(monkeypatch, value, message):
    if value == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.setenv("GLASSBOX_DEVICE", value)
    with pytest.raises(ValueError, match=message):
        book_device()
