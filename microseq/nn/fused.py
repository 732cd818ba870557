"""Fused recurrent ops: a whole sequence of one layer and one direction as ONE node on the tape.

The composed path records tens of small ops per time step; here the forward runs one fused kernel from
:mod:`microseq.kernels` over all T steps and saves what its backward needs, and the node's backward calls the
kernel's backward once. The kernels are imported lazily, on the first fused call, so ``import microseq``
never loads numba.

A tape node has one output, but a recurrent layer has several (``out``, ``h_n`` and, for the LSTM, ``c_n``).
So the node's output is the three stacked along time into one array, and the results the caller sees are
basic-slicing views of it::

    packed = [out_0, ..., out_{T-1}, h_n, c_n]     # (T + 2, B, H) for the LSTM, (T + 1, B, H) otherwise
    out, h_n, c_n = packed[:T], packed[T:T + 1], packed[T + 1:T + 2]

The final states keep a leading axis of 1, the (layer * direction) axis of a layer's ``h_n``: a one-layer,
one-direction layer hands them to the caller as they are, with no further op on the tape.

Backward of those slices writes each upstream gradient into its rows of a gradient of the packed shape, the
engine adds them up, and the fused node hands ``g[:T], g[T], g[T + 1]`` to the kernel's backward. An unused
output simply contributes zeros. The engine needs no multi-output nodes; it only looks inside the kernel's
``saved`` tuple to count the bytes on the printed tape and to catch in-place changes of saved inputs.

Shapes: T time, B batch, I input, H hidden, G gates (RNN 1, LSTM 4, GRU 3).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, record

__all__ = ["fused_rnn", "fused_lstm", "fused_gru"]


def _fused(op: str, forward, backward, x: Tensor, states: tuple, weights: tuple, lengths, reverse: bool, **options):
    """Run a kernel pair (``forward``, ``backward``) as one tape node; return (out, *final_states), each final
    state of shape (1, B, H). The one place where a fused node is recorded on the tape."""
    w_ih, w_hh, b_ih, b_hh = weights
    has_bias = b_ih is not None
    *results, saved = forward(
        np.ascontiguousarray(x.data),
        *(s.data for s in states),
        w_ih.data,
        w_hh.data,
        b_ih.data if has_bias else None,
        b_hh.data if has_bias else None,
        lengths=lengths,
        reverse=reverse,
        **options,
    )
    out = results[0]
    steps = out.shape[0]
    packed = np.concatenate([out] + [final[None] for final in results[1:]], axis=0)
    inputs = (x, *states, w_ih, w_hh) + ((b_ih, b_hh) if has_bias else ())

    def backward_rule(g):
        if isinstance(g, Tensor):  # a create_graph backward: the kernels compute first-order gradients only
            raise RuntimeError(f"{op}: the fused kernels have no second derivative; build the layer with fused=False")
        grads = backward(saved, g[:steps], *g[steps:])  # dx, d(initial states), dw_ih, dw_hh, db_ih, db_hh
        return grads if has_bias else grads[:-2]

    node = record(op, packed, inputs, backward_rule)
    return (node[:steps],) + tuple(node[steps + k:steps + k + 1] for k in range(len(results) - 1))


def fused_rnn(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False, nonlinearity="tanh"):
    """One direction of one Elman RNN layer over a whole sequence, as one tape node.

    Parameters
    ----------
    x : Tensor, shape (T, B, I), time-major
    h0 : Tensor, shape (B, H)
    w_ih : Tensor (H, I);  w_hh : Tensor (H, H);  b_ih, b_hh : Tensor (H,), or both None
    lengths : int64 array (B,) with 1 <= L_b <= T, or None
    reverse : bool
        Read each sequence from its last real step L_b - 1 down to step 0 (outputs stay in time order).
    nonlinearity : "tanh" or "relu"

    Returns
    -------
    out : Tensor (T, B, H), zero at padded steps;  h_n : Tensor (1, B, H)
    """
    from .. import kernels  # lazy: numba loads on the first fused call, not at import

    return _fused("rnn (fused)", kernels.rnn_forward, kernels.rnn_backward, x, (h0,), (w_ih, w_hh, b_ih, b_hh),
                  lengths, reverse, nonlinearity=nonlinearity)


def fused_lstm(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False):
    """One direction of one LSTM layer over a whole sequence, as one tape node (gate order i, f, g, o).

    Parameters as :func:`fused_rnn`, with ``c0`` (B, H) and weights of 4H rows.

    Returns
    -------
    out : Tensor (T, B, H);  h_n, c_n : Tensor (1, B, H)
    """
    from .. import kernels

    return _fused("lstm (fused)", kernels.lstm_forward, kernels.lstm_backward, x, (h0, c0),
                  (w_ih, w_hh, b_ih, b_hh), lengths, reverse)


def fused_gru(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False):
    """One direction of one GRU layer over a whole sequence, as one tape node (gate order r, z, n).

    Parameters as :func:`fused_rnn`, with weights of 3H rows.

    Returns
    -------
    out : Tensor (T, B, H);  h_n : Tensor (1, B, H)
    """
    from .. import kernels

    return _fused("gru (fused)", kernels.gru_forward, kernels.gru_backward, x, (h0,), (w_ih, w_hh, b_ih, b_hh),
                  lengths, reverse)
