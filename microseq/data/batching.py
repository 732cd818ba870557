"""Batching sequences of different lengths: padding plus a lengths array, and a resumable shuffler.

A recurrent layer given ``lengths`` ignores the padded steps (see ``nn.LSTM(..., lengths=...)``), and the
losses skip padded targets through ``ignore_index``; together they make a padded batch give the same
results as each sequence run alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Batch", "pad_sequences", "collate", "SequenceBatcher"]


@dataclass
class Batch:
    """One batch, batch-first.

    Attributes
    ----------
    inputs : ndarray, shape (B, T) of ids or (B, T, F) of features
    targets : ndarray, shape (B,) (one per sequence) or (B, T') (one per step or, for a decoder, per output
        symbol), or None
    lengths : ndarray of int64, shape (B,), or None when every sequence has length T
    decoder_inputs : ndarray of int64, shape (B, T'), or None
        Sequence to sequence: what the decoder reads under teacher forcing (BOS, then the target shifted
        right), while ``targets`` is what it must write (the target, then EOS).
    """

    inputs: np.ndarray
    targets: np.ndarray | None = None
    lengths: np.ndarray | None = None
    decoder_inputs: np.ndarray | None = None

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]

    def num_tokens(self) -> int:
        """Real (unpadded) time steps in the batch."""
        return int(self.lengths.sum()) if self.lengths is not None else int(np.prod(self.inputs.shape[:2]))


def pad_sequences(sequences: Sequence[np.ndarray], pad_value=0, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """Stack sequences of different lengths into one array, padded at the end.

    Parameters
    ----------
    sequences : sequence of arrays, each of shape (L_i, ...) with the same trailing shape
    pad_value : scalar
        Value of the padded positions.
    dtype : numpy dtype, optional
        Default: the dtype of the first sequence.

    Returns
    -------
    padded : ndarray, shape (B, max L_i, ...)
    lengths : ndarray of int64, shape (B,)
    """
    if len(sequences) == 0:
        raise ValueError("pad_sequences: got no sequences")
    arrays = [np.asarray(s) for s in sequences]
    trailing = arrays[0].shape[1:]
    for i, a in enumerate(arrays):
        if a.ndim == 0 or a.shape[1:] != trailing:
            raise ValueError(
                f"pad_sequences: sequence {i} has shape {a.shape}, expected (length, *{trailing}) like sequence 0"
            )
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    padded = np.full((len(arrays), int(lengths.max()), *trailing), pad_value, dtype=dtype or arrays[0].dtype)
    for row, a in zip(padded, arrays):
        row[: len(a)] = a
    return padded, lengths


class SequenceBatcher:
    """Serves shuffled, padded batches from a fixed list of examples, epoch after epoch, resumably.

    Parameters
    ----------
    inputs : list of 1-D int arrays (or (L, F) arrays)
    targets : list of scalars (one label per sequence) or of arrays (one label per step)
    batch_size : int
    seed : int
        Seeds the shuffling; the whole order of batches is a function of the seed.
    pad_value : int
        Pad id of the inputs.
    target_pad : int
        Pad value of per-step targets; -100 is the losses' default ``ignore_index``.

    ``state_dict()`` / ``load_state_dict()`` capture the position and the random state, so a resumed run
    receives exactly the batches the uninterrupted run would have received.
    """

    def __init__(self, inputs, targets, batch_size: int, seed: int = 0, pad_value: int = 0,
                 target_pad: int = -100, drop_last: bool = True) -> None:
        if len(inputs) != len(targets):
            raise ValueError(f"SequenceBatcher: {len(inputs)} inputs but {len(targets)} targets")
        if not 0 < batch_size <= len(inputs):
            raise ValueError(f"SequenceBatcher: batch_size must be in [1, {len(inputs)}], got {batch_size}")
        self.inputs, self.targets = list(inputs), list(targets)
        self.batch_size, self.pad_value, self.target_pad, self.drop_last = batch_size, pad_value, target_pad, drop_last
        self.rng = np.random.default_rng(seed)
        self.epoch, self.position = 0, 0
        self.order = self.rng.permutation(len(self.inputs))

    def __len__(self) -> int:
        """Batches per epoch."""
        n, b = len(self.inputs), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        return self

    def __next__(self) -> Batch:
        if self.position >= len(self) * self.batch_size:
            self.epoch += 1
            self.position = 0
            self.order = self.rng.permutation(len(self.inputs))
        chosen = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return collate([self.inputs[i] for i in chosen], [self.targets[i] for i in chosen],
                       self.pad_value, self.target_pad)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position, "order": self.order.tolist(),
                "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self.order = np.asarray(state["order"], dtype=np.int64)
        self.rng.bit_generator.state = state["rng"]


def collate(inputs: Sequence, targets: Sequence, pad_value: int = 0, target_pad: int = -100) -> Batch:
    """Pad a list of examples into a :class:`Batch` (per-step targets padded with ``target_pad``)."""
    padded, lengths = pad_sequences(inputs, pad_value)
    if np.ndim(targets[0]) == 0:
        target_array = np.asarray(targets)
    else:
        target_array, _ = pad_sequences(targets, target_pad)
    return Batch(padded, target_array, lengths)
