"""Solutions of tutorial 09 (classification and tagging)."""

from __future__ import annotations

import numpy as np

import microseq as ms


def reverse_padded(x, lengths):
    """Each row's first lengths[b] steps reversed, the padding left where it is. x (B, T, ...) -> same shape."""
    out = np.array(x, copy=True)
    for b, length in enumerate(lengths):
        out[b, :length] = x[b, :length][::-1]
    return out


def masked_loss(logits, targets, mask):
    """Mean cross entropy over the real positions: logits (B, T, C) Tensor, targets (B, T) ints, mask (B, T) bool."""
    log_p = ms.log_softmax(logits, axis=-1)
    rows, steps = np.nonzero(mask)  # the real positions only
    return -log_p[rows, steps, targets[rows, steps]].sum() / int(mask.sum())


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def reverse_whole_rows(x, lengths):
    """Reverses the padded rows end to end: the padding comes first."""
    return np.array(x[:, ::-1], copy=True)


def masked_loss_over_every_position(logits, targets, mask):
    """Zeroes the padded positions but divides by B x T: short sequences get too little weight."""
    log_p = ms.log_softmax(logits, axis=-1)
    rows, steps = np.nonzero(mask)
    return -log_p[rows, steps, targets[rows, steps]].sum() / mask.size


MISTAKES = {"reverse_padded": [reverse_whole_rows], "masked_loss": [masked_loss_over_every_position]}
