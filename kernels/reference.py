"""Plain NumPy reference of every recurrent kernel: one step at a time, exactly as the equations read.

This is the backend a reader checks the fused numba kernels (``rnn.py``, ``lstm.py``, ``gru.py``) against;
the tests assert that both agree and that these gradients match finite differences. Same signatures and
same ``saved`` tuples as the fast kernels; inputs are assumed valid (``microseq.kernels`` checks them).

Row-vector form, PyTorch's gate orders::

    RNN   h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh),   act = tanh or relu
    LSTM  i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (x W_ih^T + b_ih + h W_hh^T + b_hh)
          c' = f * c + i * g,   h' = o * tanh(c')
    GRU   r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr),   z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
          n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),   h' = (1 - z) * n + z * h

Variable lengths: sequence b is *active* at step t iff t < lengths[b]. Forward it runs steps 0 .. L_b-1;
with ``reverse=True`` the loop runs t = T-1 down to 0, so sequence b starts at its last real step L_b-1
from h0. Inactive sequences keep their state and output zeros, and padded inputs are zeroed up front.

Shapes: T time, B batch, I input, H hidden, G gates (RNN 1, LSTM 4, GRU 3).
"""

import numpy as np

from ..ops.elementwise import sigmoid_of as sigmoid  # the sigmoid op's stable formula: exp only ever sees -|a|
from .saved import GRUSaved, LSTMSaved, RNNSaved
from .sequence import time_steps


def _active(lengths, T):
    """(T, B, 1) mask: sequence b is active at step t iff t < lengths[b]."""
    return (np.arange(T)[:, None] < lengths[None, :])[:, :, None]


def _prepare(x, lengths):
    """Return (lengths as int64 (B,), active mask (T, B, 1), x with padded steps zeroed)."""
    T, B, _ = x.shape
    lengths = np.full(B, T, np.int64) if lengths is None else np.asarray(lengths, np.int64)
    active = _active(lengths, T)
    return lengths, active, np.where(active, x, 0)


def _zeros_if_none(a, shape, dtype):
    return np.zeros(shape, dtype) if a is None else a


def _bias_grads(db, has_bias):
    """db_ih and db_hh are the same sum; return two arrays that do not share memory."""
    return (db, db.copy()) if has_bias else (None, None)


# ----------------------------------------------------------------------------------------------- RNN


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False, nonlinearity="tanh"):
    """Elman RNN over a whole sequence: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Parameters
    ----------
    x : (T, B, I) input.  h0 : (B, H) initial state.
    w_ih : (H, I), w_hh : (H, H) weights; b_ih, b_hh : (H,) biases, or both None.
    lengths : (B,) int64 in [1, T], or None for full length.
    reverse : run each sequence from its last real step down to step 0.
    nonlinearity : "tanh" or "relu".

    Returns
    -------
    out : (T, B, H) state after every step (zero at padded steps).  h_n : (B, H) final state.
    saved : ``RNNSaved`` for ``rnn_backward``.
    """
    T, B, _ = x.shape
    lengths, active, x = _prepare(x, lengths)
    out, h_prev, h_new = (np.zeros((T,) + h0.shape, x.dtype) for _ in range(3))
    h = h0
    for t in time_steps(T, reverse):
        a = x[t] @ w_ih.T + h @ w_hh.T
        if b_ih is not None:
            a = a + (b_ih + b_hh)
        h_next = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
        h_prev[t] = np.where(active[t], h, 0)
        out[t] = h_new[t] = np.where(active[t], h_next, 0)
        h = np.where(active[t], h_next, h)
    saved = RNNSaved(x, w_ih, w_hh, h_prev, h_new, lengths, reverse, nonlinearity, b_ih is not None)
    return out, h, saved


def rnn_backward(saved, d_out, d_h_n):
    """Gradients of ``rnn_forward``.

    Parameters
    ----------
    saved : ``RNNSaved`` from ``rnn_forward``.
    d_out : (T, B, H) gradient w.r.t. out, or None for zeros.  d_h_n : (B, H) w.r.t. h_n, or None.

    Returns
    -------
    dx (T, B, I), dh0 (B, H), dw_ih (H, I), dw_hh (H, H), db_ih (H,), db_hh (H,)
    (the bias gradients are None when the forward had no bias).
    """
    x, w_ih, w_hh, h_prev, h_new, lengths, reverse, nonlinearity, has_bias = saved
    T, B, H = h_new.shape
    active = _active(lengths, T)
    d_out = _zeros_if_none(d_out, (T, B, H), x.dtype)
    dh = _zeros_if_none(d_h_n, (B, H), x.dtype)
    dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
    db = np.zeros(H, x.dtype)
    for t in reversed(time_steps(T, reverse)):
        g = dh + np.where(active[t], d_out[t], 0)  # dL/dh' at step t
        da = g * (1 - h_new[t] ** 2) if nonlinearity == "tanh" else g * (h_new[t] > 0)
        da = np.where(active[t], da, 0)  # dL/d(pre-activation)
        dx[t] = da @ w_ih
        dw_ih += da.T @ x[t]
        dw_hh += da.T @ h_prev[t]
        db += da.sum(axis=0)
        dh = np.where(active[t], da @ w_hh, dh)
    return (dx, dh, dw_ih, dw_hh) + _bias_grads(db, has_bias)


# ---------------------------------------------------------------------------------------------- LSTM


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    """LSTM over a whole sequence, gate order i, f, g, o.

    Parameters
    ----------
    x : (T, B, I) input.  h0, c0 : (B, H) initial hidden and cell state.
    w_ih : (4H, I), w_hh : (4H, H) weights; b_ih, b_hh : (4H,) biases, or both None.
    lengths : (B,) int64 in [1, T], or None.  reverse : as in ``rnn_forward``.

    Returns
    -------
    out : (T, B, H).  h_n, c_n : (B, H) final states.  saved : ``LSTMSaved``.
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    lengths, active, x = _prepare(x, lengths)
    out, h_prev, c_prev, tanh_c = (np.zeros((T, B, H), x.dtype) for _ in range(4))
    gates = np.zeros((T, B, 4 * H), x.dtype)
    h, c = h0, c0
    for t in time_steps(T, reverse):
        a = x[t] @ w_ih.T + h @ w_hh.T
        if b_ih is not None:
            a = a + (b_ih + b_hh)
        i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        c_next = f * c + i * g
        h_next = o * np.tanh(c_next)
        on = active[t]
        h_prev[t], c_prev[t] = np.where(on, h, 0), np.where(on, c, 0)
        gates[t] = np.where(on, np.concatenate([i, f, g, o], axis=1), 0)
        tanh_c[t] = np.where(on, np.tanh(c_next), 0)
        out[t] = np.where(on, h_next, 0)
        h, c = np.where(on, h_next, h), np.where(on, c_next, c)
    saved = LSTMSaved(x, w_ih, w_hh, h_prev, c_prev, gates, tanh_c, lengths, reverse, b_ih is not None)
    return out, h, c, saved


def lstm_backward(saved, d_out, d_h_n, d_c_n):
    """Gradients of ``lstm_forward``.

    Parameters
    ----------
    saved : ``LSTMSaved``.  d_out : (T, B, H) or None.  d_h_n, d_c_n : (B, H) or None.

    Returns
    -------
    dx (T, B, I), dh0 (B, H), dc0 (B, H), dw_ih (4H, I), dw_hh (4H, H), db_ih (4H,) or None,
    db_hh (4H,) or None.
    """
    x, w_ih, w_hh, h_prev, c_prev, gates, tanh_c, lengths, reverse, has_bias = saved
    T, B, H = h_prev.shape
    active = _active(lengths, T)
    d_out = _zeros_if_none(d_out, (T, B, H), x.dtype)
    dh = _zeros_if_none(d_h_n, (B, H), x.dtype)
    dc = _zeros_if_none(d_c_n, (B, H), x.dtype)
    dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
    db = np.zeros(4 * H, x.dtype)
    for t in reversed(time_steps(T, reverse)):
        i, f, g, o = np.split(gates[t], 4, axis=1)
        g_h = dh + np.where(active[t], d_out[t], 0)  # dL/dh' at step t
        g_c = dc + g_h * o * (1 - tanh_c[t] ** 2)  # dL/dc' at step t
        da = np.concatenate([
            g_c * g * i * (1 - i),  # through i = sigmoid
            g_c * c_prev[t] * f * (1 - f),  # through f = sigmoid
            g_c * i * (1 - g ** 2),  # through g = tanh
            g_h * tanh_c[t] * o * (1 - o),  # through o = sigmoid
        ], axis=1)
        da = np.where(active[t], da, 0)
        dx[t] = da @ w_ih
        dw_ih += da.T @ x[t]
        dw_hh += da.T @ h_prev[t]
        db += da.sum(axis=0)
        dh = np.where(active[t], da @ w_hh, dh)
        dc = np.where(active[t], g_c * f, dc)
    return (dx, dh, dc, dw_ih, dw_hh) + _bias_grads(db, has_bias)


# ----------------------------------------------------------------------------------------------- GRU


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    """GRU over a whole sequence, gate order r, z, n (b_hn inside the reset product, as PyTorch).

    Parameters
    ----------
    x : (T, B, I) input.  h0 : (B, H) initial state.
    w_ih : (3H, I), w_hh : (3H, H) weights; b_ih, b_hh : (3H,) biases, or both None.
    lengths : (B,) int64 in [1, T], or None.  reverse : as in ``rnn_forward``.

    Returns
    -------
    out : (T, B, H).  h_n : (B, H).  saved : ``GRUSaved``.
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    lengths, active, x = _prepare(x, lengths)
    out, h_prev, hn_all = (np.zeros((T, B, H), x.dtype) for _ in range(3))
    gates = np.zeros((T, B, 3 * H), x.dtype)
    h = h0
    for t in time_steps(T, reverse):
        ax = x[t] @ w_ih.T
        ah = h @ w_hh.T
        if b_ih is not None:
            ax, ah = ax + b_ih, ah + b_hh
        r = sigmoid(ax[:, :H] + ah[:, :H])
        z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
        hn = ah[:, 2 * H:]
        n = np.tanh(ax[:, 2 * H:] + r * hn)
        h_next = (1 - z) * n + z * h
        on = active[t]
        h_prev[t] = np.where(on, h, 0)
        gates[t] = np.where(on, np.concatenate([r, z, n], axis=1), 0)
        hn_all[t] = np.where(on, hn, 0)
        out[t] = np.where(on, h_next, 0)
        h = np.where(on, h_next, h)
    saved = GRUSaved(x, w_ih, w_hh, h_prev, gates, hn_all, lengths, reverse, b_ih is not None)
    return out, h, saved


def gru_backward(saved, d_out, d_h_n):
    """Gradients of ``gru_forward``.

    Parameters
    ----------
    saved : ``GRUSaved``.  d_out : (T, B, H) or None.  d_h_n : (B, H) or None.

    Returns
    -------
    dx (T, B, I), dh0 (B, H), dw_ih (3H, I), dw_hh (3H, H), db_ih (3H,) or None, db_hh (3H,) or None.
    """
    x, w_ih, w_hh, h_prev, gates, hn, lengths, reverse, has_bias = saved
    T, B, H = h_prev.shape
    active = _active(lengths, T)
    d_out = _zeros_if_none(d_out, (T, B, H), x.dtype)
    dh = _zeros_if_none(d_h_n, (B, H), x.dtype)
    dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros(3 * H, x.dtype), np.zeros(3 * H, x.dtype)
    for t in reversed(time_steps(T, reverse)):
        r, z, n = np.split(gates[t], 3, axis=1)
        g_h = dh + np.where(active[t], d_out[t], 0)  # dL/dh' at step t
        dn = g_h * (1 - z) * (1 - n ** 2)  # through n = tanh
        dz = g_h * (h_prev[t] - n) * z * (1 - z)  # through z = sigmoid
        dr = dn * hn[t] * r * (1 - r)  # through r = sigmoid
        da_x = np.where(active[t], np.concatenate([dr, dz, dn], axis=1), 0)  # w.r.t. x W_ih^T + b_ih
        da_h = np.where(active[t], np.concatenate([dr, dz, dn * r], axis=1), 0)  # w.r.t. h W_hh^T + b_hh
        dx[t] = da_x @ w_ih
        dw_ih += da_x.T @ x[t]
        dw_hh += da_h.T @ h_prev[t]
        db_ih += da_x.sum(axis=0)
        db_hh += da_h.sum(axis=0)
        dh = np.where(active[t], da_h @ w_hh + g_h * z, dh)
    if not has_bias:
        db_ih = db_hh = None
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


# -------------------------------------------------------------------------------------------- matmul


def matmul(a, b):
    """a @ b for 2-D float arrays: (m, k) @ (k, n) -> (m, n)."""
    return a @ b
