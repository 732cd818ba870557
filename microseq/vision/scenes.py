"""Scenes of the captioning world: one to three objects, each a shape, a colour, a size and a place.

A scene is the ground truth that every caption, question and answer is made from. Objects never overlap:
their bounding boxes are disjoint along x (with a gap), so "left of" is always well defined, and
``Scene.objects`` lists them from left to right.

>>> import numpy as np
>>> scene = sample_scene(np.random.default_rng(0), image_size=48)
>>> [o.words() for o in scene.objects]  # doctest: +SKIP
[('small', 'red', 'circle'), ('large', 'blue', 'square')]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SHAPES", "COLOURS", "PALETTE", "SIZES", "BACKGROUND", "MIN_IMAGE_SIZE", "SceneObject", "Scene",
           "object_side", "sample_scene", "check_pairs"]

SHAPES = ("circle", "square", "triangle")
PALETTE = {  # RGB in [0, 1]; far apart from each other and from the background
    "red": (0.9, 0.1, 0.1),
    "green": (0.1, 0.8, 0.2),
    "blue": (0.15, 0.3, 0.95),
    "yellow": (0.95, 0.85, 0.1),
    "purple": (0.65, 0.2, 0.85),
}
COLOURS = tuple(PALETTE)
SIZES = ("small", "large")
SIZE_FRACTION = {"small": 0.18, "large": 0.28}  # side of the bounding box (rounded down), as a fraction of the
# image side: three large objects and their gaps fit side by side (3 * 0.28 S + 2 GAP <= S for S >= 25)
BACKGROUND = (0.15, 0.15, 0.15)
GAP = 2  # pixels between two objects' bounding boxes along x
MIN_IMAGE_SIZE = 32  # below, a small object is too few pixels to tell its shape


def object_side(size: str, image_size: int) -> int:
    """Side in pixels of the square bounding box of an object of ``size`` in an image of ``image_size``."""
    return int(SIZE_FRACTION[size] * image_size)


@dataclass(frozen=True)
class SceneObject:
    """One object. ``box`` is ``(x0, y0, x1, y1)`` in pixels, half-open: columns x0..x1-1, rows y0..y1-1."""

    shape: str
    colour: str
    size: str
    box: tuple[int, int, int, int]

    def words(self) -> tuple[str, str, str]:
        """``(size, colour, shape)``: what a caption says about the object."""
        return (self.size, self.colour, self.shape)

    @property
    def centre(self) -> tuple[float, float]:
        """``(x, y)`` of the box's centre, in pixel coordinates (pixel (r, c) covers [c, c+1) x [r, r+1))."""
        x0, y0, x1, y1 = self.box
        return ((x0 + x1) / 2, (y0 + y1) / 2)


@dataclass(frozen=True)
class Scene:
    """Objects from left to right in a square image of side ``image_size``."""

    objects: tuple[SceneObject, ...]
    image_size: int

    def words(self) -> list[tuple[str, str, str]]:
        """Each object's ``(size, colour, shape)``, from left to right."""
        return [o.words() for o in self.objects]

    def to_dict(self) -> dict:
        """JSON-friendly description (kept beside each image of a data set)."""
        return {"image_size": self.image_size,
                "objects": [{"shape": o.shape, "colour": o.colour, "size": o.size, "box": list(o.box)}
                            for o in self.objects]}


def check_pairs(pairs) -> frozenset[tuple[str, str]]:
    """``pairs`` as a set of known ``(colour, shape)`` pairs; a one-line ValueError naming an unknown one."""
    checked = set()
    for pair in pairs:
        if len(pair) != 2 or pair[0] not in PALETTE or pair[1] not in SHAPES:
            raise ValueError(f"colour-shape pair {tuple(pair)!r} is unknown; colours are {', '.join(COLOURS)} "
                             f"and shapes {', '.join(SHAPES)}")
        checked.add((pair[0], pair[1]))
    return frozenset(checked)


def sample_scene(rng: np.random.Generator, image_size: int = 48, n_objects: int | None = None,
                 allowed_pairs=None, required_pair=None) -> Scene:
    """A random scene.

    Parameters
    ----------
    rng : numpy.random.Generator
    image_size : int
        Side of the square image, at least ``MIN_IMAGE_SIZE``.
    n_objects : int or None
        1, 2 or 3; drawn uniformly when None.
    allowed_pairs : collection of (colour, shape) or None
        The colour-shape pairs objects may have (all when None).
    required_pair : (colour, shape) or None
        One object (at a random place in the row) has this pair, whether or not it is allowed.
    """
    if not isinstance(image_size, (int, np.integer)) or image_size < MIN_IMAGE_SIZE:
        raise ValueError(f"sample_scene: image_size must be an int >= {MIN_IMAGE_SIZE}, got {image_size!r}")
    if n_objects is None:
        n_objects = int(rng.integers(1, 4))
    if n_objects not in (1, 2, 3):
        raise ValueError(f"sample_scene: n_objects must be 1, 2 or 3, got {n_objects!r}")
    pairs = sorted(check_pairs(allowed_pairs)) if allowed_pairs is not None else \
        [(c, s) for c in COLOURS for s in SHAPES]
    if not pairs:
        raise ValueError("sample_scene: allowed_pairs is empty")
    chosen = [pairs[i] for i in rng.integers(0, len(pairs), size=n_objects)]
    if required_pair is not None:
        chosen[int(rng.integers(0, n_objects))] = tuple(required_pair)
    sizes = [SIZES[i] for i in rng.integers(0, len(SIZES), size=n_objects)]
    sides = [object_side(s, image_size) for s in sizes]
    slack = image_size - sum(sides) - GAP * (n_objects - 1)
    if slack < 0:
        raise ValueError(f"sample_scene: {n_objects} objects do not fit side by side in {image_size} pixels")
    # Split the free columns into n+1 parts (before, between and after the objects), uniformly.
    cuts = np.sort(rng.integers(0, slack + 1, size=n_objects))
    objects, x = [], 0
    previous_cut = 0
    for (colour, shape), size, side, cut in zip(chosen, sizes, sides, cuts):
        x += int(cut - previous_cut)
        previous_cut = cut
        y = int(rng.integers(0, image_size - side + 1))
        objects.append(SceneObject(shape, colour, size, (x, y, x + side, y + side)))
        x += side + GAP
    return Scene(tuple(objects), int(image_size))
