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

from .. import ops
from ..ops import binary_cross_entropy_with_logits, cross_entropy, mse_loss, nll_loss, reshape
from ..ops.loss import _REDUCTIONS
from ..ops.loss import _check_reduction
from ..tensor import Tensor, array_of, as_tensor
from .module import Module

__all__ = [
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss", "masked_cross_entropy", "BCELoss",
    "KLDivLoss", "HuberLoss", "SmoothL1Loss", "L1Loss", "CosineSimilarity", "CosineEmbeddingLoss",
]


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

    def __init__(
        self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
    ) -> None:
        super().__init__()
        self.weight = _optional_array(weight)
        self.ignore_index = ignore_index
        self.reduction = _check_reduction("CrossEntropyLoss", reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input, target, mask=None) -> Tensor:
        if mask is not None:
            target = _mask_targets("CrossEntropyLoss", target, mask, self.ignore_index)
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)

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


class _ReducedLoss(Module):
    """A loss module: stores ``reduction`` and the named options, and calls ``function`` with them."""

    function = None

    def __init__(self, reduction: str = "mean", allowed: tuple = _REDUCTIONS, **options) -> None:
        super().__init__()
        self.reduction = _check_reduction(type(self).__name__, reduction, allowed)
        self._options = tuple(options)
        for name, value in options.items():
            setattr(self, name, value)

    def forward(self, input, target) -> Tensor:
        options = {name: getattr(self, name) for name in self._options}
        return type(self).function(input, target, reduction=self.reduction, **options)

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in ("reduction", *self._options))


class BCELoss(_ReducedLoss):
    """Binary cross entropy of probabilities (logs clamped at -100), as ``torch.nn.BCELoss``.

    Shapes: input (probabilities) and target (...) of equal shape; ``weight`` broadcasts to them.
    """

    function = staticmethod(ops.binary_cross_entropy)

    def __init__(self, weight=None, reduction: str = "mean") -> None:
        super().__init__(reduction, weight=_optional_array(weight))


class KLDivLoss(_ReducedLoss):
    """KL divergence ``t (log t - input)`` with ``input`` log-probabilities, as ``torch.nn.KLDivLoss``.

    ``reduction="batchmean"`` divides the sum by the batch size (the mathematically right mean).
    """

    function = staticmethod(ops.kl_div)

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction, _REDUCTIONS + ("batchmean",), log_target=log_target)


class HuberLoss(_ReducedLoss):
    """Huber loss (quadratic below ``delta``, linear above), as ``torch.nn.HuberLoss``."""

    function = staticmethod(ops.huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction, delta=delta)


class SmoothL1Loss(_ReducedLoss):
    """Smooth L1 loss (quadratic below ``beta``, then ``|d| - beta / 2``), as ``torch.nn.SmoothL1Loss``."""

    function = staticmethod(ops.smooth_l1_loss)

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction, beta=beta)


class L1Loss(_ReducedLoss):
    """Mean absolute error, as ``torch.nn.L1Loss``."""

    function = staticmethod(ops.l1_loss)


class CosineEmbeddingLoss(Module):
    """``1 - cos(x1, x2)`` for target 1, ``max(0, cos - margin)`` for -1, as ``torch.nn.CosineEmbeddingLoss``.

    Shapes: inputs (N, D) or (D,), targets (N,) or ().
    """

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__()
        self.margin = margin
        self.reduction = _check_reduction("CosineEmbeddingLoss", reduction)

    def forward(self, input1, input2, target) -> Tensor:
        return ops.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


class CosineSimilarity(Module):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``, as ``torch.nn.CosineSimilarity``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2) -> Tensor:
        return ops.cosine_similarity(x1, x2, self.dim, self.eps)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"
