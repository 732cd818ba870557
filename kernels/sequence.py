"""What the fused RNN, LSTM and GRU kernels share: lengths, padding, the time loop, and the GEMMs over all
time steps.

The recurrence itself is sequential, but everything that does not depend on the previous step is done for
all T steps at once: the input projection x W_ih^T before the loop, and dx, dW_ih, dW_hh, db after the
backward loop, each as one large GEMM (or sum) over the (T*B)-row matrices.

The time loop runs compiled, all T steps in one call: ``forward_recurrence`` and ``backward_recurrence`` pack
the recurrent weight once per call (``gemm.pack_panels``), and each step's product is
``gemm.packed_matmul_into`` over those panels, which skips the copy BLAS makes of its operand at every call
(see ``microseq.kernels.gemm`` for the measurements). Each cell supplies one compiled function per
direction::

    forward_steps(T, reverse, w_hh_t, panels, h, *cell_arrays)
    backward_steps(T, reverse, w_hh, panels, dh, dgates_h, *cell_arrays)

Shapes: T time, B batch, I input, H hidden, G gates (RNN 1, LSTM 4, GRU 3).
"""

import numpy as np
from numba import njit

from .gemm import matmul, pack_panels


def time_steps(T, reverse):
    """Time steps in the order the recurrence visits them."""
    return range(T - 1, -1, -1) if reverse else range(T)


def full_lengths(lengths, T, B):
    """Lengths as a C-contiguous int64 (B,) array; every sequence is T long when ``lengths`` is None."""
    return np.full(B, T, np.int64) if lengths is None else np.ascontiguousarray(lengths, np.int64)


def zero_padding(x, lengths):
    """x (T, B, I) itself if no sequence is padded, else a copy whose padded steps t >= lengths[b] are 0.

    Zeroing (rather than skipping) padded inputs keeps NaN or inf in the padding out of the input projection
    and of dW_ih = dgates^T x, where 0 * inf would otherwise be NaN.
    """
    T = x.shape[0]
    if lengths.min() == T:
        return np.ascontiguousarray(x)
    x = x.copy()
    for b, length in enumerate(lengths):
        x[length:, b] = 0
    return x


def input_projection(x, w_ih):
    """x W_ih^T for all steps at once: (T, B, I) @ (G*H, I)^T -> (T, B, G*H)."""
    T, B, I = x.shape
    return matmul(x.reshape(T * B, I), w_ih.T).reshape(T, B, -1)


def combined_bias(b_ih, b_hh, size, dtype):
    """b_ih + b_hh (both (size,)), or zeros when the layer has no bias."""
    return np.zeros(size, dtype) if b_ih is None else b_ih + b_hh


def zeros_or(a, shape, dtype):
    """A zero array for a gradient given as None, else ``a`` (C-contiguous)."""
    return np.zeros(shape, dtype) if a is None else np.ascontiguousarray(a)


def state_copy(a, shape, dtype):
    """A fresh C-contiguous array to update in place: a copy of ``a``, or zeros when it is None."""
    return np.zeros(shape, dtype) if a is None else np.array(a, dtype, order="C")


def parameter_grads(dgates_x, dgates_h, x, h_prev, w_ih, has_bias):
    """The gradients that need no recurrence, each one GEMM (or sum) over all T*B rows.

    When one array is the gradient of both products (RNN, LSTM) and it is wider than [x, h_prev, 1] (the
    LSTM's 4H against I + H + 1), dW_ih, dW_hh and db come out of ONE GEMM, [x, h_prev, 1]^T dgates,
    transposed afterwards: OpenBLAS is faster with the long side as the output's columns. Measured with one
    thread, CPU time, float32, best of 4-30, against the two GEMMs dgates^T x, dgates^T h_prev and the bias
    sum: large LSTM (T*B = 6400, I = 256, H = 512) 198-200 ms against 212-213 (the copies into the stacked
    rows and the transposes included); small LSTM (2048, 64, 128) 4.7-4.8 ms both ways; but the RNN's
    (G = 1) 56-58 against 54 ms at the large shape, so it keeps the two GEMMs.

    Parameters
    ----------
    dgates_x : (T, B, G*H) dL/d(x W_ih^T + b_ih) per step.
    dgates_h : (T, B, G*H) dL/d(h W_hh^T + b_hh) per step (the same array for RNN and LSTM).
    x : (T, B, I) input (padding zeroed).  h_prev : (T, B, H) state entering each step.
    w_ih : (G*H, I).  has_bias : whether to return bias gradients.

    Returns
    -------
    dx (T, B, I), dw_ih (G*H, I), dw_hh (G*H, H), db_ih (G*H,) or None, db_hh (G*H,) or None.
    """
    T, B, I = x.shape
    H = h_prev.shape[2]
    gx = dgates_x.reshape(T * B, -1)
    gh = dgates_h.reshape(T * B, -1)
    dx = matmul(gx, w_ih).reshape(T, B, I)
    if dgates_h is dgates_x and gx.shape[1] > I + H + 1:
        rows = np.empty((T * B, I + H + has_bias), x.dtype)  # [x, h_prev, 1] per (t, b)
        rows[:, :I], rows[:, I:I + H] = x.reshape(T * B, I), h_prev.reshape(T * B, H)
        rows[:, I + H:] = 1
        stacked = matmul(rows.T, gx)  # (I + H [+ 1], G*H)
        dw_ih, dw_hh = np.ascontiguousarray(stacked[:I].T), np.ascontiguousarray(stacked[I:I + H].T)
        if not has_bias:
            return dx, dw_ih, dw_hh, None, None
        return dx, dw_ih, dw_hh, stacked[I + H].copy(), stacked[I + H].copy()
    dw_ih = matmul(gx.T, x.reshape(T * B, I))
    dw_hh = matmul(gh.T, h_prev.reshape(T * B, H))
    if not has_bias:
        return dx, dw_ih, dw_hh, None, None
    db_ih = gx.sum(axis=0)
    return dx, dw_ih, dw_hh, db_ih, db_ih.copy() if dgates_h is dgates_x else gh.sum(axis=0)


@njit(cache=True, nogil=True)
def aligned_empty(rows, cols, like):
    """An uninitialised (rows, cols) array of ``like``'s dtype whose data is 32-byte aligned, as numba
    allocates (NumPy aligns small arrays to 16 bytes only).

    For the GRU's ``hg``, which the time loop writes and reads at every step: with NumPy's np.empty, GRU
    forward (T=20, B=4, H=32, float32) took 55-63 us instead of 41-43 us in about a third of the processes,
    as the address fell (measured on this project's earlier 2-core machine).
    """
    return np.empty((rows, cols), like.dtype)


def forward_recurrence(forward_steps, T, reverse, w_hh_t, h, *cell_arrays):
    """Run a cell's forward over all T steps, updating the state ``h`` (B, H) in place.

    Parameters
    ----------
    forward_steps : the cell's compiled ``forward_steps`` (see the module docstring); at each step it computes
        h W_hh^T by ``gemm.packed_matmul_into`` with the panels packed here, once for all steps.
    w_hh_t : (H, G*H) = W_hh^T (a transposed view of W_hh is fine).  h : (B, H) state.  cell_arrays : passed
        on as they are.
    """
    forward_steps(T, reverse, w_hh_t, pack_panels(w_hh_t), h, *cell_arrays)


def backward_recurrence(backward_steps, T, reverse, w_hh, dh, dgates_h, *cell_arrays):
    """Run a cell's backward over all T steps, in the reverse of the forward's visiting order.

    Parameters
    ----------
    backward_steps : the cell's compiled ``backward_steps``; step t writes dgates_h[t] = dL/d(h W_hh^T + b_hh),
        leaves in ``dh`` the part of dL/dh that does not pass through W_hh, then adds dgates_h[t] W_hh by
        ``gemm.packed_matmul_into`` with the panels packed here, once for all steps.
    w_hh : (G*H, H), C-contiguous.  dh : (B, H) dL/dh_n on entry, dL/dh0 on exit.  dgates_h : (T, B, G*H).
    """
    backward_steps(T, reverse, w_hh, pack_panels(w_hh), dh, dgates_h, *cell_arrays)
