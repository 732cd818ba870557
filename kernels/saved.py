"""What a forward kernel keeps for its backward: one small NamedTuple per cell type.

Both backends (numba and the NumPy reference) produce and consume the same tuples, so a backward of either
backend accepts the ``saved`` of either forward. Arrays are never modified after the forward returns; ``x``,
``w_ih`` and ``w_hh`` are references to the caller's arrays (``x`` is a copy with padded steps zeroed when
the batch is ragged), so the caller must not modify them between forward and backward.

Shapes: T time, B batch, I input, H hidden, G gates (RNN 1, LSTM 4, GRU 3). Every per-step array is zero
at padded positions (t >= lengths[b]).
"""

from typing import NamedTuple

import numpy as np


class RNNSaved(NamedTuple):
    """Saved by ``rnn_forward`` for ``rnn_backward``.

    Attributes
    ----------
    x : (T, B, I) input, zero at padded steps.
    w_ih : (H, I) input weights.  w_hh : (H, H) recurrent weights.
    h_prev : (T, B, H) state entering step t.  h_new : (T, B, H) state leaving step t.
    lengths : (B,) int64 sequence lengths (T for every sequence when none were given).
    reverse : whether the sequences were read from their last real step down to step 0.
    nonlinearity : "tanh" or "relu".  has_bias : whether b_ih and b_hh were given.
    """

    x: np.ndarray
    w_ih: np.ndarray
    w_hh: np.ndarray
    h_prev: np.ndarray
    h_new: np.ndarray
    lengths: np.ndarray
    reverse: bool
    nonlinearity: str
    has_bias: bool


class LSTMSaved(NamedTuple):
    """Saved by ``lstm_forward`` for ``lstm_backward``.

    Attributes
    ----------
    x : (T, B, I) input, zero at padded steps.
    w_ih : (4H, I) input weights.  w_hh : (4H, H) recurrent weights.
    h_prev, c_prev : (T, B, H) hidden and cell state entering step t.
    gates : (T, B, 4H) activated gates i, f, g, o (after sigmoid / tanh).
    tanh_c : (T, B, H) tanh of the cell state leaving step t.
    lengths : (B,) int64 sequence lengths.  reverse, has_bias : as in ``RNNSaved``.
    """

    x: np.ndarray
    w_ih: np.ndarray
    w_hh: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    gates: np.ndarray
    tanh_c: np.ndarray
    lengths: np.ndarray
    reverse: bool
    has_bias: bool


class GRUSaved(NamedTuple):
    """Saved by ``gru_forward`` for ``gru_backward``.

    Attributes
    ----------
    x : (T, B, I) input, zero at padded steps.
    w_ih : (3H, I) input weights.  w_hh : (3H, H) recurrent weights.
    h_prev : (T, B, H) state entering step t.
    gates : (T, B, 3H) activated gates r, z, n.
    hn : (T, B, H) recurrent part of the candidate before the reset gate, h W_hn^T + b_hn.
    lengths : (B,) int64 sequence lengths.  reverse, has_bias : as in ``RNNSaved``.
    """

    x: np.ndarray
    w_ih: np.ndarray
    w_hh: np.ndarray
    h_prev: np.ndarray
    gates: np.ndarray
    hn: np.ndarray
    lengths: np.ndarray
    reverse: bool
    has_bias: bool
