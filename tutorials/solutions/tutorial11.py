"""Solutions of tutorial 11 (image captioning and visual question answering)."""

from __future__ import annotations

import numpy as np

import microseq as ms
from microseq.nn import functional as F


def _shifted_slices(x, kh, kw, stride, padding):
    """For each window offset (i, j), row by row, the pixel every output position reads there: kH * kW tensors
    (B, C, OH, OW)."""
    oh, ow = ((n + 2 * padding - k) // stride + 1 for n, k in zip(x.shape[2:], (kh, kw)))
    xp = F.pad(x, (padding, padding, padding, padding))
    return [xp[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
            for i in range(kh) for j in range(kw)]


def conv2d_by_hand(x, weight, bias, stride=1, padding=0):
    """Cross-correlation as im2col and one product, from differentiable ops. x (B, C, H, W), weight (O, C, kH, kW),
    bias (O,) -> (B, O, OH, OW)."""
    O, C, kh, kw = weight.shape
    shifted = _shifted_slices(x, kh, kw, stride, padding)
    B, _, oh, ow = shifted[0].shape
    cols = ms.reshape(ms.stack(shifted, axis=2), (B, C * kh * kw, oh * ow))  # rows ordered (c, i, j)
    y = ms.matmul(ms.reshape(weight, (O, C * kh * kw)), cols)  # (O, K) @ (B, K, L) -> (B, O, L)
    return ms.reshape(y, (B, O, oh, ow)) + ms.reshape(bias, (1, O, 1, 1))


def _softmax(scores, axis=-1):
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attend(h, annotations, w, u, v, w_beta, b_beta):
    """Soft additive attention over a grid, gated: returns z (B, D) and alpha (B, L)."""
    scores = np.tanh((h @ w.T)[:, None, :] + annotations @ u.T) @ v  # e_i = v^T tanh(W h + U a_i), (B, L)
    alpha = _softmax(scores, axis=1)  # a distribution over the grid
    beta = 1 / (1 + np.exp(-(h @ w_beta.T + b_beta)))  # (B, 1), how much to read at all
    return beta * np.einsum("bl,bld->bd", alpha, annotations), alpha


def answer_logits(q, annotations, w, u, v, w_1, b_1, w_2, b_2):
    """Question-guided attention and the answer classifier: returns logits (B, A) and alpha (B, L)."""
    alpha = _softmax(np.tanh((q @ w.T)[:, None, :] + annotations @ u.T) @ v, axis=1)
    z = np.einsum("bl,bld->bd", alpha, annotations)
    hidden = np.maximum(np.concatenate([q, z], axis=-1) @ w_1.T + b_1, 0)  # relu(W_1 [q; z] + b_1)
    return hidden @ w_2.T + b_2, alpha


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def conv2d_flipping_the_kernel(x, weight, bias, stride=1, padding=0):
    """The textbook convolution (kernel flipped): deep learning's "convolution" is a cross-correlation."""
    return conv2d_by_hand(x, ms.flip(weight, (2, 3)), bias, stride, padding)


def conv2d_columns_by_offset_first(x, weight, bias, stride=1, padding=0):
    """Orders the columns' rows (i, j, c) while the weight is flattened (c, i, j)."""
    O, C, kh, kw = weight.shape
    shifted = _shifted_slices(x, kh, kw, stride, padding)
    B, _, oh, ow = shifted[0].shape
    cols = ms.reshape(ms.stack(shifted, axis=1), (B, kh * kw * C, oh * ow))
    y = ms.matmul(ms.reshape(weight, (O, C * kh * kw)), cols)
    return ms.reshape(y, (B, O, oh, ow)) + ms.reshape(bias, (1, O, 1, 1))


def attend_softmax_over_the_batch(h, annotations, w, u, v, w_beta, b_beta):
    """Normalises the scores along the wrong axis: each grid position sums to one over the batch."""
    scores = np.tanh((h @ w.T)[:, None, :] + annotations @ u.T) @ v
    alpha = _softmax(scores, axis=0)
    beta = 1 / (1 + np.exp(-(h @ w_beta.T + b_beta)))
    return beta * np.einsum("bl,bld->bd", alpha, annotations), alpha


def attend_without_the_gate(h, annotations, w, u, v, w_beta, b_beta):
    """Forgets beta: reads the whole context at every step."""
    alpha = _softmax(np.tanh((h @ w.T)[:, None, :] + annotations @ u.T) @ v, axis=1)
    return np.einsum("bl,bld->bd", alpha, annotations), alpha


def answer_from_the_mean_feature(q, annotations, w, u, v, w_1, b_1, w_2, b_2):
    """Question-blind: reads the average of the grid (uniform weights) whatever the question asks."""
    alpha = np.full(annotations.shape[:2], 1 / annotations.shape[1])
    z = annotations.mean(axis=1)
    hidden = np.maximum(np.concatenate([q, z], axis=-1) @ w_1.T + b_1, 0)
    return hidden @ w_2.T + b_2, alpha


def answer_reading_z_before_q(q, annotations, w, u, v, w_1, b_1, w_2, b_2):
    """Concatenates [z; q] where W_1 expects [q; z]."""
    alpha = _softmax(np.tanh((q @ w.T)[:, None, :] + annotations @ u.T) @ v, axis=1)
    z = np.einsum("bl,bld->bd", alpha, annotations)
    hidden = np.maximum(np.concatenate([z, q], axis=-1) @ w_1.T + b_1, 0)
    return hidden @ w_2.T + b_2, alpha


MISTAKES = {"conv2d_by_hand": [conv2d_flipping_the_kernel, conv2d_columns_by_offset_first],
            "attend": [attend_softmax_over_the_batch, attend_without_the_gate],
            "answer_logits": [answer_from_the_mean_feature, answer_reading_z_before_q]}
