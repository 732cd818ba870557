"""Solutions of tutorial 05 (vanishing and exploding gradients)."""

from __future__ import annotations

import numpy as np


def step_jacobian(h, w_hh):
    """d h_s / d h_{s-1} of h_s = tanh(... + h_{s-1} W_hh^T): h (H,), w_hh (H, H) -> (H, H)."""
    return (1 - h**2)[:, None] * w_hh  # diag(1 - h^2) W_hh without building the diagonal matrix


def clip_by_total_norm(grads, max_norm):
    """Scale the arrays ``grads`` in place so that their joint norm is at most ``max_norm``; return it (before)."""
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    if total > max_norm:
        for g in grads:
            g *= max_norm / total
    return total


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def step_jacobian_transposed(h, w_hh):
    """Scales the columns instead of the rows: W_hh diag(1 - h^2)."""
    return w_hh * (1 - h**2)[None, :]


def clip_each_separately(grads, max_norm):
    """Clips every parameter's gradient to max_norm on its own: the joint direction changes."""
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    for g in grads:
        norm = np.linalg.norm(g)
        if norm > max_norm:
            g *= max_norm / norm
    return total


MISTAKES = {"step_jacobian": [step_jacobian_transposed], "clip_by_total_norm": [clip_each_separately]}
