"""What every tutorial shares: the quick switch, where figures go, and showing a figure.

``MICROSEQ_TUTORIAL_QUICK=1`` (set by CI) makes every tutorial run with small sizes; ``MICROSEQ_TUTORIAL_OUT``
says where figures are written (default ``tutorials/figures``).
"""

from __future__ import annotations

import os
from pathlib import Path

QUICK = os.environ.get("MICROSEQ_TUTORIAL_QUICK") == "1"
FIGURES = Path(os.environ.get("MICROSEQ_TUTORIAL_OUT", Path(__file__).resolve().parent / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

__all__ = ["FIGURES", "QUICK", "show", "show_png"]


def show(fig, name: str, dpi: int = 120) -> Path:
    """Save ``fig`` (a ``matplotlib.figure.Figure``) as ``FIGURES / name`` and, inside a notebook, show it inline.

    The tutorials draw on ``Figure`` objects (no pyplot, no GUI), so a script run writes PNGs only; under
    IPython/Jupyter the saved PNG is also displayed below the cell.
    """
    path = FIGURES / name
    fig.savefig(path, dpi=dpi)
    return show_png(path)


def show_png(path) -> Path:
    """Inside a notebook (IPython), display the PNG at ``path`` below the cell; elsewhere do nothing."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:  # plain Python, no IPython installed
        return path
    if get_ipython() is not None:  # running in a notebook or an IPython shell
        display(Image(filename=str(path)))
    return path
