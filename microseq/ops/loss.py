"""Losses, each one fused op with a closed-form gradient (stable for extreme logits).

``reduction`` is ``"mean"`` (default), ``"sum"`` or ``"none"``, as in PyTorch. Each rule reads the scores
from its arguments (the NumPy API on arrays, or on Tensors in a ``create_graph`` backward), so the losses
have second derivatives; targets, weights and masks are constants the rules close over.
"""

from __future__ import annotations

import numpy as np

from .._checks import ShapeError, check_broadcasts_to
from ..tensor import Tensor, array_of, as_tensor, record
from ._util import check_float, normalize_axis, pair
from .elementwise import abs, clip, exp, sigmoid_of, sqrt, where
from .math import maximum, xlogy
from .reduction import log_softmax
from .reduction import mean as _mean
from .reduction import sum as _sum
from .shape import broadcast_to, index_put

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits", "binary_cross_entropy",
    "kl_div", "huber_loss", "smooth_l1_loss", "l1_loss", "cosine_similarity", "cosine_embedding_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: str, allowed: tuple = _REDUCTIONS) -> str:
    """``reduction`` itself if it is one of ``allowed``; a ValueError naming ``op`` otherwise."""
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


def _classes_last(op: str, scores: Tensor, target) -> tuple[np.ndarray, np.ndarray]:
    """Scores as (N, C) and targets as (N,), accepting PyTorch's layouts (C,), (N, C) and (N, C, d1, ...)."""
    target = array_of(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must be integer class indices, got dtype {target.dtype}")
    x = scores.data
    if x.ndim == 0:
        raise ValueError(f"{op}: scores must have a class axis, got a scalar")
    expected = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
    if target.shape != expected:
        raise ShapeError(
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
        class_weight = np.asarray(array_of(weight), dtype=flat.dtype)
    if class_weight.shape != (n_classes,):
        raise ShapeError(f"{op}: weight must have shape ({n_classes},), got {class_weight.shape}")
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
    target_shape = array_of(target).shape
    value, factor = _reduce_per_item(per_item, w, reduction, target_shape)
    shape, flat_shape = log_probs.shape, flat.shape

    def backward(g, *_):  # -w[t] at each target's score, 0 elsewhere
        scale = g.reshape(-1) if factor is None else g * factor
        return (_restore_layout(index_put(-w * scale, (rows, safe_t), flat_shape), shape),)

    return record("nll_loss", value.astype(flat.dtype), (log_probs,), backward)


def cross_entropy(
    logits, target, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
) -> Tensor:
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
    label_smoothing : float in [0, 1]
        Mixes the target with the uniform distribution over the C classes, as PyTorch (see
        :func:`_smoothed_cross_entropy`).

    A float ``target`` of the logits' shape holds class probabilities instead of indices (see
    :func:`_soft_cross_entropy`).
    """
    logits = as_tensor(logits)
    check_float("cross_entropy", logits)
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if array_of(target).dtype.kind == "f":
        return _soft_cross_entropy(logits, target, weight, reduction, label_smoothing)
    if label_smoothing:
        return _smoothed_cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing)
    flat, safe_t, w = _targets_and_weights("cross_entropy", logits, target, weight, ignore_index)
    rows = np.arange(len(safe_t))
    shift = flat.max(axis=1, keepdims=True)  # a constant: softmax(z - c) = softmax(z) for any c; no overflow
    shifted = flat - shift
    exps = np.exp(shifted)
    total = exps.sum(axis=1, keepdims=True)
    log_norm = np.log(total[:, 0])
    per_item = w * (log_norm - shifted[rows, safe_t])
    target_shape = array_of(target).shape
    value, factor = _reduce_per_item(per_item, w, reduction, target_shape)
    shape, n_classes = logits.shape, flat.shape[1]

    def backward(g, z, _y):
        scale = g.reshape(-1) if factor is None else g * factor
        if isinstance(z, np.ndarray):  # first order: the forward's exponentials, softmax - onehot in place
            grad = exps / total
            grad[rows, safe_t] -= 1
        else:  # create_graph: from z, so that the rule differentiates again
            e = np.exp(_flatten_classes(z) - shift)
            grad = e / np.sum(e, axis=1, keepdims=True) - np.eye(n_classes, dtype=e.dtype)[safe_t]
        return (_restore_layout(grad * (w * scale)[:, None], shape),)

    return record("cross_entropy", value.astype(flat.dtype), (logits,), backward)


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean squared error ``mean((input - target)**2)``; shapes must match (no silent broadcasting).

    d/d input = 2 (input - target) / n, d/d target = -2 (input - target) / n.
    """
    input, target = as_tensor(input), as_tensor(target)
    _check_reduction("mse_loss", reduction)
    if input.shape != target.shape:
        raise ShapeError(f"mse_loss: input of shape {input.shape} and target of shape {target.shape} differ")
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
    w = np.asarray(array_of(weight), dtype=z.dtype)
    check_broadcasts_to(op, name, w.shape, z.shape, "the logits' shape ")
    return w


def binary_cross_entropy_with_logits(
    logits, target, weight=None, reduction: str = "mean", pos_weight=None
) -> Tensor:
    """Binary cross entropy on logits, with PyTorch's arguments in PyTorch's order.

    ``loss = w * -(p t log s(z) + (1 - t) log(1 - s(z)))`` with s the sigmoid, w ``weight`` and p
    ``pos_weight`` (both 1 by default), written as ``w ((1 - t) z + (1 + (p - 1) t) softplus(-z))`` so that
    no log of 0 or exp overflow can occur. The gradients (PyTorch's) are::

        dloss/dz = w ((1 + (p - 1) t) s(z) - p t)
        dloss/dt = w ((p - 1) softplus(-z) - z)          (= -w z without pos_weight)

    Parameters
    ----------
    logits : Tensor, shape (...)
    target : array_like or Tensor, same shape as ``logits``
        Probabilities in [0, 1]; a target that requires grad gets its gradient (e.g. soft labels being learnt).
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
    if target.dtype != logits.dtype:
        target = target.astype(logits.dtype)  # recorded if the target requires grad: its gradient casts back
    z, t = logits.data, target.data
    w = _elementwise_weight(op, "weight", weight, z)
    p = _elementwise_weight(op, "pos_weight", pos_weight, z)
    per_item = w * ((1 - t) * z + (1 + (p - 1) * t) * np.logaddexp(0, -z))
    n = per_item.size if reduction == "mean" else 1
    target_needs_grad = target.requires_grad

    def backward(g, z, t, _y):
        dz = g * (w * ((1 + (p - 1) * t) * sigmoid_of(z) - p * t)) / n
        dt = g * (w * ((p - 1) * np.logaddexp(0, -z) - z)) / n if target_needs_grad else None
        return dz, dt

    if reduction == "none":
        return record("bce_with_logits", per_item, (logits, target), backward)
    with np.errstate(invalid="ignore"):  # the mean of nothing is NaN (0 / 0)
        value = np.asarray(per_item.sum() / n, dtype=z.dtype)
    return record("bce_with_logits", value, (logits, target), backward)


# --------------------------------------------------------------------------------------------------
# Composed losses: written with differentiable ops, so their second derivatives come for free
# --------------------------------------------------------------------------------------------------
def _reduce(losses: Tensor, reduction: str) -> Tensor:
    """Per-element losses reduced as PyTorch: ``"mean"`` (NaN for no element), ``"sum"`` or ``"none"``."""
    if reduction == "none":
        return losses
    return _mean(losses) if reduction == "mean" else _sum(losses)


def _class_axis(logits: Tensor) -> int:
    return 1 if logits.ndim > 1 else 0


def _along_class_axis(values, logits: Tensor) -> np.ndarray:
    """A per-class array (C,) shaped to broadcast along the class axis of ``logits``: (C, 1, ..., 1)."""
    return np.reshape(values, values.shape + (1,) * max(logits.ndim - 2, 0))


def _soft_cross_entropy(logits: Tensor, target, weight, reduction: str, smoothing: float) -> Tensor:
    """Cross entropy against class probabilities: ``loss_n = -sum_c w_c t_nc log_softmax(z_n)_c``.

    With ``label_smoothing`` e the target becomes ``(1 - e) t + e / C``. ``"mean"`` divides by the number of
    items N (not by the weights), as PyTorch. The target may require grad.
    """
    op = "cross_entropy"
    target = as_tensor(target)
    if target.shape != logits.shape:
        wanted = f"class probabilities need the logits' shape {logits.shape}, got {target.shape}"
        if target.shape == (logits.shape[:1] + logits.shape[2:] if logits.ndim > 1 else ()):  # indices, as floats
            raise TypeError(f"{op}: targets must be integer class indices, got dtype {target.dtype} ({wanted})")
        raise ShapeError(f"{op}: {wanted}")
    axis = _class_axis(logits)
    n_classes = logits.shape[axis]
    if smoothing:
        target = target * (1 - smoothing) + smoothing / n_classes
    terms = log_softmax(logits, axis) * target
    if weight is not None:
        class_weight = np.asarray(array_of(weight), dtype=logits.dtype)
        if class_weight.shape != (n_classes,):
            raise ShapeError(f"{op}: weight must have shape ({n_classes},), got {class_weight.shape}")
        terms = terms * _along_class_axis(class_weight, logits)
    return _reduce(-_sum(terms, axis), reduction)


def _smoothed_cross_entropy(logits: Tensor, target, weight, ignore_index: int, reduction: str, smoothing: float):
    """PyTorch's label smoothing for class indices: ``(1 - e) CE(z, t) + (e / C) sum_c -w_c log_softmax(z)_c``.

    The second term skips ignored targets and, for ``"mean"``, is divided by the same total weight as the
    first (the weights of the targets that count).
    """
    hard = cross_entropy(logits, target, weight, ignore_index, reduction)
    _, safe_t, item_weight = _targets_and_weights("cross_entropy", logits, target, weight, ignore_index)
    axis = _class_axis(logits)
    n_classes = logits.shape[axis]
    log_probs = log_softmax(logits, axis)
    if weight is not None:
        class_weight = np.asarray(array_of(weight), dtype=logits.dtype)
        log_probs = log_probs * _along_class_axis(class_weight, logits)
    counted = array_of(target) != ignore_index
    uniform = where(counted, -_sum(log_probs, axis), 0)  # where, not * 0: an all-ignored mean's 1/0 stays out
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            uniform = _sum(uniform) / item_weight.sum()
    elif reduction == "sum":
        uniform = _sum(uniform)
    return hard * (1 - smoothing) + uniform * (smoothing / n_classes)


def _same_shapes(op: str, input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ShapeError(f"{op}: input of shape {input.shape} and target of shape {target.shape} differ")


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """Binary cross entropy of probabilities: ``-w (t log p + (1 - t) log(1 - p))``, as PyTorch.

    Each log is clamped at -100 (so p = 0 or 1 gives a finite loss of at most 100), and the gradient
    ``dl/dp = w (p - t) / max(p (1 - p), 1e-12)`` stays finite. ``dl/dt = w (log(1 - p) - log p)``.
    For logits, :func:`binary_cross_entropy_with_logits` is the stable choice.

    Parameters
    ----------
    input : Tensor, shape (...)
        Probabilities in [0, 1].
    target : array_like or Tensor, shape (...)
    weight : array_like, optional
        Rescales each element's loss; broadcasts to the input's shape.
    reduction : {"mean", "sum", "none"}
    """
    op = "binary_cross_entropy"
    input, target = as_tensor(input), as_tensor(target)
    check_float(op, input)
    _check_reduction(op, reduction)
    _same_shapes(op, input, target)
    p, t = input.data, target.data.astype(input.dtype, copy=False)
    outside = (p < 0) | (p > 1)
    if outside.any():
        raise ValueError(f"{op}: input must hold probabilities in [0, 1], got {p[outside][0]}")
    w = _elementwise_weight(op, "weight", weight, p)
    with np.errstate(divide="ignore"):
        losses = -w * (t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100))

    def rule(g, p, t, _y):
        return g * w * (p - t) / np.maximum((1 - p) * p, 1e-12), g * w * (np.log1p(-p) - np.log(p))

    losses = record(op, losses.astype(p.dtype, copy=False), (input, target), rule)
    return _reduce(losses, reduction)


def kl_div(input, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence with ``input`` the log-probabilities (PyTorch's argument order).

    Element-wise ``t (log t - input)`` (0 where t = 0), or ``exp(t) (t - input)`` with ``log_target``.
    ``reduction="batchmean"`` divides the sum by the batch size ``input.shape[0]`` (the true KL divergence
    per item); ``"mean"`` divides by the number of elements, as PyTorch.

    Parameters
    ----------
    input : Tensor, shape (N, ...)
        Log-probabilities.
    target : Tensor or array_like, broadcasting with ``input``
        Probabilities (log-probabilities with ``log_target``).
    reduction : {"mean", "batchmean", "sum", "none"}
    """
    op = "kl_div"
    input, target = as_tensor(input), as_tensor(target)
    check_float(op, input)
    _check_reduction(op, reduction, _REDUCTIONS + ("batchmean",))
    if log_target:
        losses = exp(target) * (target - input)
    else:
        losses = xlogy(target, target) - target * input
    if reduction == "batchmean":
        total = _sum(losses)
        return total / input.shape[0] if input.ndim else total
    return _reduce(losses, reduction)


def _quadratic_then_linear(op: str, input, target, width: float, reduction: str, huber: bool) -> Tensor:
    """Huber's loss of ``d = input - target``: quadratic for ``|d| < width``, linear beyond.

    ``huber``: ``d**2 / 2`` then ``width (|d| - width / 2)``; slope of the linear part ``width``.
    Otherwise (smooth L1): ``d**2 / (2 width)`` then ``|d| - width / 2``; slope 1.
    dl/dd = d / width * slope inside, +-slope at and beyond ``|d| = width`` (the two agree there).
    """
    input, target = as_tensor(input), as_tensor(target)
    check_float(op, input)
    _check_reduction(op, reduction)
    _same_shapes(op, input, target)
    d = input.data - target.data
    z = np.abs(d)
    quadratic = z < width
    if huber:
        losses, slope = np.where(quadratic, 0.5 * z * z, width * (z - 0.5 * width)), width
    else:
        losses, slope = np.where(quadratic, 0.5 * z * z / width, z - 0.5 * width), 1.0
    below, above = d <= -width, d >= width

    def rule(g, x, w, _y):
        gd = np.where(below, -slope * g, np.where(above, slope * g, g * (x - w) * (slope / width)))
        return gd, -gd

    losses = record(op, losses.astype(d.dtype, copy=False), (input, target), rule)
    return _reduce(losses, reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss: ``d**2 / 2`` for ``|d| < delta``, else ``delta (|d| - delta / 2)``, ``d = input - target``.

    dl/d input = d inside, ``+-delta`` from ``|d| = delta`` on (as PyTorch); shapes must be equal.
    """
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return _quadratic_then_linear("huber_loss", input, target, delta, reduction, huber=True)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1: ``d**2 / (2 beta)`` for ``|d| < beta``, else ``|d| - beta / 2`` (``huber_loss / beta``).

    ``beta = 0`` is :func:`l1_loss`, as in PyTorch. dl/d input = d / beta inside, ``+-1`` from ``|d| = beta`` on.
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    return _quadratic_then_linear("smooth_l1_loss", input, target, beta, reduction, huber=False)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|``, reduced; dl/d input = sign(d) (0 at d = 0, as PyTorch)."""
    input, target = as_tensor(input), as_tensor(target)
    check_float("l1_loss", input)
    _check_reduction("l1_loss", reduction)
    _same_shapes("l1_loss", input, target)
    return _reduce(abs(input - target), reduction)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 * x2) / (max(||x1||, eps) max(||x2||, eps))`` along ``dim``, after broadcasting, as PyTorch.

    Each input is divided by its own (clamped) norm first, which keeps the result in [-1, 1]. Below ``eps``
    the norm is the constant eps (a zero vector has similarity 0 and a finite gradient, as in PyTorch).

    Parameters
    ----------
    x1, x2 : Tensor, shapes that broadcast to (..., D, ...)
    dim : int
        The axis of the vectors, in the broadcast shape.

    Returns
    -------
    Tensor, the broadcast shape without ``dim``
    """
    x1, x2 = pair(x1, x2)
    check_float("cosine_similarity", x1)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"cosine_similarity: shapes {x1.shape} and {x2.shape} do not broadcast") from None
    axis = normalize_axis("cosine_similarity", dim, len(shape))
    x1, x2 = (broadcast_to(x, shape) for x in (x1, x2))

    def unit(x):
        return x / sqrt(maximum(_sum(x * x, axis, keepdims=True), eps * eps))

    return _sum(unit(x1) * unit(x2), axis)


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where the target is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1 (PyTorch).

    ``cos = sum(x1 x2) / sqrt((|x1|**2 + 1e-12)(|x2|**2 + 1e-12))`` along the last axis.

    Parameters
    ----------
    input1, input2 : Tensor, shape (N, D) or (D,)
    target : array_like of 1 and -1, shape (N,) or ()
    """
    op = "cosine_embedding_loss"
    x1, x2 = as_tensor(input1), as_tensor(input2)
    check_float(op, x1)
    _check_reduction(op, reduction)
    y = array_of(target)
    if x1.shape != x2.shape or x1.ndim not in (1, 2) or y.shape != x1.shape[:-1]:
        raise ShapeError(
            f"{op}: inputs must both be (N, D) or (D,) with targets (N,) or (), got {x1.shape}, {x2.shape} and "
            f"targets {y.shape}"
        )
    axis = x1.ndim - 1
    squared1 = _sum(x1 * x1, axis) + 1e-12
    squared2 = _sum(x2 * x2, axis) + 1e-12
    cos = _sum(x1 * x2, axis) / sqrt(squared1 * squared2)
    losses = where(y == 1, 1 - cos, 0) + where(y == -1, clip(cos - margin, min=0), 0)
    return _reduce(losses, reduction)
