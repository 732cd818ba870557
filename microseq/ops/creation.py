"""Tensors made from nothing, or from another tensor's shape and dtype: eye, linspace, empty, *_like.

As with ``zeros`` and ``ones``, the default dtype is float32; a ``*_like`` tensor takes the dtype of the
tensor it is like unless ``dtype`` says otherwise. Random ones draw from microseq's generator, so
``ms.manual_seed`` makes them repeatable. None of these is recorded on the tape (they are leaves).
"""

from __future__ import annotations

import numpy as np

from ..random import default_generator
from ..tensor import DEFAULT_FLOAT, Tensor, _shape, as_tensor

__all__ = ["eye", "linspace", "empty", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like"]


def eye(n: int, m: int | None = None, dtype=DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """The (n, m) identity: ones on the main diagonal (``m`` defaults to ``n``)."""
    if n < 0 or (m is not None and m < 0):
        raise ValueError(f"eye: sizes must be non-negative, got n={n}, m={m}")
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def linspace(start, end, steps: int, dtype=DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (``torch.linspace``)."""
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return Tensor(np.linspace(start, end, steps, dtype=np.float64).astype(dtype), requires_grad=requires_grad)


def empty(*shape, dtype=DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of ``shape`` (its values are whatever the memory held)."""
    return Tensor(np.empty(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def _like(fill, a, dtype, requires_grad: bool) -> Tensor:
    a = as_tensor(a)
    return Tensor(fill(a.shape, np.dtype(dtype or a.dtype)), requires_grad=requires_grad)


def zeros_like(a, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``a``'s shape and dtype."""
    return _like(np.zeros, a, dtype, requires_grad)


def ones_like(a, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones of ``a``'s shape and dtype."""
    return _like(np.ones, a, dtype, requires_grad)


def full_like(a, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, in ``a``'s shape and dtype."""
    return _like(lambda shape, dt: np.full(shape, fill_value, dtype=dt), a, dtype, requires_grad)


def _random_like(op: str, draw, a, dtype, requires_grad: bool) -> Tensor:
    a = as_tensor(a)
    dtype = np.dtype(dtype or a.dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point dtype, got {dtype}")
    return Tensor(draw(default_generator(), a.shape).astype(dtype), requires_grad=requires_grad)


def rand_like(a, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) values of ``a``'s shape, from microseq's generator (seeded by ``ms.manual_seed``)."""
    return _random_like("rand_like", lambda rng, shape: rng.random(shape), a, dtype, requires_grad)


def randn_like(a, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal values of ``a``'s shape, from microseq's generator."""
    return _random_like("randn_like", lambda rng, shape: rng.standard_normal(shape), a, dtype, requires_grad)
