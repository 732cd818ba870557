"""Solutions of tutorial 06 (LSTM and GRU gates)."""

from __future__ import annotations

import numpy as np


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU step on arrays: x (B, I), h (B, H) -> h' and the gates r, z, n, each (B, H)."""
    H = h.shape[-1]
    from_x = x @ w_ih.T + b_ih  # (B, 3H)
    from_h = h @ w_hh.T + b_hh  # (B, 3H)
    r = sigmoid(from_x[:, 0 * H:1 * H] + from_h[:, 0 * H:1 * H])  # reset gate
    z = sigmoid(from_x[:, 1 * H:2 * H] + from_h[:, 1 * H:2 * H])  # update gate
    n = np.tanh(from_x[:, 2 * H:3 * H] + r * from_h[:, 2 * H:3 * H])  # candidate: r after the product
    return (1 - z) * n + z * h, dict(r=r, z=z, n=n)


def gru_step_notes(x, h, w_ih, w_hh, b_ih, b_hh):
    """The lecture notes' GRU step: r before the product, h' = (1 - z) h + z h~. x (B, I), h (B, H) -> (B, H)."""
    H = h.shape[-1]
    from_x = x @ w_ih.T + b_ih
    r = sigmoid(from_x[:, :H] + h @ w_hh[:H].T + b_hh[:H])
    z = sigmoid(from_x[:, H:2 * H] + h @ w_hh[H:2 * H].T + b_hh[H:2 * H])
    h_tilde = np.tanh(from_x[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])  # r before the product
    return (1 - z) * h + z * h_tilde


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def gru_step_reset_without_bias(x, h, w_ih, w_hh, b_ih, b_hh):
    """Applies r to h W_hn^T but adds b_hn outside it."""
    H = h.shape[-1]
    from_x = x @ w_ih.T + b_ih
    from_h = h @ w_hh.T
    r = sigmoid(from_x[:, :H] + from_h[:, :H] + b_hh[:H])
    z = sigmoid(from_x[:, H:2 * H] + from_h[:, H:2 * H] + b_hh[H:2 * H])
    n = np.tanh(from_x[:, 2 * H:] + r * from_h[:, 2 * H:] + b_hh[2 * H:])
    return (1 - z) * n + z * h, dict(r=r, z=z, n=n)


def gru_step_notes_with_pytorch_reset(x, h, w_ih, w_hh, b_ih, b_hh):
    """Relabels z correctly but keeps PyTorch's reset placement: not the notes' cell."""
    from_x = x @ w_ih.T + b_ih
    from_h = h @ w_hh.T + b_hh
    H = h.shape[-1]
    r = sigmoid(from_x[:, :H] + from_h[:, :H])
    z = sigmoid(from_x[:, H:2 * H] + from_h[:, H:2 * H])
    return (1 - z) * h + z * np.tanh(from_x[:, 2 * H:] + r * from_h[:, 2 * H:])


def gru_step_notes_without_relabelling(x, h, w_ih, w_hh, b_ih, b_hh):
    """The notes' reset, but z on PyTorch's side: h' = (1 - z) h~ + z h."""
    H = h.shape[-1]
    from_x = x @ w_ih.T + b_ih
    r = sigmoid(from_x[:, :H] + h @ w_hh[:H].T + b_hh[:H])
    z = sigmoid(from_x[:, H:2 * H] + h @ w_hh[H:2 * H].T + b_hh[H:2 * H])
    return (1 - z) * np.tanh(from_x[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:]) + z * h


MISTAKES = {
    "gru_step": [gru_step_reset_without_bias],
    "gru_step_notes": [gru_step_notes_with_pytorch_reset, gru_step_notes_without_relabelling],
}
