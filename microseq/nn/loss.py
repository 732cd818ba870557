"""Loss modules: PyTorch's ``CrossEntropyLoss``, ``NLLLoss``, ``MSELoss``, ``BCEWithLogitsLoss``, plus masks.

Each module stores its options and calls the fused functional op from :mod:`microseq.ops.loss` (one op on the
tape, closed-form gradient, stable for logits of any size).

Masks (padded sequences)
------------------------
A boolean ``mask`` of the targets' shape says which targets are real (True) and which are padding (False).
Padding is treated exactly like a target equal to ``ignore_index``: it contributes nothing to the loss or the
gradient, and ``reduction="mean"`` divides by the total weight of the real targets only (so the mean is per
real token, whatever the amount of padding). If every target is masked, ``"mean"`` gives NaN (PyTorch's
convention for all-ignored targets) and a zero gradient.

- ``CrossEntropyLoss()(logits, target, mask=mask)`` keeps PyTorch's layout: classes on axis 1, e.g. logits
  (B, C, T) with targets (B, T).
- :func:`masked_cross_entropy` takes the layout a recurrent model with a linear head produces, classes on
  the *last* axis: logits (B, T, C) or (T, B, C), targets and mask (B, T) or (T, B).
"""

from __future__ import annotations

import numpy as np

from ..ops import binary_cross_entropy_with_logits, cross_entropy, mse_loss, nll_loss, reshape
from ..tensor import Tensor, as_tensor
from .functional import array_of
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss", "masked_cross_entropy"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(name: str, reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _optional_array(value):
    """A class/element weight as a plain array (None stays None)."""
    return None if value is None else array_of(value)


def _mask_targets(name: str, target, mask, ignore_index: int) -> np.ndarray:
    """``target`` with ``ignore_index`` wherever ``mask`` is False (padding values may be anything).

    Parameters
    ----------
    target : integer array_like, any shape (...)
    mask : bool array_like of the same shape, or None (everything counts)
    """
    target = array_of(target)
    if mask is None:
        return target
    mask = array_of(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{name}: mask must be boolean (True = real target, False = padding), got dtype {mask.dtype}")
    if mask.shape != target.shape:
        raise ValueError(f"{name}: mask of shape {mask.shape} must have the targets' shape {target.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: targets must be integer class indices, got dtype {target.dtype}")
    return np.where(mask, target, ignore_index)


def masked_cross_entropy(
    logits, target, mask=None, weight=None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Cross entropy over sequence logits with the classes on the last axis, skipping padding.

    ``loss = sum_{real n} w[t_n] (logsumexp(z_n) - z_n[t_n]) / sum_{real n} w[t_n]`` for ``"mean"``, where the
    real targets are those with ``mask`` True and ``target != ignore_index``.

    Parameters
    ----------
    logits : Tensor, shape (..., C)
        Unnormalised scores, classes last: (B, T, C) with ``batch_first`` or (T, B, C).
    target : integer array_like, shape (...)
        Class indices; values at masked positions are never read (any padding value is fine).
    mask : bool array_like, shape (...), optional
        True for real targets, False for padding. None: every target counts (except ``ignore_index``).
    weight : array_like, shape (C,), optional
        A weight per class.
    ignore_index : int
        Targets with this value are skipped, like masked ones.
    reduction : {"mean", "sum", "none"}
        ``"none"`` returns the per-target losses, shape (...), 0 at padding.

    Returns
    -------
    Tensor
        Scalar, or shape (...) for ``reduction="none"``.
    """
    logits = as_tensor(logits)
    _check_reduction("masked_cross_entropy", reduction)
    target = _mask_targets("masked_cross_entropy", target, mask, ignore_index)
    if logits.ndim == 0 or target.shape != logits.shape[:-1]:
        raise ValueError(
            f"masked_cross_entropy: logits of shape {logits.shape} (classes on the last axis) need targets of "
            f"shape {logits.shape[:-1]}, got {target.shape}"
        )
    n_classes = logits.shape[-1]
    losses = cross_entropy(
        reshape(logits, (-1, n_classes)), target.reshape(-1), weight, ignore_index, reduction
    )
    return reshape(losses, target.shape) if reduction == "none" else losses


class CrossEntropyLoss(Module):
    """Cross entropy of class indices given logits, as ``torch.nn.CrossEntropyLoss``.

    ``loss_n = w[t_n] (logsumexp(z_n) - z_n[t_n])``; ``"mean"`` divides by the total weight of the targets
    that count.

    Parameters
    ----------
    weight : array_like, shape (C,), optional
        A weight per class.
    ignore_index : int
        Targets with this value contribute nothing (default -100, as PyTorch).
    reduction : {"mean", "sum", "none"}

    Shapes: logits (C,), (N, C) or (N, C, d1, ...) with classes on axis 1 (PyTorch's layout); targets (),
    (N,) or (N, d1, ...); optional boolean ``mask`` of the targets' shape (False = padding, treated like
    ``ignore_index``). For (B, T, C) sequence logits use :func:`masked_cross_entropy`.
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__()
        self.weight = _optional_array(weight)
        self.ignore_index = ignore_index
        self.reduction = _check_reduction("CrossEntropyLoss", reduction)

    def forward(self, input, target, mask=None) -> Tensor:
        target = _mask_targets("CrossEntropyLoss", target, mask, self.ignore_index)
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


class NLLLoss(Module):
    """Negative log-likelihood of class indices given log-probabilities, as ``torch.nn.NLLLoss``.

    ``loss_n = -w[t_n] * log_probs[n, t_n]``. Same parameters, layouts and ``mask`` as
    :class:`CrossEntropyLoss`; feed it ``log_softmax(logits, axis=1)``.
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__()
        self.weight = _optional_array(weight)
        self.ignore_index = ignore_index
        self.reduction = _check_reduction("NLLLoss", reduction)

    def forward(self, input, target, mask=None) -> Tensor:
        target = _mask_targets("NLLLoss", target, mask, self.ignore_index)
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


class MSELoss(Module):
    """Mean squared error ``(input - target)**2``, reduced, as ``torch.nn.MSELoss``. Shapes must be equal."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _check_reduction("MSELoss", reduction)

    def forward(self, input, target) -> Tensor:
        return mse_loss(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(Module):
    """Binary cross entropy on logits, as ``torch.nn.BCEWithLogitsLoss``: one op on the tape,
    :func:`microseq.ops.binary_cross_entropy_with_logits` with the module's options.

    ``loss = weight * (-(pos_weight * t * log s(z) + (1 - t) * log(1 - s(z))))`` elementwise, with s the
    sigmoid, computed without overflow for any logit; then reduced (``"mean"`` over all elements).

    Parameters
    ----------
    weight : array_like, optional
        Rescales each element's loss; broadcasts to the input's shape.
    reduction : {"mean", "sum", "none"}
    pos_weight : array_like, optional
        Weight of the positive term, broadcast along the last axis (one per class), as in PyTorch.

    Shapes: logits and targets (...) of equal shape; targets are probabilities in [0, 1].
    """

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__()
        self.weight = _optional_array(weight)
        self.reduction = _check_reduction("BCEWithLogitsLoss", reduction)
        self.pos_weight = _optional_array(pos_weight)

    def forward(self, input, target) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
