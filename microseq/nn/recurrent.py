"""Recurrent layers ``RNN``, ``LSTM``, ``GRU``: stacked, bidirectional, variable length, PyTorch's layout.

A layer runs its cell over the sequence once per layer and direction. Two interchangeable engines do it:

- ``fused=True`` (default): one fused kernel call per layer and direction, one node on the tape
  (:mod:`microseq.nn.fused`);
- ``fused=False``: the cell's equations from primitive ops applied step by step (:mod:`microseq.nn.cells`,
  :func:`microseq.nn.unroll.unroll`), the readable path.

Both give the same outputs and gradients (tested), and both follow PyTorch's conventions:

- input (T, B, I), or (B, T, I) with ``batch_first``, or unbatched (T, I); ``h0``/``c0`` (num_layers*D, B, H)
  (``batch_first`` never applies to them), zeros when missing;
- ``output`` (T, B, D*H) from the last layer, ``h_n`` (num_layers*D, B, H) ordered
  [l0 fwd, l0 rev, l1 fwd, ...];
- with ``lengths`` (PyTorch's packed sequences), sequence b ends at step L_b - 1: the forward direction's
  ``h_n[b]`` is its state there, the reverse direction starts there and ends at step 0, outputs at padded steps
  are zero, and padding never changes a real output or gradient;
- dropout (inverted) between layers, only in training, never after the last layer.

Shapes: T time, B batch, I input size, H hidden size, D directions (2 if bidirectional else 1).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._checks import check_float_dtype, check_nonlinearity
from ..ops import concatenate, dropout, swapaxes, unsqueeze
from ..tensor import Tensor, as_tensor
from .cells import gru_cell, lstm_cell, reset_uniform, rnn_cell
from .fused import fused_directions
from .module import Module, Parameter
from .unroll import check_lengths, reverse_sequences, unroll

__all__ = ["RNN", "LSTM", "GRU", "RNNBase"]


class RNNBase(Module):
    """What the three layers share: parameters, checks, the loop over layers and directions, and running one
    direction of one layer on either path.

    A subclass declares only what differs:

    - ``gates``: G, the number of gate blocks stacked in the rows of the weights;
    - ``state_names``: the state of one direction, ``("h0",)`` or ``("h0", "c0")``, in the order that its
      cell and its fused op take them;
    - ``cell``: one step from primitive ops, ``cell(x_t, *state, *weights, **options) -> h'`` or ``(h', c')``;
    - ``kernel``: the name of its fused kernels ("rnn", "lstm", "gru"), which run all directions of a layer over
      the whole sequence as one tape node (:func:`microseq.nn.fused.fused_directions`);
    - ``cell_options``: names of the layer's attributes passed to both as keywords (the RNN's
      ``nonlinearity``);
    - ``projectable``: whether ``proj_size`` is allowed (LSTM only).
    """

    gates = 1
    state_names = ("h0",)
    cell_options: tuple = ()
    projectable = False

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        dtype=np.float32,
        fused: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for what, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")
        if proj_size and not self.projectable:
            raise ValueError(f"{name}: proj_size is supported by LSTM only, got proj_size={proj_size!r}")
        if not isinstance(proj_size, (int, np.integer)) or not 0 <= proj_size < hidden_size:
            raise ValueError(f"{name}: proj_size must be an integer in [0, hidden_size={hidden_size}), got {proj_size!r}")
        dtype = check_float_dtype(name, dtype)
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout={dropout} acts only between stacked layers, and num_layers=1", stacklevel=2
            )
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        self.proj_size = proj_size
        self.fused = fused
        rows, out = self.gates * hidden_size, self.output_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else self.num_directions * out
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                setattr(self, "weight_ih" + suffix, Parameter(np.empty((rows, layer_input), dtype=dtype)))
                setattr(self, "weight_hh" + suffix, Parameter(np.empty((rows, out), dtype=dtype)))
                if bias:
                    setattr(self, "bias_ih" + suffix, Parameter(np.empty(rows, dtype=dtype)))
                    setattr(self, "bias_hh" + suffix, Parameter(np.empty(rows, dtype=dtype)))
                if proj_size:
                    setattr(self, "weight_hr" + suffix, Parameter(np.empty((proj_size, hidden_size), dtype=dtype)))
        self.reset_parameters()

    @property
    def output_size(self) -> int:
        """Size of h per direction: ``proj_size`` for a projected LSTM, else ``hidden_size``."""
        return self.proj_size or self.hidden_size

    @property
    def fused(self) -> bool:
        """Run the fused kernels (True) or the cells composed of primitive ops (False)."""
        return self._fused

    @fused.setter
    def fused(self, value: bool) -> None:
        if value and self.proj_size:
            raise ValueError(
                f"{type(self).__name__}: proj_size={self.proj_size} runs on the composed path only (the fused "
                "kernels have no projection); pass fused=False"
            )
        self._fused = bool(value)

    def reset_parameters(self) -> None:
        """Draw every parameter again from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch does."""
        reset_uniform(self, self.hidden_size)

    def weights(self, layer: int, direction: int = 0) -> tuple:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer and direction (biases None without bias),
        followed by ``weight_hr`` for a projected LSTM."""
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") + (("weight_hr",) if self.proj_size else ())
        return tuple(getattr(self, name + suffix, None) for name in names)

    # -- checks ----------------------------------------------------------------------------------------
    def _check_input(self, input) -> tuple[Tensor, bool]:
        """The input as a time-major (T, B, I) tensor, and whether it came with a batch axis."""
        name = type(self).__name__
        x = as_tensor(input)
        layout = "(B, T, I)" if self.batch_first else "(T, B, I)"
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{name}: expected input of 3 dimensions {layout} or 2 dimensions (T, I), got shape {x.shape}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input has {x.shape[-1]} features (shape {x.shape}), expected input_size={self.input_size}"
            )
        expected_dtype = self.weight_ih_l0.dtype
        if x.dtype != expected_dtype:
            raise TypeError(f"{name}: input has dtype {x.dtype}, the layer's parameters {expected_dtype}")
        if 0 in x.shape:
            raise ValueError(f"{name}: input of shape {x.shape} is empty")
        batched = x.ndim == 3
        if not batched:
            x = unsqueeze(x, 1)
        elif self.batch_first:
            x = swapaxes(x, 0, 1)
        return x, batched

    def _state_size(self, what: str) -> int:
        """Size of one direction's h0 (``output_size``) or c0 (``hidden_size``)."""
        return self.hidden_size if what == "c0" else self.output_size

    def _check_state(self, what: str, state, batch: int, batched: bool, dtype) -> Tensor:
        """One initial state (h0 or c0) as a tensor (num_layers*D, B, H)."""
        layers_directions, size = self.num_layers * self.num_directions, self._state_size(what)
        expected = (layers_directions, batch, size) if batched else (layers_directions, size)
        state = as_tensor(state)
        if state.shape != expected:
            size_name = "proj_size" if size != self.hidden_size else "hidden_size"
            layout = f"(num_layers * num_directions, B, {size_name})" if batched else f"(num_layers * num_directions, {size_name})"
            raise ValueError(f"{type(self).__name__}: {what} has shape {state.shape}, expected {expected} = {layout}")
        if state.dtype != dtype:
            raise TypeError(f"{type(self).__name__}: {what} has dtype {state.dtype}, expected {dtype}")
        return state if batched else unsqueeze(state, 1)

    def _initial_states(self, hx, batch: int, batched: bool, dtype) -> list[tuple]:
        """The initial state of every (layer, direction), in h_n order, each a tuple in ``state_names`` order."""
        count = self.num_layers * self.num_directions
        if hx is None:
            zeros = tuple(Tensor(np.zeros((batch, self._state_size(name)), dtype=dtype)) for name in self.state_names)
            return [zeros] * count
        parts = [self._check_state(name, part, batch, batched, dtype) for name, part in zip(self.state_names, self._split_hx(hx))]
        return [tuple(part[k] for part in parts) for k in range(count)]

    def _split_hx(self, hx) -> tuple:
        """``hx`` as one tensor per state name: the tensor h0, or the pair (h0, c0)."""
        if len(self.state_names) == 1:
            return (hx,)
        if not (isinstance(hx, (tuple, list)) and len(hx) == len(self.state_names)):
            raise TypeError(f"{type(self).__name__}: hx must be a pair (h0, c0) or None, got {type(hx).__name__}")
        return tuple(hx)

    # -- running -----------------------------------------------------------------------------------------
    def _run(self, x: Tensor, states: list, layer: int, lengths) -> list:
        """All directions of one layer: per direction (output (T, B, H), final state as a tuple of (1, B, H)
        tensors, h first, then c for the LSTM). ``states`` holds each direction's initial state tuple."""
        options = {name: getattr(self, name) for name in self.cell_options}
        directions = [(state, self.weights(layer, direction), direction == 1) for direction, state in enumerate(states)]
        if self.fused:  # one node; a bidirectional layer's two directions run at the same time when allowed
            return [(output, tuple(finals)) for output, *finals in fused_directions(self.kernel, x, directions, lengths, **options)]
        return [self._unrolled(x, state, weights, reverse, lengths, options) for state, weights, reverse in directions]

    def _unrolled(self, x: Tensor, state: tuple, weights: tuple, reverse: bool, lengths, options: dict):
        """One direction on the composed path: the cell applied step by step."""
        def step(x_t, state):
            new = self.cell(x_t, *state, *weights, **options)
            return new if isinstance(new, tuple) else (new,)

        if reverse:
            output, final = unroll(step, reverse_sequences(x, lengths), state, lengths)
            output = reverse_sequences(output, lengths)
        else:
            output, final = unroll(step, x, state, lengths)
        return output, tuple(unsqueeze(f, 0) for f in final)

    def forward(self, input, hx=None, lengths=None):
        """Run the layer over a batch of sequences.

        Parameters
        ----------
        input : Tensor, shape (T, B, I), (B, T, I) if ``batch_first``, or unbatched (T, I)
        hx : Tensor (num_layers*D, B, H) for RNN/GRU, pair (h0, c0) of them for LSTM; zeros if None
            (unbatched: (num_layers*D, H)).
        lengths : int array (B,), optional
            Real length of each sequence, 1 <= L_b <= T; later steps are padding.

        Returns
        -------
        output : Tensor (T, B, D*H) (batch_first: (B, T, D*H)), zero at padded steps
        h_n : Tensor (num_layers*D, B, H); LSTM returns (h_n, c_n)
        """
        x, batched = self._check_input(input)
        steps, batch = x.shape[:2]
        if not batched and lengths is not None:
            raise ValueError(f"{type(self).__name__}: lengths need a batched input (3 dimensions), got an unbatched (T, I) one")
        lengths = check_lengths(type(self).__name__, lengths, steps, batch)
        states = self._initial_states(hx, batch, batched, x.dtype)
        finals = []
        for layer in range(self.num_layers):
            if layer > 0:
                x = dropout(x, self.dropout, training=self.training)
            first = layer * self.num_directions
            outputs = []
            for output, final in self._run(x, states[first:first + self.num_directions], layer, lengths):
                outputs.append(output)
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else concatenate(outputs, axis=-1)
        h_c = tuple(_join_layers([final[k] for final in finals]) for k in range(len(self.state_names)))
        if not batched:
            output, h_c = x[:, 0], tuple(s[:, 0] for s in h_c)
        else:
            output = swapaxes(x, 0, 1) if self.batch_first else x
        return output, (h_c if len(h_c) > 1 else h_c[0])

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False, "proj_size": 0}
        for key, default in defaults.items():
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)}"
        return text + ("" if self.fused else ", fused=False")


def _join_layers(parts: list) -> Tensor:
    """h_n (or c_n) from the (1, B, H) final states of every layer and direction, without an op for one."""
    return parts[0] if len(parts) == 1 else concatenate(parts, axis=0)


class RNN(RNNBase):
    """Elman RNN layer: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act tanh or relu.

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int
        Stacked layers; layer k+1 reads layer k's whole output.
    nonlinearity : "tanh" or "relu"
    bias : bool
        Without bias no ``bias_*`` parameters exist.
    batch_first : bool
        Input and output are (B, T, ...); never applies to h0 / h_n.
    dropout : float
        Dropout probability between layers (training only).
    bidirectional : bool
    dtype : float32 (default) or float64, keyword only
    fused : bool, keyword only
        Run the fused kernels (default) or the cells composed of primitive ops. Same results.

    Parameters of layer k: ``weight_ih_l{k}`` (H, I or D*H), ``weight_hh_l{k}`` (H, H), ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (H,), with the suffix ``_reverse`` for the reverse direction.

    Call ``rnn(input, hx=None, lengths=None) -> (output, h_n)``; see :meth:`RNNBase.forward`.
    """

    cell = staticmethod(rnn_cell)
    kernel = "rnn"
    cell_options = ("nonlinearity",)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 *, dtype=np.float32, fused: bool = True) -> None:
        check_nonlinearity("RNN", nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype=dtype, fused=fused)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        act = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        return super().extra_repr() + act


class LSTM(RNNBase):
    """LSTM layer, gate order ``i, f, g, o`` (see :func:`microseq.nn.cells.lstm_cell`).

    Parameters as :class:`RNN` without ``nonlinearity``; weights have 4H rows.

    proj_size : int
        PyTorch's projected LSTM when > 0 (and < hidden_size): ``h_t = (o_t * tanh(c_t)) W_hr^T`` with
        ``weight_hr_l{k}`` (P, H); h0, h_n and each direction's output have size P, ``weight_hh`` is (4H, P).
        Runs on the composed path only (``fused=False``), as the fused kernels have no projection.

    Call ``lstm(input, hx=None, lengths=None) -> (output, (h_n, c_n))`` with ``hx`` None or a pair (h0, c0)
    of (num_layers*D, B, H); see :meth:`RNNBase.forward`.
    """

    gates = 4
    state_names = ("h0", "c0")
    cell = staticmethod(lstm_cell)
    kernel = "lstm"
    projectable = True


class GRU(RNNBase):
    """GRU layer, gate order ``r, z, n`` with ``b_hn`` inside the reset product (see
    :func:`microseq.nn.cells.gru_cell`).

    Parameters as :class:`RNN` without ``nonlinearity``; weights have 3H rows.

    Call ``gru(input, hx=None, lengths=None) -> (output, h_n)``; see :meth:`RNNBase.forward`.
    """

    gates = 3
    cell = staticmethod(gru_cell)
    kernel = "gru"
