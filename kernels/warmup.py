"""Compile every numba kernel ahead of use and report how long each took.

numba compiles a kernel on its first call for each new combination of argument types (here: float32 or
float64), and ``cache=True`` stores the machine code next to the sources, so the first call in a later
process only loads it. ``compile_all`` makes those first calls on tiny inputs and times them, which is
what a benchmark reports as compile time (or cache-load time, when the cache is warm).
"""

import time

import numpy as np

from . import gru, lstm, rnn
from .gemm import matmul

# Tiny problem that reaches every compiled function: ragged lengths, bias, and both matmul branches.
_T, _B, _I, _H = 3, 2, 3, 4


def _time(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _recurrent_args(gates, dtype, rng):
    x = rng.standard_normal((_T, _B, _I)).astype(dtype)
    h0 = np.zeros((_B, _H), dtype)
    w_ih = rng.standard_normal((gates * _H, _I)).astype(dtype)
    w_hh = rng.standard_normal((gates * _H, _H)).astype(dtype)
    b = np.zeros(gates * _H, dtype)
    return x, h0, w_ih, w_hh, b, np.array([_T, 1], np.int64)


def compile_all(dtypes=(np.float32, np.float64)):
    """Compile (or load from numba's cache) all kernels for each dtype; return seconds per kernel.

    Parameters
    ----------
    dtypes : the float dtypes to compile for.

    Returns
    -------
    dict mapping e.g. "lstm float32" (forward + backward, tanh and relu for the RNN) or "matmul float64"
    to the seconds its first calls took in this process.
    """
    rng = np.random.default_rng(0)
    seconds = {}
    for dtype in map(np.dtype, dtypes):
        x, h0, w_ih, w_hh, b, lengths = _recurrent_args(1, dtype, rng)

        def run_rnn():
            for nonlinearity in ("tanh", "relu"):
                out, _, saved = rnn.rnn_forward(x, h0, w_ih, w_hh, b, b, lengths, False, nonlinearity)
                rnn.rnn_backward(saved, out, None)

        seconds[f"rnn {dtype}"] = _time(run_rnn)
        x, h0, w_ih, w_hh, b, lengths = _recurrent_args(4, dtype, rng)

        def run_lstm():
            out, _, _, saved = lstm.lstm_forward(x, h0, h0, w_ih, w_hh, b, b, lengths)
            lstm.lstm_backward(saved, out, None, None)

        seconds[f"lstm {dtype}"] = _time(run_lstm)
        x, h0, w_ih, w_hh, b, lengths = _recurrent_args(3, dtype, rng)

        def run_gru():
            out, _, saved = gru.gru_forward(x, h0, w_ih, w_hh, b, b, lengths)
            gru.gru_backward(saved, out, None)

        seconds[f"gru {dtype}"] = _time(run_gru)
        a, c = np.ones((2, 64), dtype), np.ones((64, 64), dtype)  # the loop branch from the interpreter
        seconds[f"matmul {dtype}"] = _time(lambda: matmul(a, c))
    return seconds
