"""Scalar gate nonlinearities for the numba kernels, in the input's precision.

Constants are built with ``type(a)(...)`` so that float32 stays float32 (a bare ``1.0`` would promote the
arithmetic to float64, and float64 ``exp`` is ~3x slower than ``expf``).
"""

import math

from numba import njit


@njit(cache=True)
def sigmoid(a):
    """Logistic function 1 / (1 + exp(-a)), stable for large |a|: exp only ever sees -|a|."""
    one = type(a)(1.0)
    e = math.exp(-abs(a))
    s = one / (one + e)
    return s if a >= 0 else e * s


@njit(cache=True)
def tanh(a):
    """Hyperbolic tangent (libm's, correctly handling large |a|)."""
    return math.tanh(a)
