"""Functional forms of the basic layers, plus the primitive ops re-exported (``microseq.nn.functional as F``)."""

from __future__ import annotations

import numpy as np

from ..ops import *  # noqa: F403  (F.tanh, F.softmax, F.cross_entropy, ... as in torch.nn.functional)
from ..ops import matmul
from ..ops.shape import index_put
from ..ops.conv import conv2d  # noqa: F401  (F.conv2d)
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: F401  (F.max_pool2d, ...)
from ..autograd import no_grad
from ..tensor import Tensor, array_of, as_tensor, record


def linear(x, weight, bias=None) -> Tensor:
    """``x @ weight.T + bias``.

    Parameters
    ----------
    x : Tensor, shape (..., in_features)
    weight : Tensor, shape (out_features, in_features)
    bias : Tensor, shape (out_features,), optional
    """
    x = as_tensor(x)
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}), "
            f"the layer expects {weight.shape[1]}"
        )
    y = matmul(x, weight.T)
    return y if bias is None else y + bias


def embedding(indices, weight, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by integer ``indices``.

    The gradient adds up for repeated indices; the row ``padding_idx`` never receives any.

    Parameters
    ----------
    indices : integer array, any shape (...)
    weight : Tensor, shape (V, E)

    Returns
    -------
    Tensor, shape (..., E)
    """
    index = array_of(indices)
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {index.dtype}")
    vocab = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= vocab):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(f"embedding: index {bad} is out of range for a table of {vocab} rows")
    shape = weight.shape
    counted = None if padding_idx is None else (index != padding_idx % vocab)[..., None]  # padding: no gradient

    def backward(g, *_):
        g = g if counted is None else g * counted
        return (index_put(g.reshape(-1, shape[1]), index.reshape(-1), shape),)

    return record("embedding", weight.data[index], (weight,), backward)


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
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (B, C, ...), got shape {x.shape}")
    C = x.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if value is not None and value.shape != (C,):
            raise ValueError(f"batch_norm: {name} has shape {value.shape}, expected ({C},) for input {x.shape}")
    axes = (0,) + tuple(range(2, x.ndim))
    per_channel = (1, C) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // C if C else 0
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean.data.reshape(C))
                running_var.mul_(1 - momentum).add_(momentum * var.data.reshape(C) * (count / (count - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
        centered = x - running_mean.data.reshape(per_channel)
        var = running_var.data.reshape(per_channel)
    y = centered / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(per_channel)
    if bias is not None:
        y = y + bias.reshape(per_channel)
    return y
