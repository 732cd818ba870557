"""Inverted dropout: zero each element with probability p and scale the survivors by 1/(1-p).

The scaling keeps the expected value unchanged, so nothing needs rescaling at evaluation time, where
dropout is the identity.
"""

from __future__ import annotations

import numpy as np

from ..random import default_generator
from ..tensor import Tensor, as_tensor, record

__all__ = ["dropout"]


def dropout(a, p: float = 0.5, training: bool = True, generator: np.random.Generator | None = None) -> Tensor:
    """Randomly zero elements of ``a`` with probability ``p`` (only when ``training``).

    Parameters
    ----------
    a : Tensor
    p : float in [0, 1]
    training : bool
        When False, return ``a`` unchanged.
    generator : numpy.random.Generator, optional
        Source of randomness; the global generator (see :func:`microseq.manual_seed`) by default.

    The gradient is the same mask and scale applied to the upstream gradient.
    """
    a = as_tensor(a)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return a
    rng = generator or default_generator()
    keep = rng.random(a.shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = (keep * scale).astype(a.dtype)
    return record("dropout", a.data * mask, (a,), lambda g, *_: (g * mask,))
