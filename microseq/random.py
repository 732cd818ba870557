"""Seeded randomness: one global NumPy generator that dropout, initialisers and samplers draw from.

``manual_seed`` makes runs repeatable; ``get_rng_state`` / ``set_rng_state`` let a checkpoint resume the
exact random stream (the state is a JSON-friendly dict).
"""

from __future__ import annotations

import numpy as np

__all__ = ["manual_seed", "default_generator", "get_rng_state", "set_rng_state"]

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the global generator to ``seed`` and return it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    """The global generator (replaced by ``manual_seed``)."""
    return _generator


def get_rng_state() -> dict:
    """The global generator's state, as a JSON-serialisable dict."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    _generator.bit_generator.state = state
