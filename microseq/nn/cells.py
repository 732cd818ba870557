"""Recurrent cells built from primitive ops: the readable path.

A cell computes one time step. Each function below is the equation of its cell written with microseq's
primitive ops (``linear``, ``sigmoid``, ``tanh``, ``*``, ``+``), so backward needs nothing new: the tape
records every op and replays their gradients. The fused kernels (:mod:`microseq.nn.fused`) compute the same
numbers in one node per sequence; property tests tie the two together.

Conventions are PyTorch's (row vectors, ``x W^T + b``), with the gates stacked in the rows of the weights:
LSTM ``i, f, g, o``; GRU ``r, z, n``.

Shapes: B batch, I input features, H hidden size, G gates (RNN 1, LSTM 4, GRU 3). A cell accepts a batch
``(B, I)`` or a single unbatched vector ``(I,)``; the states then have shape ``(B, H)`` or ``(H,)``.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_float_dtype, check_nonlinearity
from ..ops import chunk, relu, sigmoid, tanh
from ..random import default_generator
from ..tensor import Tensor, as_tensor
from .functional import linear
from .module import Module, Parameter

__all__ = ["rnn_cell", "lstm_cell", "gru_cell", "RNNCell", "LSTMCell", "GRUCell", "NONLINEARITIES"]

NONLINEARITIES = {"tanh": tanh, "relu": relu}


# --------------------------------------------------------------------------------------------------
# The equations
# --------------------------------------------------------------------------------------------------
def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity: str = "tanh") -> Tensor:
    """One step of the Elman RNN: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Parameters
    ----------
    x : Tensor, shape (B, I) or (I,)
    h : Tensor, shape (B, H) or (H,)
    w_ih : Tensor, shape (H, I)
    w_hh : Tensor, shape (H, H)
    b_ih, b_hh : Tensor, shape (H,), or both None
    nonlinearity : "tanh" or "relu"

    Returns
    -------
    h' : Tensor, shape of ``h``
    """
    act = NONLINEARITIES[nonlinearity]
    return act(linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh))


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None) -> tuple[Tensor, Tensor]:
    """One step of the LSTM (Hochreiter & Schmidhuber, with a forget gate), gate order ``i, f, g, o``::

        i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh, 4)
        i, f, o = sigmoid(i), sigmoid(f), sigmoid(o);  g = tanh(g)
        c' = f * c + i * g
        h' = o * tanh(c')                   (projected LSTM: h' = (o * tanh(c')) W_hr^T)

    Parameters
    ----------
    x : Tensor, shape (B, I) or (I,)
    h : Tensor, shape (B, H) or (H,); (B, P) with a projection
    c : Tensor, shape (B, H) or (H,)
    w_ih : Tensor, shape (4H, I)
    w_hh : Tensor, shape (4H, H); (4H, P) with a projection
    b_ih, b_hh : Tensor, shape (4H,), or both None
    w_hr : Tensor, shape (P, H), optional
        Projection of the hidden state (PyTorch's ``proj_size``).

    Returns
    -------
    (h', c') : Tensors of the shapes of ``h`` and ``c``
    """
    i, f, g, o = chunk(linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh), 4, axis=-1)
    i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
    c_next = f * c + i * g
    h_next = o * tanh(c_next)
    return (h_next if w_hr is None else linear(h_next, w_hr)), c_next


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None) -> Tensor:
    """One step of the GRU (Cho et al.), PyTorch's variant, gate order ``r, z, n``::

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
        z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))     # b_hn sits inside the reset product
        h' = (1 - z) * n + z * h

    Parameters
    ----------
    x : Tensor, shape (B, I) or (I,)
    h : Tensor, shape (B, H) or (H,)
    w_ih : Tensor, shape (3H, I)
    w_hh : Tensor, shape (3H, H)
    b_ih, b_hh : Tensor, shape (3H,), or both None

    Returns
    -------
    h' : Tensor, shape of ``h``
    """
    x_r, x_z, x_n = chunk(linear(x, w_ih, b_ih), 3, axis=-1)
    h_r, h_z, h_n = chunk(linear(h, w_hh, b_hh), 3, axis=-1)
    r = sigmoid(x_r + h_r)
    z = sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


# --------------------------------------------------------------------------------------------------
# The modules
# --------------------------------------------------------------------------------------------------
def reset_uniform(module: Module, hidden_size: int) -> None:
    """Fill every parameter of ``module`` from U(-1/sqrt(H), 1/sqrt(H)), in registration order (PyTorch's init)."""
    bound = 1.0 / math.sqrt(hidden_size)
    rng = default_generator()
    for parameter in module.parameters():
        parameter.data[...] = rng.uniform(-bound, bound, size=parameter.shape)
        parameter._version.value += 1


class _CellBase(Module):
    """Parameters, initialisation and input checks shared by the three cells.

    Parameters ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), ``bias_ih`` and ``bias_hh`` (G*H,), each
    drawn from U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch.
    """

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=np.float32) -> None:
        super().__init__()
        name = type(self).__name__
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"{name}: input_size and hidden_size must be positive, got {input_size} and {hidden_size}")
        dtype = check_float_dtype(name, dtype)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = self.gates * hidden_size
        self.weight_ih = Parameter(np.empty((rows, input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((rows, hidden_size), dtype=dtype))
        self.register_parameter("bias_ih", Parameter(np.empty(rows, dtype=dtype)) if bias else None)
        self.register_parameter("bias_hh", Parameter(np.empty(rows, dtype=dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter again from U(-1/sqrt(H), 1/sqrt(H))."""
        reset_uniform(self, self.hidden_size)

    def _check_input(self, x) -> Tensor:
        x = as_tensor(x)
        name = type(self).__name__
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input of shape (B, I) or (I,) with I={self.input_size}, got shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {x.shape[-1]} features (shape {x.shape}), expected input_size={self.input_size}")
        if x.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input has dtype {x.dtype}, the cell's parameters {self.weight_ih.dtype}")
        return x

    def _check_state(self, x: Tensor, state, what: str = "hx") -> Tensor:
        """The state ``what`` as a tensor of shape (B, H) (or (H,) for an unbatched input); zeros if None."""
        expected = x.shape[:-1] + (self.hidden_size,)
        if state is None:
            return Tensor(np.zeros(expected, dtype=x.dtype))
        state = as_tensor(state)
        if state.shape != expected:
            raise ValueError(
                f"{type(self).__name__}: {what} has shape {state.shape}, expected {expected} for an input of shape {x.shape}"
            )
        if state.dtype != x.dtype:
            raise TypeError(f"{type(self).__name__}: {what} has dtype {state.dtype}, expected {x.dtype}")
        return state

    def _weights(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self) -> str:
        bias = "" if self.bias else ", bias=False"
        return f"{self.input_size}, {self.hidden_size}{bias}"


class RNNCell(_CellBase):
    """Elman RNN cell: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)`` with act tanh or relu.

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool
        Without bias, ``bias_ih`` and ``bias_hh`` are None.
    nonlinearity : "tanh" or "relu"
    dtype : float32 (default) or float64

    Call ``cell(x, hx=None)``: x (B, I) or (I,); hx (B, H) or (H,), zeros if None; returns h' like hx.
    """

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", dtype=np.float32) -> None:
        check_nonlinearity("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x, hx=None) -> Tensor:
        x = self._check_input(x)
        return rnn_cell(x, self._check_state(x, hx), *self._weights(), nonlinearity=self.nonlinearity)

    def extra_repr(self) -> str:
        act = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        return super().extra_repr() + act


class LSTMCell(_CellBase):
    """LSTM cell, gate order ``i, f, g, o`` (see :func:`lstm_cell` for the equations).

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool
    dtype : float32 (default) or float64

    Call ``cell(x, hx=None)``: x (B, I) or (I,); hx a pair (h, c) of (B, H) or (H,), zeros if None;
    returns the pair (h', c').
    """

    gates = 4

    def forward(self, x, hx=None) -> tuple[Tensor, Tensor]:
        x = self._check_input(x)
        if hx is None:
            h = c = None
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            h, c = hx
        else:
            raise TypeError(f"LSTMCell: hx must be a pair (h, c) or None, got {type(hx).__name__}")
        return lstm_cell(x, self._check_state(x, h, "h"), self._check_state(x, c, "c"), *self._weights())


class GRUCell(_CellBase):
    """GRU cell, gate order ``r, z, n``, with ``b_hn`` inside the reset product (see :func:`gru_cell`).

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool
    dtype : float32 (default) or float64

    Call ``cell(x, hx=None)``: x (B, I) or (I,); hx (B, H) or (H,), zeros if None; returns h' like hx.
    """

    gates = 3

    def forward(self, x, hx=None) -> Tensor:
        x = self._check_input(x)
        return gru_cell(x, self._check_state(x, hx), *self._weights())
