"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` with PyTorch's semantics."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[np.ndarray]:
    """The gradients of the parameters that have one (one tensor or an iterable such as ``model.parameters()``)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def _vector_norm(x: np.ndarray, norm_type: float) -> np.ndarray:
    """The ``norm_type``-norm of all elements of ``x`` (``inf``: max |x|; 0: number of non-zeros), in x's dtype."""
    x = x.reshape(-1)
    if x.size == 0:
        return np.zeros((), dtype=x.dtype)
    if norm_type == 2:  # x . x is |x| . |x| bit for bit, without the copy that abs makes
        return np.sqrt(np.dot(x, x))
    x = np.abs(x)
    if norm_type == np.inf:
        return x.max()
    if norm_type == -np.inf:
        return x.min()
    if norm_type == 0:
        return np.asarray(np.count_nonzero(x), dtype=x.dtype)
    if norm_type == 1:
        return x.sum()
    return (x**norm_type).sum() ** (1 / norm_type)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> np.floating:
    r"""Scale all gradients together so that their joint norm is at most ``max_norm``; in place.

    The total norm is the norm of all gradients taken as one vector (computed as the norm of the
    per-parameter norms, as PyTorch). Every gradient is multiplied by
    ``min(max_norm / (total_norm + 1e-6), 1)``, so directions never change and gradients already inside
    the ball are left as they are.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Parameters whose ``.grad`` to clip; those without a gradient are skipped.
    max_norm : float
    norm_type : float or "inf"
        Order of the norm: 2 (default), 1, ``inf`` (largest absolute value), any p > 0.
    error_if_nonfinite : bool
        Raise instead of scaling by NaN when the total norm is NaN or infinite.

    Returns
    -------
    numpy floating scalar
        The total norm *before* clipping, in the gradients' dtype (``.item()`` works, as on PyTorch's
        0-d tensor). 0.0 when no parameter has a gradient.
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return np.float32(0.0)
    dtype = np.result_type(*grads)
    norms = np.array([_vector_norm(g, norm_type) for g in grads], dtype=dtype)
    total_norm = _vector_norm(norms, norm_type)[()]
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total_norm}, so they "
            "cannot be clipped; set error_if_nonfinite=False to scale them anyway"
        )
    clip_coefficient = np.minimum(max_norm / (total_norm + dtype.type(1e-6)), dtype.type(1.0))
    if clip_coefficient != 1:  # inside the ball: multiplying by 1 would change no bit, only cost a pass
        for g in grads:
            g *= clip_coefficient
    return total_norm


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place (min-char-rnn clips at 5)."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
