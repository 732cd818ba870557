"""Truncated backpropagation through time for stateful language models.

A language model reads a long text window after window and carries its recurrent state from one window to
the next, so it can use context from earlier windows. Gradients, however, only flow back ``window`` steps:
every ``window`` steps the state is *detached* (cut from the tape), and each piece's loss is backpropagated
as soon as it is computed, so memory grows with ``window``, not with the length of the text.

With ``window = seq_len`` this is the classic scheme (detach between batches). A smaller ``window`` also
detaches inside a batch, while the optimizer still steps once per batch.

Exactly equivalent, and how the tests check it: run the model one step at a time over the whole stream,
detach the state whenever ``t % window == 0``, and backpropagate the summed loss once.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..ops import cross_entropy
from .models import detach_state

__all__ = ["tbptt_backward", "lm_loss_sum"]


def tbptt_backward(model, inputs: np.ndarray, targets: np.ndarray, state, window: int, normalizer: float | None = None):
    """Forward and backward of a language model over one batch with truncation every ``window`` steps.

    Gradients accumulate into the parameters' ``.grad``; the caller steps the optimizer.

    Parameters
    ----------
    model : callable ``model(ids, state) -> (logits (B, t, V), state)``
    inputs, targets : int arrays, shape (B, T)
    state : the carried recurrent state, or None for zeros
    window : int
        Gradients flow back at most this many steps; the state is detached at every multiple of it.
    normalizer : float, optional
        The loss is the summed cross entropy divided by this; default: the number of targets (B * T),
        which makes it the mean loss per token.

    Returns
    -------
    loss : float
        The (normalised) loss of the whole batch.
    state : the state after the last step, detached, to carry into the next batch.
    """
    if window < 1:
        raise ValueError(f"tbptt_backward: window must be >= 1, got {window}")
    steps = inputs.shape[1]
    normalizer = targets.size if normalizer is None else normalizer
    total = 0.0
    for start in range(0, steps, window):
        piece = slice(start, start + window)
        logits, state = model(inputs[:, piece], detach_state(state))
        piece_targets = targets[:, piece]
        loss = cross_entropy(logits.reshape(piece_targets.size, -1), piece_targets.reshape(-1), reduction="sum")
        loss = loss / normalizer
        loss.backward()
        total += float(loss.item())
    return total, detach_state(state)


@no_grad()
def lm_loss_sum(model, inputs: np.ndarray, targets: np.ndarray, state):
    """Summed cross entropy (nats) of a batch without gradients, and the state to carry on."""
    logits, state = model(inputs, state)
    loss = cross_entropy(logits.reshape(targets.size, -1), targets.reshape(-1), reduction="sum")
    return float(loss.item()), state
