"""Pictures of what a captioning or VQA model sees: the image, and where it attends.

- :func:`plot_caption_attention`: the image, then a strip of small panels, one per emitted word, each the
  image lit by that step's attention map (bilinearly upsampled from the grid: bright where the decoder looks,
  dark elsewhere); without attention (show and tell) the image and its caption only.
- :func:`plot_vqa_attention`: the image, and the map of the question-guided attention, with the question and
  the answer.

matplotlib is imported only when a plot is drawn, with its object-oriented API only (no pyplot), as in
:mod:`microseq.seq2seq.plot`. The PNG is written atomically: a reader never sees a half-written file.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

__all__ = ["plot_caption_attention", "plot_vqa_attention", "upsample_map"]

PANEL = 1.25  # inches per panel: small, so a caption's strip fits on a screen
TITLE = 0.75  # inches above the panels for a two-line title


def upsample_map(weights, size: int) -> np.ndarray:
    """A grid map (L,) with L = side * side (row by row) bilinearly upsampled to (size, size).

    Each grid cell's weight sits at its cell's centre; pixels between centres are interpolated, pixels beyond
    the outer centres take the nearest edge value (the map is a picture, not a distribution).
    """
    weights = np.asarray(weights, dtype=np.float64)
    side = math.isqrt(weights.size)
    if weights.ndim != 1 or side * side != weights.size or side == 0:
        raise ValueError(f"upsample_map: weights must be (side * side,), got shape {weights.shape}")
    grid = weights.reshape(side, side)
    position = np.clip((np.arange(size) + 0.5) * side / size - 0.5, 0, side - 1)  # in cell-centre units
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, side - 1)
    frac = position - low
    rows = grid[low] * (1 - frac)[:, None] + grid[high] * frac[:, None]  # (size, side)
    return rows[:, low] * (1 - frac)[None, :] + rows[:, high] * frac[None, :]


def _lit(image: np.ndarray, weights) -> np.ndarray:
    """The image (S, S, 3) lit by an attention map: full brightness at the map's peak, a quarter where it is 0."""
    heat = upsample_map(weights, image.shape[0])
    return image * (0.25 + 0.75 * heat / max(heat.max(), 1e-12))[:, :, None]


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def _panel(figure, rows: int, columns: int, k: int, picture: np.ndarray, label: str, fontsize: int = 9) -> None:
    axes = figure.add_subplot(rows, columns, k)
    axes.imshow(np.clip(picture, 0, 1), interpolation="nearest")
    axes.set_axis_off()
    axes.set_title(label, fontsize=fontsize)


def _save(figure, path: str | Path) -> Path:
    """Render the PNG in memory, then write it atomically (parent folders are created)."""
    from ..checkpoint import write_atomically

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buffer.getvalue())
    return path


def _image(image) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 3 or image.shape[0] != 3 or image.shape[1] != image.shape[2]:
        raise ValueError(f"expected an image (3, S, S), got shape {image.shape}")
    return image.transpose(1, 2, 0)


def plot_caption_attention(image, words: list[str], attention, path: str | Path, title: str | None = None,
                           columns: int = 11) -> Path:
    """Save the image and, per word, the image lit by that word's attention map, as a PNG.

    Parameters
    ----------
    image : array (3, S, S) in [0, 1]
    words : list of str
        The emitted words; ``attention[t]`` is the map of the step that emitted ``words[t]``.
    attention : array (T, L) with L = side * side (row by row) and T >= len(words), or None
        None (a model without attention): the image and the caption only.
    path : str or Path
    title : str, optional
        Above the strip (default: the caption).
    columns : int
        Panels per row (the image counts as one); a longer caption wraps onto more rows.

    Returns
    -------
    Path of the written file.
    """
    image = _image(image)
    title = title if title is not None else " ".join(words)
    if attention is None:
        figure = _figure(3.2, 3.4)
        _panel(figure, 1, 1, 1, image, "")
        figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.84)
        figure.suptitle(title, fontsize=9, wrap=True)
        return _save(figure, path)
    attention = np.asarray(attention, dtype=np.float64)
    side = math.isqrt(attention.shape[1]) if attention.ndim == 2 else 0
    if attention.ndim != 2 or side * side != attention.shape[1] or attention.shape[0] < len(words) or side == 0:
        raise ValueError(f"plot_caption_attention: attention must be (T >= {len(words)}, side * side), got "
                         f"shape {attention.shape}")
    panels = 1 + len(words)
    per_row = min(panels, columns)
    rows = -(-panels // per_row)
    height = (PANEL + 0.3) * rows + TITLE
    figure = _figure(PANEL * per_row, height)
    _panel(figure, rows, per_row, 1, image, "image")
    for t, word in enumerate(words):
        _panel(figure, rows, per_row, t + 2, _lit(image, attention[t]), f"{word} ({attention[t].max():.2f})")
    figure.suptitle(title, fontsize=10)
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - TITLE / height, wspace=0.06, hspace=0.25)
    return _save(figure, path)


def plot_vqa_attention(image, question: str, answer: str, weights, path: str | Path,
                       title: str | None = None) -> Path:
    """Save the image and the image lit by the question-guided attention ``weights`` (L,), as a PNG.

    ``weights`` None (the question-only baseline, which never sees the image): the image alone. The title
    (default ``question -> answer``) goes above.
    """
    image = _image(image)
    title = title if title is not None else f"{question} -> {answer}"
    if weights is None:
        figure = _figure(3.2, 3.4)
        _panel(figure, 1, 1, 1, image, "")
        figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.84)
    else:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1 or math.isqrt(weights.size) ** 2 != weights.size or weights.size == 0:
            raise ValueError(f"plot_vqa_attention: weights must be (side * side,), got shape {weights.shape}")
        figure = _figure(4.6, 2.7)
        _panel(figure, 1, 2, 1, image, "image")
        _panel(figure, 1, 2, 2, _lit(image, weights), f"attention (max {weights.max():.2f})")
        figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.8, wspace=0.08)
    figure.suptitle(title, fontsize=10, wrap=True)
    return _save(figure, path)
