"""What is wrong with an answer, before and after reading its values: `tensor_problem` (type, device, shape, dtype),
`non_finite_problem`, `plain_problem` (bool, int, float, list answers), `modified_argument`, `value_difference`.

Each returns one sentence or None, and none of them can fail on a strange answer: the type is checked before the
device, the device before the shape, the shape before any value is read. Used by `glassbox.checking.judge`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

Args = tuple[Any, ...]


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def describe(value: Any) -> str:
    """A type name as a reader knows it: `Tensor`, `numpy.ndarray`, `list`, `float`."""
    kind = type(value)
    if isinstance(value, torch.Tensor):
        return "Tensor"
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__.split('.')[0]}.{kind.__name__}"


def clone(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (tuple, list)):
        return type(value)(clone(v) for v in value)
    return value


def same(a: Any, b: Any) -> bool:
    """Whether an argument is unchanged (tensors element for element, lists item for item)."""
    if isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(b, (list, tuple)):
        return isinstance(a, type(b)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in b)
    return a is b or a == b


def close(got: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> bool:
    if got.shape != expected.shape or got.device != expected.device:
        return False
    if not expected.is_floating_point():
        return torch.equal(got.to(expected.dtype), expected)
    return torch.allclose(got.detach().to(expected.dtype), expected, atol=atol, rtol=rtol, equal_nan=True)


def value_difference(got: torch.Tensor, expected: torch.Tensor) -> str:
    got, expected = got.detach().double(), expected.double()
    diff = (got - expected).abs()
    diff = torch.where((got == expected) | (got.isnan() & expected.isnan()), torch.zeros_like(diff), diff)
    diff = torch.where(diff.isnan(), torch.full_like(diff, float("inf")), diff)
    index = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
    where = f" at index {index}" if index else ""
    return (
        f"values differ: max abs diff {diff.max().item():.3g}{where} "
        f"(expected {expected[index].item():.4g}, got {got[index].item():.4g})"
    )


_CONVERT = {
    "numpy.ndarray": " — convert with torch.from_numpy(...), or keep to torch operations",
    "list": " — build one tensor (torch.tensor, torch.stack)",
    "tuple": " — build one tensor (torch.tensor, torch.stack)",
    "float": " — keep the torch operations (no .item())",
    "int": " — keep the torch operations (no .item())",
}


def tensor_problem(got: Any, expected: torch.Tensor) -> str | None:
    """Type, device, shape, dtype, then NaN/inf: what is wrong with `got` before its values can be read."""
    if not isinstance(got, torch.Tensor):
        kind = describe(got)
        return f"expected a torch.Tensor, got {kind}{_CONVERT.get(kind, '')}"
    if got.device != expected.device:
        return (
            f"your answer is on device {got.device}, the inputs are on {expected.device}: "
            "make new tensors on the inputs' device (device=x.device)"
        )
    if got.shape != expected.shape:
        return f"wrong shape: expected {tuple(expected.shape)}, got {tuple(got.shape)}"
    if got.dtype != expected.dtype:
        return f"wrong dtype: expected {expected.dtype}, got {got.dtype}"
    return None


SOFTMAX_HINT = "look for a softmax over a row whose scores are all -inf, exp() overflowing on large inputs, or 0 · inf"


def non_finite_problem(got: torch.Tensor, expected: torch.Tensor, hint: str = SOFTMAX_HINT) -> str | None:
    if not got.is_floating_point():
        return None
    got = got.detach()
    for kind, bad in (("NaN", got.isnan() & ~expected.isnan()), ("inf", got.isinf() & ~expected.isinf())):
        if bad.any():
            index = tuple(int(i) for i in bad.nonzero()[0]) if bad.dim() else ()
            where = f" (first at index {index})" if index else ""
            return f"output contains {kind}{where} where the reference has a number — {hint}"
    return None


def plain_problem(got: Any, expected: Any) -> str | None:
    """For an answer that is a bool, an int, a float or a list: the type must be that kind."""
    if isinstance(expected, bool):
        if not isinstance(got, (bool, np.bool_)):
            hint = " (use bool(...) or .item())" if isinstance(got, (torch.Tensor, np.ndarray)) else ""
            return f"expected True or False (a bool), got {describe(got)}{hint}"
    elif isinstance(expected, numbers.Integral):
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, numbers.Integral):
            hint = " (use int(...) or .item())" if isinstance(got, (torch.Tensor, np.ndarray, float)) else ""
            return f"expected an int, got {describe(got)}{hint}"
    elif isinstance(expected, numbers.Real):
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, numbers.Real):
            return f"expected a number (a float), got {describe(got)}"
    elif isinstance(expected, list) and not isinstance(got, (list, tuple)):
        return f"expected a list, got {describe(got)}"
    return None


def modified_argument(args: Args, pristine: Args) -> str | None:
    for i, (now, before) in enumerate(zip(args, pristine, strict=True)):
        if not same(now, before):
            return f"argument {i + 1} was modified in place — work on a copy, or avoid in-place operations"
    return None
