"""The classic long-memory benchmarks, generated on the fly from a seeded generator.

Both are from Hochreiter & Schmidhuber (1997) in the form later papers use (e.g. Arjovsky et al. 2016).
They test one thing: can the network carry information across ``T`` steps?
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "adding_problem", "ADDING_BASELINE_MSE",
    "copy_task", "copy_baseline_loss", "COPY_BLANK", "COPY_DELIMITER", "COPY_INPUT_SYMBOLS", "COPY_CLASSES",
]

ADDING_BASELINE_MSE = 1.0 / 6.0
"""MSE of always answering 1 (the mean of the target): the variance of a sum of two U[0, 1] values."""


def adding_problem(rng: np.random.Generator, batch_size: int, T: int, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the adding problem.

    Each step carries two features: a value drawn from U[0, 1] and a marker (0 or 1). Exactly one marker
    is set in the first half of the sequence and one in the second half; the target is the sum of the
    two marked values. Predicting the mean (1) gives MSE 1/6, about 0.167.

    Returns
    -------
    inputs : ndarray, shape (B, T, 2)
    targets : ndarray, shape (B,)
    """
    if T < 2:
        raise ValueError(f"adding_problem: T must be at least 2, got {T}")
    values = rng.random((batch_size, T))
    half = T // 2
    first = rng.integers(0, half, size=batch_size)
    second = rng.integers(half, T, size=batch_size)
    markers = np.zeros((batch_size, T))
    rows = np.arange(batch_size)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=-1).astype(dtype), targets.astype(dtype)


COPY_BLANK, COPY_DELIMITER = 0, 9
COPY_INPUT_SYMBOLS = 10  # blank, 8 data symbols (1..8), delimiter
COPY_CLASSES = 9  # blank and the 8 data symbols
_COPY_CATEGORIES, _COPY_LENGTH = 8, 10


def copy_task(rng: np.random.Generator, batch_size: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the copy task: remember 10 symbols for ``T`` steps, then write them out.

    Input (length T + 20): 10 symbols drawn from 8 categories (ids 1..8), T - 1 blanks (id 0), the
    delimiter (id 9), then 10 blanks. Target: blanks everywhere except the last 10 steps, which hold the
    10 symbols. A model without memory scores :func:`copy_baseline_loss`.

    Returns
    -------
    inputs, targets : int64 ndarrays, shape (B, T + 20)
    """
    if T < 1:
        raise ValueError(f"copy_task: T must be at least 1, got {T}")
    symbols = rng.integers(1, _COPY_CATEGORIES + 1, size=(batch_size, _COPY_LENGTH))
    length = T + 2 * _COPY_LENGTH
    inputs = np.full((batch_size, length), COPY_BLANK, dtype=np.int64)
    inputs[:, :_COPY_LENGTH] = symbols
    inputs[:, _COPY_LENGTH + T - 1] = COPY_DELIMITER
    targets = np.full((batch_size, length), COPY_BLANK, dtype=np.int64)
    targets[:, -_COPY_LENGTH:] = symbols
    return inputs, targets


def copy_baseline_loss(T: int) -> float:
    """Cross-entropy per step (nats) of the best memoryless strategy: blanks, then uniform guesses."""
    return _COPY_LENGTH * math.log(_COPY_CATEGORIES) / (T + 2 * _COPY_LENGTH)
