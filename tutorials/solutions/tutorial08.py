"""Solutions of tutorial 08 (a character language model)."""

from __future__ import annotations

import numpy as np


def softmax_vjp(p, g):
    """The gradient at the logits of softmax's output p (N, V), given the upstream gradient g (N, V)."""
    return p * (g - (g * p).sum(axis=-1, keepdims=True))


def embedding_backward(ids, g, vocab_size):
    """dL/dE for rows E[ids]: ids (...) ints, g (..., D) -> (vocab_size, D), summed over repeats."""
    g = np.asarray(g)
    grad = np.zeros((vocab_size, g.shape[-1]), dtype=g.dtype)
    np.add.at(grad, np.asarray(ids).reshape(-1), g.reshape(-1, g.shape[-1]))  # repeated ids add up
    return grad


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def softmax_vjp_as_if_elementwise(p, g):
    """Treats softmax like an element-wise op: only the diagonal of the Jacobian, p (1 - p)."""
    return g * p * (1 - p)


def embedding_backward_with_fancy_index(ids, g, vocab_size):
    """``grad[ids] += g``: a repeated id keeps one contribution, not their sum."""
    g = np.asarray(g)
    grad = np.zeros((vocab_size, g.shape[-1]), dtype=g.dtype)
    grad[np.asarray(ids).reshape(-1)] += g.reshape(-1, g.shape[-1])
    return grad


MISTAKES = {"softmax_vjp": [softmax_vjp_as_if_elementwise], "embedding_backward": [embedding_backward_with_fancy_index]}
