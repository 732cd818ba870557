"""Running sums and products along one dimension: ``cumsum`` and ``cumprod``.

With ``rev`` the reversed running sum (``rev(v)[i] = sum_{k >= i} v[k]``, a flip, a cumsum and a flip back):

- cumsum: ``y_k = sum_{i <= k} x_i``, so ``dL/dx_i = sum_{k >= i} g_k = rev(g)_i``.
- cumprod: ``y_k = prod_{i <= k} x_i``, so ``dL/dx_i = sum_{k >= i} g_k prod_{j <= k, j != i} x_j``, which is
  ``rev(g y)_i / x_i`` when x has no zero (PyTorch's rule; its own derivative loses accuracy as |x_i| -> 0,
  where terms of size g / x_i cancel); with a zero, the same sum is computed without division (exact,
  also at second order, where PyTorch's rule is not; O(n^2) per slice, only then).

Both rules are written with ``np.cumsum``, ``np.cumprod``, ``np.flip`` and ``np.where``, which run these ops on
Tensors (``@implements``), so they are differentiable again.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, as_tensor, implements, record
from ._util import normalize_axis
from .elementwise import astype
from .layout import flip  # noqa: F401  (registers np.flip on Tensors, which the rules use)

__all__ = ["cumsum", "cumprod"]

def _prepared(op: str, a, dim, dtype) -> tuple[Tensor, int, tuple]:
    """``a`` cast to ``dtype`` (integers and bools to int64, as PyTorch), a 0-d tensor seen as 1-d; the axis
    and the shape to give the result."""
    a = as_tensor(a)
    if dim is None:
        raise TypeError(f"{op}: dim is required (as in PyTorch)")
    if dtype is not None or a.dtype.kind in "biu":
        a = astype(a, dtype or np.int64)
    axis = normalize_axis(op, dim, max(a.ndim, 1))
    return (a.reshape(1) if a.ndim == 0 else a), axis, a.shape


def _reversed_cumsum(v, axis: int):
    return np.flip(np.cumsum(np.flip(v, axis), axis), axis)


def cumsum(a, dim: int, dtype=None) -> Tensor:
    """Running sum along ``dim``; ``dtype`` casts first (integers and bools sum in int64, as PyTorch).

    dL/dx = the reversed running sum of the upstream gradient.
    """
    a, axis, shape = _prepared("cumsum", a, dim, dtype)
    y = record("cumsum", np.cumsum(a.data, axis=axis), (a,), lambda g, *_: (_reversed_cumsum(g, axis),))
    return y if y.shape == shape else y.reshape(shape)


def cumprod(a, dim: int, dtype=None) -> Tensor:
    """Running product along ``dim``; exact gradient at zeros (see the module's docstring)."""
    a, axis, shape = _prepared("cumprod", a, dim, dtype)
    has_zero = bool((a.data == 0).any())

    def backward(g, x, y):
        if has_zero:
            return (_cumprod_gradient_without_division(g, x, axis),)
        return (_reversed_cumsum(g * y, axis) / x,)

    y = record("cumprod", np.cumprod(a.data, axis=axis), (a,), backward)
    return y if y.shape == shape else y.reshape(shape)


@implements(np.cumsum)
def _numpy_cumsum(a, axis=None, dtype=None) -> Tensor:
    """NumPy's ``cumsum`` on Tensors (for rules): over the flattened tensor when ``axis`` is None."""
    return cumsum(a, axis, dtype) if axis is not None else cumsum(as_tensor(a).reshape(-1), 0, dtype)


@implements(np.cumprod)
def _numpy_cumprod(a, axis=None, dtype=None) -> Tensor:
    """NumPy's ``cumprod`` on Tensors (for rules)."""
    return cumprod(a, axis, dtype) if axis is not None else cumprod(as_tensor(a).reshape(-1), 0, dtype)


def _cumprod_gradient_without_division(g, x, axis: int):
    """``dL/dx_i = (prod_{j < i} x_j) * sum_{k >= i} g_k prod_{i < j <= k} x_j``, a polynomial in x (exact at
    zeros, and so are its own derivatives). The inner products come from one cumprod over an (n, n) triangle,
    so this costs O(n^2) per slice: it is used only when the input holds a zero."""
    x, g = np.moveaxis(x, axis, -1), np.moveaxis(g, axis, -1)
    n = x.shape[-1]
    one = np.ones(x.shape[:-1] + (1,), x.dtype)
    before = np.cumprod(np.concatenate([one, x[..., :-1]], axis=-1), -1)  # prod_{j < i} x_j
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    spans = np.cumprod(np.where(j > i, x[..., None, :], 1), -1)  # [i, k]: prod_{i < j <= k} x_j
    inner = (np.where(j >= i, spans, 0) * g[..., None, :]).sum(axis=-1)
    return np.moveaxis(before * inner, -1, axis)
