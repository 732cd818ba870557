"""Ops that move values around without changing them: reshape, transpose, indexing, joining, splitting.

Their gradients move the upstream gradient back to where each value came from. Indexing with integer
arrays may read one element several times (an embedding lookup does); its gradient then *adds* the
contributions (``np.add.at``), it does not overwrite them.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _unwrap_index, as_tensor, implements, record
from ._util import normalize_axes

__all__ = [
    "reshape", "transpose", "swapaxes", "moveaxis", "unsqueeze", "squeeze", "broadcast_to", "getitem",
    "concatenate", "stack", "split", "chunk",
]


@implements(np.reshape)
def reshape(a, shape) -> Tensor:
    """The same values in a new shape.  The gradient is reshaped back."""
    a = as_tensor(a)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        y = a.data.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} elements) into {shape}") from None
    source = a.shape
    return record("reshape", y, (a,), lambda g: (g.reshape(source),), view_of=a)


@implements(np.transpose)
def transpose(a, axes=None) -> Tensor:
    """Permute the axes (reverse them by default).  The gradient is permuted back by the inverse."""
    a = as_tensor(a)
    if axes is None:
        axes = tuple(reversed(range(a.ndim)))
    axes = tuple(int(i) for i in axes)
    in_range = all(-a.ndim <= i < a.ndim for i in axes)
    if len(axes) != a.ndim or not in_range or sorted(i % a.ndim for i in axes) != list(range(a.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {a.ndim} axes of shape {a.shape}")
    inverse = tuple(np.argsort([i % a.ndim for i in axes]))
    return record("transpose", a.data.transpose(axes), (a,), lambda g: (g.transpose(inverse),), view_of=a)


@implements(np.swapaxes)
def swapaxes(a, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    a = as_tensor(a)
    order = list(range(a.ndim))
    i, j = normalize_axes("swapaxes", axis1, a.ndim)[0], normalize_axes("swapaxes", axis2, a.ndim)[0]
    order[i], order[j] = order[j], order[i]
    return transpose(a, order)


@implements(np.moveaxis)
def moveaxis(a, source, destination) -> Tensor:
    """Move the axes ``source`` to the positions ``destination``; the others keep their order (as NumPy)."""
    a = as_tensor(a)
    source, destination = np.atleast_1d(source).tolist(), np.atleast_1d(destination).tolist()
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: {len(source)} source axes but {len(destination)} destinations")
    normalize_axes("moveaxis", source, a.ndim), normalize_axes("moveaxis", destination, a.ndim)  # checked
    source, destination = [i % a.ndim for i in source], [i % a.ndim for i in destination]
    order = [i for i in range(a.ndim) if i not in source]
    for to, origin in sorted(zip(destination, source)):
        order.insert(to, origin)
    return transpose(a, order)


@implements(np.expand_dims)
def expand_dims(a, axis) -> Tensor:
    """Insert axes of size 1 at the positions ``axis`` (an int or a tuple, as NumPy's ``expand_dims``)."""
    a = as_tensor(a)
    try:
        shape = np.expand_dims(np.empty(a.shape, dtype=[]), axis).shape
    except np.exceptions.AxisError as error:
        raise ValueError(f"expand_dims: {error} (tensor of shape {a.shape})") from None
    return reshape(a, shape)


def unsqueeze(a, axis: int) -> Tensor:
    """Insert an axis of size 1 at ``axis``."""
    a = as_tensor(a)
    if not -a.ndim - 1 <= axis <= a.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for a tensor with {a.ndim} dimensions")
    return expand_dims(a, axis)


@implements(np.squeeze)
def squeeze(a, axis=None) -> Tensor:
    """Remove axes of size 1 (all of them, or the given ones)."""
    a = as_tensor(a)
    axes = normalize_axes("squeeze", axis, a.ndim) if axis is not None else None
    if axes is not None and any(a.shape[i] != 1 for i in axes):
        raise ValueError(f"squeeze: axis {axis} of shape {a.shape} does not have size 1")
    return reshape(a, np.squeeze(a.data, axis=axes).shape)


@implements(np.broadcast_to)
def broadcast_to(a, shape) -> Tensor:
    """``a`` repeated along new leading axes and along its axes of size 1 until it has ``shape`` (a read-only
    view, as NumPy's).  The gradient adds the copies up: the engine's ``unbroadcast``."""
    a = as_tensor(a)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        y = np.broadcast_to(a.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: a tensor of shape {a.shape} does not broadcast to {shape}") from None
    return record("broadcast_to", y, (a,), lambda g: (g,), reduces_broadcast=True, view_of=a)


def _is_advanced(index) -> bool:
    """Whether ``index`` uses integer or boolean arrays (NumPy's 'advanced' indexing)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (np.ndarray, list)) for p in parts)


def getitem(a, index) -> Tensor:
    """``a[index]`` with NumPy's basic and advanced indexing.

    The gradient scatters the upstream gradient back into a zero array of ``a``'s shape; with integer
    arrays repeated indices add up.
    """
    a = as_tensor(a)
    index = _unwrap_index(index)
    try:
        y = a.data[index]
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor of shape {a.shape})") from None
    advanced = _is_advanced(index)

    def backward(g):
        grad = np.zeros(a.shape, dtype=g.dtype)
        if advanced:
            np.add.at(grad, index, g)
        else:
            grad[index] = g
        return (grad,)

    return record("getitem", np.asarray(y), (a,), backward, view_of=None if advanced else a)


@implements(np.concatenate)
def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.  Each input gets its slice of the gradient back."""
    tensors = tuple(as_tensor(t) for t in tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    try:
        y = np.concatenate([t.data for t in tensors], axis=axis)
    except (ValueError, np.exceptions.AxisError):
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(f"concatenate: shapes {shapes} cannot be joined along axis {axis}") from None
    ends = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    return record("concatenate", y, tensors, lambda g: tuple(np.split(g, ends, axis=axis)))


@implements(np.stack)
def stack(tensors, axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis.  Each input gets its slice of the gradient back."""
    tensors = tuple(as_tensor(t) for t in tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    if len({t.shape for t in tensors}) != 1:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(f"stack: all tensors must have the same shape, got {shapes}")
    try:
        y = np.stack([t.data for t in tensors], axis=axis)
    except np.exceptions.AxisError:
        raise ValueError(f"stack: axis {axis} is out of range for {tensors[0].ndim + 1} dimensions") from None
    return record("stack", y, tensors, lambda g: tuple(np.moveaxis(g, axis, 0)))


def _slice_along(a: Tensor, axis: int, start: int, stop: int) -> Tensor:
    index = (slice(None),) * axis + (slice(start, stop),)
    return getitem(a, index)


def split(a, split_size_or_sections, axis: int = 0) -> list[Tensor]:
    """Cut along ``axis`` into pieces of ``split_size`` (the last may be smaller), or of the given sizes.

    Same convention as ``torch.split``.
    """
    a = as_tensor(a)
    (axis,) = normalize_axes("split", axis, a.ndim)
    length = a.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (length // split_size_or_sections)
        if length % split_size_or_sections or not sizes:  # the remainder (an empty axis: one empty piece)
            sizes.append(length % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ValueError(f"split: sections {sizes} add up to {sum(sizes)}, but axis {axis} has length {length}")
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    return [_slice_along(a, axis, int(starts[i]), int(starts[i + 1])) for i in range(len(sizes))]


def chunk(a, chunks: int, axis: int = 0) -> list[Tensor]:
    """Cut into ``chunks`` pieces of equal size (the last may be smaller), like ``torch.chunk``."""
    a = as_tensor(a)
    if chunks <= 0:
        raise ValueError(f"chunk: number of chunks must be positive, got {chunks}")
    (axis,) = normalize_axes("chunk", axis, a.ndim)
    if a.shape[axis] == 0:  # PyTorch gives `chunks` empty pieces
        return split(a, [0] * chunks, axis)
    return split(a, -(-a.shape[axis] // chunks), axis)
