"""Recurrent models for the training tasks, each a thin head on one recurrent layer stack.

=====================  ===================  ============================  ==============================
model                  input                recurrent stack               head
=====================  ===================  ============================  ==============================
``CharLM``             token ids (B, T)     Embedding -> RNN/LSTM/GRU     Linear per step -> (B, T, V)
``SequenceClassifier`` token ids + lengths  Embedding -> RNN (bi)         Linear on final states -> (B, C)
``SequenceTagger``     token ids + lengths  Embedding -> RNN (bi)         Linear per step -> (B, T, C)
``SequenceRegressor``  features (B, T, F)   RNN (bi)                      Linear on final states -> (B,)
=====================  ===================  ============================  ==============================

Every model is batch-first and rebuilds from ``config()`` (a JSON-friendly dict) through :func:`build_model`,
which is how a checkpoint brings a model back. The recurrent stack runs the fused kernels unless
``fused=False`` (the cells composed of primitive ops: the readable path, same numbers, slower).
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..ops import concatenate, dropout as dropout_op
from ..tensor import Tensor

__all__ = [
    "CELLS", "recurrent_layer", "final_state", "RecurrentModel", "CharLM", "SequenceClassifier", "SequenceTagger",
    "SequenceRegressor", "Tables", "build_model", "detach_state",
]

CELLS = ("rnn", "lstm", "gru")
DTYPES = {"float32": np.float32, "float64": np.float64}


def recurrent_layer(cell: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                    bidirectional: bool = False, nonlinearity: str = "tanh", dtype=np.float32, fused: bool = True):
    """A batch-first ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (``cell``); dropout acts between stacked layers."""
    options = dict(num_layers=num_layers, dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional,
                   batch_first=True, dtype=dtype, fused=fused)
    if cell == "rnn":
        return nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, **options)
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size, **options)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size, **options)
    raise ValueError(f"unknown recurrent cell {cell!r}; expected one of {', '.join(CELLS)}")


def final_state(h_n, bidirectional: bool) -> Tensor:
    """The last layer's final hidden state, both directions concatenated: (B, D*H).

    ``h_n`` is a recurrent layer's final state (L*D, B, H), or an LSTM's pair (h_n, c_n). With lengths, the
    forward direction's state is the one after each sequence's last real step, the reverse direction's the
    one after its first step.
    """
    if isinstance(h_n, tuple):
        h_n = h_n[0]
    return concatenate([h_n[-2], h_n[-1]], axis=-1) if bidirectional else h_n[-1]


def detach_state(state):
    """The recurrent state (a Tensor, or the LSTM's pair) cut from the tape: truncated backpropagation."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class RecurrentModel(nn.Module):
    """What the task models share: the recurrent stack, the dropout on its output, and the config.

    Parameters
    ----------
    input_size : int
        Embedding size (or feature count for :class:`SequenceRegressor`).
    hidden_size : int
        H, per direction.
    cell : "rnn", "lstm" or "gru"
    num_layers : int
    dropout : float
        Applied to the embeddings, to the recurrent stack's output and between its layers (training only).
    bidirectional : bool
    nonlinearity : "tanh" or "relu" (``cell="rnn"`` only)
    dtype : "float32" or "float64"
    fused : bool
    """

    def __init__(self, input_size: int, hidden_size: int, cell: str = "lstm", num_layers: int = 1,
                 dropout: float = 0.0, bidirectional: bool = False, nonlinearity: str = "tanh",
                 dtype: str = "float32", fused: bool = True) -> None:
        super().__init__()
        if dtype not in DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
        self._config = dict(hidden_size=hidden_size, cell=cell, num_layers=num_layers, dropout=dropout,
                            bidirectional=bidirectional, nonlinearity=nonlinearity, dtype=dtype)
        self.cell, self.p = cell, dropout
        self.rnn = recurrent_layer(cell, input_size, hidden_size, num_layers, dropout, bidirectional, nonlinearity,
                                   DTYPES[dtype], fused)
        self.features = hidden_size * (2 if bidirectional else 1)

    @property
    def dtype(self):
        return self.rnn.weight_ih_l0.dtype

    def config(self) -> dict:
        """Constructor arguments, JSON-friendly (``build_model`` turns them back into this model)."""
        return dict(self._config)

    def _drop(self, x: Tensor) -> Tensor:
        return dropout_op(x, self.p, training=self.training)

    def _run(self, x: Tensor, lengths=None, state=None, drop_input: bool = True):
        output, state = self.rnn(self._drop(x) if drop_input else x, state, lengths=lengths)
        h_n = state[0] if isinstance(state, tuple) else state
        return self._drop(output), h_n, state


class CharLM(RecurrentModel):
    """Character (or word) language model: predicts token t+1 from tokens <= t.

    ``model(ids, state=None) -> (logits, state)`` with ids (B, T) int, logits (B, T, V); ``state`` is the
    recurrent state to carry into the next window (detach it between windows).
    """

    def __init__(self, vocab_size: int, embedding_size: int = 64, hidden_size: int = 256, **options) -> None:
        if options.get("bidirectional"):
            raise ValueError("CharLM: a language model cannot be bidirectional (it would see the characters it predicts)")
        super().__init__(embedding_size, hidden_size, **options)
        self._config.update(vocab_size=vocab_size, embedding_size=embedding_size)
        self.embedding = nn.Embedding(vocab_size, embedding_size, dtype=DTYPES[self._config["dtype"]])
        self.head = nn.Linear(hidden_size, vocab_size, dtype=DTYPES[self._config["dtype"]])

    def forward(self, ids, state=None):
        output, _, state = self._run(self.embedding(ids), state=state)
        return self.head(output), state


class _LabelledTokens(RecurrentModel):
    """Token ids in (an embedding with ``padding_idx``), class logits out of a linear head on the recurrent
    features: what the classifier and the tagger share."""

    def __init__(self, vocab_size: int, num_classes: int, embedding_size: int = 32, hidden_size: int = 64,
                 padding_idx: int | None = 0, **options) -> None:
        super().__init__(embedding_size, hidden_size, **options)
        self._config.update(vocab_size=vocab_size, num_classes=num_classes, embedding_size=embedding_size,
                            padding_idx=padding_idx)
        dtype = DTYPES[self._config["dtype"]]
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=padding_idx, dtype=dtype)
        self.head = nn.Linear(self.features, num_classes, dtype=dtype)


class SequenceClassifier(_LabelledTokens):
    """Many-to-one: one label per sequence from the final state(s) of the recurrent stack.

    ``model(ids, lengths) -> logits`` with ids (B, T) int padded with ``padding_idx``, lengths (B,), logits
    (B, num_classes). Bidirectional: the forward state at each sequence's last real step and the reverse
    state at step 0 are concatenated.
    """

    def forward(self, ids, lengths=None):
        _, h_n, _ = self._run(self.embedding(ids), lengths)
        return self.head(self._drop(final_state(h_n, self.rnn.bidirectional)))


class SequenceTagger(_LabelledTokens):
    """Many-to-many: one label per time step.

    ``model(ids, lengths=None) -> logits`` with ids (B, T) int, logits (B, T, num_classes) (outputs at padded
    steps are meaningless; the loss ignores them).
    """

    def forward(self, ids, lengths=None):
        output, _, _ = self._run(self.embedding(ids), lengths)
        return self.head(output)


class SequenceRegressor(RecurrentModel):
    """Many-to-one regression: one real number per sequence (e.g. the adding problem).

    ``model(x, lengths=None) -> y`` with x (B, T, input_size) float, y (B,).
    """

    def __init__(self, input_size: int, hidden_size: int = 128, **options) -> None:
        super().__init__(input_size, hidden_size, **options)
        self._config.update(input_size=input_size)
        self.head = nn.Linear(self.features, 1, dtype=DTYPES[self._config["dtype"]])

    def forward(self, x, lengths=None):
        _, h_n, _ = self._run(x, lengths, drop_input=False)  # raw features (the adding problem's marker) stay intact
        return self.head(self._drop(final_state(h_n, self.rnn.bidirectional))).reshape(-1)


class Tables(nn.Module):
    """Named arrays that are not trained by gradients: word-vector tables updated by a fused kernel (word2vec,
    GloVe) or the counts of a model fitted in one pass (n-grams, Naive Bayes). Each is a Parameter that does
    not require grad, so a checkpoint stores it like any weight (safetensors, no pickle).

    Parameters
    ----------
    shapes : dict of str to list of int
        The name and shape of each table (zeros until filled or loaded).
    dtype : str
        "float32" or "float64" (counts are float64: exact integers up to 2^53).
    """

    def __init__(self, shapes: dict, dtype: str = "float32", fused: bool = True) -> None:
        super().__init__()
        self.shapes, self.dtype = {name: list(shape) for name, shape in shapes.items()}, dtype
        for name, shape in self.shapes.items():
            setattr(self, name, nn.Parameter(np.zeros(shape, dtype=DTYPES[dtype]), requires_grad=False))

    @classmethod
    def of(cls, arrays: dict, dtype: str = "float32") -> "Tables":
        """Tables holding ``arrays`` (converted to ``dtype``)."""
        tables = cls({name: value.shape for name, value in arrays.items()}, dtype)
        for name, value in arrays.items():
            getattr(tables, name).data[...] = value
        return tables

    def config(self) -> dict:
        return {"shapes": self.shapes, "dtype": self.dtype}

    def forward(self, *args):
        raise TypeError("Tables holds arrays updated by their task; it has no forward pass")


MODELS = {cls.__name__: cls for cls in (CharLM, SequenceClassifier, SequenceTagger, SequenceRegressor, Tables)}


def build_model(name: str, config: dict, fused: bool = True) -> nn.Module:
    """The model ``name`` with constructor arguments ``config``: a class name of this module, or
    ``"Seq2Seq"`` (:class:`microseq.seq2seq.Seq2Seq`, from its :class:`~microseq.seq2seq.Seq2SeqConfig`), or
    ``"Captioner"`` / ``"VQAModel"`` (:func:`microseq.vision.make_captioner` / :func:`~microseq.vision.make_vqa`)."""
    if name == "Seq2Seq":
        from ..seq2seq.model import Seq2Seq  # seq2seq builds its encoder with this module's recurrent_layer

        return Seq2Seq.from_config(config, fused=fused)
    if name in ("Captioner", "VQAModel"):  # built from their options by microseq.vision
        from ..vision import make_captioner, make_vqa

        return make_captioner(**config) if name == "Captioner" else make_vqa(**config, fused=fused)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}, Seq2Seq, Captioner, VQAModel")
    return MODELS[name](**config, fused=fused)
