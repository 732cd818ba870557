"""Rendering a scene to pixels, in NumPy, and checking that an image batch has the expected layout.

Each object is painted in its colour over a uniform background, inside its bounding box only:

- square: the whole box;
- circle: pixel centres within side/2 of the box's centre;
- triangle: pointing up, apex at the middle of the top edge, base on the bottom edge.
"""

from __future__ import annotations

import numpy as np

from .scenes import BACKGROUND, PALETTE, Scene

__all__ = ["render", "render_batch", "check_images", "shape_mask"]


def shape_mask(shape: str, side: int) -> np.ndarray:
    """Boolean (side, side) mask of ``shape`` filling a box of ``side`` pixels (pixel centres at +0.5)."""
    centres = np.arange(side) + 0.5
    y, x = np.meshgrid(centres, centres, indexing="ij")
    half = side / 2
    if shape == "square":
        return np.ones((side, side), dtype=bool)
    if shape == "circle":
        return (x - half) ** 2 + (y - half) ** 2 <= half ** 2
    if shape == "triangle":
        return np.abs(x - half) <= y / 2
    raise ValueError(f"shape_mask: unknown shape {shape!r}")


def render(scene: Scene) -> np.ndarray:
    """The image of ``scene``: float32 array of shape (3, S, S) (CHW) with values in [0, 1]."""
    s = scene.image_size
    image = np.empty((3, s, s), dtype=np.float32)
    image[:] = np.asarray(BACKGROUND, dtype=np.float32)[:, None, None]
    for o in scene.objects:
        x0, y0, x1, y1 = o.box
        mask = shape_mask(o.shape, x1 - x0)
        for channel, value in enumerate(PALETTE[o.colour]):
            image[channel, y0:y1, x0:x1][mask] = value
    return image


def render_batch(scenes) -> np.ndarray:
    """Images of ``scenes`` stacked: float32 (B, 3, S, S) (NCHW). All scenes must share one image size."""
    scenes = list(scenes)
    if not scenes:
        return np.zeros((0, 3, 0, 0), dtype=np.float32)
    sizes = {sc.image_size for sc in scenes}
    if len(sizes) != 1:
        raise ValueError(f"render_batch: scenes have different image sizes {sorted(sizes)}")
    return np.stack([render(sc) for sc in scenes])


def check_images(images, image_size: int, channels: int = 3, caller: str = "images") -> np.ndarray:
    """``images`` as a float array of shape (B, channels, image_size, image_size); a one-line ValueError
    naming the wrong dimension otherwise (NCHW, as PyTorch)."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"{caller}: expected a 4-d NCHW batch (B, {channels}, {image_size}, {image_size}), "
                         f"got shape {images.shape}")
    if images.shape[1] != channels:
        raise ValueError(f"{caller}: expected {channels} channels, got {images.shape[1]} (shape {images.shape}; "
                         "the layout is NCHW)")
    if images.shape[2:] != (image_size, image_size):
        raise ValueError(f"{caller}: expected images of {image_size}x{image_size}, got "
                         f"{images.shape[2]}x{images.shape[3]}")
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"{caller}: expected float pixels in [0, 1], got dtype {images.dtype}")
    return images
