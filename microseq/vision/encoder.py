"""The image encoder shared by the captioning and VQA models: a small CNN whose last feature map is the grid
of annotation vectors.

Each block is ``conv 3x3 (padding 1) -> BatchNorm2d -> ReLU -> max-pool 2x2``, so every block halves the
side: a 48x48 image through three blocks gives a 6x6 grid (L = 36 positions), each a vector of
``channels[-1]`` features (D). Show and tell averages the grid into one vector; show, attend and tell and
VQA attend over it.
"""

from __future__ import annotations

import numpy as np

from ..nn import BatchNorm2d, Conv2d, MaxPool2d, ReLU, Sequential

__all__ = ["conv_encoder", "grid_side"]


def conv_encoder(channels=(16, 32, 32), in_channels: int = 3, batch_norm: bool = True, dtype=np.float32) -> Sequential:
    """A CNN of ``len(channels)`` blocks: images (B, in_channels, S, S) -> (B, channels[-1], S/2^n, S/2^n).

    Without ``batch_norm`` (e.g. for float64 gradient checks of the whole model in one mode) the blocks are
    conv -> ReLU -> max-pool.
    """
    channels = tuple(channels)
    if not channels or any(not isinstance(c, (int, np.integer)) or c < 1 for c in channels):
        raise ValueError(f"conv_encoder: channels must be a non-empty sequence of positive ints, got {channels!r}")
    layers, previous = [], in_channels
    for c in channels:
        layers.append(Conv2d(previous, c, 3, padding=1, bias=not batch_norm, dtype=dtype))
        if batch_norm:
            layers.append(BatchNorm2d(c, dtype=dtype))
        layers += [ReLU(), MaxPool2d(2)]
        previous = c
    return Sequential(*layers)


def grid_side(image_size: int, blocks: int) -> int:
    """Side of the feature map after ``blocks`` halvings; a ValueError if the image is too small for them."""
    side = image_size // 2 ** blocks
    if side < 1:
        raise ValueError(f"an image of {image_size} pixels is too small for {blocks} pooling blocks")
    return side
