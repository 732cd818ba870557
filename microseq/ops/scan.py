"""Running sums and products along one dimension: ``cumsum`` and ``cumprod``.

With ``rev`` the reversed running sum (``rev(v)[i] = sum_{k >= i} v[k]``, a flip, a cumsum and a flip back):

- cumsum: ``y_k = sum_{i <= k} x_i``, so ``dL/dx_i = sum_{k >= i} g_k = rev(g)_i``.
- cumprod: ``y_k = prod_{i <= k} x_i``, so ``dL/dx_i = sum_{k >= i} g_k prod_{j <= k, j != i} x_j``, which is
  ``rev(g y)_i / x_i`` before the first zero of the slice, 0 after it, and at the first zero z
  ``(prod_{j < z} x_j) * sum_{k >= z} g_k prod_{z < j <= k} x_j`` (PyTorch's rule: no division by zero).

Both rules are written with ``np.cumsum``, ``np.cumprod``, ``np.flip`` and ``np.where``, which run these ops on
Tensors (``@implements``), so they are differentiable again.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, as_tensor, implements, record
from ._util import normalize_axes
from .layout import flip  # noqa: F401  (registers np.flip on Tensors, which the rules use)

__all__ = ["cumsum", "cumprod"]

def _axis(op: str, a: Tensor, dim) -> int:
    if dim is None:
        raise TypeError(f"{op}: dim is required (as in PyTorch)")
    (axis,) = normalize_axes(op, dim, max(a.ndim, 1))
    return axis


def _reversed_cumsum(v, axis: int):
    return np.flip(np.cumsum(np.flip(v, axis), axis), axis)


@implements(np.cumsum)
def cumsum(a, dim: int, dtype=None) -> Tensor:
    """Running sum along ``dim``; ``dtype`` casts first (integers and bools sum in int64, as PyTorch).

    dL/dx = the reversed running sum of the upstream gradient.
    """
    a = as_tensor(a)
    axis = _axis("cumsum", a, dim)
    if a.ndim == 0:
        return cumsum(a.reshape(1), 0, dtype).reshape(())
    if dtype is None and a.dtype.kind in "biu":
        dtype = np.int64
    y = np.cumsum(a.data, axis=axis, dtype=dtype)
    if a.dtype.kind != "f" or y.dtype.kind != "f":
        return Tensor(y)
    return record("cumsum", y, (a,), lambda g: (_reversed_cumsum(g, axis),))



@implements(np.cumprod)
def cumprod(a, dim: int, dtype=None) -> Tensor:
    """Running product along ``dim``; exact gradient at zeros (see the module's docstring)."""
    a = as_tensor(a)
    axis = _axis("cumprod", a, dim)
    if a.ndim == 0:
        return cumprod(a.reshape(1), 0, dtype).reshape(())
    if dtype is None and a.dtype.kind in "biu":
        dtype = np.int64
    x = a.data if dtype is None else a.data.astype(dtype)
    y = np.cumprod(x, axis=axis)
    if a.dtype.kind != "f" or y.dtype.kind != "f":
        return Tensor(y)
    zeros_so_far = np.cumsum(x == 0, axis=axis)
    before = zeros_so_far == 0  # positions before the slice's first zero
    first = (x == 0) & (zeros_so_far == 1)  # the first zero of each slice
    has_zero = bool(first.any())

    def backward(g, x, y):
        grad = np.where(before, _reversed_cumsum(g * y, axis) / np.where(before, x, 1), 0)
        if has_zero:
            left = np.cumprod(np.where(before, x, 1), axis)  # at the first zero: the product before it
            right = np.cumprod(np.where(before | first, 1, x), axis)  # from it: prod of x_j, z < j <= k
            after = np.where(before, 0, g * right).sum(axis=axis, keepdims=True)
            grad = grad + np.where(first, left * after, 0)
        return (grad,)

    return record("cumprod", y, (a,), backward)

