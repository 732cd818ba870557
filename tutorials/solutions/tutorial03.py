"""Solutions of tutorial 03 (trusting gradients)."""

from __future__ import annotations

import numpy as np

from microseq.tensor import record


def central_difference(f, x, eps=1e-6):
    """The gradient of the scalar ``f`` at ``x`` by central differences; an array of ``x``'s shape."""
    x = np.array(x, dtype=np.float64)  # a copy: the caller's x stays as it was
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        up = f(x)
        x[i] = original - eps
        down = f(x)
        x[i] = original
        grad[i] = (up - down) / (2 * eps)
    return grad


def softplus(x):
    """``log(1 + exp(x))`` as one recorded op, finite for every finite ``x``. x: Tensor, any shape."""
    return record("softplus", np.logaddexp(0, x.data), (x,), lambda g, _x, y: (g * (1 - np.exp(-y)),))


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def forward_difference(f, x, eps=1e-6):
    """One-sided: an error proportional to eps."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    here = f(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        grad[i] = (f(x) - here) / eps
        x[i] = original
    return grad


def softplus_with_the_sign_slipped(x):
    """Uses sigma(-x) = 1 / (1 + e^x) as the derivative."""
    return record("softplus", np.logaddexp(0, x.data), (x,), lambda g, x, _y: (g / (1 + np.exp(x)),))


MISTAKES = {"central_difference": [forward_difference], "softplus": [softplus_with_the_sign_slipped]}
