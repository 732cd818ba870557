"""Argument checks shared by the tensor and its ops, the layers (:mod:`microseq.nn`) and the fused kernels
(:mod:`microseq.kernels`).

NumPy only, so that the kernels use them without loading the layers and the layers without loading numba.
Each raises a one-line error that names the caller, what was wrong and what is accepted.
"""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # what the layers and the kernels compute in
NONLINEARITIES = ("tanh", "relu")  # of an Elman RNN


class ShapeError(RuntimeError, ValueError):
    """Operands whose shapes do not fit together: shapes that do not broadcast, a reshape to another number of
    elements, tensors that do not stack. A ``RuntimeError``, as PyTorch raises for these, and a ``ValueError``,
    as microseq raised before (``except ValueError`` still catches it, as the command line does)."""


def check_float_dtype(caller: str, dtype) -> np.dtype:
    """``dtype`` as a NumPy dtype if it is float32 or float64; a TypeError naming it otherwise."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{caller}: dtype {dtype!r} is not a NumPy dtype; expected float32 or float64") from None
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"{caller}: dtype {resolved} is not supported; expected float32 or float64")
    return resolved


def check_nonlinearity(caller: str, nonlinearity) -> None:
    """A ValueError unless ``nonlinearity`` is "tanh" or "relu"."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"{caller}: unknown nonlinearity {nonlinearity!r}; expected one of {', '.join(map(repr, NONLINEARITIES))}"
        )


def check_broadcasts_to(caller: str, name: str, shape: tuple, target: tuple, target_name: str = "") -> None:
    """A :class:`ShapeError` unless an array of ``shape`` broadcasts to ``target`` without growing it (as a mask or a
    weight must fit the array it applies to), e.g. ``masked_fill: mask of shape (3, 3) does not broadcast to
    (2, 3)``; ``target_name`` (such as ``"the logits' shape "``) goes before the target shape."""
    try:
        fits = np.broadcast_shapes(tuple(shape), tuple(target)) == tuple(target)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{caller}: {name} of shape {tuple(shape)} does not broadcast to {target_name}{tuple(target)}")
