"""Ops that move values around without changing them: reshape, transpose, indexing, joining, splitting.

Their gradients move the upstream gradient back to where each value came from. Indexing with integer
arrays may read one element several times (an embedding lookup does); its gradient then *adds* the
contributions (:func:`index_put`, ``np.add.at``), it does not overwrite them.
"""

from __future__ import annotations

import numpy as np

from .._checks import ShapeError
from ..tensor import Tensor, as_tensor, implements, record
from ._util import normalize_axes, normalize_axis

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
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} elements) into {shape}") from None
    source = a.shape
    return record("reshape", y, (a,), lambda g, *_: (g.reshape(source),), view_of=a)


@implements(np.transpose)
def transpose(a, axes=None) -> Tensor:
    """Permute the axes (reverse them by default).  The gradient is permuted back by the inverse."""
    a = as_tensor(a)
    if axes is None:
        axes = tuple(reversed(range(a.ndim)))
    axes = tuple(int(i) for i in axes)
    in_range = all(-a.ndim <= i < a.ndim for i in axes)
    if len(axes) != a.ndim or not in_range or sorted(i % a.ndim for i in axes) != list(range(a.ndim)):
        error = RuntimeError if in_range else IndexError  # PyTorch's types: a wrong count or a repeat; a bad dim
        raise error(f"transpose: axes {axes} are not a permutation of the {a.ndim} axes of shape {a.shape}")
    inverse = tuple(np.argsort([i % a.ndim for i in axes]))
    return record("transpose", a.data.transpose(axes), (a,), lambda g, *_: (g.transpose(inverse),), view_of=a)


@implements(np.swapaxes)
def swapaxes(a, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    a = as_tensor(a)
    order = list(range(a.ndim))
    i, j = normalize_axis("swapaxes", axis1, a.ndim), normalize_axis("swapaxes", axis2, a.ndim)
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
        raise IndexError(f"unsqueeze: axis {axis} is out of range for a tensor with {a.ndim} dimensions")
    return expand_dims(a, axis)


@implements(np.squeeze)
def squeeze(a, axis=None) -> Tensor:
    """Remove axes of size 1: all of them, or those of the given ones that have size 1 (as PyTorch, a given
    axis of another size is left as it is, where NumPy raises)."""
    a = as_tensor(a)
    axes = normalize_axes("squeeze", axis, a.ndim) if axis is not None else range(a.ndim)
    return reshape(a, tuple(n for i, n in enumerate(a.shape) if not (i in axes and n == 1)))


@implements(np.broadcast_to)
def broadcast_to(a, shape) -> Tensor:
    """``a`` repeated along new leading axes and along its axes of size 1 until it has ``shape`` (a read-only
    view, as NumPy's).  The gradient adds the copies up: the engine's ``unbroadcast``."""
    a = as_tensor(a)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        y = np.broadcast_to(a.data, shape)
    except ValueError:
        raise ShapeError(f"broadcast_to: a tensor of shape {a.shape} does not broadcast to {shape}") from None
    return record("broadcast_to", y, (a,), lambda g, *_: (g,), reduces_broadcast=True, view_of=a)


def _index_part(part):
    """One entry of an index as NumPy reads it: a Tensor is its array, a list or tuple (nested or not) and a
    Python bool are arrays (advanced indices), a 0-d integer array is an int; the rest is kept."""
    if isinstance(part, Tensor):
        part = part.data
    if isinstance(part, (list, tuple, bool, np.bool_)):
        part = np.asarray(part)
        if part.size == 0 and part.dtype.kind == "f":  # x[[]]: an empty list indexes nothing
            part = part.astype(np.intp)
    if isinstance(part, np.ndarray) and part.ndim == 0 and part.dtype.kind in "iu":
        return int(part)
    return part


_BASIC_PARTS = frozenset({int, slice, type(None), type(Ellipsis)})  # index parts NumPy and PyTorch read alike


def _split_index(index) -> tuple:
    """``index`` as ``(basic, advanced)`` so that ``x[index]`` is ``x[basic][advanced]`` (a part that is None is
    skipped): ``advanced`` is None when the index has no array, ``basic`` None when it has no int next to
    an array. Integers are applied first, as PyTorch does (NumPy treats them as advanced indices, which moves
    the array axes to the front when a slice separates them: ``a[0, :, [0, 1]]`` of a (2, 3, 4) tensor is
    (3, 2) in PyTorch and here, (2, 3) in NumPy)."""
    # The common cases first, kept fast (0.06-0.14 us instead of 0.8-1.2): an index of ints, slices, None and
    # Ellipsis only, as ``x[t]`` and ``x[:, t]`` in a loop over time steps, is basic and taken as it is.
    if type(index) in _BASIC_PARTS:
        return (index,), None  # a tuple: a bare None must stay an index (a new axis), not "no basic step"
    if type(index) is tuple:
        for part in index:
            if type(part) not in _BASIC_PARTS:
                break
        else:
            return index, None
    parts = tuple(_index_part(p) for p in (index if isinstance(index, tuple) else (index,)))
    if not any(isinstance(p, np.ndarray) for p in parts):
        return parts, None
    if not any(isinstance(p, (int, np.integer)) for p in parts):
        return None, parts
    basic, advanced = [], []
    for p in parts:
        if isinstance(p, np.ndarray):  # an array reads its axes in the second step (a k-d mask reads k)
            basic += [slice(None)] * (p.ndim if p.dtype == np.bool_ else 1)
            advanced.append(p)
        elif isinstance(p, (int, np.integer)):  # an int removes its axis in the first step
            basic.append(p)
        elif p is Ellipsis:
            basic.append(p)
            advanced.append(p)
        else:  # a slice or None makes its axis in the first step
            basic.append(p)
            advanced.append(slice(None))
    if not any(p is Ellipsis for p in parts):
        basic.append(Ellipsis)  # so that x[basic] is an array (a view), never a NumPy scalar
    return tuple(basic), tuple(advanced)


def _take(x, basic, advanced):
    """``x[basic][advanced]`` (an array or a Tensor), skipping a step that is None."""
    y = x if basic is None else x[basic]
    return y if advanced is None else y[advanced]


def index_put(values, index, shape: tuple):
    """Zeros of ``shape`` with ``values`` added where ``x[index]`` reads (repeated positions add up, as
    ``torch.Tensor.index_put_(..., accumulate=True)``): the gradient of :func:`getitem`, whose own gradient
    is :func:`getitem` again.

    Like a NumPy function it maps an array to an array (in a first-order backward rule) and a Tensor to a
    recorded Tensor (in a ``create_graph`` backward).

    Parameters
    ----------
    values : array or Tensor, shape of ``x[index]`` for an ``x`` of ``shape``
    index : any index :func:`getitem` takes
    shape : tuple
    """
    basic, advanced = _split_index(index)
    if not isinstance(values, Tensor):
        return _put(values, basic, advanced, shape)
    y = _put(values.data, basic, advanced, shape)
    return record("index_put", y, (values,), lambda g, *_: (_take(g, basic, advanced),))


def _put(values: np.ndarray, basic, advanced, shape: tuple) -> np.ndarray:
    out = np.zeros(shape, dtype=values.dtype)
    if advanced is None:
        out[basic] = values
    elif _picks_rows(values, basic, advanced, shape):  # an embedding's gradient: compiled, same bits as add.at
        from ..kernels.rows import add_rows_at  # here, so that importing the ops loads no numba

        n = len(advanced[0])
        add_rows_at(out.reshape(shape[0], -1), advanced[0], np.ascontiguousarray(values).reshape(n, -1))
    else:
        np.add.at(out if basic is None else out[basic], advanced, values)  # out[basic] is a view
    return out


def _picks_rows(values: np.ndarray, basic, advanced, shape: tuple) -> bool:
    """Whether ``x[advanced]`` picks whole rows of an ``x`` of ``shape`` by one 1-D integer array, every index in
    range, with float ``values`` that are not empty: the case :func:`~microseq.kernels.rows.add_rows_at` runs
    (anything else, an index out of range included, goes to ``np.add.at``, which raises NumPy's IndexError)."""
    if not (basic is None and len(advanced) == 1 and isinstance(advanced[0], np.ndarray) and advanced[0].ndim == 1
            and advanced[0].dtype.kind in "iu" and values.size and len(shape) >= 1
            and values.dtype in (np.float32, np.float64) and values.shape == (len(advanced[0]), *shape[1:])):
        return False
    return -shape[0] <= advanced[0].min() and advanced[0].max() < shape[0]


def getitem(a, index) -> Tensor:
    """``a[index]``: ints, slices (with steps), None, Ellipsis, integer and boolean arrays, lists, tuples
    inside the index and Tensors, as NumPy reads them, except that ints are applied before arrays as in
    PyTorch: ``a[0, :, [0, 1]]`` of a (2, 3, 4) tensor has PyTorch's shape (3, 2), not NumPy's (2, 3).

    The gradient scatters the upstream gradient back into zeros of ``a``'s shape (:func:`index_put`);
    positions read several times (repeated indices, e.g. ``x[:, (1, 1)]``) add up their gradients.
    """
    a = as_tensor(a)
    basic, advanced = _split_index(index)
    try:
        y = _take(a.data, basic, advanced)
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor of shape {a.shape})") from None
    shape, view_of = a.shape, a if advanced is None else None
    return record("getitem", np.asarray(y), (a,), lambda g, *_: (index_put(g, index, shape),), view_of=view_of)


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
        raise ShapeError(f"concatenate: shapes {shapes} cannot be joined along axis {axis}") from None
    ends = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    return record("concatenate", y, tensors, lambda g, *_: tuple(np.split(g, ends, axis=axis)))


@implements(np.split)
def _numpy_split(a, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """NumPy's ``split`` (for rules): cut before each of the given indices along ``axis``, or into that many
    equal parts."""
    a = as_tensor(a)
    axis = normalize_axis("split", axis, a.ndim)
    length = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        parts = int(indices_or_sections)
        if parts <= 0 or length % parts:
            raise ShapeError(f"split: {parts} equal parts do not divide an axis of length {length}")
        indices_or_sections = [length // parts * i for i in range(1, parts)]
    bounds = [0, *(int(i) for i in indices_or_sections), None]
    return [_slice_along(a, axis, start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]


@implements(np.stack)
def stack(tensors, axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis.  Each input gets its slice of the gradient back."""
    tensors = tuple(as_tensor(t) for t in tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    if len({t.shape for t in tensors}) != 1:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ShapeError(f"stack: all tensors must have the same shape, got {shapes}")
    try:
        y = np.stack([t.data for t in tensors], axis=axis)
    except np.exceptions.AxisError:
        raise ValueError(f"stack: axis {axis} is out of range for {tensors[0].ndim + 1} dimensions") from None
    return record("stack", y, tensors, lambda g, *_: tuple(np.moveaxis(g, axis, 0)))  # one piece per input


def _slice_along(a: Tensor, axis: int, start: int, stop: int) -> Tensor:
    index = (slice(None),) * axis + (slice(start, stop),)
    return getitem(a, index)


def split(a, split_size_or_sections, axis: int = 0) -> list[Tensor]:
    """Cut along ``axis`` into pieces of ``split_size`` (the last may be smaller), or of the given sizes.

    Same convention as ``torch.split``.
    """
    a = as_tensor(a)
    axis = normalize_axis("split", axis, a.ndim)
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
            raise ShapeError(f"split: sections {sizes} add up to {sum(sizes)}, but axis {axis} has length {length}")
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    return [_slice_along(a, axis, int(starts[i]), int(starts[i + 1])) for i in range(len(sizes))]


def chunk(a, chunks: int, axis: int = 0) -> list[Tensor]:
    """Cut into ``chunks`` pieces of equal size (the last may be smaller), like ``torch.chunk``."""
    a = as_tensor(a)
    if chunks <= 0:
        raise ValueError(f"chunk: number of chunks must be positive, got {chunks}")
    axis = normalize_axis("chunk", axis, a.ndim)
    if a.shape[axis] == 0:  # PyTorch gives `chunks` empty pieces
        return split(a, [0] * chunks, axis)
    return split(a, -(-a.shape[axis] // chunks), axis)
