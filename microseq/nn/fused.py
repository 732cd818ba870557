"""Fused recurrent ops: a whole sequence of one layer (one direction, or both, run at the same time) as ONE node
on the tape.

The composed path records tens of small ops per time step; here the forward runs one fused kernel from
:mod:`microseq.kernels` over all T steps and saves what its backward needs, and the node's backward calls the
kernel's backward once. The kernels are imported lazily, on the first fused call, so ``import microseq``
never loads numba.

A tape node has one output, but a recurrent layer has several (``out``, ``h_n`` and, for the LSTM, ``c_n``).
So the node's output is the three stacked along time into one array, and the results the caller sees are
basic-slicing views of it::

    packed = [out_0, ..., out_{T-1}, h_n, c_n]     # (T + 2, B, H) for the LSTM, (T + 1, B, H) otherwise
    out, h_n, c_n = packed[:T], packed[T:T + 1], packed[T + 1:T + 2]

A bidirectional layer's node stacks the two directions' packed arrays in turn (see ``fused_directions``).
The final states keep a leading axis of 1, the (layer * direction) axis of a layer's ``h_n``: a one-layer,
one-direction layer hands them to the caller as they are, with no further op on the tape.

Backward of those slices writes each upstream gradient into its rows of a gradient of the packed shape, the
engine adds them up, and the fused node hands ``g[:T], g[T], g[T + 1]`` to the kernel's backward. An unused
output simply contributes zeros. The engine needs no multi-output nodes; it only looks inside the kernel's
``saved`` tuple to count the bytes on the printed tape and to catch in-place changes of saved inputs.

Shapes: T time, B batch, I input, H hidden, G gates (RNN 1, LSTM 4, GRU 3).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .._threads import run_concurrently
from ..tensor import Tensor, record

__all__ = ["fused_directions", "fused_rnn", "fused_lstm", "fused_gru"]


def fused_directions(kernel: str, x: Tensor, directions: list, lengths=None, **options) -> list:
    """One layer's directions over a whole sequence as ONE tape node; the one place where a fused node is
    recorded on the tape.

    Parameters
    ----------
    kernel : "rnn", "lstm" or "gru", the kernel pair ``{kernel}_forward`` / ``{kernel}_backward``.
    x : Tensor (T, B, I), read by every direction.
    directions : one or two ``(states, weights, reverse)``: the states (h0,) or (h0, c0) as (B, H) tensors, the
        weights (w_ih, w_hh, b_ih, b_hh) (biases None without bias), and whether the direction runs reversed.
    lengths, options : passed to the kernels.

    Returns
    -------
    One ``(out, *final_states)`` per direction: out (T, B, H), each final state (1, B, H).

    Two directions are independent: their kernels, forward and backward, run at the same time on two threads
    when the thread budget allows (``microseq._threads.run_concurrently``), with the same results bit for bit
    as one after the other. The packed output stacks each direction's ``[out, *finals]`` in turn, and the
    node's inputs list the last direction's first, so that the gradient of ``x`` adds up in the order the
    engine used for two one-direction nodes (it replays the later one first).
    """
    from .. import kernels  # lazy: numba loads on the first fused call, not at import

    forward, backward = getattr(kernels, f"{kernel}_forward"), getattr(kernels, f"{kernel}_backward")
    has_bias = directions[0][1][2] is not None

    def run_forward(states, weights, reverse):
        w_ih, w_hh, b_ih, b_hh = weights
        return forward(np.ascontiguousarray(x.data), *(s.data for s in states), w_ih.data, w_hh.data,
                       b_ih.data if has_bias else None, b_hh.data if has_bias else None, lengths=lengths,
                       reverse=reverse, **options)

    ran = run_concurrently([partial(run_forward, *direction) for direction in directions])
    steps, rows = ran[0][0].shape[0], ran[0][0].shape[0] + len(ran[0]) - 2  # rows of one direction: out, finals
    packed = np.concatenate([part for *results, _ in ran for part in (results[0], *(f[None] for f in results[1:]))])
    saved_first, saved_second = ran[0][-1], ran[1][-1] if len(ran) > 1 else None  # cells the engine looks into
    inputs = ()
    for states, (w_ih, w_hh, b_ih, b_hh), _ in reversed(directions):
        inputs += (x, *states, w_ih, w_hh) + ((b_ih, b_hh) if has_bias else ())

    count = len(directions)

    def backward_rule(g, *_):
        if isinstance(g, Tensor):  # a create_graph backward: the kernels compute first-order gradients only
            raise RuntimeError(f"{op}: the fused kernels have no second derivative; build the layer with fused=False")
        blocks = [g[k * rows:(k + 1) * rows] for k in range(count)]
        savings = (saved_first, saved_second)[:count]
        # each: dx, d(initial states), dw_ih, dw_hh, db_ih, db_hh
        grads = run_concurrently([partial(backward, saved, block[:steps], *block[steps:])
                                  for saved, block in zip(savings, blocks)])
        return tuple(grad for direction in reversed(grads) for grad in (direction if has_bias else direction[:-2]))

    op = f"{kernel} (fused{', both directions' if count > 1 else ''})"
    node = record(op, packed, inputs, backward_rule)
    return [(node[k * rows:k * rows + steps],) + tuple(node[k * rows + j:k * rows + j + 1] for j in range(steps, rows))
            for k in range(count)]


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
    (result,) = fused_directions("rnn", x, [((h0,), (w_ih, w_hh, b_ih, b_hh), reverse)], lengths,
                                 nonlinearity=nonlinearity)
    return result


def fused_lstm(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False):
    """One direction of one LSTM layer over a whole sequence, as one tape node (gate order i, f, g, o).

    Parameters as :func:`fused_rnn`, with ``c0`` (B, H) and weights of 4H rows.

    Returns
    -------
    out : Tensor (T, B, H);  h_n, c_n : Tensor (1, B, H)
    """
    (result,) = fused_directions("lstm", x, [((h0, c0), (w_ih, w_hh, b_ih, b_hh), reverse)], lengths)
    return result


def fused_gru(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False):
    """One direction of one GRU layer over a whole sequence, as one tape node (gate order r, z, n).

    Parameters as :func:`fused_rnn`, with weights of 3H rows.

    Returns
    -------
    out : Tensor (T, B, H);  h_n : Tensor (1, B, H)
    """
    (result,) = fused_directions("gru", x, [((h0,), (w_ih, w_hh, b_ih, b_hh), reverse)], lengths)
    return result
