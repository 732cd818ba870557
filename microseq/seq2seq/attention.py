"""Attention: which source positions a decoder step reads, and what it reads there.

Every attention here computes one score per source position, turns the scores into weights with a *masked*
softmax, and returns the weighted sum of the source vectors (the context)::

    scores  e_j = score(query, h_j)            (B, S)
    weights a_j = softmax over unmasked j      (B, S), exactly 0 where masked
    context c   = sum_j a_j h_j                (B, K)

Shapes: B batch, S source length, K size of a source vector (a "key", also the value), Q size of the query,
A size of the hidden layer of the additive score.

The families differ in the score and in which decoder state asks:

- additive (Bahdanau et al., 2015): ``e_j = v^T tanh(W s + U h_j)``, the query ``s`` is the *previous*
  decoder state;
- multiplicative (Luong et al., 2015), the query is the *current* decoder state ``h_t``:
  ``dot`` ``h_t . h_j``, ``general`` ``h_t^T W_a h_j``, ``concat`` ``v^T tanh(W_a [h_t; h_j])``;
- scaled dot-product (Vaswani et al., 2017), as a function: ``softmax(q k^T / sqrt(E)) v``.

Masking. Positions where ``mask`` is False (source padding) get weight exactly 0 and receive no gradient. A
row with no unmasked position at all (an empty source) gets all-zero weights, hence a zero context and zero
gradients: never NaN. (PyTorch's ``scaled_dot_product_attention`` returns NaN there; we choose zeros, which
is what "attend to nothing" should read as.)
"""

from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..nn import Linear, Module, Parameter
from ..nn.layers import uniform_parameter
from .._checks import check_broadcasts_to
from ..tensor import Tensor, array_of, as_tensor, record

__all__ = [
    "masked_softmax",
    "scaled_dot_product_attention",
    "Attention",
    "AdditiveAttention",
    "LuongAttention",
    "make_attention",
]


def _mask_array(op: str, mask, shape: tuple) -> np.ndarray | None:
    """``mask`` as a boolean array broadcast to ``shape`` (None stays None), with a clear error."""
    if mask is None:
        return None
    mask = array_of(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{op}: mask must be boolean (True = attend), got dtype {mask.dtype}")
    check_broadcasts_to(op, "mask", mask.shape, shape, "the scores' shape ")
    return np.broadcast_to(mask, shape)


def masked_softmax(scores, mask=None, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` over the positions where ``mask`` is True; masked positions get exactly 0.

    ``y_j = exp(x_j - m) / sum_{k unmasked} exp(x_k - m)`` for unmasked j (m the max over unmasked
    positions), ``y_j = 0`` for masked j. A row with no unmasked position is all zeros (not NaN).

    The vector-Jacobian product is the softmax's, ``y * (g - sum(g * y))``: it is 0 wherever y is 0, so
    masked positions (and fully masked rows) receive no gradient. Masked scores are never read, so they may
    even be inf or NaN.

    Parameters
    ----------
    scores : Tensor, any shape (..., S)
    mask : bool array_like, broadcastable to ``scores``, optional
        True = attend. None attends everywhere (a plain softmax).
    axis : int
    """
    scores = as_tensor(scores)
    if scores.dtype.kind != "f":
        raise TypeError(f"masked_softmax: expected floating-point scores, got dtype {scores.dtype}")
    if mask is None:
        return ops.softmax(scores, axis)
    keep = _mask_array("masked_softmax", mask, scores.shape)
    x = np.where(keep, scores.data, -np.inf)
    with np.errstate(invalid="ignore"):
        m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # fully masked row: any finite shift will do
    e = np.where(keep, np.exp(x - m), 0).astype(scores.dtype)
    total = np.sum(e, axis=axis, keepdims=True)
    y = e / np.where(total > 0, total, 1)
    return record("masked_softmax", y, (scores,), lambda g, _x, y: (y * (g - np.sum(g * y, axis=axis, keepdims=True)),))


def scaled_dot_product_attention(query, key, value, mask=None, return_weights: bool = False):
    """``softmax(q k^T / sqrt(E)) v`` with an optional boolean mask (True = attend).

    Parameters
    ----------
    query : Tensor, shape (..., L, E)
    key : Tensor, shape (..., S, E)
    value : Tensor, shape (..., S, Ev)
    mask : bool array_like, broadcastable to (..., L, S), optional
        Masked positions get weight exactly 0; a fully masked query row gets zero weights and a zero output.
    return_weights : bool
        Also return the attention weights.

    Returns
    -------
    Tensor, shape (..., L, Ev), and the weights (..., L, S) if ``return_weights``.
    """
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(
            "scaled_dot_product_attention: query, key and value need at least 2 dimensions (..., L, E), got "
            f"shapes {query.shape}, {key.shape}, {value.shape}"
        )
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"scaled_dot_product_attention: query size {query.shape[-1]} (shape {query.shape}) differs from key "
            f"size {key.shape[-1]} (shape {key.shape})"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: key has {key.shape[-2]} positions (shape {key.shape}), value has "
            f"{value.shape[-2]} (shape {value.shape})"
        )
    scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) * (1.0 / math.sqrt(query.shape[-1]))
    weights = masked_softmax(scores, mask)
    output = ops.matmul(weights, value)
    return (output, weights) if return_weights else output


class Attention(Module):
    """Base class: a score function, turned into weights and a context the same way for every variant.

    Subclasses define :meth:`score`, and :meth:`prepare` when part of the score depends on the source only
    (it is then computed once per source sequence, not once per decoder step).

    Call: ``attention(query, keys, mask=None, prepared=None) -> (context, weights)`` with
    query (B, Q), keys (B, S, K), mask (B, S) bool (True = real position), context (B, K), weights (B, S).
    """

    query_size: int
    key_size: int

    def prepare(self, keys: Tensor) -> Tensor | None:
        """The part of the score that depends on the keys only (None when there is none)."""
        return None

    def score(self, query: Tensor, keys: Tensor, prepared: Tensor | None) -> Tensor:
        """Unnormalised scores e, shape (B, S)."""
        raise NotImplementedError

    def forward(self, query, keys, mask=None, prepared=None) -> tuple[Tensor, Tensor]:
        query, keys = as_tensor(query), as_tensor(keys)
        name = type(self).__name__
        if keys.ndim != 3 or keys.shape[-1] != self.key_size:
            raise ValueError(f"{name}: keys must have shape (B, S, {self.key_size}), got {keys.shape}")
        if query.shape != (keys.shape[0], self.query_size):
            raise ValueError(f"{name}: query must have shape ({keys.shape[0]}, {self.query_size}), got {query.shape}")
        if mask is not None:
            mask = array_of(mask)
            if mask.shape != keys.shape[:2]:
                raise ValueError(f"{name}: mask must have shape {keys.shape[:2]} (B, S), got {mask.shape}")
        if prepared is None:
            prepared = self.prepare(keys)
        weights = masked_softmax(self.score(query, keys, prepared), mask)
        context = ops.squeeze(ops.matmul(ops.unsqueeze(weights, 1), keys), 1)  # (B, 1, S) @ (B, S, K)
        return context, weights


class AdditiveAttention(Attention):
    """Bahdanau's additive attention: ``e_j = v^T tanh(W s + U h_j)``.

    The query ``s`` is the decoder state *before* the step (Bahdanau et al., 2015, eq. 6). ``U h_j`` is the
    prepared part, computed once per source sequence.

    Parameters
    ----------
    query_size : int
        Q, the decoder state size.
    key_size : int
        K, the encoder output size (2H for a bidirectional encoder of hidden size H).
    attention_size : int, optional
        A, the size of the hidden layer of the score; defaults to ``query_size``.

    Parameters of the module: ``W.weight`` (A, Q), ``U.weight`` (A, K), ``v`` (A,).
    """

    def __init__(self, query_size: int, key_size: int, attention_size: int | None = None, dtype=np.float32) -> None:
        super().__init__()
        attention_size = attention_size or query_size
        self.query_size, self.key_size, self.attention_size = query_size, key_size, attention_size
        self.W = Linear(query_size, attention_size, bias=False, dtype=dtype)
        self.U = Linear(key_size, attention_size, bias=False, dtype=dtype)
        self.v = uniform_parameter((attention_size,), 1.0 / math.sqrt(attention_size), dtype)

    def prepare(self, keys: Tensor) -> Tensor:
        return self.U(keys)  # (B, S, A)

    def score(self, query, keys, prepared):
        hidden = ops.tanh(prepared + ops.unsqueeze(self.W(query), 1))  # (B, S, A)
        return ops.matmul(hidden, self.v)  # (B, S)

    def extra_repr(self) -> str:
        return f"query_size={self.query_size}, key_size={self.key_size}, attention_size={self.attention_size}"


class LuongAttention(Attention):
    """Luong's multiplicative attention, with the score ``method`` "dot", "general" or "concat".

    - ``dot``: ``e_j = h_t . h_j`` (needs Q == K; no parameters);
    - ``general``: ``e_j = h_t^T W_a h_j``, ``W_a`` of shape (Q, K);
    - ``concat``: ``e_j = v^T tanh(W_a [h_t; h_j])``, ``W_a`` of shape (A, Q + K). Computed as
      ``v^T tanh(W_a[:, :Q] h_t + W_a[:, Q:] h_j)`` so that the key half is applied once per sequence.

    The query is the decoder state *after* the step (Luong et al., 2015, section 3). The attentional state
    ``h~ = tanh(W_c [c; h_t])`` and input feeding belong to the decoder that uses this score
    (:class:`microseq.seq2seq.model.Decoder`).

    Parameters of the module: ``W_a.weight`` (general: (Q, K) stored as Linear(K, Q); concat: (A, Q + K)),
    ``v`` (A,) for concat.
    """

    METHODS = ("dot", "general", "concat")

    def __init__(
        self,
        query_size: int,
        key_size: int,
        method: str = "general",
        attention_size: int | None = None,
        dtype=np.float32,
    ) -> None:
        super().__init__()
        if method not in self.METHODS:
            raise ValueError(f"LuongAttention: method must be one of {self.METHODS}, got {method!r}")
        if method == "dot" and query_size != key_size:
            raise ValueError(
                f"LuongAttention: the dot score needs query and key sizes equal, got {query_size} and {key_size} "
                "(use 'general' or 'concat')"
            )
        self.query_size, self.key_size, self.method = query_size, key_size, method
        self.attention_size = (attention_size or query_size) if method == "concat" else None
        if method == "general":
            self.W_a = Linear(key_size, query_size, bias=False, dtype=dtype)  # h_j -> W_a h_j, size Q
        elif method == "concat":
            self.W_a = Linear(query_size + key_size, self.attention_size, bias=False, dtype=dtype)
            self.v = uniform_parameter((self.attention_size,), 1.0 / math.sqrt(self.attention_size), dtype)

    def prepare(self, keys):
        if self.method == "dot":
            return keys
        if self.method == "general":
            return self.W_a(keys)  # (B, S, Q)
        return ops.matmul(keys, self.W_a.weight[:, self.query_size :].T)  # (B, S, A)

    def score(self, query, keys, prepared):
        if self.method in ("dot", "general"):
            return ops.squeeze(ops.matmul(prepared, ops.unsqueeze(query, 2)), 2)  # (B, S, Q) @ (B, Q, 1)
        query_part = ops.matmul(query, self.W_a.weight[:, : self.query_size].T)  # (B, A)
        return ops.matmul(ops.tanh(prepared + ops.unsqueeze(query_part, 1)), self.v)

    def extra_repr(self) -> str:
        size = f", attention_size={self.attention_size}" if self.method == "concat" else ""
        return f"query_size={self.query_size}, key_size={self.key_size}, method={self.method!r}{size}"


def make_attention(kind: str, query_size: int, key_size: int, attention_size: int | None = None, dtype=np.float32) -> Attention:
    """An attention module by name: "bahdanau" (additive) or "dot", "general", "concat" (Luong)."""
    if kind == "bahdanau":
        return AdditiveAttention(query_size, key_size, attention_size, dtype=dtype)
    if kind in LuongAttention.METHODS:
        return LuongAttention(query_size, key_size, kind, attention_size, dtype=dtype)
    raise ValueError(f"attention must be 'bahdanau', 'dot', 'general' or 'concat', got {kind!r}")
