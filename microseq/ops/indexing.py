"""Indexing along a dimension: gather and scatter, index_select and index_add, sorting, top-k, one-hot.

These come in pairs whose gradients are each other: the gradient of ``gather`` is a ``scatter_add`` of the
upstream gradient into zeros, and the gradient of ``scatter_add`` with respect to its source is a ``gather``;
likewise ``index_select`` and ``index_add``. So every rule here is written with the other op of its pair and
stays differentiable to any order. Sorting and top-k are a gather at the indices NumPy's sort finds.

Conventions follow PyTorch (``torch.gather(input, dim, index)``): ``index`` has as many dimensions as
``input``, is no larger than ``input`` along the other dimensions and the output takes its shape.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import ShapeError
from ..tensor import Tensor, array_of, as_tensor, record
from ._in_rules import follows_args
from ._util import normalize_axis
from .shape import broadcast_to

__all__ = [
    "gather", "scatter", "scatter_add", "index_select", "index_add", "take_along_dim", "one_hot", "sort",
    "argsort", "topk", "ValuesIndices",
]


class ValuesIndices(NamedTuple):
    """What ``sort``, ``topk`` and ``max``/``min`` along a dim return, like PyTorch's ``return_types``."""

    values: Tensor
    indices: Tensor


def _integer_index(op: str, index) -> np.ndarray:
    index = array_of(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {index.dtype}")
    return index


def _check_range(op: str, index: np.ndarray, size: int, dim: int, negative: bool = False) -> None:
    low = -size if negative else 0
    if index.size and (index.min() < low or index.max() >= size):
        bad = index.min() if index.min() < low else index.max()
        raise IndexError(f"{op}: index {bad} is out of bounds for dimension {dim} with size {size}")


def _along(index: np.ndarray, dim: int) -> tuple:
    """The advanced index that reads ``x[..., index[i, j, k], ...]`` at position (i, j, k): ``index`` on axis
    ``dim`` and, on every other axis, that axis's own position (PyTorch's gather/scatter addressing)."""
    positions = list(np.indices(index.shape, sparse=True))
    positions[dim] = index
    return tuple(positions)


def _gather_checks(op: str, a: Tensor, dim, index) -> tuple[int, np.ndarray]:
    index = _integer_index(op, index)
    if a.ndim == 0:
        raise ValueError(f"{op}: needs a tensor with at least one dimension, got a 0-d tensor")
    dim = normalize_axis(op, dim, a.ndim)
    if index.ndim != a.ndim or any(
        i > n for d, (i, n) in enumerate(zip(index.shape, a.shape)) if d != dim
    ):
        raise ShapeError(
            f"{op}: index of shape {index.shape} must have {a.ndim} dimensions and be no larger than the "
            f"tensor's shape {a.shape} outside dimension {dim}"
        )
    _check_range(op, index, a.shape[dim], dim)
    return dim, index


def gather(a, dim: int, index) -> Tensor:
    """``out[i][j][k] = a[index[i][j][k]][j][k]`` for ``dim=0`` (and likewise for other dims).

    Shapes: ``index`` and the output share a shape, of ``a.ndim`` dimensions, no larger than ``a`` outside
    ``dim``. The gradient scatter-adds the upstream gradient into zeros of ``a``'s shape (a position read
    twice receives both gradients).
    """
    a = as_tensor(a)
    if a.ndim == 0:
        return gather(a.reshape(1), 0, np.reshape(_integer_index("gather", index), (1,))).reshape(())
    dim, index = _gather_checks("gather", a, dim, index)
    where = _along(index, dim)
    shape = a.shape
    return record(
        "gather", a.data[where], (a,), lambda g, *_: (_scatter_add(np.zeros(shape, g.dtype), dim, index, g),)
    )


def _fit_source(op: str, source: Tensor, index: np.ndarray) -> None:
    if source.ndim != index.ndim or any(s < i for s, i in zip(source.shape, index.shape)):
        raise ShapeError(
            f"{op}: src of shape {source.shape} must have {index.ndim} dimensions and be at least as large as "
            f"the index's shape {index.shape}"
        )


def _pad_to(grad, shape: tuple):
    """``grad`` put in the corner of zeros of the larger ``shape`` (as index_adds, so it stays differentiable)."""
    for axis, (n, m) in enumerate(zip(grad.shape, shape)):
        if n != m:
            bigger = tuple(m if d == axis else k for d, k in enumerate(grad.shape))
            grad = _index_add(np.zeros(bigger, grad.dtype), axis, np.arange(n), grad)
    return grad


def scatter_add(a, dim: int, index, src) -> Tensor:
    """A copy of ``a`` with ``out[index[i][j][k]][j][k] += src[i][j][k]`` for ``dim=0``; repeats add up.

    Only the part of ``src`` of ``index``'s shape is used. dy/da = 1; the gradient of ``src`` is the
    upstream gradient gathered at ``index`` (zeros for the unused part).
    """
    a, src = as_tensor(a), as_tensor(src)
    dim, index = _gather_checks("scatter_add", a, dim, index)
    _fit_source("scatter_add", src, index)
    where = _along(index, dim)
    used = tuple(slice(0, n) for n in index.shape)
    y = a.data.copy()
    np.add.at(y, where, src.data[used])
    src_shape = src.shape
    return record("scatter_add", y, (a, src), lambda g, *_: (g, _pad_to(_gather(g, dim, index), src_shape)))


_scatter_add = follows_args(scatter_add)


def scatter(a, dim: int, index, src=None, value=None) -> Tensor:
    """A copy of ``a`` with ``out[index[i][j][k]][j][k] = src[i][j][k]`` (or ``= value``) for ``dim=0``.

    Where ``index`` repeats a position, which write wins is not specified (as in PyTorch). The gradient of
    ``a`` is the upstream gradient with zeros at the written positions; that of ``src`` is the upstream
    gradient gathered at ``index`` (PyTorch's rule).
    """
    a = as_tensor(a)
    if (src is None) == (value is None):
        raise ValueError("scatter: give exactly one of src (a tensor) and value (a number)")
    dim, index = _gather_checks("scatter", a, dim, index)
    where = _along(index, dim)
    written = np.zeros(a.shape, dtype=bool)
    written[where] = True
    y = a.data.copy()
    if value is not None:
        y[where] = value
        return record("scatter", y, (a,), lambda g, *_: (np.where(written, 0, g),))
    src = as_tensor(src)
    _fit_source("scatter", src, index)
    y[where] = src.data[tuple(slice(0, n) for n in index.shape)]
    src_shape = src.shape
    return record(
        "scatter", y, (a, src), lambda g, *_: (np.where(written, 0, g), _pad_to(_gather(g, dim, index), src_shape))
    )


_gather = follows_args(gather)


def _vector_index(op: str, a: Tensor, dim, index) -> tuple[int, np.ndarray]:
    index = _integer_index(op, index)
    if index.ndim > 1:
        raise ValueError(f"{op}: index must be 0-d or 1-d, got shape {index.shape}")
    if a.ndim == 0:
        raise ValueError(f"{op}: needs a tensor with at least one dimension, got a 0-d tensor")
    dim = normalize_axis(op, dim, a.ndim)
    _check_range(op, index, a.shape[dim], dim)
    return dim, index.reshape(-1)


def index_select(a, dim: int, index) -> Tensor:
    """The entries ``index`` (1-d, repeats allowed) of axis ``dim``: ``np.take(a, index, axis=dim)``.

    The gradient index-adds the upstream gradient into zeros of ``a``'s shape.
    """
    a = as_tensor(a)
    dim, index = _vector_index("index_select", a, dim, index)
    shape = a.shape
    y = np.take(a.data, index, axis=dim)
    return record(
        "index_select", y, (a,), lambda g, *_: (_index_add(np.zeros(shape, g.dtype), dim, index, g),)
    )


_index_select = follows_args(index_select)


def index_add(a, dim: int, index, source, alpha=1) -> Tensor:
    """A copy of ``a`` with ``alpha * source`` added to the entries ``index`` of axis ``dim`` (repeats add up).

    Shapes: ``source`` is ``a``'s shape with ``len(index)`` along ``dim``. dy/da = 1; the gradient of
    ``source`` is ``alpha`` times the upstream gradient's entries ``index`` (an :func:`index_select`).
    """
    a, source = as_tensor(a), as_tensor(source)
    dim, index = _vector_index("index_add", a, dim, index)
    expected = a.shape[:dim] + (len(index),) + a.shape[dim + 1 :]
    if source.shape != expected:
        raise ShapeError(
            f"index_add: source has shape {source.shape}, expected {expected} for index of length {len(index)}"
        )
    y = a.data.copy()
    np.add.at(y, (slice(None),) * dim + (index,), source.data * alpha if alpha != 1 else source.data)
    return record("index_add", y, (a, source), lambda g, *_: (g, _index_select(g, dim, index) * alpha))


_index_add = follows_args(index_add)


def take_along_dim(a, indices, dim=None) -> Tensor:
    """PyTorch's ``torch.take_along_dim``: :func:`gather` after broadcasting ``a`` and ``indices`` against each
    other outside ``dim`` (over the flattened tensors when ``dim`` is None)."""
    a = as_tensor(a)
    indices = _integer_index("take_along_dim", indices)
    if dim is None:
        return gather(a.reshape(-1), 0, indices.reshape(-1))
    if indices.ndim != a.ndim:
        raise ShapeError(
            f"take_along_dim: indices of shape {indices.shape} need {a.ndim} dimensions like the tensor {a.shape}"
        )
    dim = normalize_axis("take_along_dim", dim, a.ndim)
    outside = [1 if d == dim else n for d, n in enumerate(a.shape)]
    try:
        common = np.broadcast_shapes(tuple(outside), tuple(1 if d == dim else n for d, n in enumerate(indices.shape)))
    except ValueError:
        raise ShapeError(
            f"take_along_dim: shapes {a.shape} and {indices.shape} do not broadcast outside dim {dim}"
        ) from None
    a = broadcast_to(a, tuple(a.shape[d] if d == dim else n for d, n in enumerate(common)))
    indices = np.broadcast_to(indices, tuple(indices.shape[d] if d == dim else n for d, n in enumerate(common)))
    return gather(a, dim, indices)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """PyTorch's ``F.one_hot``: int64 of shape ``tensor.shape + (num_classes,)``, 1 at each class index.

    ``num_classes=-1`` takes the largest index + 1 (an empty tensor then needs ``num_classes``). No gradient.
    """
    index = _integer_index("one_hot", tensor)
    if num_classes == -1:
        if index.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes")
        num_classes = int(index.max()) + 1
    if index.size and index.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {index.min()}")
    if index.size and index.max() >= num_classes:
        raise ValueError(f"one_hot: class {index.max()} is out of range for num_classes={num_classes}")
    return Tensor((index[..., None] == np.arange(num_classes)).astype(np.int64))


# -- sorting --------------------------------------------------------------------------------------------
def _sort_indices(x: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Stable sort order (ties keep their order, NaN counts as the largest value, as in PyTorch)."""
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    n = x.shape[dim]
    # Sort the reversed axis ascending and read the result backwards: largest first, ties in input order.
    return n - 1 - np.flip(np.argsort(np.flip(x, dim), axis=dim, kind="stable"), dim)


def sort(a, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
    """``(values, indices)`` sorted along ``dim``; ``values`` is :func:`gather` of ``a`` at ``indices``.

    The sort is always stable (equal values keep their order; ``stable`` is accepted for PyTorch's signature),
    so at a tie each tied element gets the gradient of the position it was sorted to.
    """
    a = as_tensor(a)
    if a.ndim == 0:
        return ValuesIndices(gather(a, 0, np.zeros((), np.int64)), Tensor(np.zeros((), np.int64)))
    dim = normalize_axis("sort", dim, a.ndim)
    indices = _sort_indices(a.data, dim, descending).astype(np.int64)
    return ValuesIndices(gather(a, dim, indices), Tensor(indices))


def argsort(a, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices of :func:`sort` (int64, no gradient)."""
    return sort(a, dim, descending, stable).indices


def topk(a, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, in sorted order.

    Ties are taken in input order. The result is sorted even with ``sorted=False`` (PyTorch leaves the order
    unspecified then). The gradient goes to the chosen elements (a :func:`gather`).
    """
    a = as_tensor(a)
    n = a.shape[normalize_axis("topk", dim, max(a.ndim, 1))] if a.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dimension {dim} of size {n}")
    if a.ndim == 0:
        return sort(a)
    dim = normalize_axis("topk", dim, a.ndim)
    order = _sort_indices(a.data, dim, descending=largest)
    indices = np.take(order, np.arange(k), axis=dim).astype(np.int64)
    return ValuesIndices(gather(a, dim, indices), Tensor(indices))
