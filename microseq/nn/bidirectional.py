"""``Bidirectional``: Keras's wrapper that runs a layer forward and a second one backward, then merges.

The backward layer reads each sequence reversed within its own length, and its outputs are put back in time
order before the merge, so ``output[t]`` combines what the forward layer saw up to step t with what the
backward layer saw from the sequence's last real step down to t. Padded steps stay zero for every merge mode.

Shapes: T time, B batch, F input features, H hidden size of the wrapped layer.
"""

from __future__ import annotations

import copy

from ..ops import concatenate
from ..tensor import as_tensor
from .module import Module
from .recurrent import RNNBase
from .unroll import Recurrent, check_lengths, reverse_sequences

__all__ = ["Bidirectional"]

MERGE_MODES = {
    "concat": lambda forward, backward: concatenate([forward, backward], axis=-1),
    "sum": lambda forward, backward: forward + backward,
    "mean": lambda forward, backward: (forward + backward) * 0.5,
    "mul": lambda forward, backward: forward * backward,
    None: lambda forward, backward: (forward, backward),
}


def _as_layer(layer_or_cell: Module, role: str) -> Module:
    """A sequence layer: recurrent layers as they are, a cell wrapped in :class:`Recurrent`."""
    if isinstance(layer_or_cell, RNNBase):
        if layer_or_cell.bidirectional:
            raise ValueError(f"Bidirectional: the {role} layer is already bidirectional; wrap a unidirectional one")
        return layer_or_cell
    if isinstance(layer_or_cell, Recurrent):
        return layer_or_cell
    if not isinstance(layer_or_cell, Module):
        raise TypeError(f"Bidirectional: expected a recurrent layer or a cell (a Module), got {type(layer_or_cell).__name__}")
    return Recurrent(layer_or_cell)


class Bidirectional(Module):
    """Run a recurrent layer in both directions and merge the two outputs (Keras's ``Bidirectional``).

    Parameters
    ----------
    layer : Module
        A unidirectional ``RNN``/``LSTM``/``GRU``, a :class:`Recurrent`, or a cell (``RNNCell``,
        ``LSTMCell``, ``GRUCell`` or any module called as ``cell(x_t, state)``), which is wrapped in a
        time-major ``Recurrent``.
    merge_mode : "concat", "sum", "mean", "mul" or None
        How ``output[t]`` combines the two directions: concatenated (last axis 2H), added, averaged,
        multiplied, or None to return both outputs as a pair.
    backward_layer : Module, optional
        The layer for the reverse direction. Default: a copy of ``layer`` with freshly drawn parameters
        (Keras's default), which needs ``reset_parameters()``.

    Call ``bi(input, hx=None, lengths=None) -> (output, (forward_state, backward_state))``: input (T, B, F)
    (or (B, T, F) when the wrapped layer is ``batch_first``), ``hx`` None or a pair of initial states in each
    layer's own format, ``lengths`` (B,) as for the recurrent layers. Sub-modules are named
    ``forward_layer`` and ``backward_layer``.
    """

    def __init__(self, layer: Module, merge_mode: str | None = "concat", backward_layer: Module | None = None) -> None:
        super().__init__()
        if merge_mode not in MERGE_MODES:
            raise ValueError(
                f"Bidirectional: unknown merge_mode {merge_mode!r}; expected 'concat', 'sum', 'mean', 'mul' or None"
            )
        forward_layer = _as_layer(layer, "forward")
        if backward_layer is None:
            backward_layer = copy.deepcopy(forward_layer)
            reset = getattr(backward_layer, "reset_parameters", None)
            if reset is None:
                raise TypeError(
                    f"Bidirectional: {type(layer).__name__} has no reset_parameters() to draw the backward "
                    "layer's own weights; pass backward_layer="
                )
            reset()
            backward_layer.zero_grad()
        else:
            backward_layer = _as_layer(backward_layer, "backward")
        if forward_layer.batch_first != backward_layer.batch_first:
            raise ValueError("Bidirectional: the forward and backward layers disagree on batch_first")
        self.merge_mode = merge_mode
        self.batch_first = forward_layer.batch_first
        self.forward_layer = forward_layer
        self.backward_layer = backward_layer

    def forward(self, input, hx=None, lengths=None):
        x = as_tensor(input)
        if x.ndim != 3:
            layout = "(B, T, F)" if self.batch_first else "(T, B, F)"
            raise ValueError(f"Bidirectional: expected input of 3 dimensions {layout}, got shape {x.shape}")
        time_axis = 1 if self.batch_first else 0
        lengths = check_lengths("Bidirectional", lengths, x.shape[time_axis], x.shape[1 - time_axis])
        if hx is None:
            hx_forward = hx_backward = None
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            hx_forward, hx_backward = hx
        else:
            raise TypeError(f"Bidirectional: hx must be None or a pair (forward state, backward state), got {type(hx).__name__}")
        output_forward, state_forward = self.forward_layer(x, hx_forward, lengths=lengths)
        reversed_input = reverse_sequences(x, lengths, time_axis)
        output_backward, state_backward = self.backward_layer(reversed_input, hx_backward, lengths=lengths)
        output_backward = reverse_sequences(output_backward, lengths, time_axis)
        return MERGE_MODES[self.merge_mode](output_forward, output_backward), (state_forward, state_backward)

    def extra_repr(self) -> str:
        return f"merge_mode={self.merge_mode!r}"
