"""Solutions of tutorial 02 (broadcasting and its gradients)."""

from __future__ import annotations

import numpy as np

from microseq.tensor import record


def unbroadcast_by_hand(grad, shape):
    """``grad`` summed over the axes along which an input of ``shape`` was copied; returns an array of ``shape``."""
    grad = np.asarray(grad)
    lead = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(lead)))  # the leading axes the input did not have
    stretched = tuple(axis for axis, n in enumerate(shape) if n == 1 and grad.shape[axis] != 1)
    return grad.sum(axis=stretched, keepdims=True)  # the size-1 axes, kept with size 1


def select(condition, a, b):
    """``np.where(condition, a, b)`` as a recorded op. condition: bool array; a, b: Tensors (broadcastable)."""
    condition = np.asarray(condition, dtype=bool)
    return record(
        "select",
        np.where(condition, a.data, b.data),
        (a, b),
        lambda g, _a, _b, _y: (np.where(condition, g, 0), np.where(condition, 0, g)),
        reduces_broadcast=True,
    )


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def unbroadcast_leading_axes_only(grad, shape):
    """Sums the new leading axes but forgets the stretched size-1 axes."""
    grad = np.asarray(grad)
    return grad.sum(axis=tuple(range(grad.ndim - len(shape))))


def select_sending_g_to_both(condition, a, b):
    """Sends the whole gradient to both inputs, as if each output element had come from both."""
    return record("select", np.where(condition, a.data, b.data), (a, b), lambda g, _a, _b, _y: (g, g),
                  reduces_broadcast=True)


MISTAKES = {"unbroadcast_by_hand": [unbroadcast_leading_axes_only], "select": [select_sending_g_to_both]}
