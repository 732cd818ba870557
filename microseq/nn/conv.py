"""``Conv2d``: a 2-D convolution layer with PyTorch's parameter names, shapes and initialisation."""

from __future__ import annotations

import math

import numpy as np

from ..ops.conv import pair_of
from . import functional as F
from .layers import uniform_parameter
from .module import Module

__all__ = ["Conv2d"]


class Conv2d(Module):
    """``y = conv2d(x, weight) + bias`` over NCHW images (see :func:`microseq.nn.functional.conv2d`).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, dilation : int or (int, int)
    padding : int, (int, int), "valid" or "same"
    groups : int
        Must divide both channel counts.
    bias : bool
    padding_mode : "zeros"
        The only mode (PyTorch's default).

    Shapes: input (B, in_channels, H, W) -> output (B, out_channels, OH, OW). ``weight`` is
    (out_channels, in_channels / groups, kH, kW), ``bias`` (out_channels,); both drawn from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * kH * kW, which is PyTorch's
    ``kaiming_uniform_(a=sqrt(5))`` for the weight and its bias rule.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype=np.float32) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is supported, got {padding_mode!r}")
        if not isinstance(groups, (int, np.integer)) or groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups={groups!r} must be a positive int dividing in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair_of("Conv2d", "kernel_size", kernel_size, 1)
        self.stride, self.dilation = pair_of("Conv2d", "stride", stride, 1), pair_of("Conv2d", "dilation", dilation, 1)
        self.padding = padding if isinstance(padding, str) else pair_of("Conv2d", "padding", padding, 0)
        if isinstance(padding, str) and (padding not in ("same", "valid") or (padding == "same" and self.stride != (1, 1))):
            raise ValueError(f"Conv2d: padding must be 'valid', 'same' (with stride 1), an int or a pair, got "
                             f"padding={padding!r} with stride {self.stride}")  # at construction, as PyTorch
        fan_in = in_channels // groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
        self.weight = uniform_parameter((out_channels, in_channels // groups, *self.kernel_size), bound, dtype)
        self.register_parameter("bias", uniform_parameter((out_channels,), bound, dtype) if bias else None)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0, 0), "valid"):
            text += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")
