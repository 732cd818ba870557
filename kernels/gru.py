"""Fused GRU forward and backward over a whole sequence (numba).

Gate order r, z, n (PyTorch's; b_hn sits inside the reset product), row-vector form::

    ax = x W_ih^T + b_ih,   ah = h W_hh^T + b_hh        (B, 3H) each, split into r, z, n parts
    r = sigmoid(ax_r + ah_r),   z = sigmoid(ax_z + ah_z)
    n = tanh(ax_n + r * ah_n)
    h' = (1 - z) * n + z * h

Backward, with g_h = dL/dh' (from the next step and from out)::

    dn = g_h (1 - z) (1 - n^2)     dz = g_h (h - n) z (1 - z)     dr = dn * ah_n * r (1 - r)
    dL/d ax = [dr, dz, dn]         dL/d ah = [dr, dz, dn * r]
    dL/dh = g_h * z + (dL/d ah) W_hh

Forward: x W_ih^T for all steps in one GEMM, then per step one (B, H) @ (H, 3H) product and one fused loop.
Backward: per step one fused loop and one (B, 3H) @ (3H, H) product added onto dL/dh; dx, dW_ih, dW_hh and
db are one GEMM (or sum) each at the end. Both per-step products run on W_hh packed once per call
(``gemm.packed_matmul_into``). The two bias-free parts of ah are folded into the input bias, b_hn stays apart.

Shapes: T time, B batch, I input, H hidden.
"""

import numpy as np
from numba import njit

from .activations import sigmoid_inplace, tanh_inplace
from .gemm import packed_matmul_into
from .rows import copy_into
from .saved import GRUSaved
from .sequence import (aligned_empty, backward_recurrence, forward_recurrence, full_lengths, input_projection,
                       parameter_grads, state_copy, zero_padding, zeros_or)


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_steps(T, reverse, w_hh_t, panels, h, hg, bias_x, b_hn, lengths, out, h_prev, gates, hn):
    """All T steps in visiting order for the whole batch (see ``sequence.forward_recurrence``); h (B, H) is
    updated in place, per-step arrays written at t.

    w_hh_t (H, 3H) = W_hh^T, panels its packed copy; hg (B, 3H) receives h W_hh^T at each step (kept apart
    from the input projection, since the reset gate multiplies its n part). gates[t] (B, 3H) holds x_t W_ih^T
    on entry (the input projection is computed straight into ``gates``, one (T, B, 3H) array less) and the
    activated gates on exit; bias_x (3H,) = b_ih + [b_hr, b_hz, 0], b_hn (H,). Short loops counting from 0,
    each over one to three arrays, which LLVM vectorises.
    """
    B, H = h.shape
    one = type(h[0, 0])(1.0)
    for s in range(T):
        t = T - 1 - s if reverse else s
        packed_matmul_into(h, w_hh_t, panels, hg, False)
        for b in range(B):
            if t >= lengths[b]:  # padded step: the state carries over, outputs are zero
                out[t, b, :] = 0
                h_prev[t, b, :] = 0
                gates[t, b, :] = 0
                hn[t, b, :] = 0
                continue
            a, h_row, a_hn = gates[t, b], hg[b], hn[t, b]
            for k in range(2 * H):
                a[k] += h_row[k] + bias_x[k]
            sigmoid_inplace(a[:2 * H])  # r, z
            r, z, n = a[:H], a[H:2 * H], a[2 * H:]  # views: offset indices inside a loop were not vectorised
            h_n, b_n = h_row[2 * H:], bias_x[2 * H:]
            for j in range(H):
                a_hn[j] = h_n[j] + b_hn[j]
            for j in range(H):
                n[j] += b_n[j] + r[j] * a_hn[j]
            tanh_inplace(n)
            copy_into(h_prev[t, b], h[b])
            h_row_new = h[b]
            for j in range(H):
                h_row_new[j] = (one - z[j]) * n[j] + z[j] * h_row_new[j]
            copy_into(out[t, b], h_row_new)


def _split_bias(b_ih, b_hh, H, dtype):
    """(bias_x, b_hn): b_ih + b_hh on the r and z rows and b_ih alone on the n rows; b_hn = b_hh[2H:]."""
    if b_ih is None:
        return np.zeros(3 * H, dtype), np.zeros(H, dtype)
    bias_x = b_ih.copy()
    bias_x[:2 * H] += b_hh[:2 * H]
    return bias_x, np.ascontiguousarray(b_hh[2 * H:])


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    """GRU over a whole sequence (fused numba kernel).

    Parameters
    ----------
    x : (T, B, I) input.  h0 : (B, H) initial state.
    w_ih : (3H, I), w_hh : (3H, H) weights; b_ih, b_hh : (3H,) biases, or both None.
    lengths : (B,) int64 in [1, T], or None for full length.
    reverse : run each sequence from its last real step down to step 0; outputs stay in time order.

    Returns
    -------
    out : (T, B, H), zero at padded steps.  h_n : (B, H) state after each sequence's last step.
    saved : ``GRUSaved`` for ``gru_backward``.
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    lengths = full_lengths(lengths, T, B)
    x = zero_padding(x, lengths)
    w_ih, w_hh = np.ascontiguousarray(w_ih), np.ascontiguousarray(w_hh)
    gates = input_projection(x, w_ih)  # x W_ih^T, turned into the activated gates step by step
    bias_x, b_hn = _split_bias(b_ih, b_hh, H, x.dtype)
    h = state_copy(h0, (B, H), x.dtype)
    out, h_prev, hn = (np.empty((T, B, H), x.dtype) for _ in range(3))
    hg = aligned_empty(B, 3 * H, h)
    forward_recurrence(_forward_steps, T, reverse, w_hh.T, h, hg, bias_x, b_hn, lengths,
                       out, h_prev, gates, hn)
    saved = GRUSaved(x, w_ih, w_hh, h_prev, gates, hn, lengths, reverse, b_ih is not None)
    return out, h, saved


@njit(cache=True, nogil=True, error_model="numpy")
def _backward_steps(T, reverse, w_hh, panels, dh, dgates_h, d_out, lengths, gates, hn, h_prev, dgates_x):
    """All T backward steps in the reverse of the forward's visiting order (see
    ``sequence.backward_recurrence``). Step t writes dgates_x[t] = dL/d ax and dgates_h[t] = dL/d ah, and
    sets dh of the active rows to g_h * z, then adds dgates_h[t] @ W_hh (panels: W_hh packed). On entry dh
    is dL/dh' from later steps. Short loops counting from 0, which LLVM
    vectorises."""
    B, H = dh.shape
    one = type(dh[0, 0])(1.0)
    for s in range(T):
        t = s if reverse else T - 1 - s
        for b in range(B):
            if t >= lengths[b]:  # padded step: the gradient passes through unchanged
                dgates_x[t, b, :] = 0
                dgates_h[t, b, :] = 0
                continue
            g_h, d_row, a, hp, a_hn = dh[b], d_out[t, b], gates[t, b], h_prev[t, b], hn[t, b]
            dax, dah = dgates_x[t, b], dgates_h[t, b]
            for j in range(H):
                g_h[j] += d_row[j]
            for j in range(H):  # z and n
                z, n = a[H + j], a[2 * H + j]
                dax[H + j] = g_h[j] * (hp[j] - n) * z * (one - z)
                dax[2 * H + j] = g_h[j] * (one - z) * (one - n * n)
            for j in range(H):  # r
                r = a[j]
                dax[j] = dax[2 * H + j] * a_hn[j] * r * (one - r)
            copy_into(dah[:2 * H], dax)
            for j in range(H):
                dah[2 * H + j] = dax[2 * H + j] * a[j]
            for j in range(H):
                g_h[j] *= a[H + j]
        packed_matmul_into(dgates_h[t], w_hh, panels, dh, True)


def gru_backward(saved, d_out, d_h_n):
    """Gradients of ``gru_forward`` (fused numba kernel).

    Parameters
    ----------
    saved : ``GRUSaved`` from ``gru_forward``.
    d_out : (T, B, H) dL/d out, or None for zeros.  d_h_n : (B, H) dL/dh_n, or None.

    Returns
    -------
    dx (T, B, I) (zero at padded steps), dh0 (B, H), dw_ih (3H, I), dw_hh (3H, H),
    db_ih (3H,) or None, db_hh (3H,) or None (None when the forward had no bias).
    """
    x, w_ih, w_hh, h_prev, gates, hn, lengths, reverse, has_bias = saved
    T, B, H = h_prev.shape
    d_out = zeros_or(d_out, (T, B, H), x.dtype)
    dh = state_copy(d_h_n, (B, H), x.dtype)
    dgates_x, dgates_h = np.empty((T, B, 3 * H), x.dtype), np.empty((T, B, 3 * H), x.dtype)
    backward_recurrence(_backward_steps, T, reverse, w_hh, dh, dgates_h, d_out, lengths, gates, hn, h_prev,
                        dgates_x)
    dx, dw_ih, dw_hh, db_ih, db_hh = parameter_grads(dgates_x, dgates_h, x, h_prev, w_ih, has_bias)
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh
