"""Fused LSTM forward and backward over a whole sequence (numba).

Gate order i, f, g, o (PyTorch's), row-vector form::

    a = x W_ih^T + b_ih + h W_hh^T + b_hh            (B, 4H), split into a_i, a_f, a_g, a_o
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    c' = f * c + i * g
    h' = o * tanh(c')

Backward, with g_h = dL/dh' (from the next step and from out) and g_c = dL/dc' + g_h * o * (1 - tanh(c')^2)::

    da_i = g_c * g * i (1 - i)     da_f = g_c * c * f (1 - f)
    da_g = g_c * i * (1 - g^2)     da_o = g_h * tanh(c') * o (1 - o)
    dL/dc = g_c * f                dL/dh = da W_hh

Forward: x W_ih^T for all steps in one GEMM, then per step one (B, H) @ (H, 4H) product, added straight onto
that step's x W_ih^T (no (B, 4H) product array to read back), and one fused loop that computes the gates
and updates c and h in place. Backward: per step one fused loop for da and dL/dc and one (B, 4H) @ (4H, H)
product added onto dL/dh; at the end dx is one GEMM, and dW_ih, dW_hh and db one more
(``sequence.parameter_grads``). Both per-step products run on W_hh packed once per call
(``gemm.packed_matmul_into``).

Shapes: T time, B batch, I input, H hidden.
"""

import numpy as np
from numba import njit

from .activations import sigmoid_inplace, tanh, tanh_inplace
from .gemm import packed_matmul_into
from .rows import copy_into
from .saved import LSTMSaved
from .sequence import (backward_recurrence, combined_bias, forward_recurrence, full_lengths, input_projection,
                       parameter_grads, state_copy, zero_padding, zeros_or)


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_steps(T, reverse, w_hh_t, panels, h, bias, lengths, c, out, h_prev, c_prev, gates, tanh_c):
    """All T steps in visiting order for the whole batch (see ``sequence.forward_recurrence``); h and c (B, H)
    are updated in place, per-step arrays written at t.

    w_hh_t (H, 4H) = W_hh^T, panels its packed copy. gates[t] (B, 4H) holds x_t W_ih^T on entry (the input
    projection is computed straight into ``gates``, one (T, B, 4H) array less), then x_t W_ih^T + h W_hh^T,
    and the activated gates on exit; bias (4H,) = b_ih + b_hh.
    Each row is done in short loops over one or two arrays each, counting from 0, which LLVM vectorises (one
    loop over all twelve arrays was not: ~6x slower at B=32, H=128).
    """
    B, H = h.shape
    for s in range(T):
        t = T - 1 - s if reverse else s
        packed_matmul_into(h, w_hh_t, panels, gates[t], True)
        for b in range(B):
            if t >= lengths[b]:  # padded step: the state carries over, outputs are zero
                out[t, b, :] = 0
                h_prev[t, b, :] = 0
                c_prev[t, b, :] = 0
                gates[t, b, :] = 0
                tanh_c[t, b, :] = 0
                continue
            a = gates[t, b]
            for k in range(4 * H):
                a[k] += bias[k]
            sigmoid_inplace(a[:2 * H])  # i, f
            tanh_inplace(a[2 * H:3 * H])  # g
            sigmoid_inplace(a[3 * H:])  # o
            copy_into(h_prev[t, b], h[b])
            copy_into(c_prev[t, b], c[b])
            c_row, tc = c[b], tanh_c[t, b]
            for j in range(H):
                c_row[j] = a[H + j] * c_row[j] + a[j] * a[2 * H + j]
            for j in range(H):
                tc[j] = tanh(c_row[j])
            o_row = out[t, b]
            for j in range(H):
                o_row[j] = a[3 * H + j] * tc[j]
            copy_into(h[b], o_row)


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    """LSTM over a whole sequence (fused numba kernel).

    Parameters
    ----------
    x : (T, B, I) input.  h0, c0 : (B, H) initial hidden and cell state.
    w_ih : (4H, I), w_hh : (4H, H) weights; b_ih, b_hh : (4H,) biases, or both None.
    lengths : (B,) int64 in [1, T], or None for full length.
    reverse : run each sequence from its last real step down to step 0 (reverse direction of a
        bidirectional layer); outputs stay in time order.

    Returns
    -------
    out : (T, B, H), zero at padded steps.  h_n, c_n : (B, H) states after each sequence's last step.
    saved : ``LSTMSaved`` for ``lstm_backward``.
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    lengths = full_lengths(lengths, T, B)
    x = zero_padding(x, lengths)
    w_ih, w_hh = np.ascontiguousarray(w_ih), np.ascontiguousarray(w_hh)
    gates = input_projection(x, w_ih)  # x W_ih^T, turned into the activated gates step by step
    bias = combined_bias(b_ih, b_hh, 4 * H, x.dtype)
    h, c = state_copy(h0, (B, H), x.dtype), state_copy(c0, (B, H), x.dtype)
    out, h_prev, c_prev, tanh_c = (np.empty((T, B, H), x.dtype) for _ in range(4))
    forward_recurrence(_forward_steps, T, reverse, w_hh.T, h, bias, lengths, c, out, h_prev,
                       c_prev, gates, tanh_c)
    saved = LSTMSaved(x, w_ih, w_hh, h_prev, c_prev, gates, tanh_c, lengths, reverse, b_ih is not None)
    return out, h, c, saved


@njit(cache=True, nogil=True, error_model="numpy")
def _backward_steps(T, reverse, w_hh, panels, dh, dgates, d_out, lengths, gates, c_prev, tanh_c, dc):
    """All T backward steps in the reverse of the forward's visiting order (see
    ``sequence.backward_recurrence``). Step t writes dgates[t] (dL/da), turns dc into dL/dc entering step t,
    and sets dh of the active rows to 0, then adds dgates[t] @ W_hh (panels: W_hh packed). On entry dh, dc
    are dL/dh', dL/dc' from later steps. One short loop per gate over views of its
    rows, counting from 0, as in ``_forward_steps``, so that LLVM vectorises them (one loop writing all four
    gates: ~25% slower at B=64, H=512)."""
    B, H = dh.shape
    one = type(dh[0, 0])(1.0)
    for s in range(T):
        t = s if reverse else T - 1 - s
        for b in range(B):
            if t >= lengths[b]:  # padded step: gradients pass through unchanged
                dgates[t, b, :] = 0
                continue
            g_h, g_c, tc, cp, d_row = dh[b], dc[b], tanh_c[t, b], c_prev[t, b], d_out[t, b]
            a, da = gates[t, b], dgates[t, b]
            i, f, g, o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
            d_i, d_f, d_g, d_o = da[:H], da[H:2 * H], da[2 * H:3 * H], da[3 * H:]
            for j in range(H):
                g_h[j] += d_row[j]
            for j in range(H):
                d_o[j] = g_h[j] * tc[j] * o[j] * (one - o[j])
            for j in range(H):  # g_c = dL/dc' + g_h * o * (1 - tanh(c')^2)
                g_c[j] += g_h[j] * o[j] * (one - tc[j] * tc[j])
            for j in range(H):
                d_i[j] = g_c[j] * g[j] * i[j] * (one - i[j])
            for j in range(H):
                d_f[j] = g_c[j] * cp[j] * f[j] * (one - f[j])
            for j in range(H):
                d_g[j] = g_c[j] * i[j] * (one - g[j] * g[j])
            for j in range(H):  # dL/dc = g_c * f
                g_c[j] *= f[j]
            for j in range(H):
                g_h[j] = 0
        packed_matmul_into(dgates[t], w_hh, panels, dh, True)


def lstm_backward(saved, d_out, d_h_n, d_c_n):
    """Gradients of ``lstm_forward`` (fused numba kernel).

    Parameters
    ----------
    saved : ``LSTMSaved`` from ``lstm_forward``.
    d_out : (T, B, H) dL/d out, or None for zeros.  d_h_n, d_c_n : (B, H) dL/dh_n, dL/dc_n, or None.

    Returns
    -------
    dx (T, B, I) (zero at padded steps), dh0 (B, H), dc0 (B, H), dw_ih (4H, I), dw_hh (4H, H),
    db_ih (4H,) or None, db_hh (4H,) or None (None when the forward had no bias).
    """
    x, w_ih, w_hh, h_prev, c_prev, gates, tanh_c, lengths, reverse, has_bias = saved
    T, B, H = h_prev.shape
    d_out = zeros_or(d_out, (T, B, H), x.dtype)
    dh, dc = state_copy(d_h_n, (B, H), x.dtype), state_copy(d_c_n, (B, H), x.dtype)
    dgates = np.empty((T, B, 4 * H), x.dtype)
    backward_recurrence(_backward_steps, T, reverse, w_hh, dh, dgates, d_out, lengths, gates, c_prev, tanh_c, dc)
    dx, dw_ih, dw_hh, db_ih, db_hh = parameter_grads(dgates, dgates, x, h_prev, w_ih, has_bias)
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh
