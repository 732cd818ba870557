"""``Flatten``: merge a range of axes into one (between a CNN's feature maps and a linear layer)."""

from __future__ import annotations

from ..ops.layout import flatten
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
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
