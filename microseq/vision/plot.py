"""The attention of a caption, word by word: the image, then one panel per emitted word with the attention
map over the grid laid on the image (brighter = more attention).

matplotlib is imported only when a plot is drawn, with its object-oriented API only (no pyplot), as in
:mod:`microseq.seq2seq.plot`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["plot_caption_attention"]


def plot_caption_attention(image, words: list[str], attention, path: str | Path, title: str | None = None,
                           columns: int = 6) -> Path:
    """Save the image and, per word, its attention map (nearest-neighbour upsampled to the image) as a PNG.

    Parameters
    ----------
    image : array (3, S, S) in [0, 1]
    words : list of str
        The emitted words; ``attention[t]`` is the map of the step that emitted ``words[t]``.
    attention : array (T, L) with L = side * side (row by row), T >= len(words)
    path : str or Path
    title : str, optional
    columns : int
        Panels per row.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    image = np.asarray(image, dtype=np.float64).transpose(1, 2, 0)
    attention = np.asarray(attention, dtype=np.float64)
    size = image.shape[0]
    side = math.isqrt(attention.shape[1]) if attention.ndim == 2 else 0
    if attention.ndim != 2 or side * side != attention.shape[1] or attention.shape[0] < len(words) or side == 0:
        raise ValueError(f"plot_caption_attention: attention must be (T >= {len(words)}, side * side), got "
                         f"shape {attention.shape}")
    panels = 1 + len(words)
    rows = -(-panels // columns)
    figure = Figure(figsize=(2 * min(panels, columns), 2.2 * rows))
    FigureCanvasAgg(figure)
    repeat = -(-size // side)
    for k in range(panels):
        axes = figure.add_subplot(rows, min(panels, columns), k + 1)
        axes.set_axis_off()
        if k == 0:
            axes.imshow(image)
            axes.set_title("image", fontsize=9)
            continue
        grid = attention[k - 1].reshape(side, side)
        upsampled = np.kron(grid, np.ones((repeat, repeat)))[:size, :size]
        shade = upsampled / max(upsampled.max(), 1e-12)
        axes.imshow(image * (0.25 + 0.75 * shade[:, :, None]))
        axes.set_title(f"{words[k - 1]} ({grid.max():.2f})", fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    return path
