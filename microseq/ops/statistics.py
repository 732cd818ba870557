"""More reductions: product, variance and standard deviation, norms, arg-extrema, any/all, amax/amin and the
``(values, indices)`` form of max/min along a dimension.

These are PyTorch's functions, so they take PyTorch's ``dim=`` and ``keepdim=`` (``dim`` an int, a tuple or
None for all axes). Most are compositions of differentiable ops, so their gradients follow, to any order:

- ``var = sum((x - mean)^2) / max(n - correction, 0)``; ``std = sqrt(var)`` (NaN gradient where std = 0, as
  PyTorch, and NaN or inf values when ``n <= correction``);
- ``norm``: ``p=1`` is ``sum(|x|)`` (subgradient 0 at 0), ``p=inf`` is ``amax(|x|)`` (ties share), ``p=2``/``'fro'``
  is its own op with ``dy/dx = x / y`` and gradient 0 where ``y = 0`` (PyTorch's choice of subgradient);
- ``prod`` over the last axis of a view with the reduced axes moved there: ``dy/dx_i = prod_{j != i} x_j``
  = (exclusive running product from the left) * (from the right), exact with one zero or several.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..tensor import Tensor, as_tensor, record
from ._util import check_float, normalize_axes
from .elementwise import abs, astype, sqrt
from .indexing import ValuesIndices, gather
from .layout import movedim
from .reduction import max as _max, mean, min as _min, sum
from .scan import cumprod  # noqa: F401  (registers np.cumprod on Tensors, which prod's rule uses)

__all__ = ["prod", "var", "std", "norm", "argmax", "argmin", "any", "all", "amax", "amin", "extremum_along"]

def _axes(op: str, dim, ndim: int) -> tuple[int, ...]:
    """PyTorch's ``dim`` (None or ``()`` for all axes) as sorted non-negative axes."""
    return normalize_axes(op, None if dim == () else dim, ndim)


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# -- prod -------------------------------------------------------------------------------------------------
def _others_product(x):
    """``prod_{j != i} x_j`` along the last axis, for every i, without division (so exact at zeros)."""
    one = np.ones(x.shape[:-1] + (1,), x.dtype)
    left = np.cumprod(np.concatenate([one, x[..., :-1]], axis=-1), -1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([x[..., 1:], one], axis=-1), -1), -1), -1)
    return left * right


def _prod_last(a: Tensor) -> Tensor:
    """Product over the last axis.  dy/dx_i = prod_{j != i} x_j."""
    kept = a.shape[:-1] + (1,)
    empty = a.shape[-1] == 0
    return record(
        "prod", np.prod(a.data, axis=-1), (a,),
        lambda g, x, _y: (g.reshape(kept) * (x if empty else _others_product(x)),),
    )


def prod(a, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Product over ``dim`` (one axis, or all when None), as ``torch.prod``; integers and bools give int64.

    The gradient is exact with zeros: one zero receives the product of the others, all others get 0 (and every
    element gets 0 when the slice holds two zeros or more).
    """
    a = as_tensor(a)
    if dtype is not None:
        a = astype(a, dtype)
    elif a.dtype.kind in "biu":
        a = astype(a, np.int64)
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod: dim must be one int or None (as in PyTorch), got {dim!r}")
    axes = _axes("prod", dim, a.ndim)
    if a.dtype.kind != "f":
        return Tensor(np.prod(a.data, axis=axes, keepdims=keepdim))
    last = a.reshape(-1) if dim is None else movedim(a, axes[0], -1)
    y = _prod_last(last)
    return y.reshape(_kept_shape(a.shape, axes)) if keepdim else y


# -- variance, standard deviation, norms --------------------------------------------------------------------
def var(a, dim=None, *, correction=1, keepdim: bool = False) -> Tensor:
    """Variance over ``dim``: ``sum((x - mean)^2) / max(n - correction, 0)`` (``correction=1`` is Bessel's, the
    default as in PyTorch; 0 gives the population variance). dy/dx = 2 (x - mean) / (n - correction)."""
    a = as_tensor(a)
    check_float("var", a)
    axes = _axes("var", dim, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes]))
    deviation = a - mean(a, axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # n <= correction: inf or NaN, as in PyTorch
        divisor = np.asarray(builtins.max(count - correction, 0), a.dtype)
        return sum(deviation * deviation, axes, keepdims=keepdim) / divisor


def std(a, dim=None, *, correction=1, keepdim: bool = False) -> Tensor:
    """Standard deviation ``sqrt(var)`` (see :func:`var`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return sqrt(var(a, dim, correction=correction, keepdim=keepdim))


def _euclidean_norm(a: Tensor, axes: tuple, keepdim: bool) -> Tensor:
    """``sqrt(sum(x^2))`` over ``axes``.  dy/dx = x / y, and 0 where y = 0 (x / inf there)."""
    x = a.data
    kept = _kept_shape(a.shape, axes)
    y_kept = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
    zero = y_kept == 0
    y = y_kept if keepdim else y_kept.reshape([n for i, n in enumerate(a.shape) if i not in axes])
    return record(
        "norm", y, (a,), lambda g, x, y: (g.reshape(kept) * x / np.where(zero, np.inf, y.reshape(kept)),)
    )


def norm(a, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The vector norm over ``dim`` (all axes when None), as ``torch.norm``.

    ``p`` is 2 or ``'fro'`` (the Euclidean norm, over any number of axes; PyTorch's 'fro' takes two at most),
    1 (sum of absolute values), ``inf`` (largest absolute value) or ``-inf`` (smallest). The gradient at 0 is 0
    for every ``p`` (PyTorch's subgradient); at a tie for ``inf`` the gradient is shared evenly.
    """
    a = as_tensor(a)
    if dtype is not None:
        a = astype(a, dtype)
    check_float("norm", a)
    axes = _axes("norm", dim, a.ndim)
    if p in (2, "fro"):
        return _euclidean_norm(a, axes, keepdim)
    if p == 1:
        return sum(abs(a), axes, keepdims=keepdim)
    if p in (np.inf, -np.inf):
        return (_max if p > 0 else _min)(abs(a), axes, keepdims=keepdim)
    raise ValueError(f"norm: p must be 1, 2, 'fro', inf or -inf, got {p!r}")


# -- argmax, argmin, any, all ------------------------------------------------------------------------------
def _arg_extremum(op: str, pick, a, dim, keepdim: bool) -> Tensor:
    a = as_tensor(a)
    if dim is None:
        if a.size == 0:
            raise ValueError(f"{op}: cannot take the {op} of an empty tensor")
        index = pick(a.data.reshape(-1))
        return Tensor(np.full((1,) * a.ndim if keepdim else (), index, dtype=np.int64))
    (axis,) = normalize_axes(op, dim, builtins.max(a.ndim, 1))
    if a.ndim and a.shape[axis] == 0:
        raise ValueError(f"{op}: cannot reduce over the empty dimension {dim} (shape {a.shape})")
    if a.ndim == 0:
        return Tensor(np.zeros((), np.int64))
    return Tensor(pick(a.data, axis=axis, keepdims=keepdim).astype(np.int64))


def argmax(a, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest value along ``dim`` (in the flattened tensor when None); the first one at a tie,
    NaN counting as the largest. int64, no gradient."""
    return _arg_extremum("argmax", np.argmax, a, dim, keepdim)


def argmin(a, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value along ``dim`` (see :func:`argmax`)."""
    return _arg_extremum("argmin", np.argmin, a, dim, keepdim)


def _logical(op: str, reducer, a, dim, keepdim: bool) -> Tensor:
    a = as_tensor(a)
    return Tensor(np.asarray(reducer(a.data, axis=_axes(op, dim, a.ndim), keepdims=keepdim)))


def any(a, dim=None, keepdim: bool = False) -> Tensor:
    """Whether any value along ``dim`` (one axis, a tuple, or all when None) is nonzero; a bool tensor."""
    return _logical("any", np.any, a, dim, keepdim)


def all(a, dim=None, keepdim: bool = False) -> Tensor:
    """Whether every value along ``dim`` is nonzero (True over an empty axis); a bool tensor."""
    return _logical("all", np.all, a, dim, keepdim)


# -- amax, amin and max/min along a dim ---------------------------------------------------------------------
def amax(a, dim=(), keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (all axes for ``()`` or None), as ``torch.amax``: the gradient is shared
    evenly among tied maxima. The same op as ``max(a, axis)``."""
    return _max(a, None if dim == () else dim, keepdim)


def amin(a, dim=(), keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim``, as ``torch.amin`` (ties share the gradient)."""
    return _min(a, None if dim == () else dim, keepdim)


def extremum_along(op: str, a, dim: int, keepdim: bool = False) -> ValuesIndices:
    """PyTorch's ``torch.max(x, dim)`` / ``torch.min(x, dim)``: ``(values, indices)`` along one ``dim``.

    The index is the first extremum (NaN wins, as in PyTorch), and the value is :func:`gather` of ``a`` there,
    so the gradient goes to that one element only (``amax`` shares it among ties instead).
    """
    a = as_tensor(a)
    pick = np.argmax if op == "max" else np.argmin
    index = _arg_extremum(op, pick, a, dim, keepdim=True).data
    if a.ndim == 0:
        return ValuesIndices(gather(a, 0, index), Tensor(index))
    (axis,) = normalize_axes(op, dim, a.ndim)
    values = gather(a, axis, index)
    if keepdim:
        return ValuesIndices(values, Tensor(index))
    return ValuesIndices(values.reshape(values.shape[:axis] + values.shape[axis + 1 :]), Tensor(index.squeeze(axis)))
