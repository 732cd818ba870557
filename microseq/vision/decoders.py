"""Caption decoders over a grid of image features, one step at a time (the interface of
:class:`microseq.seq2seq.model.Decoder`, so :func:`~microseq.seq2seq.model.unroll` trains them and
:func:`~microseq.seq2seq.decoding.search` decodes them greedily or by beam search).

Shapes: B batch, L grid positions (h * w of the CNN's last feature map), D feature size (its channels),
E embedding size, H hidden size, V vocabulary size.

- :class:`ShowTellDecoder` (Vinyals et al., 2015): the mean feature, one vector, starts the LSTM
  (``h_0, c_0 = tanh(W_h a_mean), tanh(W_c a_mean)``); after that the decoder sees only its words. Its memory
  is empty (L = 0 in the returned attention weights).
- :class:`AttendTellDecoder` (Xu et al., 2015, soft attention), at every step::

      e_ti    = v^T tanh(W h_{t-1} + U a_i)        additive score of grid position i
      alpha_t = softmax_i(e_t)                      (B, L), sums to one over the grid
      beta_t  = sigmoid(f_beta(h_{t-1}))            (B, 1), the gate: how much to read at all
      z_t     = beta_t * sum_i alpha_ti a_i         (B, D)
      h_t, c_t = LSTM([E y_{t-1}; z_t], (h_{t-1}, c_{t-1}))
      logits  = L_o(E y_{t-1} + L_h h_t + L_z z_t)   the "deep output"

  with ``h_0, c_0`` from MLPs of the mean annotation, and the doubly stochastic penalty
  :func:`attention_penalty` added to the loss.

Word dropout (both decoders, training only): each previous word ``y_{t-1}`` is replaced by ``<pad>`` (a zero
embedding) with probability ``word_dropout``, so the decoder must read the next word from the image rather than
from the word before it. Without it the decoder learns colour-shape bigrams: trained without red triangles,
it says "red circle" for one whatever the image shows.
"""

from __future__ import annotations

import numpy as np

from .. import ops
from ..random import default_generator
from ..nn import Dropout, Embedding, Linear, LSTMCell, Module
from ..seq2seq.attention import AdditiveAttention
from ..seq2seq.model import DecoderState, Memory, mask_after_eos
from ..tensor import Tensor, as_tensor

__all__ = ["ShowTellDecoder", "AttendTellDecoder", "attention_penalty"]

PAD = 0  # the caption vocabulary's padding id (microseq.vision.dataset.caption_vocab)


def _check_annotations(owner: str, annotations, feature_size: int) -> Tensor:
    annotations = as_tensor(annotations)
    if annotations.ndim != 3 or annotations.shape[-1] != feature_size:
        raise ValueError(f"{owner}: annotations must have shape (B, L, {feature_size}), got {annotations.shape}")
    return annotations


class _CaptionDecoder(Module):
    """What both decoders share: the word embedding, the LSTM cell, the initial state from the mean feature."""

    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int, feature_size: int, cell_input: int,
                 dropout: float, word_dropout: float, dtype) -> None:
        super().__init__()
        if not 0.0 <= word_dropout < 1.0:
            raise ValueError(f"{type(self).__name__}: word_dropout must be in [0, 1), got {word_dropout}")
        self.hidden_size, self.feature_size, self.word_dropout = hidden_size, feature_size, word_dropout
        self.embedding = Embedding(vocab_size, embedding_size, padding_idx=PAD, dtype=dtype)
        self.init_h = Linear(feature_size, hidden_size, dtype=dtype)
        self.init_c = Linear(feature_size, hidden_size, dtype=dtype)
        self.cell = LSTMCell(embedding_size + cell_input, hidden_size, dtype=dtype)
        self.dropout = Dropout(dropout)

    def init_state(self, annotations) -> DecoderState:
        """``h_0 = tanh(W_h mean_i a_i)``, ``c_0 = tanh(W_c mean_i a_i)``."""
        mean = ops.mean(_check_annotations(type(self).__name__, annotations, self.feature_size), axis=1)
        return DecoderState(((ops.tanh(self.init_h(mean)), ops.tanh(self.init_c(mean))),), None)

    def read_words(self, prev_tokens) -> Tensor:
        """Embeddings (B, E) of the previous words, each dropped to ``<pad>`` with probability
        ``word_dropout`` in training (the global generator, :func:`microseq.manual_seed`), then dropout."""
        prev_tokens = np.asarray(prev_tokens)
        if self.training and self.word_dropout > 0:
            dropped = default_generator().random(prev_tokens.shape) < self.word_dropout
            prev_tokens = np.where(dropped, PAD, prev_tokens)
        return self.dropout(self.embedding(prev_tokens))


class ShowTellDecoder(_CaptionDecoder):
    """Show and tell: one image vector starts an LSTM language model (no attention).

    Parameters
    ----------
    vocab_size, embedding_size, hidden_size : int
    feature_size : int
        D, channels of the CNN's feature map.
    dropout : float
        On the embeddings and before the output layer (training only).
    word_dropout : float
        Probability that a previous word is read as ``<pad>`` (training only; see the module docstring).
    """

    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int, feature_size: int,
                 dropout: float = 0.0, dtype=np.float32, word_dropout: float = 0.0) -> None:
        super().__init__(vocab_size, embedding_size, hidden_size, feature_size, 0, dropout, word_dropout, dtype)
        self.output = Linear(hidden_size, vocab_size, dtype=dtype)

    def memory(self, annotations) -> Memory:
        """Nothing to attend to: an empty grid (L = 0), kept only for the batch size and dtype."""
        annotations = _check_annotations("ShowTellDecoder", annotations, self.feature_size)
        batch = annotations.shape[0]
        return Memory(Tensor(np.zeros((batch, 0, 1), dtype=annotations.dtype)), np.ones((batch, 0), bool), None)

    def step(self, prev_tokens, state: DecoderState, memory: Memory) -> tuple[Tensor, DecoderState, Tensor]:
        """One word: logits (B, V), the new state, and empty attention weights (B, 0)."""
        embedded = self.read_words(prev_tokens)
        h, c = self.cell(embedded, state.hidden[0])
        weights = Tensor(np.zeros((h.shape[0], 0), dtype=h.dtype))
        return self.output(self.dropout(h)), DecoderState(((h, c),), None), weights


class AttendTellDecoder(_CaptionDecoder):
    """Show, attend and tell: soft additive attention over the grid at every step, gated by beta.

    Parameters
    ----------
    vocab_size, embedding_size, hidden_size : int
    feature_size : int
        D, channels of the CNN's feature map (the annotation vectors' size).
    attention_size : int, optional
        Hidden size of the additive score (default ``hidden_size``).
    dropout : float
    word_dropout : float
        Probability that a previous word is read as ``<pad>`` (training only; see the module docstring).
    """

    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int, feature_size: int,
                 attention_size: int | None = None, dropout: float = 0.0, dtype=np.float32,
                 word_dropout: float = 0.0) -> None:
        super().__init__(vocab_size, embedding_size, hidden_size, feature_size, feature_size, dropout, word_dropout,
                         dtype)
        self.attention = AdditiveAttention(hidden_size, feature_size, attention_size, dtype=dtype)
        self.gate = Linear(hidden_size, 1, dtype=dtype)  # f_beta
        self.out_h = Linear(hidden_size, embedding_size, dtype=dtype)  # L_h
        self.out_z = Linear(feature_size, embedding_size, bias=False, dtype=dtype)  # L_z
        self.output = Linear(embedding_size, vocab_size, dtype=dtype)  # L_o

    def memory(self, annotations) -> Memory:
        """The grid to attend to, with the position-only part of the score ``U a_i`` computed once."""
        annotations = _check_annotations("AttendTellDecoder", annotations, self.feature_size)
        mask = np.ones(annotations.shape[:2], dtype=bool)
        return Memory(annotations, mask, self.attention.prepare(annotations))

    def step(self, prev_tokens, state: DecoderState, memory: Memory) -> tuple[Tensor, DecoderState, Tensor]:
        """One word: logits (B, V), the new state, and this step's attention weights alpha_t (B, L)."""
        h, c = state.hidden[0]
        context, weights = self.attention(h, memory.keys, None, memory.prepared)  # every grid position is real
        z = ops.sigmoid(self.gate(h)) * context
        embedded = self.read_words(prev_tokens)
        h, c = self.cell(ops.concatenate([embedded, z], axis=-1), (h, c))
        logits = self.output(self.dropout(embedded + self.out_h(h) + self.out_z(z)))
        return logits, DecoderState(((h, c),), None), weights


def attention_penalty(weights, targets, eos: int) -> Tensor:
    """The doubly stochastic penalty ``sum_i (1 - sum_t alpha_ti)^2``, averaged over the batch.

    It asks every grid position to be attended about once over the caption. Only the steps the loss counts
    (up to and including each caption's first ``eos``, no padding) enter the sum over t.

    Parameters
    ----------
    weights : Tensor (B, T, L)
    targets : int array (B, T)
    """
    weights = as_tensor(weights)
    targets = np.asarray(targets)
    if weights.ndim != 3 or targets.shape != weights.shape[:2]:
        raise ValueError(f"attention_penalty: weights must be (B, T, L) and targets (B, T), got {weights.shape} "
                         f"and {targets.shape}")
    counted = mask_after_eos(targets, eos).astype(weights.dtype)[:, :, None]
    total = ops.sum(weights * counted, axis=1)  # (B, L)
    return ops.mean(ops.sum((1.0 - total) ** 2, axis=1))
