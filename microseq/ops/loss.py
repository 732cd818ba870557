"""Losses, each one fused op with a closed-form gradient (stable for extreme logits).

``reduction`` is ``"mean"`` (default), ``"sum"`` or ``"none"``, as in PyTorch. Each rule reads the scores
from its arguments (the NumPy API on arrays, or on Tensors in a ``create_graph`` backward), so the losses
have second derivatives; targets, weights and masks are constants the rules close over.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, as_tensor, record
from ._util import check_float
from .elementwise import sigmoid_of
from .shape import index_put

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _classes_last(op: str, scores: Tensor, target) -> tuple[np.ndarray, np.ndarray]:
    """Scores as (N, C) and targets as (N,), accepting PyTorch's layouts (C,), (N, C) and (N, C, d1, ...)."""
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must be integer class indices, got dtype {target.dtype}")
    x = scores.data
    if x.ndim == 0:
        raise ValueError(f"{op}: scores must have a class axis, got a scalar")
    expected = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
    if target.shape != expected:
        raise ValueError(
            f"{op}: scores of shape {x.shape} (class axis {0 if x.ndim == 1 else 1}) need targets of shape "
            f"{expected}, got {target.shape}"
        )
    return _flatten_classes(x), target.reshape(-1)


def _flatten_classes(x):
    """Scores (C,), (N, C) or (N, C, d1, ...) as rows (N', C), classes last (an array or a Tensor)."""
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]) if x.ndim > 1 else x.reshape(1, -1)


def _targets_and_weights(op: str, scores: Tensor, target, weight, ignore_index: int):
    """Flattened scores (N, C), targets made safe to index with (N,), and each item's weight (N,).

    Ignored targets get weight 0 (and index 0, which is then multiplied by that 0).
    """
    flat, t = _classes_last(op, scores, target)
    n_classes = flat.shape[1]
    counted = t != ignore_index
    bad = counted & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"{op}: target {t[bad][0]} is out of range for {n_classes} classes")
    safe_t = np.where(counted, t, 0)
    if weight is None:
        class_weight = np.ones(n_classes, dtype=flat.dtype)
    else:
        class_weight = np.asarray(getattr(weight, "data", weight), dtype=flat.dtype)
    if class_weight.shape != (n_classes,):
        raise ValueError(f"{op}: weight must have shape ({n_classes},), got {class_weight.shape}")
    return flat, safe_t, class_weight[safe_t] * counted


def _restore_layout(grad_flat, shape: tuple):
    """Inverse of :func:`_flatten_classes`."""
    if len(shape) == 1:
        return grad_flat.reshape(shape)
    moved = shape[:1] + shape[2:] + shape[1:2]
    return np.moveaxis(grad_flat.reshape(moved), -1, 1)


def _reduce_per_item(per_item: np.ndarray, weights: np.ndarray, reduction: str, target_shape):
    """Loss value and the factor d(loss)/d(per_item) for each item."""
    if reduction == "none":
        return per_item.reshape(target_shape), None
    if reduction == "sum":
        return np.asarray(per_item.sum()), np.ones_like(per_item)
    total_weight = weights.sum()
    with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: NaN, as in PyTorch
        value = np.asarray(per_item.sum() / total_weight)
    # ... but a zero gradient, as in PyTorch (so a fully padded batch cannot turn the weights into NaN)
    factor = np.full_like(per_item, 1 / total_weight if total_weight != 0 else 0)
    return value, factor


def nll_loss(log_probs, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities.

    ``loss_n = -w[t_n] * log_probs[n, t_n]``; targets equal to ``ignore_index`` contribute nothing, and
    ``"mean"`` divides by the total weight of the targets that count (PyTorch's convention).

    Parameters
    ----------
    log_probs : Tensor, shape (C,), (N, C) or (N, C, d1, ...)
    target : integer array, shape (), (N,) or (N, d1, ...)
    weight : array_like, shape (C,), optional
        A weight per class.
    """
    log_probs = as_tensor(log_probs)
    check_float("nll_loss", log_probs)
    _check_reduction("nll_loss", reduction)
    flat, safe_t, w = _targets_and_weights("nll_loss", log_probs, target, weight, ignore_index)
    rows = np.arange(len(safe_t))
    per_item = -w * flat[rows, safe_t]
    target_shape = np.asarray(getattr(target, "data", target)).shape
    value, factor = _reduce_per_item(per_item, w, reduction, target_shape)
    shape, flat_shape = log_probs.shape, flat.shape

    def backward(g):  # -w[t] at each target's score, 0 elsewhere
        scale = g.reshape(-1) if factor is None else g * factor
        return (_restore_layout(index_put(-w * scale, (rows, safe_t), flat_shape), shape),)

    return record("nll_loss", value.astype(flat.dtype), (log_probs,), backward)


def cross_entropy(logits, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Cross entropy of class indices given unnormalised scores: ``nll_loss(log_softmax(logits))`` fused.

    ``loss_n = w[t_n] * (logsumexp(z_n) - z_n[t_n])``, and the gradient with respect to the logits is
    ``w[t_n] * (softmax(z_n) - onehot(t_n))``, computed without ever forming ``exp`` of a large number.

    Parameters
    ----------
    logits : Tensor, shape (C,), (N, C) or (N, C, d1, ...)
        Class axis 1 as in PyTorch (axis 0 for a single unbatched vector).
    target : integer array, shape (), (N,) or (N, d1, ...)
    weight : array_like, shape (C,), optional
    ignore_index : int
        Targets with this value are skipped (their loss and gradient are 0).
    reduction : {"mean", "sum", "none"}
    """
    logits = as_tensor(logits)
    check_float("cross_entropy", logits)
    _check_reduction("cross_entropy", reduction)
    flat, safe_t, w = _targets_and_weights("cross_entropy", logits, target, weight, ignore_index)
    rows = np.arange(len(safe_t))
    shift = flat.max(axis=1, keepdims=True)  # a constant: softmax(z - c) = softmax(z) for any c; no overflow
    shifted = flat - shift
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    per_item = w * (log_norm - shifted[rows, safe_t])
    target_shape = np.asarray(getattr(target, "data", target)).shape
    value, factor = _reduce_per_item(per_item, w, reduction, target_shape)
    shape, n_classes = logits.shape, flat.shape[1]

    def backward(g, z, _y):
        scale = g.reshape(-1) if factor is None else g * factor
        e = np.exp(_flatten_classes(z) - shift)
        softmax = e / np.sum(e, axis=1, keepdims=True)
        one_hot = np.eye(n_classes, dtype=softmax.dtype)[safe_t]
        return (_restore_layout((softmax - one_hot) * (w * scale)[:, None], shape),)

    return record("cross_entropy", value.astype(flat.dtype), (logits,), backward)


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean squared error ``mean((input - target)**2)``; shapes must match (no silent broadcasting).

    d/d input = 2 (input - target) / n, d/d target = -2 (input - target) / n.
    """
    input, target = as_tensor(input), as_tensor(target)
    _check_reduction("mse_loss", reduction)
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input of shape {input.shape} and target of shape {target.shape} differ")
    diff = input.data - target.data
    n = diff.size if reduction == "mean" else 1

    def backward(g, x, t, _y):
        d = 2 * g * (x - t) / n
        return d, -d

    if reduction == "none":
        return record("mse_loss", diff * diff, (input, target), backward)
    with np.errstate(invalid="ignore"):  # the mean of nothing is NaN (0 / 0), as in PyTorch
        value = np.asarray(np.sum(diff * diff) / n, dtype=diff.dtype)
    return record("mse_loss", value, (input, target), backward)


def _elementwise_weight(op: str, name: str, weight, z: np.ndarray):
    """``weight`` as an array of ``z``'s dtype that broadcasts to ``z``'s shape (1 when None)."""
    if weight is None:
        return 1.0
    w = np.asarray(getattr(weight, "data", weight), dtype=z.dtype)
    try:
        fits = np.broadcast_shapes(w.shape, z.shape) == z.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {w.shape} does not broadcast to the logits' shape {z.shape}")
    return w


def binary_cross_entropy_with_logits(
    logits, target, weight=None, reduction: str = "mean", pos_weight=None
) -> Tensor:
    """Binary cross entropy on logits, with PyTorch's arguments in PyTorch's order.

    ``loss = w * -(p t log s(z) + (1 - t) log(1 - s(z)))`` with s the sigmoid, w ``weight`` and p
    ``pos_weight`` (both 1 by default), written as ``w ((1 - t) z + (1 + (p - 1) t) softplus(-z))`` so that
    no log of 0 or exp overflow can occur. The gradient with respect to ``z`` is
    ``w ((1 + (p - 1) t) s(z) - p t)``.

    Parameters
    ----------
    logits : Tensor, shape (...)
    target : array_like, same shape as ``logits``
        Probabilities in [0, 1] (no gradient flows to the target).
    weight : array_like, optional
        Rescales each element's loss; broadcasts to the logits' shape.
    reduction : {"mean", "sum", "none"}
        "mean" averages over all elements (NaN for an empty input, as in PyTorch).
    pos_weight : array_like, optional
        Weight of the positive term; broadcasts to the logits' shape (one per class along the last axis).
    """
    op = "binary_cross_entropy_with_logits"
    logits, target = as_tensor(logits), as_tensor(target)
    check_float(op, logits)
    _check_reduction(op, reduction)
    if logits.shape != target.shape:
        raise ValueError(f"{op}: logits of shape {logits.shape} and target of shape {target.shape} differ")
    z, t = logits.data, target.data.astype(logits.dtype)
    w = _elementwise_weight(op, "weight", weight, z)
    p = _elementwise_weight(op, "pos_weight", pos_weight, z)
    coeff = 1 + (p - 1) * t
    per_item = w * ((1 - t) * z + coeff * np.logaddexp(0, -z))
    n = per_item.size if reduction == "mean" else 1

    def backward(g, z, _y):
        return (g * (w * (coeff * sigmoid_of(z) - p * t)) / n,)

    if reduction == "none":
        return record("bce_with_logits", per_item, (logits,), backward)
    with np.errstate(invalid="ignore"):  # the mean of nothing is NaN (0 / 0)
        value = np.asarray(per_item.sum() / n, dtype=z.dtype)
    return record("bce_with_logits", value, (logits,), backward)
