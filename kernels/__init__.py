"""Fused whole-sequence recurrent kernels on raw NumPy arrays (installed as ``microseq.kernels``).

No autograd here: each ``*_forward`` returns its outputs and an opaque ``saved`` tuple, and the matching
``*_backward`` turns the gradients of the outputs into the gradients of every input. Semantics are
PyTorch's (gate orders, biases, packed-sequence lengths, the reverse direction of a bidirectional layer);
the equations are in the docstrings of ``rnn``, ``lstm``, ``gru`` and ``reference``.

Shapes: T time, B batch, I input, H hidden, G gates (RNN 1, LSTM 4, GRU 3). x (T, B, I) is time-major;
h0, c0 (B, H) are required (pass zeros); w_ih (G*H, I), w_hh (G*H, H); b_ih, b_hh (G*H,) or both None;
lengths None or integer (B,) in [1, T]; every array of one call has the same dtype, float32 or float64.
Gradients passed to a backward may be None, meaning zeros.

Backends: "numba" (fused kernels, default) or "numpy" (the step-by-step reference), chosen by the
environment variable MICROSEQ_BACKEND at import or by ``set_backend``. Arguments are checked here, once,
with errors that name the kernel and the argument; the backend modules assume valid input.
"""

from . import backend, gru, lstm, reference, rnn
from .._heap import keep_freed_memory
from .backend import get_backend, set_backend
from .._checks import check_nonlinearity
from .checks import check_backward, check_forward, check_matmul
from .gemm import matmul as _fast_matmul
from .saved import GRUSaved, LSTMSaved, RNNSaved
from .warmup import compile_all

__all__ = [
    "rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward", "gru_forward", "gru_backward",
    "matmul", "get_backend", "set_backend", "compile_all", "RNNSaved", "LSTMSaved", "GRUSaved",
]

keep_freed_memory()  # per-call arrays reuse the heap instead of faulting in fresh pages (see microseq._heap)


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False, nonlinearity="tanh"):
    """Elman RNN over a whole sequence: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Parameters
    ----------
    x : (T, B, I).  h0 : (B, H).  w_ih : (H, I).  w_hh : (H, H).  b_ih, b_hh : (H,) or both None.
    lengths : (B,) integers in [1, T], or None.  reverse : read each sequence from its last real step
    down to step 0.  nonlinearity : "tanh" or "relu".

    Returns
    -------
    out (T, B, H) (zero at padded steps), h_n (B, H), saved (``RNNSaved``).
    """
    lengths = check_forward("rnn_forward", 1, x, (("h0", h0),), w_ih, w_hh, b_ih, b_hh, lengths)
    check_nonlinearity("rnn_forward", nonlinearity)
    impl = reference.rnn_forward if backend.use_reference() else rnn.rnn_forward
    return impl(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, bool(reverse), nonlinearity)


def rnn_backward(saved, d_out, d_h_n):
    """Gradients of ``rnn_forward``: (dx, dh0, dw_ih, dw_hh, db_ih, db_hh), bias gradients None without bias.

    d_out (T, B, H) and d_h_n (B, H) may be None (zeros). dx is zero at padded steps.
    """
    check_backward("rnn_backward", RNNSaved, saved, [("d_out", d_out, "out"), ("d_h_n", d_h_n, "h_n")])
    impl = reference.rnn_backward if backend.use_reference() else rnn.rnn_backward
    return impl(saved, d_out, d_h_n)


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    """LSTM over a whole sequence, gate order i, f, g, o.

    Parameters
    ----------
    x : (T, B, I).  h0, c0 : (B, H).  w_ih : (4H, I).  w_hh : (4H, H).  b_ih, b_hh : (4H,) or both None.
    lengths : (B,) integers in [1, T], or None.  reverse : as in ``rnn_forward``.

    Returns
    -------
    out (T, B, H), h_n (B, H), c_n (B, H), saved (``LSTMSaved``).
    """
    states = (("h0", h0), ("c0", c0))
    lengths = check_forward("lstm_forward", 4, x, states, w_ih, w_hh, b_ih, b_hh, lengths)
    impl = reference.lstm_forward if backend.use_reference() else lstm.lstm_forward
    return impl(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, bool(reverse))


def lstm_backward(saved, d_out, d_h_n, d_c_n):
    """Gradients of ``lstm_forward``: (dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh).

    d_out (T, B, H), d_h_n and d_c_n (B, H) may be None (zeros). Bias gradients are None without bias.
    """
    grads = [("d_out", d_out, "out"), ("d_h_n", d_h_n, "h_n"), ("d_c_n", d_c_n, "h_n")]
    check_backward("lstm_backward", LSTMSaved, saved, grads)
    impl = reference.lstm_backward if backend.use_reference() else lstm.lstm_backward
    return impl(saved, d_out, d_h_n, d_c_n)


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    """GRU over a whole sequence, gate order r, z, n (b_hn inside the reset product).

    Parameters
    ----------
    x : (T, B, I).  h0 : (B, H).  w_ih : (3H, I).  w_hh : (3H, H).  b_ih, b_hh : (3H,) or both None.
    lengths : (B,) integers in [1, T], or None.  reverse : as in ``rnn_forward``.

    Returns
    -------
    out (T, B, H), h_n (B, H), saved (``GRUSaved``).
    """
    lengths = check_forward("gru_forward", 3, x, (("h0", h0),), w_ih, w_hh, b_ih, b_hh, lengths)
    impl = reference.gru_forward if backend.use_reference() else gru.gru_forward
    return impl(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, bool(reverse))


def gru_backward(saved, d_out, d_h_n):
    """Gradients of ``gru_forward``: (dx, dh0, dw_ih, dw_hh, db_ih, db_hh), bias gradients None without bias.

    d_out (T, B, H) and d_h_n (B, H) may be None (zeros).
    """
    check_backward("gru_backward", GRUSaved, saved, [("d_out", d_out, "out"), ("d_h_n", d_h_n, "h_n")])
    impl = reference.gru_backward if backend.use_reference() else gru.gru_backward
    return impl(saved, d_out, d_h_n)


def matmul(a, b):
    """a @ b for 2-D float arrays of one dtype: (m, k) @ (k, n) -> (m, n).

    The numba backend picks by size between a numba loop and BLAS; the crossover measured on this
    project's machine is documented in ``microseq.kernels.gemm``.
    """
    check_matmul(a, b)
    return reference.matmul(a, b) if backend.use_reference() else _fast_matmul(a, b)
