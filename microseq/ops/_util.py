"""Small helpers shared by the op modules: turning arguments into tensors and reading axes."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, as_tensor


def constant_like(value, other) -> Tensor:
    """A Python number next to a float tensor takes the tensor's dtype (as in PyTorch and NumPy 2)."""
    if isinstance(value, (int, float, bool)) and isinstance(other, Tensor) and other.dtype.kind == "f":
        return Tensor(np.asarray(value, dtype=other.dtype))
    return as_tensor(value)


def pair(a, b) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors."""
    if not isinstance(a, Tensor):
        a = constant_like(a, b)
    if not isinstance(b, Tensor):
        b = constant_like(b, a)
    return a, b


def broadcast_error(op: str, *tensors) -> ValueError:
    shapes = " and ".join(str(t.shape) for t in tensors)
    return ValueError(f"{op}: shapes {shapes} do not broadcast")


def normalize_axes(op: str, axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes, checked against ``ndim``."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        result.append(int(a) % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(result))


def check_float(op: str, x: Tensor) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {x.dtype}")
