"""``Flatten``: merge a range of axes into one (between a CNN's feature maps and a linear layer)."""

from __future__ import annotations

import math

from ..ops._util import normalize_axes
from ..tensor import as_tensor
from .module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """Merge the axes ``start_dim`` to ``end_dim`` (inclusive) into one, as ``torch.nn.Flatten``.

    Shapes: (B, C, H, W) -> (B, C * H * W) with the defaults ``start_dim=1, end_dim=-1``.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        x = as_tensor(x)
        (start,), (end,) = (normalize_axes("Flatten", axis, x.ndim) for axis in (self.start_dim, self.end_dim))
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} "
                             f"for an input of shape {x.shape}")
        return x.reshape(x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
