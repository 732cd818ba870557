"""Reductions and the softmax family.

A reduction's gradient is the upstream gradient spread back over the reduced axes: ``_expand`` puts the
reduced axes back (as size 1) so that it broadcasts against the input. The rules use the NumPy API on their
arguments, so that they record themselves when a ``create_graph`` backward passes Tensors.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..tensor import Tensor, as_tensor, implements, record
from ._util import check_float, normalize_axes, normalize_axis

__all__ = ["sum", "mean", "max", "min", "logsumexp", "softmax", "log_softmax"]


def _expand(g, axes: tuple, keepdims: bool):
    """Re-insert the reduced ``axes`` of ``g`` (an array or a Tensor) as size-1 axes (a no-op when ``keepdims``
    kept them)."""
    return g if keepdims else np.expand_dims(g, axes)


@implements(np.sum)
def sum(a, axis=None, keepdims: bool = False, dtype=None) -> Tensor:
    """Sum over ``axis`` (all axes by default).  dy/da = 1 for every summed element.

    ``dtype`` casts the input first (as ``torch.sum(x, dtype=...)``), e.g. to sum float32 in float64.
    """
    a = as_tensor(a)
    if dtype is not None and np.dtype(dtype) != a.dtype:
        from .elementwise import astype

        a = astype(a, dtype)
    axes = normalize_axes("sum", axis, a.ndim)
    shape = a.shape
    y = np.sum(a.data, axis=axes, keepdims=keepdims)
    return record("sum", np.asarray(y), (a,), lambda g, *_: (np.broadcast_to(_expand(g, axes, keepdims), shape),))


@implements(np.mean)
def mean(a, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``.  dy/da = 1/n for each of the n averaged elements."""
    a = as_tensor(a)
    check_float("mean", a)
    axes = normalize_axes("mean", axis, a.ndim)
    shape = a.shape
    count = int(np.prod([shape[i] for i in axes])) if axes else 1
    with np.errstate(invalid="ignore"):  # the mean of nothing is NaN (0 / 0), silently as in PyTorch
        y = np.sum(a.data, axis=axes, keepdims=keepdims) / count
    share = 1 / builtins.max(count, 1)  # with count 0 there is no element to receive it
    return record(
        "mean", np.asarray(y), (a,), lambda g, *_: (np.broadcast_to(_expand(g, axes, keepdims) * share, shape),)
    )


def _extremum(op: str, reducer, a, axis, keepdims: bool) -> Tensor:
    a = as_tensor(a)
    axes = normalize_axes(op, axis, a.ndim)
    if a.size == 0 or builtins.any(a.shape[i] == 0 for i in axes):
        raise ValueError(f"{op}: cannot reduce over an empty axis (shape {a.shape}, axis {axis})")
    y = reducer(a.data, axis=axes, keepdims=keepdims)

    def backward(g, x, y):
        # Ties share the gradient equally (like torch.amax): the subgradient that keeps symmetry. The mask of
        # the winners is piecewise constant, so the rule is linear in g (and the second derivative is 0).
        winners = x == _expand(y, axes, keepdims)
        return (winners * (_expand(g, axes, keepdims) / winners.sum(axis=axes, keepdims=True)),)

    return record(op, np.asarray(y), (a,), backward)


@implements(np.max, np.amax)
def max(a, axis=None, keepdims: bool = False, *, dim=None, keepdim: bool = False):
    """Largest value over ``axis``; the gradient is shared evenly by the maximal elements (``torch.amax``).

    Two calling conventions, told apart by the keyword:

    - ``max(x)``, ``max(x, axis, keepdims)`` (NumPy's names, positional or not): the values alone, over one
      axis, several or all; this is also what ``torch.max(x)`` with no dim gives.
    - ``max(x, dim=d, keepdim=False)`` (PyTorch's names, keyword only): PyTorch's ``(values, indices)`` along
      one dim; the gradient goes to the first maximal element only (see
      :func:`microseq.ops.statistics.extremum_along`). A positional second argument is always ``axis``.
    """
    if dim is not None:
        return _along("max", a, axis, keepdims, dim, keepdim)
    return _extremum("max", np.max, a, axis, keepdims)


@implements(np.min, np.amin)
def min(a, axis=None, keepdims: bool = False, *, dim=None, keepdim: bool = False):
    """Smallest value over ``axis`` (ties share the gradient), or ``(values, indices)`` along ``dim=``: see :func:`max`."""
    if dim is not None:
        return _along("min", a, axis, keepdims, dim, keepdim)
    return _extremum("min", np.min, a, axis, keepdims)


def _along(op: str, a, axis, keepdims: bool, dim, keepdim: bool):
    if axis is not None or keepdims:
        raise TypeError(f"{op}: give either axis/keepdims (values) or dim/keepdim (values and indices), not both")
    from .statistics import extremum_along  # statistics builds on this module

    return extremum_along(op, a, dim, keepdim)


def _safe_max(x: np.ndarray, axes, keepdims: bool = True, finite: bool = True) -> np.ndarray:
    """The max used to shift before ``exp``; 0 for an all ``-inf`` slice (so that it stays -inf).

    With ``finite`` (logsumexp) a +inf or NaN max becomes 0 too, so that a slice holding +inf sums to +inf;
    without (softmax, log_softmax) it is kept, and such a slice is NaN (inf - inf), both as in PyTorch.
    ``initial=-inf`` makes the max of an empty slice -inf (so 0 here) instead of an error."""
    m = np.max(x, axis=axes, keepdims=keepdims, initial=-np.inf)
    return np.where(np.isfinite(m) if finite else m != -np.inf, m, 0)


def logsumexp(a, axis=None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(a)))`` over ``axis``, computed as ``m + log(sum(exp(a - m)))`` with m the max.

    dy/da = exp(a - y) = softmax(a).
    """
    a = as_tensor(a)
    check_float("logsumexp", a)
    axes = normalize_axes("logsumexp", axis, a.ndim)
    x = a.data
    m = _safe_max(x, axes, keepdims)
    with np.errstate(divide="ignore"):
        y = m + np.log(np.sum(np.exp(x - _expand(m, axes, keepdims)), axis=axes, keepdims=keepdims))

    def backward(g, x, y):
        return (_expand(g, axes, keepdims) * np.exp(x - _expand(y, axes, keepdims)),)

    return record("logsumexp", np.asarray(y), (a,), backward)


def softmax(a, axis: int = -1) -> Tensor:
    """``exp(a) / sum(exp(a))`` along ``axis``.

    dy_i/da_j = y_i (delta_ij - y_j), so the vector-Jacobian product is ``y * (g - sum(g * y))``.
    """
    a = as_tensor(a)
    check_float("softmax", a)
    ax = normalize_axis("softmax", axis, a.ndim)
    with np.errstate(invalid="ignore"):  # inf - inf: a slice holding +inf is NaN
        e = np.exp(a.data - _safe_max(a.data, ax, finite=False))
    y = e / np.sum(e, axis=ax, keepdims=True)
    return record("softmax", y, (a,), lambda g, _x, y: (y * (g - np.sum(g * y, axis=ax, keepdims=True)),))


def log_softmax(a, axis: int = -1) -> Tensor:
    """``a - logsumexp(a)`` along ``axis``.  VJP: ``g - softmax(a) * sum(g)``."""
    a = as_tensor(a)
    check_float("log_softmax", a)
    ax = normalize_axis("log_softmax", axis, a.ndim)
    x = a.data
    m = _safe_max(x, ax, finite=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = x - m - np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True))
    return record("log_softmax", y, (a,), lambda g, _x, y: (g - np.exp(y) * np.sum(g, axis=ax, keepdims=True),))
