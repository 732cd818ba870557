"""Batch normalisation: normalise each channel over the batch (and every axis after the channels), as
``torch.nn.functional.batch_norm``.

Shapes: B batch, C channels, (...) any further axes (H, W for images); N values per channel (B times the rest).

Training mode is one op with the closed-form gradient, xhat = (x - mean) / sqrt(var + eps) (biased variance):

    y = xhat * weight + bias
    dx = weight / sqrt(var + eps) * (G - mean(G) - xhat * mean(G * xhat))      (means per channel)
    dweight = sum(G * xhat),  dbias = sum(G)

The rule is written once in the NumPy API on (G, x, weight) and recomputes xhat from x, so under
``create_graph`` it records itself and is differentiated again; a first-order backward (arrays) runs compiled
instead (``microseq.kernels.batch_norm``), with the statistics the forward found. Evaluation mode normalises with
the running statistics, constants, through ordinary ops.

Speed, forward + backward of ``nn.BatchNorm2d`` in training mode, float32, one thread, CPU time, best of 15,
alternating with PyTorch in separate processes, load ~7 on the shared 2-core Xeon: (32, 16, 48, 48) 21.0 ms
when composed of ops, 1.97 ms as this op (PyTorch 3.5 ms); (32, 32, 24, 24) 10.8 -> 0.91 ms (1.9 ms);
(32, 32, 12, 12) 2.9 -> 0.24 ms (0.41 ms).
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, as_tensor, record
from ._util import check_float

__all__ = ["batch_norm"]


def _per_channel(t, x_ndim: int):
    """A (C,) tensor or array shaped to broadcast against (B, C, ...)."""
    return t.reshape((1, -1) + (1,) * (x_ndim - 2))


def _training_gradients(g, x, weight, eps: float, axes: tuple):
    """(dx, dweight, dbias) of training-mode batch norm, from the formulas in the module docstring (``weight``
    None for no affine weight). For arrays and Tensors alike."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    inv = 1 / np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + eps)
    xhat = centered * inv
    scaled = g if weight is None else g * _per_channel(weight, x.ndim)
    dx = inv * (scaled - scaled.mean(axis=axes, keepdims=True) - xhat * (scaled * xhat).mean(axis=axes, keepdims=True))
    return dx, (g * xhat).sum(axis=axes), g.sum(axis=axes)


def _normalize_training(x: Tensor, weight, bias, eps: float):
    """y = xhat * weight + bias with the batch's statistics, one op. Returns (y, mean, biased var) (the statistics
    as float64 arrays (C,), for the running ones)."""
    from ..kernels.batch_norm import batch_norm_backward, batch_norm_forward  # so that importing loads no numba

    B, C = x.shape[:2]
    x3 = np.ascontiguousarray(x.data).reshape(B, C, -1)
    ones = np.ones(C, x.dtype)
    w = ones if weight is None else weight.data
    b = np.zeros(C, x.dtype) if bias is None else bias.data
    y = np.empty_like(x3)
    mean, var, inv = batch_norm_forward(x3, w, b, eps, y)
    axes = (0,) + tuple(range(2, x.ndim))
    params = tuple(p for p in (weight, bias) if p is not None)

    def rule(g, x, *rest):  # rest: the parameters' values, then y
        w = rest[0] if weight is not None else None
        if isinstance(g, Tensor) or isinstance(x, Tensor):
            dx, dw, db = _training_gradients(g, x, w, eps, axes)
        else:
            dx = np.empty_like(x3)
            dw, db = batch_norm_backward(np.ascontiguousarray(g).reshape(x3.shape), x3, ones if w is None else w,
                                         mean, inv, dx)
            dx, dw, db = dx.reshape(x.shape), dw.astype(x.dtype), db.astype(x.dtype)
        return (dx,) + ((dw,) if weight is not None else ()) + ((db,) if bias is not None else ())

    return record("batch_norm", y.reshape(x.shape), (x,) + params, rule), mean, var


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (axis 1) over the batch and every other axis, as ``torch.nn.functional.batch_norm``.

    y = (x - mean) / sqrt(var + eps) * weight + bias, per channel.

    Training: mean and the *biased* variance of this batch (differentiable: the gradient flows through them), and
    the running statistics, when given, move towards the batch's with the *unbiased* variance:
    ``running = (1 - momentum) running + momentum batch``. Evaluation: the running statistics, as constants.

    Parameters
    ----------
    x : Tensor, shape (B, C) or (B, C, ...)  (e.g. (B, C, H, W))
    running_mean, running_var : Tensor, shape (C,), or None (then only training mode works)
        Updated in place in training mode (they are buffers, not parameters).
    weight, bias : Tensor, shape (C,), optional
    training : bool
    momentum, eps : float
    """
    x = as_tensor(x)
    check_float("batch_norm", x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (B, C, ...), got shape {x.shape}")
    C = x.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if value is not None and value.shape != (C,):
            raise ValueError(f"batch_norm: {name} has shape {value.shape}, expected ({C},) for input {x.shape}")
    if training:
        count = x.size // C if C else 0
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input {x.shape}")
        y, mean, var = _normalize_training(x, weight, bias, eps)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_((momentum * mean).astype(x.dtype))
                running_var.mul_(1 - momentum).add_((momentum * var * (count / (count - 1))).astype(x.dtype))
        return y
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
    y = (x - _per_channel(running_mean.data, x.ndim)) / np.sqrt(_per_channel(running_var.data, x.ndim) + eps)
    if weight is not None:
        y = y * _per_channel(weight, x.ndim)
    if bias is not None:
        y = y + _per_channel(bias, x.ndim)
    return y
