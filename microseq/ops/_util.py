"""Small helpers shared by the op modules: turning arguments into tensors and reading axes."""

from __future__ import annotations

import numpy as np

from .._checks import ShapeError
from ..tensor import DEFAULT_FLOAT, Tensor, as_tensor, constant


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < floating, as PyTorch orders them
_WEAK_DTYPE = {bool: np.dtype(np.bool_), int: np.dtype(np.int64), float: np.dtype(DEFAULT_FLOAT)}
_PYTHON_NUMBERS = (bool, int, float)


def _is_weak(value) -> bool:
    """A Python number (not a NumPy scalar, which keeps its dtype as a 0-d tensor does)."""
    return isinstance(value, (bool, int, float)) and not isinstance(value, np.generic)


def _promote_types(d1: np.dtype, d2: np.dtype) -> np.dtype:
    """PyTorch's ``promote_types``: within a category NumPy's rule (int32 + int64 is int64), across categories
    the higher category's dtype (float32 + int64 is float32, where NumPy says float64)."""
    c1, c2 = _CATEGORY[d1.kind], _CATEGORY[d2.kind]
    if c1 == c2:
        return np.promote_types(d1, d2)
    return d1 if c1 > c2 else d2


def _group_dtype(dtypes) -> np.dtype | None:
    result = None
    for d in dtypes:
        result = d if result is None else _promote_types(result, d)
    return result


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """A weaker group (0-d tensors, then Python numbers) changes the dtype only if it is of a higher category."""
    if higher is None or (lower is not None and _CATEGORY[lower.kind] > _CATEGORY[higher.kind]):
        return lower
    return higher


def result_type(*operands) -> np.dtype:
    """The dtype of a binary op's result, by PyTorch's rule (``torch.result_type``).

    Operands rank in three groups: tensors with dimensions, 0-d tensors (and NumPy scalars), Python numbers.
    The dtype comes from the strongest group present; a weaker group changes it only where it is of a higher
    category (bool < integer < floating), and a Python number then brings the default dtype of its category
    (float32, int64). So ``float32 * 2.5`` stays float32, ``int32 * 2.5`` is float32, ``int32 + int64`` is
    int64, ``float32 + int64`` is float32, ``float32 + float64`` is float64 (NumPy would say float64 for the
    first two of these mixes).
    """
    dims, zeros, weak = [], [], []
    for v in operands:
        if _is_weak(v):
            weak.append(_WEAK_DTYPE[bool if isinstance(v, bool) else int if isinstance(v, int) else float])
        else:
            v = v if isinstance(v, (Tensor, np.ndarray)) else as_tensor(v)
            (dims if v.ndim else zeros).append(v.dtype)
    return _combine(_group_dtype(dims), _combine(_group_dtype(zeros), _group_dtype(weak)))


def _in_dtype(value, dtype: np.dtype) -> Tensor:
    if isinstance(value, Tensor):
        return value if value.dtype == dtype else value.astype(dtype)  # a recorded cast: the gradient casts back
    return Tensor(np.asarray(value).astype(dtype, copy=False))


def pair(a, b, floating: bool = False) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors of the result dtype (:func:`result_type`, PyTorch's rule).

    With ``floating``, an integer or boolean result dtype becomes the default float (``int / int`` is float32).
    """
    # The common cases first, kept fast (a model records thousands of binary ops): two tensors of one dtype
    # (one dtype object: ``is`` costs 15 ns where ``==`` costs 40), and a Python number next to a float tensor.
    if isinstance(a, Tensor):
        dtype = a.data.dtype
        if isinstance(b, Tensor):
            if b.data.dtype is dtype and (not floating or dtype.kind == "f"):
                return a, b
        elif type(b) in _PYTHON_NUMBERS and dtype.kind == "f":
            return a, constant(np.asarray(b, dtype))
    elif type(a) in _PYTHON_NUMBERS and isinstance(b, Tensor) and b.data.dtype.kind == "f":
        return constant(np.asarray(a, b.data.dtype)), b
    dtype = result_type(a, b)
    if floating and dtype.kind != "f":
        dtype = np.dtype(DEFAULT_FLOAT)
    return _in_dtype(a, dtype), _in_dtype(b, dtype)


def broadcast_error(op: str, *tensors) -> ShapeError:
    shapes = " and ".join(str(t.shape) for t in tensors)
    return ShapeError(f"{op}: shapes {shapes} do not broadcast")


def normalize_axes(op: str, axis, ndim: int) -> tuple[int, ...]:
    """The axes a reduction runs over: ``axis`` (None, int or tuple) as a sorted tuple of non-negative axes.

    A 0-d tensor accepts ``axis`` 0 and -1, as in PyTorch, and has no axis to reduce: the result is ``()``.
    An axis out of range is an ``IndexError``, a repeated one a ``RuntimeError`` (PyTorch's types).
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = [normalize_axis(op, a, ndim) for a in axes]
    if len(set(result)) != len(result):
        raise RuntimeError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(result)) if ndim else ()


def normalize_axis(op: str, axis, ndim: int) -> int:
    """One axis as a non-negative int in ``range(ndim)`` (0 for a 0-d tensor, which accepts 0 and -1)."""
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise IndexError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return int(axis) % max(ndim, 1)


def check_float(op: str, x: Tensor) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {x.dtype}")
