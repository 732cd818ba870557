"""Matrix multiplication, with NumPy's rules for vectors and batches.

For ``Y = A @ B``:  ``dA = G @ B^T`` and ``dB = A^T @ G``. A 1-D left operand is treated as a row (1, n),
a 1-D right operand as a column (n, 1); leading (batch) axes broadcast and their gradients are summed back
by the engine.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import ShapeError
from ..tensor import Tensor, implements, record
from ._util import pair

__all__ = ["matmul"]


def _check_matmul_shapes(a: Tensor, b: Tensor) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not align ({inner_a} != {inner_b})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not broadcast") from None


def _rows(stack):
    """A stack of matrices (..., n, k) as one (N, k) matrix (explicit N: -1 is ambiguous when k is 0)."""
    return stack.reshape(math.prod(stack.shape[:-1]), stack.shape[-1])


def _product(p, q):
    """``p @ q`` for stacks of matrices (arrays, or Tensors in a ``create_graph`` backward), fast in the two
    shapes a backward pass meets most.

    - contracted axis of size 1 (an outer product, e.g. the gradient of a one-query attention score):
      broadcasting ``p * q`` is several times faster than NumPy's batched matmul;
    - a stack times one matrix: one (N, k) @ (k, m) GEMM instead of a loop of small ones.
    """
    if p.ndim >= 2 and q.ndim >= 2 and p.shape[-1] == 1:
        return p * q
    if p.ndim > 2 and q.ndim == 2:
        return (_rows(p) @ q).reshape(p.shape[:-1] + q.shape[-1:])
    return np.matmul(p, q)


@implements(np.matmul)
def matmul(a, b) -> Tensor:
    """``a @ b``.

    Parameters
    ----------
    a : Tensor, shape (..., n, k) or (k,)
    b : Tensor, shape (..., k, m) or (k,)

    Returns
    -------
    Tensor, shape (..., n, m) with the vector axes dropped as NumPy does.
    """
    a, b = pair(a, b)
    try:
        y = np.matmul(a.data, b.data)
    except ValueError:
        _check_matmul_shapes(a, b)
        raise

    def backward(g, x, w, _y):
        # Vectors as matrices: a (k,) is the row (1, k), b (k,) the column (k, 1); g gets their axes back
        # (b's last, then a's, so that a vector . vector's scalar g becomes (1, 1)).
        x2 = x[None, :] if x.ndim == 1 else x
        w2 = w[:, None] if w.ndim == 1 else w
        g2 = g[..., None] if w.ndim == 1 else g
        g2 = g2[..., None, :] if x.ndim == 1 else g2
        ga = gb = None
        if a.requires_grad:
            ga = _product(g2, np.swapaxes(w2, -1, -2))  # dA = G B^T
            ga = ga[..., 0, :] if x.ndim == 1 else ga
        if b.requires_grad:
            if w2.ndim == 2 and x2.ndim > 2:  # a weight shared by a stack: dB = sum over the stack, one GEMM
                gb = _rows(x2).T @ _rows(g2)
            else:
                gb = _product(np.swapaxes(x2, -1, -2), g2)  # dB = A^T G
            gb = gb[..., 0] if w.ndim == 1 else gb
        return ga, gb

    return record("matmul", np.asarray(y), (a, b), backward, reduces_broadcast=True)
