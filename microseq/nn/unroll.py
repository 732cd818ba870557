"""Running a cell over a padded batch of sequences, step by step: the composed (readable) recurrent path.

``unroll`` applies a cell ``T`` times and stacks the outputs. With per-sequence ``lengths``, a sequence that
has ended keeps its state (``where(alive, new, old)``) and outputs zeros, so every sequence ends in the state
after its own last step, exactly as if it had been run alone. ``reverse_sequences`` reverses each sequence
within its own length, which is how the reverse direction of a bidirectional layer reads a padded batch.

Shapes: T time, B batch, F features, H hidden size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..ops import getitem, stack, swapaxes, where
from ..tensor import Tensor, array_of, as_tensor
from .module import Module

__all__ = ["check_lengths", "reverse_sequences", "unroll", "Recurrent"]


def check_lengths(layer: str, lengths, steps: int, batch: int) -> np.ndarray | None:
    """``lengths`` as an int64 array of shape (B,) with 1 <= L_b <= T, or None; a clear error otherwise."""
    if lengths is None:
        return None
    array = array_of(lengths)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{layer}: lengths must be integers, got dtype {array.dtype}")
    if array.shape != (batch,):
        raise ValueError(f"{layer}: lengths has shape {array.shape}, expected ({batch},), one length per sequence")
    if array.min() < 1:
        raise ValueError(f"{layer}: every length must be at least 1, got {int(array.min())} for sequence {int(array.argmin())}")
    if array.max() > steps:
        raise ValueError(
            f"{layer}: length {int(array.max())} of sequence {int(array.argmax())} is longer than the input's {steps} time steps"
        )
    return array.astype(np.int64)


def _alive(lengths: np.ndarray, steps: int) -> np.ndarray:
    """Boolean (T, B): whether step t is a real step of sequence b."""
    return np.arange(steps)[:, None] < lengths[None, :]


def reverse_sequences(x, lengths: np.ndarray | None = None, time_axis: int = 0) -> Tensor:
    """Each sequence in reverse order within its own length; padding stays where it is.

    Parameters
    ----------
    x : Tensor, shape (T, B, ...) (or (B, T, ...) with ``time_axis=1``)
    lengths : int array (B,), optional
        Without it every sequence has length T and this is ``x[::-1]``.

    Step t of sequence b comes from step ``L_b - 1 - t`` when ``t < L_b``; padded steps map to themselves.
    Applying it twice gives ``x`` back.
    """
    x = as_tensor(x)
    if time_axis == 1:
        return swapaxes(reverse_sequences(swapaxes(x, 0, 1), lengths), 0, 1)
    if lengths is None:
        return getitem(x, slice(None, None, -1))
    steps, batch = x.shape[:2]
    t = np.arange(steps)[:, None]
    source = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)
    return getitem(x, (source, np.arange(batch)[None, :]))


def _output_of(state):
    """The hidden output of a cell's state: the state itself, or the first of a tuple such as (h, c)."""
    return state[0] if isinstance(state, tuple) else state


def unroll(step: Callable, x, state=None, lengths: np.ndarray | None = None):
    """Apply ``step`` along the time axis: ``state = step(x[t], state)`` for t = 0 .. T-1.

    Parameters
    ----------
    step : callable
        ``step(x_t, state) -> state`` where x_t is (B, F) and the state a Tensor (B, H) or a tuple of them
        whose first element is the output, e.g. (h, c). It receives ``state=None`` at t = 0 if no initial
        state was given (cells then start from zeros).
    x : Tensor, shape (T, B, F), time-major
    state : Tensor, tuple of Tensors, or None
    lengths : int64 array (B,), optional
        Checked lengths (see :func:`check_lengths`). Steps t >= L_b of sequence b are padding: their input
        is replaced by zeros, the state is carried through unchanged and the output is zero.

    Returns
    -------
    outputs : Tensor, shape (T, B, H)
    state : the state after each sequence's last real step
    """
    x = as_tensor(x)
    steps = x.shape[0]
    if lengths is None:
        outputs = []
        for t in range(steps):
            state = step(x[t], state)
            outputs.append(_output_of(state))
        return stack(outputs), state

    alive = _alive(lengths, steps)[:, :, None]  # (T, B, 1)
    x = where(alive, x, 0.0)  # padding values never reach a cell, so they cannot leak into any gradient
    outputs = []
    for t in range(steps):
        new = step(x[t], state)
        if t > 0:  # every sequence has at least one step, so nothing has ended before step 1
            if isinstance(new, tuple):
                new = tuple(where(alive[t], n, s) for n, s in zip(new, state))
            else:
                new = where(alive[t], new, state)
        state = new
        outputs.append(where(alive[t], _output_of(state), 0.0))
    return stack(outputs), state


class Recurrent(Module):
    """Any cell run over a sequence: a layer built from a cell (Keras's ``RNN(cell)``).

    Parameters
    ----------
    cell : Module
        Called as ``cell(x_t, state)`` with x_t (B, F) and state None (zeros) or what it returned last;
        returns a Tensor (B, H) or a tuple whose first element is the output, e.g. ``LSTMCell``'s (h, c).
    batch_first : bool
        Input and output are (B, T, ...) instead of (T, B, ...).

    Call ``layer(input, hx=None, lengths=None)`` -> ``(output, state)``: input (T, B, F), output (T, B, H)
    (zero at padded steps), state the cell's state after each sequence's last real step.
    """

    def __init__(self, cell: Module, batch_first: bool = False) -> None:
        super().__init__()
        self.cell = cell
        self.batch_first = batch_first

    def reset_parameters(self) -> None:
        """Re-initialise the cell (needs the cell's own ``reset_parameters``)."""
        reset = getattr(self.cell, "reset_parameters", None)
        if reset is None:
            raise TypeError(f"Recurrent: the cell {type(self.cell).__name__} has no reset_parameters()")
        reset()

    def forward(self, input, hx=None, lengths=None):
        x = as_tensor(input)
        if x.ndim != 3:
            layout = "(B, T, F)" if self.batch_first else "(T, B, F)"
            raise ValueError(f"Recurrent: expected input of 3 dimensions {layout}, got shape {x.shape}")
        if self.batch_first:
            x = swapaxes(x, 0, 1)
        lengths = check_lengths("Recurrent", lengths, x.shape[0], x.shape[1])
        output, state = unroll(self.cell, x, hx, lengths)
        return (swapaxes(output, 0, 1) if self.batch_first else output), state

    def extra_repr(self) -> str:
        return "batch_first=True" if self.batch_first else ""
