"""Checks for chapter 2, "Positions, GELU and LayerNorm": inputs, likely mistakes, and independent references."""

import math

import torch
import torch.nn.functional as F
from transformer_lens.utilities.activation_functions import gelu_new

from glassbox.checking.answer import Answer, ReaderFailed
from glassbox.checking.judge import Case, Exercise


def _positions_cases() -> list[Case]:
    return [Case(f"n_ctx={n}, d_model={d}", (n, d)) for n, d in [(1, 2), (8, 4), (50, 16), (1024, 64)]]


def _halves(n_ctx: int, d_model: int) -> torch.Tensor:
    position = torch.arange(n_ctx, dtype=torch.float32)[:, None]
    angle = position * 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)
    return torch.cat([angle.sin(), angle.cos()], dim=-1)


def _exponent_i(n_ctx: int, d_model: int) -> torch.Tensor:
    position = torch.arange(n_ctx, dtype=torch.float32)[:, None]
    angle = position * 10000.0 ** (-torch.arange(d_model // 2, dtype=torch.float32) / d_model)
    return torch.stack([angle.sin(), angle.cos()], dim=-1).flatten(-2)


def _position_zero(encoding, args) -> str | None:
    first = encoding[0]
    if not (torch.allclose(first[0::2], torch.zeros(())) and torch.allclose(first[1::2], torch.ones(()))):
        return "position 0 should encode as sin 0 = 0 in even dimensions and cos 0 = 1 in odd ones"
    return None


def _activation_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)
    return [
        Case("random values", (torch.randn(4, 7, generator=generator),)),
        Case("a grid from -6 to 6", (torch.linspace(-6, 6, 121),)),
        Case("large magnitudes (±1e4)", (torch.tensor([-1e4, -50.0, 0.0, 50.0, 1e4]),)),
        Case("a single number", (torch.tensor(0.5),)),
    ]


class _CalledTorchGelu(Exception):
    pass


def _writes_gelu_itself(answer: Answer) -> str | None:
    """The exercise asks for GELU written with torch.erf: calling torch's own GELU (F.gelu, nn.GELU) is caught."""

    def forbidden(*args, **kwargs):
        raise _CalledTorchGelu()

    original = F.gelu
    F.gelu = forbidden
    try:
        answer.call(answer.obj, torch.linspace(-3, 3, 7))
    except ReaderFailed as failure:
        if isinstance(failure.error, _CalledTorchGelu):
            return "you called torch's own GELU (F.gelu or nn.GELU): write it with torch.erf, as the exercise asks"
        return failure.reason
    finally:
        F.gelu = original
    return None


def _gelu_sigmoid(x):
    return x * torch.sigmoid(1.702 * x)


def _layer_norm_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)

    def args(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        d = x.shape[-1]
        return (x, 1 + 0.1 * torch.randn(d, generator=generator), 0.1 * torch.randn(d, generator=generator))

    return [
        Case("random batch × positions × d_model", args(torch.randn(2, 5, 16, generator=generator))),
        Case("one vector", args(torch.randn(8, generator=generator))),
        Case("large offset and scale", args(1e3 + 50 * torch.randn(3, 32, generator=generator))),
        Case("nearly constant vectors (variance ≈ eps)", args(1 + 1e-3 * torch.randn(4, 8, generator=generator))),
        Case(
            "eps = 0.1 given (use the argument, not 1e-5)",
            (*args(1 + 0.05 * torch.randn(3, 8, generator=generator)), 0.1),
        ),
    ]


def _eps_outside(x, w, b, eps=1e-5):
    centred = x - x.mean(-1, keepdim=True)
    return centred / (centred.pow(2).mean(-1, keepdim=True).sqrt() + eps) * w + b


def _unbiased(x, w, b, eps=1e-5):
    return (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True, unbiased=True) + eps).sqrt() * w + b


def _plain(x, w, b, eps=1e-5):
    return F.layer_norm(x, x.shape[-1:], w, b, eps=1e-5)  # whatever eps was given


def _torch_layer_norm(x, w, b, eps=1e-5):
    return F.layer_norm(x, x.shape[-1:], w, b, eps)


def _no_affine(x, w, b, eps=1e-5):
    return F.layer_norm(x, x.shape[-1:], eps=eps)


EXERCISES = [
    Exercise(
        name="sinusoidal_positions",
        module="ch02_positions",
        cases=_positions_cases,
        mistakes={
            "sin and cos should interleave (even dimensions sin, odd dimensions cos), not fill two halves": _halves,
            "the exponent is 2i / d_model, where 2i is the even dimension index": _exponent_i,
        },
        properties=[_position_zero],
        atol=1e-4,
    ),
    Exercise(
        name="gelu",
        module="ch02_positions",
        cases=_activation_cases,
        mistakes={
            "that is the sigmoid approximation x·σ(1.702x); use the exact Φ(x) = ½(1 + erf(x / √2))": _gelu_sigmoid,
            "that is the tanh approximation; this exercise wants the exact GELU with erf": gelu_new,
        },
        agrees_with={"torch.nn.functional.gelu": F.gelu},
        behaviours={"written with torch.erf, not torch's own GELU": _writes_gelu_itself},
    ),
    Exercise(
        name="gelu_tanh",
        module="ch02_positions",
        cases=_activation_cases,
        mistakes={
            "that is the exact GELU; this exercise wants the tanh approximation": F.gelu,
            "inside the tanh: √(2/π) · (x + 0.044715 x³) — check the cube term": lambda x: 0.5
            * x
            * (1 + torch.tanh(math.sqrt(2 / math.pi) * x)),
        },
        agrees_with={
            "transformer_lens gelu_new": gelu_new,
            "torch.nn.functional.gelu(approximate='tanh')": lambda x: F.gelu(x, approximate="tanh"),
        },
    ),
    Exercise(
        name="layer_norm",
        module="ch02_positions",
        cases=_layer_norm_cases,
        mistakes={
            "is your epsilon inside the square root? (sqrt(var + eps), not sqrt(var) + eps)": _eps_outside,
            "use the biased variance (divide by d_model, unbiased=False), as PyTorch and TransformerLens do": _unbiased,
            "did you forget to scale by w and shift by b?": _no_affine,
            "use the eps you are given, not a number of your own": _plain,
        },
        agrees_with={"torch.nn.functional.layer_norm": _torch_layer_norm},
        atol=1e-4,
    ),
]
