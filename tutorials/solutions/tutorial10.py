"""Solutions of tutorial 10 (sequence to sequence with attention)."""

from __future__ import annotations

import numpy as np


def masked_softmax_by_hand(scores, mask):
    """Softmax over each row's True positions; exactly 0 elsewhere; an all-False row gives zeros. (B, S) -> (B, S)."""
    real = np.where(mask, scores, -np.inf)
    top = real.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # an all-False row: any finite shift will do
    e = np.where(mask, np.exp(real - top), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total > 0, total, 1.0)


def luong_step(h_t, keys, mask, w_a, w_c):
    """Luong's general attention and attentional state: returns h_tilde (B, Q), context (B, K), weights (B, S)."""
    scores = np.einsum("bq,qk,bsk->bs", h_t, w_a, keys)  # e_j = h_t^T W_a h_j
    weights = masked_softmax_by_hand(scores, mask)
    context = np.einsum("bs,bsk->bk", weights, keys)  # c = sum_j a_j h_j
    h_tilde = np.tanh(np.concatenate([context, h_t], axis=-1) @ w_c.T)  # tanh(W_c [c; h])
    return h_tilde, context, weights


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def softmax_then_zero_the_padding(scores, mask):
    """Normalises over every position, then zeroes the padding: the real weights no longer sum to 1."""
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.where(mask, e / e.sum(axis=-1, keepdims=True), 0.0)


def luong_step_reading_h_before_c(h_t, keys, mask, w_a, w_c):
    """Concatenates [h; c] where W_c expects [c; h]."""
    weights = masked_softmax_by_hand(np.einsum("bq,qk,bsk->bs", h_t, w_a, keys), mask)
    context = np.einsum("bs,bsk->bk", weights, keys)
    return np.tanh(np.concatenate([h_t, context], axis=-1) @ w_c.T), context, weights


MISTAKES = {"masked_softmax_by_hand": [softmax_then_zero_the_padding], "luong_step": [luong_step_reading_h_before_c]}
