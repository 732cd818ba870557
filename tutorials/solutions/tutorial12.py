"""Solutions of tutorial 12 (making it fast)."""

from __future__ import annotations

import numpy as np


def lstm_step_backward(g_h, g_c_next, gates, c_prev, tanh_c, w_hh):
    """Backward through one LSTM step: returns d_a (B, 4H), dL/dh_{t-1} (B, H), dL/dc_{t-1} (B, H)."""
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    g_c = g_c_next + g_h * o * (1 - tanh_c**2)  # c_t reaches the loss through c_{t+1} and through h_t
    d_a = np.concatenate([
        g_c * g * i * (1 - i),  # input gate
        g_c * c_prev * f * (1 - f),  # forget gate
        g_c * i * (1 - g**2),  # candidate
        g_h * tanh_c * o * (1 - o),  # output gate
    ], axis=-1)
    return d_a, d_a @ w_hh, g_c * f


def weight_gradients(d_a, x, h_prev):
    """dW_ih (4H, I), dW_hh (4H, H), db (4H,) from d_a (T, B, 4H), x (T, B, I), h_prev (T, B, H)."""
    rows = d_a.reshape(-1, d_a.shape[-1])  # (T*B, 4H): every step at once
    return rows.T @ x.reshape(-1, x.shape[-1]), rows.T @ h_prev.reshape(-1, h_prev.shape[-1]), rows.sum(axis=0)


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def lstm_step_backward_missing_the_h_term(g_h, g_c_next, gates, c_prev, tanh_c, w_hh):
    """Forgets that c_t also reaches the loss through h_t: the missing gradient term."""
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    g_c = g_c_next
    d_a = np.concatenate([g_c * g * i * (1 - i), g_c * c_prev * f * (1 - f), g_c * i * (1 - g**2),
                          g_h * tanh_c * o * (1 - o)], axis=-1)
    return d_a, d_a @ w_hh, g_c * f


def weight_gradients_of_the_last_step(d_a, x, h_prev):
    """Uses only the last step, as if the weights were not shared across time."""
    return d_a[-1].T @ x[-1], d_a[-1].T @ h_prev[-1], d_a[-1].sum(axis=0)


MISTAKES = {
    "lstm_step_backward": [lstm_step_backward_missing_the_h_term],
    "weight_gradients": [weight_gradients_of_the_last_step],
}
