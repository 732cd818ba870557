"""``BatchNorm2d``: per-channel normalisation over the batch, with running statistics, as PyTorch."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter

__all__ = ["BatchNorm2d"]


class BatchNorm2d(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel, over (B, H, W) (see
    :func:`microseq.nn.functional.batch_norm`).

    Training mode normalises with the batch's mean and biased variance and moves ``running_mean`` and
    ``running_var`` (unbiased) towards them by ``momentum`` (with ``momentum=None``, a cumulative average over
    ``num_batches_tracked`` batches); evaluation mode normalises with the running statistics.

    Parameters
    ----------
    num_features : int
        C.
    eps, momentum : float
    affine : bool
        Learn ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool
        Keep the buffers ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (int64);
        without them, both modes use the batch's statistics.

    Shapes: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=np.float32) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", Parameter(np.ones(num_features, dtype)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dtype)) if affine else None)
        tracking = track_running_stats
        self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)) if tracking else None)
        self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)) if tracking else None)
        self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)) if tracking else None)

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"BatchNorm2d: expected an input of shape (B, C, H, W), got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d: input {x.shape} has {x.shape[1]} channels, the layer expects "
                             f"{self.num_features}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            self.num_batches_tracked._version.value += 1
            if self.momentum is None:  # the cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.data)
        use_batch = self.training or self.running_mean is None
        tracked = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if tracked else None, self.running_var if tracked else None,
                            self.weight, self.bias, use_batch, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
