"""Functional forms of the basic layers, plus the primitive ops re-exported (``microseq.nn.functional as F``)."""

from __future__ import annotations

from ..ops import *  # noqa: F403  (F.tanh, F.softmax, F.cross_entropy, ... as in torch.nn.functional)
from ..ops import matmul
from ..ops.shape import index_put
from ..ops.conv import conv2d  # noqa: F401  (F.conv2d)
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: F401  (F.max_pool2d, ...)
from ..ops.normalization import batch_norm  # noqa: F401  (F.batch_norm)
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
