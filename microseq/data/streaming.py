"""Streaming language-model batches: a long text cut into B parallel streams read window after window.

The token array is split into ``batch_size`` contiguous streams, laid out as rows::

    ids  = a b c d e f g h i j k l m n o p q r s t u v w x ...
    rows = [a b c d e f g h]        batch 0 = columns 0..3, batch 1 = columns 4..7
           [i j k l m n o p]        (seq_len = 4)
           [q r s t u v w x]

Row b of batch i+1 continues row b of batch i, so a stateful model carries its hidden state from one batch
to the next (and detaches it: truncated backpropagation through time). At each new epoch the streams start
at a fresh random offset (so windows do not always cut the text at the same places) and the batch says
``reset=True``: the carried state must be zeroed, as the streams jumped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LMBatch", "LMStream"]


@dataclass
class LMBatch:
    """``inputs`` and ``targets`` (the next tokens), both int64 of shape (B, T); ``reset``: zero the carried
    state before this batch."""

    inputs: np.ndarray
    targets: np.ndarray
    reset: bool

    def num_tokens(self) -> int:
        return self.targets.size


class LMStream:
    """Endless, resumable iterator of :class:`LMBatch` over a token array.

    Parameters
    ----------
    ids : 1-D int array
        The whole text as token ids.
    batch_size : int
        B, the number of parallel streams.
    seq_len : int
        T, the length of each window (one optimizer step).
    seed : int
        Seeds the random start offset of each epoch.
    random_offset : bool
        Start each epoch at a random offset in [0, seq_len); False reads from the first token every epoch
        (what evaluation wants).
    """

    def __init__(self, ids, batch_size: int, seq_len: int, seed: int = 0, random_offset: bool = True) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        if self.ids.ndim != 1:
            raise ValueError(f"LMStream: ids must be 1-D, got shape {self.ids.shape}")
        if batch_size < 1 or seq_len < 1:
            raise ValueError(f"LMStream: batch_size and seq_len must be >= 1, got {batch_size} and {seq_len}")
        needed = batch_size * (2 * seq_len if random_offset else seq_len) + 1
        if len(self.ids) < needed:
            raise ValueError(
                f"LMStream: the text has {len(self.ids)} tokens, too few for batch_size {batch_size} x "
                f"seq_len {seq_len} (needs at least {needed}); use a longer text or smaller sizes"
            )
        self.batch_size, self.seq_len, self.random_offset = batch_size, seq_len, random_offset
        self.rng = np.random.default_rng(seed)
        self.epoch = -1
        self._start_epoch()

    def _start_epoch(self) -> None:
        self.epoch += 1
        self.offset = int(self.rng.integers(self.seq_len)) if self.random_offset else 0
        self.position = 0
        self._layout()

    def _layout(self) -> None:
        usable = self.ids[self.offset :]
        length = (len(usable) - 1) // self.batch_size
        self._x = usable[: self.batch_size * length].reshape(self.batch_size, length)
        self._y = usable[1 : self.batch_size * length + 1].reshape(self.batch_size, length)
        self.batches_per_epoch = length // self.seq_len

    def __iter__(self):
        return self

    def __next__(self) -> LMBatch:
        if self.position >= self.batches_per_epoch:
            self._start_epoch()
        start = self.position * self.seq_len
        window = slice(start, start + self.seq_len)
        batch = LMBatch(self._x[:, window], self._y[:, window], reset=self.position == 0)
        self.position += 1
        return batch

    def one_epoch(self):
        """The batches of the current layout from its first window to its last (for evaluation)."""
        for position in range(self.batches_per_epoch):
            window = slice(position * self.seq_len, (position + 1) * self.seq_len)
            yield LMBatch(self._x[:, window], self._y[:, window], reset=position == 0)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "offset": self.offset, "position": self.position,
                "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.offset, self.position = int(state["epoch"]), int(state["offset"]), int(state["position"])
        self.rng.bit_generator.state = state["rng"]
        self._layout()
