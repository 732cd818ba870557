"""Attention heatmaps: which source symbols each output symbol read.

matplotlib is imported only when a plot is drawn, and only its object-oriented API is used (no pyplot, no
global backend change), so this works headless and leaves the caller's matplotlib state alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_attention"]


def _label(symbol: str) -> str:
    return "␣" if symbol == " " else symbol


def plot_attention(
    weights,
    source: str | list[str],
    output: str | list[str],
    path: str | Path,
    title: str | None = None,
) -> Path:
    """Save a heatmap of attention ``weights`` as a PNG: output symbols down, source symbols across.

    Parameters
    ----------
    weights : array_like, shape (L, S) or larger
        Row i is the attention of the step that emitted output symbol i; only the top-left
        ``len(output) x len(source)`` block is drawn.
    source : str or list of str
        The source symbols (spaces are drawn as ␣).
    output : str or list of str
        The emitted symbols, e.g. the decoded text plus "</s>".
    path : str or Path
        Where to write the PNG (parent folders are created).
    title : str, optional

    Returns
    -------
    Path of the written file.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    source, output = list(source), list(output)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[0] < len(output) or weights.shape[1] < len(source):
        raise ValueError(
            f"plot_attention: weights of shape {weights.shape} do not cover {len(output)} outputs x {len(source)} sources"
        )
    weights = weights[: len(output), : len(source)]
    figure = Figure(figsize=(0.38 * len(source) + 2.2, 0.38 * len(output) + 1.6), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="equal")
    axes.set_xticks(range(len(source)), [_label(s) for s in source], fontsize=9)
    axes.set_yticks(range(len(output)), [_label(s) for s in output], fontsize=9)
    axes.set_xlabel("source")
    axes.set_ylabel("output")
    axes.xaxis.set_ticks_position("top")
    axes.xaxis.set_label_position("top")
    if title:
        axes.set_title(title, fontsize=10, pad=24)
    figure.colorbar(image, ax=axes, fraction=0.03, pad=0.02, label="attention weight")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path
