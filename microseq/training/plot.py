"""Curves of a run, drawn from its metrics file into a PNG (matplotlib is imported only here, lazily); and
the words of a word-vector run, projected to 2-D by PCA (:func:`plot_words`).

Four panels: training loss (raw and smoothed) with the validation loss and the task's baseline; the task's
headline metric on the validation set (bits per character, accuracy or MSE) with its baseline; the
gradient norm before clipping (log scale: explosions stand out); the learning rate.
"""

from __future__ import annotations

import os

from .metrics import read_metrics

__all__ = ["plot_run", "plot_words", "pca_2d", "smooth", "PlotError"]

INSTALL_HINT = 'matplotlib is not installed; install it with: pip install "microseq[plot]"'


class PlotError(RuntimeError):
    """The curves cannot be drawn or written (no matplotlib, an output path that cannot be written)."""


def _pyplot():
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise PlotError(INSTALL_HINT) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, output: str) -> None:
    try:
        fig.savefig(output, dpi=100)
    except OSError as error:
        raise PlotError(f"cannot write {output}: {error.strerror or error}") from None


def smooth(values: list[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average, bias-corrected so the first points are not pulled towards zero."""
    out, average = [], 0.0
    for i, v in enumerate(values, start=1):
        average = weight * average + (1 - weight) * v
        out.append(average / (1 - weight**i))
    return out


def plot_run(run_dir: str, output: str | None = None) -> str:
    """Draw the curves of the run in ``run_dir``; return the path written (default ``run_dir/curves.png``).

    An ``output`` without an extension gets ``.png`` (as matplotlib would add it), so the path returned is
    the file written; another extension (``.svg``, ``.pdf``) chooses the format.

    Raises
    ------
    FileNotFoundError
        No metrics file in ``run_dir``.
    ValueError
        The metrics file holds no training record yet, or is not a metrics file (MetricsError).
    PlotError
        matplotlib is missing, or ``output`` cannot be written.
    """
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no metrics file in {run_dir} (expected {path}); is it a run directory?")
    records = read_metrics(path)
    output = output or os.path.join(run_dir, "curves.png")
    if not os.path.splitext(output)[1]:
        output += ".png"
    train = [r for r in records if r.get("kind") == "train" and isinstance(r.get("loss"), (int, float))]
    evals = [r for r in records if r.get("kind") == "eval" and r.get("split", "valid") == "valid"]
    starts = [r for r in records if r.get("kind") == "start"]
    if not train:
        raise ValueError(f"{path} holds no training steps yet")
    info = starts[-1] if starts else {}
    metric = info.get("metric", "loss")
    baselines = info.get("baselines", {})

    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    steps = [r["step"] for r in train]
    losses = [r["loss"] for r in train]

    ax = axes[0, 0]
    ax.plot(steps, losses, color="tab:blue", alpha=0.25, linewidth=0.8, label="train (per step)")
    ax.plot(steps, smooth(losses), color="tab:blue", label="train (smoothed)")
    valid_losses = [(r["step"], r["loss"]) for r in evals if isinstance(r.get("loss"), (int, float))]
    if valid_losses:  # tasks scored by decoding (seq2seq) have no validation loss
        ax.plot(*zip(*valid_losses), "o-", color="tab:orange", label="validation")
    if "loss" in baselines:
        ax.axhline(baselines["loss"], color="gray", linestyle="--", label=f"baseline ({baselines['loss']:.3g})")
    ax.set_title("loss")
    ax.set_xlabel("step")
    ax.legend()

    ax = axes[0, 1]
    points = [(r["step"], r[metric]) for r in evals if isinstance(r.get(metric), (int, float))]
    if points:
        ax.plot(*zip(*points), "o-", color="tab:green", label=f"validation {metric}")
    if metric in baselines:
        ax.axhline(baselines[metric], color="gray", linestyle="--", label=f"baseline ({baselines[metric]:.3g})")
    ax.set_title(metric)
    ax.set_xlabel("step")
    if points or metric in baselines:
        ax.legend()

    ax = axes[1, 0]
    norms = [(r["step"], r["grad_norm"]) for r in train  # 0: no gradient (word vectors, updated by a kernel)
             if isinstance(r.get("grad_norm"), (int, float)) and r["grad_norm"] > 0]
    if norms:
        ax.semilogy(*zip(*norms), color="tab:red", linewidth=0.8)
    if info.get("clip"):
        ax.axhline(info["clip"], color="gray", linestyle="--", label=f"clip at {info['clip']:g}")
        ax.legend()
    ax.set_title("gradient norm (before clipping)")
    ax.set_xlabel("step")

    ax = axes[1, 1]
    rates = [(r["step"], r["lr"]) for r in train if isinstance(r.get("lr"), (int, float))]
    if rates:
        ax.plot(*zip(*rates), color="tab:purple")
    ax.set_title("learning rate")
    ax.set_xlabel("step")

    fig.suptitle(f"{info.get('task', 'run')}: {os.path.abspath(run_dir)}", fontsize=10)
    fig.tight_layout()
    try:
        _save(fig, output)
    finally:
        plt.close(fig)
    return output



def pca_2d(vectors):
    """The rows of ``vectors`` (N, D) on their first two principal axes, shape (N, 2) (PCA of the centred
    rows by SVD; fewer than two axes give zero columns)."""
    import numpy as np

    centred = np.asarray(vectors, dtype=np.float64) - np.mean(vectors, axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ axes[:2].T
    return np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))


def plot_words(words: list[str], vectors, output: str, title: str = "") -> str:
    """Draw ``words`` (N,) at the 2-D PCA of their unit ``vectors`` (N, D), labelled; write ``output`` (PNG)."""
    import numpy as np

    plt = _pyplot()
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    points = pca_2d(unit)
    fig, ax = plt.subplots(figsize=(8, 7))
    ax.scatter(points[:, 0], points[:, 1], s=12, color="tab:blue")
    for word, (x, y) in zip(words, points):
        ax.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9)
    ax.set_title(title or "word vectors, first two principal components")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    fig.tight_layout()
    _save(fig, output)
    plt.close(fig)
    return output
