"""Fused Elman RNN forward and backward over a whole sequence (numba).

Row-vector form::

    h' = act(a),   a = x W_ih^T + b_ih + h W_hh^T + b_hh,   act = tanh or relu

Backward, with g_h = dL/dh' (from the next step and from out)::

    da = g_h * (1 - h'^2)   (tanh)      da = g_h * [h' > 0]   (relu)
    dL/dh = da W_hh

Forward: x W_ih^T for all steps in one GEMM, then per step one (B, H) @ (H, H) product, added onto that
step's x W_ih^T, and one fused loop. Backward: per step one fused loop and one (B, H) @ (H, H) product
added onto dL/dh; dx, dW_ih, dW_hh and db are one GEMM (or sum) each at the end. Both per-step products run
on W_hh packed once per call (``gemm.packed_matmul_into``).

Shapes: T time, B batch, I input, H hidden.
"""

import numpy as np
from numba import njit

from .activations import tanh_inplace
from .gemm import packed_matmul_into
from .rows import copy_into
from .saved import RNNSaved
from .sequence import (backward_recurrence, combined_bias, forward_recurrence, full_lengths, input_projection,
                       parameter_grads, state_copy, zero_padding, zeros_or)


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_steps(T, reverse, w_hh_t, panels, h, xg, bias, lengths, relu, out, h_prev, h_new):
    """All T steps in visiting order for the whole batch (see ``sequence.forward_recurrence``); h (B, H) is
    updated in place, per-step arrays written at t.

    w_hh_t (H, H) = W_hh^T, panels its packed copy. xg (T, B, H) input projections, to which step t adds
    h W_hh^T; bias (H,) = b_ih + b_hh. Short loops counting from 0, each over one or two arrays, which LLVM
    vectorises.
    """
    B, H = h.shape
    zero = type(h[0, 0])(0.0)
    for s in range(T):
        t = T - 1 - s if reverse else s
        packed_matmul_into(h, w_hh_t, panels, xg[t], True)
        for b in range(B):
            if t >= lengths[b]:  # padded step: the state carries over, outputs are zero
                out[t, b, :] = 0
                h_prev[t, b, :] = 0
                h_new[t, b, :] = 0
                continue
            a, x_row = h_new[t, b], xg[t, b]
            for j in range(H):
                a[j] = x_row[j] + bias[j]
            if relu:
                for j in range(H):
                    a[j] = max(a[j], zero)
            else:
                tanh_inplace(a)
            copy_into(h_prev[t, b], h[b])
            copy_into(h[b], a)
            copy_into(out[t, b], a)


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False, nonlinearity="tanh"):
    """Elman RNN over a whole sequence (fused numba kernel).

    Parameters
    ----------
    x : (T, B, I) input.  h0 : (B, H) initial state.
    w_ih : (H, I), w_hh : (H, H) weights; b_ih, b_hh : (H,) biases, or both None.
    lengths : (B,) int64 in [1, T], or None for full length.
    reverse : run each sequence from its last real step down to step 0; outputs stay in time order.
    nonlinearity : "tanh" or "relu".

    Returns
    -------
    out : (T, B, H), zero at padded steps.  h_n : (B, H) state after each sequence's last step.
    saved : ``RNNSaved`` for ``rnn_backward``.
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    relu = nonlinearity == "relu"
    lengths = full_lengths(lengths, T, B)
    x = zero_padding(x, lengths)
    w_ih, w_hh = np.ascontiguousarray(w_ih), np.ascontiguousarray(w_hh)
    xg = input_projection(x, w_ih)
    bias = combined_bias(b_ih, b_hh, H, x.dtype)
    h = state_copy(h0, (B, H), x.dtype)
    out, h_prev, h_new = (np.empty((T, B, H), x.dtype) for _ in range(3))
    forward_recurrence(_forward_steps, T, reverse, w_hh.T, h, xg, bias, lengths, relu, out,
                       h_prev, h_new)
    saved = RNNSaved(x, w_ih, w_hh, h_prev, h_new, lengths, reverse, nonlinearity, b_ih is not None)
    return out, h, saved


@njit(cache=True, nogil=True, error_model="numpy")
def _backward_steps(T, reverse, w_hh, panels, dh, dgates, d_out, lengths, relu, h_new):
    """All T backward steps in the reverse of the forward's visiting order (see
    ``sequence.backward_recurrence``). Step t writes dgates[t] = dL/da and sets dh of the active rows to 0,
    then adds dgates[t] @ W_hh (panels: W_hh packed). On entry dh is dL/dh' from later steps."""
    B, H = dh.shape
    zero, one = type(dh[0, 0])(0.0), type(dh[0, 0])(1.0)
    for s in range(T):
        t = s if reverse else T - 1 - s
        for b in range(B):
            if t >= lengths[b]:  # padded step: the gradient passes through unchanged
                dgates[t, b, :] = 0
                continue
            g_h, d_row, hn, da = dh[b], d_out[t, b], h_new[t, b], dgates[t, b]
            for j in range(H):
                g_h[j] += d_row[j]
            if relu:
                for j in range(H):
                    da[j] = g_h[j] if hn[j] > 0 else zero
            else:
                for j in range(H):
                    da[j] = g_h[j] * (one - hn[j] * hn[j])
            g_h[:] = 0
        packed_matmul_into(dgates[t], w_hh, panels, dh, True)


def rnn_backward(saved, d_out, d_h_n):
    """Gradients of ``rnn_forward`` (fused numba kernel).

    Parameters
    ----------
    saved : ``RNNSaved`` from ``rnn_forward``.
    d_out : (T, B, H) dL/d out, or None for zeros.  d_h_n : (B, H) dL/dh_n, or None.

    Returns
    -------
    dx (T, B, I) (zero at padded steps), dh0 (B, H), dw_ih (H, I), dw_hh (H, H),
    db_ih (H,) or None, db_hh (H,) or None (None when the forward had no bias).
    """
    x, w_ih, w_hh, h_prev, h_new, lengths, reverse, nonlinearity, has_bias = saved
    T, B, H = h_prev.shape
    relu = nonlinearity == "relu"
    d_out = zeros_or(d_out, (T, B, H), x.dtype)
    dh = state_copy(d_h_n, (B, H), x.dtype)
    dgates = np.empty((T, B, H), x.dtype)
    backward_recurrence(_backward_steps, T, reverse, w_hh, dh, dgates, d_out, lengths, relu, h_new)
    dx, dw_ih, dw_hh, db_ih, db_hh = parameter_grads(dgates, dgates, x, h_prev, w_ih, has_bias)
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh
