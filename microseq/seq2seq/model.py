"""The encoder-decoder with attention: ``Encoder``, ``Decoder``, ``Seq2Seq``, and the masked sequence loss.

Shapes: B batch, S source length, T target length, E embedding size, H decoder hidden size, K encoder output
size (D * encoder hidden, D = 2 if bidirectional), V target vocabulary size.

The encoder reads the whole padded source at once with a recurrent layer (fused kernels, ``lengths`` for the
padding). The decoder must go step by step, because each step reads the attention over the source and, at
decoding time or under scheduled sampling, the token the previous step predicted. One step is
:meth:`Decoder.step`; training (:meth:`Seq2Seq.forward`), greedy and beam search all call it.

Two decoder wirings, after the two papers:

- Bahdanau et al. (2015), ``attention="bahdanau"``: the previous state ``s_{i-1}`` asks the attention for
  a context ``c_i``; the cell reads ``[y_{i-1}; c_i]``; the output layer reads ``tanh(W_p [s_i; c_i; y_{i-1}])``
  (their "deep output", with tanh in place of maxout).
- Luong et al. (2015), ``attention="dot" | "general" | "concat"``: the cell reads ``y_{t-1}`` (and, with
  input feeding, the previous attentional state ``h~_{t-1}``) to give ``h_t``; ``h_t`` asks for ``c_t``; the
  attentional state ``h~_t = tanh(W_c [c_t; h_t])`` feeds the output layer.

The initial decoder state is ``tanh(W_b [h_fwd_S; h_bwd_1])``: a bridge from the encoder's final states
(an LSTM decoder's initial cell state is zero).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from .. import ops
from ..nn import Dropout, Embedding, GRUCell, Linear, LSTMCell, Module, ModuleList, RNNCell
from ..tensor import array_of
from ..tensor import Tensor, as_tensor
from ..training.models import final_state, recurrent_layer
from .attention import make_attention
from .tasks import BOS, EOS, PAD

__all__ = ["Encoder", "Decoder", "DecoderState", "Memory", "Seq2Seq", "Seq2SeqConfig", "sequence_loss", "mask_after_eos",
           "unroll"]

_CELLS = {"rnn": RNNCell, "gru": GRUCell, "lstm": LSTMCell}


def _check_cell(owner: str, cell: str) -> None:
    if cell not in _CELLS:
        raise ValueError(f"{owner}: cell must be one of {', '.join(map(repr, _CELLS))}, got {cell!r}")


# ------------------------------------------------------------------------------------------------------
# Encoder
# ------------------------------------------------------------------------------------------------------
class Encoder(Module):
    """Embedding then a recurrent layer over the whole source, padding handled by ``lengths``.

    Parameters
    ----------
    vocab_size, embedding_size, hidden_size : int
    num_layers : int
    bidirectional : bool
    cell : "rnn", "gru" or "lstm"
    dropout : float
        Between stacked layers (as in PyTorch).
    fused : bool
        Run the recurrent layer with the fused kernels (default) or the composed cells (same numbers).

    Call ``encoder(src, lengths)`` with src (B, S) int and lengths (B,) int; returns ``outputs`` (B, S, K),
    zero at padded positions, and ``final`` (B, K): the last layer's final state of each direction,
    concatenated (forward after each sequence's last symbol, backward after its first).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = True,
        cell: str = "gru",
        dropout: float = 0.0,
        fused: bool = True,
    ) -> None:
        super().__init__()
        _check_cell("Encoder", cell)
        self.cell = cell
        self.num_directions = 2 if bidirectional else 1
        self.output_size = self.num_directions * hidden_size
        self.embedding = Embedding(vocab_size, embedding_size, padding_idx=PAD)
        self.rnn = recurrent_layer(cell, embedding_size, hidden_size, num_layers, dropout, bidirectional, fused=fused)

    def forward(self, src, lengths) -> tuple[Tensor, Tensor]:
        src = array_of(src)
        if src.ndim != 2:
            raise ValueError(f"Encoder: src must be (B, S) integer indices, got shape {src.shape}")
        outputs, h_n = self.rnn(self.embedding(src), lengths=array_of(lengths))
        return outputs, final_state(h_n, self.num_directions == 2)


# ------------------------------------------------------------------------------------------------------
# Decoder
# ------------------------------------------------------------------------------------------------------
def _select(x, rows: np.ndarray):
    """``x`` (a Tensor, a tuple of them, or None) with its batch rows picked by ``rows``."""
    if x is None:
        return None
    if isinstance(x, tuple):
        return tuple(_select(part, rows) for part in x)
    return x[rows]


@dataclass
class Memory:
    """What the decoder attends to.

    Attributes
    ----------
    keys : Tensor (B, S, K)
        The encoder outputs.
    mask : bool array (B, S)
        True at real source positions, False at padding.
    prepared : Tensor or None
        The source-only part of the attention score (see :meth:`Attention.prepare`), computed once.
    """

    keys: Tensor
    mask: np.ndarray
    prepared: Tensor | None

    def select(self, rows: np.ndarray) -> "Memory":
        """The memory of the batch rows ``rows`` (repeats allowed: that is how beam search widens it)."""
        return Memory(self.keys[rows], self.mask[rows], _select(self.prepared, rows))


@dataclass
class DecoderState:
    """The decoder's recurrent state between steps.

    Attributes
    ----------
    hidden : tuple
        One entry per layer: a Tensor (B, H), or a pair (h, c) of them for an LSTM decoder.
    feed : Tensor (B, H) or None
        The previous attentional state h~ (Luong with input feeding), else None.
    """

    hidden: tuple
    feed: Tensor | None

    def select(self, rows: np.ndarray) -> "DecoderState":
        return DecoderState(tuple(_select(h, rows) for h in self.hidden), _select(self.feed, rows))

    @property
    def top(self) -> Tensor:
        """The top layer's hidden output (B, H)."""
        last = self.hidden[-1]
        return last[0] if isinstance(last, tuple) else last


class Decoder(Module):
    """An attention decoder that runs one step at a time (see the module docstring for both wirings).

    Parameters
    ----------
    vocab_size, embedding_size, hidden_size : int
    memory_size : int
        K, the size of the encoder outputs it attends to.
    attention : "bahdanau", "dot", "general" or "concat"
    cell : "rnn", "gru" or "lstm"
    num_layers : int
        Stacked cells; attention reads and feeds the top one.
    input_feeding : bool
        Luong only: feed the previous attentional state to the next step's input.
    attention_size : int, optional
        Hidden size of the additive / concat scores (default ``hidden_size``).
    dropout : float
        On the embeddings, between stacked cells and before the output layer (training only).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_size: int,
        hidden_size: int,
        memory_size: int,
        attention: str = "bahdanau",
        cell: str = "gru",
        num_layers: int = 1,
        input_feeding: bool = True,
        attention_size: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        _check_cell("Decoder", cell)
        if num_layers < 1:
            raise ValueError(f"Decoder: num_layers must be at least 1, got {num_layers}")
        self.cell, self.hidden_size, self.num_layers = cell, hidden_size, num_layers
        self.luong = attention != "bahdanau"
        self.input_feeding = bool(input_feeding) and self.luong
        self.embedding = Embedding(vocab_size, embedding_size, padding_idx=PAD)
        self.attention = make_attention(attention, hidden_size, memory_size, attention_size)
        extra = (hidden_size if self.input_feeding else 0) if self.luong else memory_size
        self.cells = ModuleList(
            _CELLS[cell](embedding_size + extra if layer == 0 else hidden_size, hidden_size) for layer in range(num_layers)
        )
        self.bridge = Linear(memory_size, num_layers * hidden_size)
        if self.luong:
            self.attentional = Linear(memory_size + hidden_size, hidden_size, bias=False)  # W_c
        else:
            self.deep_output = Linear(hidden_size + memory_size + embedding_size, hidden_size, bias=False)  # W_p
        self.output = Linear(hidden_size, vocab_size)
        self.dropout = Dropout(dropout)

    def init_state(self, encoder_final: Tensor) -> DecoderState:
        """The state before the first step: ``tanh(bridge(encoder_final))``, split into the layers."""
        starts = ops.split(ops.tanh(self.bridge(encoder_final)), self.hidden_size, axis=-1)
        if self.cell == "lstm":
            zeros = Tensor(np.zeros_like(starts[0].data))
            hidden = tuple((h, zeros) for h in starts)
        else:
            hidden = tuple(starts)
        batch = encoder_final.shape[0]
        feed = Tensor(np.zeros((batch, self.hidden_size), dtype=encoder_final.dtype)) if self.input_feeding else None
        return DecoderState(hidden, feed)

    def memory(self, keys: Tensor, mask: np.ndarray) -> Memory:
        return Memory(keys, mask, self.attention.prepare(keys))

    def _advance(self, x: Tensor, hidden: tuple) -> tuple:
        """Run the stacked cells one step."""
        new = []
        for layer, cell in enumerate(self.cells):
            state = cell(x, hidden[layer])
            new.append(state)
            x = state[0] if isinstance(state, tuple) else state
            if layer + 1 < self.num_layers:
                x = self.dropout(x)
        return tuple(new)

    def step(self, prev_tokens, state: DecoderState, memory: Memory) -> tuple[Tensor, DecoderState, Tensor]:
        """One decoding step.

        Parameters
        ----------
        prev_tokens : int array (B,)
            The previous target symbols (BOS at the first step).
        state : DecoderState
        memory : Memory

        Returns
        -------
        logits : Tensor (B, V)
        state : DecoderState after the step
        weights : Tensor (B, S), the attention weights of this step
        """
        embedded = self.dropout(self.embedding(np.asarray(prev_tokens)))
        attend = self.attention
        if self.luong:
            x = ops.concatenate([embedded, state.feed], axis=-1) if self.input_feeding else embedded
            hidden = self._advance(x, state.hidden)
            new_state = DecoderState(hidden, None)
            context, weights = attend(new_state.top, memory.keys, memory.mask, memory.prepared)
            pre_output = ops.tanh(self.attentional(ops.concatenate([context, new_state.top], axis=-1)))
            if self.input_feeding:
                new_state.feed = pre_output
        else:
            context, weights = attend(state.top, memory.keys, memory.mask, memory.prepared)
            hidden = self._advance(ops.concatenate([embedded, context], axis=-1), state.hidden)
            new_state = DecoderState(hidden, None)
            pre_output = ops.tanh(self.deep_output(ops.concatenate([new_state.top, context, embedded], axis=-1)))
        return self.output(self.dropout(pre_output)), new_state, weights


# ------------------------------------------------------------------------------------------------------
# The whole model
# ------------------------------------------------------------------------------------------------------
@dataclass
class Seq2SeqConfig:
    """Everything needed to rebuild a :class:`Seq2Seq` (saved next to its weights).

    ``hidden_size`` and ``layers`` are the encoder's (per direction); ``decoder_hidden_size`` defaults to the
    encoder's output size, ``hidden_size`` times its directions (what ``attention="dot"`` needs).
    """

    source_vocab_size: int
    target_vocab_size: int
    embedding_size: int = 32
    hidden_size: int = 64
    decoder_hidden_size: int | None = None
    layers: int = 1
    decoder_layers: int = 1
    bidirectional: bool = True
    cell: str = "gru"
    attention: str = "bahdanau"
    attention_size: int | None = None
    input_feeding: bool = True
    dropout: float = 0.0

    def __post_init__(self) -> None:
        encoder_output = self.hidden_size * (2 if self.bidirectional else 1)
        if self.decoder_hidden_size is None:
            self.decoder_hidden_size = encoder_output
        if self.attention == "dot" and self.decoder_hidden_size != encoder_output:
            raise ValueError(f"Seq2SeqConfig: attention dot needs decoder_hidden_size = the encoder's output size "
                             f"({encoder_output}); got {self.decoder_hidden_size}")

    @classmethod
    def from_dict(cls, values: dict) -> "Seq2SeqConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Seq2SeqConfig: unknown keys {unknown}; known: {sorted(known)}")
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)


def mask_after_eos(targets: np.ndarray, eos: int = EOS) -> np.ndarray:
    """Boolean (B, T): True up to and including each row's first ``eos``, False after it (and at PAD)."""
    targets = np.asarray(targets)
    is_eos = targets == eos
    ended_before = (np.cumsum(is_eos, axis=1) - is_eos) > 0
    return ~ended_before & (targets != PAD)


def sequence_loss(logits, targets, eos: int = EOS) -> Tensor:
    """Mean cross entropy per target token, counting each sequence up to and including its first EOS.

    Parameters
    ----------
    logits : Tensor (B, T, V)
    targets : int array (B, T)
        What each step should predict (``Batch.targets``). Positions after the first EOS, and padding,
        add nothing to the loss or its gradient, whatever the model predicted there.
    """
    logits = as_tensor(logits)
    targets = array_of(targets)
    if logits.ndim != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(f"sequence_loss: logits must be (B, T, V) and targets (B, T), got {logits.shape} and {targets.shape}")
    counted = np.where(mask_after_eos(targets, eos), targets, -100)
    return ops.cross_entropy(ops.reshape(logits, (-1, logits.shape[-1])), counted.reshape(-1), ignore_index=-100)


class Seq2Seq(Module):
    """Encoder, attention decoder, and the training-time loop over target steps.

    Parameters
    ----------
    encoder : Encoder
    decoder : Decoder
        ``decoder``'s memory size must equal ``encoder.output_size``.
    bos, eos : int
        The begin and end symbols of the target vocabulary.
    """

    def __init__(self, encoder: Encoder, decoder: Decoder, bos: int = BOS, eos: int = EOS) -> None:
        super().__init__()
        if decoder.attention.key_size != encoder.output_size:
            raise ValueError(
                f"Seq2Seq: the decoder attends to vectors of size {decoder.attention.key_size}, the encoder "
                f"outputs {encoder.output_size}"
            )
        self.encoder, self.decoder = encoder, decoder
        self.bos, self.eos = bos, eos
        self.config: Seq2SeqConfig | None = None

    @classmethod
    def from_config(cls, config: Seq2SeqConfig | dict, fused: bool = True) -> "Seq2Seq":
        """A fresh model (initialised from the global generator, see :func:`microseq.manual_seed`)."""
        c = config if isinstance(config, Seq2SeqConfig) else Seq2SeqConfig.from_dict(config)
        encoder = Encoder(
            c.source_vocab_size, c.embedding_size, c.hidden_size, c.layers, c.bidirectional, c.cell,
            c.dropout, fused=fused,
        )
        decoder = Decoder(
            c.target_vocab_size, c.embedding_size, c.decoder_hidden_size, encoder.output_size, c.attention, c.cell,
            c.decoder_layers, c.input_feeding, c.attention_size, c.dropout,
        )
        model = cls(encoder, decoder)
        model.config = c
        return model

    def encode(self, src, src_lengths) -> tuple[Memory, DecoderState]:
        """Run the encoder: the memory to attend to and the decoder's initial state."""
        src = array_of(src)
        lengths = array_of(src_lengths)
        keys, final = self.encoder(src, lengths)
        mask = np.arange(src.shape[1])[None, :] < lengths[:, None]
        return self.decoder.memory(keys, mask), self.decoder.init_state(final)

    def forward(
        self,
        src,
        src_lengths,
        tgt_in,
        teacher_forcing_ratio: float = 1.0,
        generator: np.random.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Logits for every target step, feeding the truth or the model's own previous prediction.

        At step t > 0 each sequence reads ``tgt_in[:, t]`` (teacher forcing) with probability
        ``teacher_forcing_ratio``, else the argmax of its own logits at step t - 1 (Bengio et al.'s
        scheduled sampling draws this coin per token). Ratio 1 is plain teacher forcing and draws nothing;
        ratio 0 always feeds the argmax.

        Parameters
        ----------
        src : int array (B, S)
        src_lengths : int array (B,)
        tgt_in : int array (B, T)
            BOS then the target (``Batch.decoder_inputs``).
        teacher_forcing_ratio : float in [0, 1]
        generator : numpy Generator, optional
            For the coins (the global generator by default).

        Returns
        -------
        logits : Tensor (B, T, V)
        weights : Tensor (B, T, S), the attention weights of every step
        """
        if not 0.0 <= teacher_forcing_ratio <= 1.0:
            raise ValueError(f"Seq2Seq: teacher_forcing_ratio must be in [0, 1], got {teacher_forcing_ratio}")
        tgt_in = array_of(tgt_in)
        if tgt_in.ndim != 2 or tgt_in.shape[1] < 1:
            raise ValueError(f"Seq2Seq: tgt_in must be (B, T) integer indices with T >= 1, got shape {tgt_in.shape}")
        memory, state = self.encode(src, src_lengths)
        return unroll(self.decoder, memory, state, tgt_in, teacher_forcing_ratio, generator)


def unroll(decoder, memory, state, tgt_in: np.ndarray, teacher_forcing_ratio: float = 1.0,
           generator: np.random.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Run ``decoder.step`` over every target step, with teacher forcing or scheduled sampling.

    Shared by every model that decodes step by step (:class:`Seq2Seq`, the captioning models). At step
    t > 0 each sequence reads ``tgt_in[:, t]`` with probability ``teacher_forcing_ratio``, else the argmax of
    its own logits at step t - 1.

    Returns
    -------
    logits : Tensor (B, T, V)
    weights : Tensor (B, T, S), the attention weights of every step
    """
    if generator is None and 0.0 < teacher_forcing_ratio < 1.0:
        from ..random import default_generator

        generator = default_generator()
    tokens = tgt_in[:, 0]
    all_logits, all_weights = [], []
    for t in range(tgt_in.shape[1]):
        logits, state, weights = decoder.step(tokens, state, memory)
        all_logits.append(logits)
        all_weights.append(weights)
        if t + 1 < tgt_in.shape[1]:
            tokens = _next_input(tgt_in[:, t + 1], logits, teacher_forcing_ratio, generator)
    return ops.stack(all_logits, axis=1), ops.stack(all_weights, axis=1)


def _next_input(truth: np.ndarray, logits: Tensor, ratio: float, generator) -> np.ndarray:
    if ratio >= 1.0:
        return truth
    predicted = np.argmax(logits.data, axis=-1)
    if ratio <= 0.0:
        return predicted
    return np.where(generator.random(truth.shape[0]) < ratio, truth, predicted)
