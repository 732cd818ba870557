"""Vocabularies: symbols (characters or words) to integer ids and back, with an unknown symbol.

Ids are assigned in a fixed order, so the same text always gives the same vocabulary: the special
symbols first (padding, begin, end, unknown: those that are present), then the others sorted. A
sequence-to-sequence model's vocabularies have all four (``pad=0, bos=1, eos=2, unk=3``); a language
model's characters have only the unknown symbol. A vocabulary turns into a JSON-friendly
dict (``to_dict``) that a checkpoint stores, so a model can be reloaded with the exact ids it was trained on.

>>> v = CharVocab.build("hello")
>>> v.encode("hole").tolist()
[2, 4, 3, 1]
>>> v.decode(v.encode("hex"))
'he\ufffd'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["Vocab", "CharVocab", "WordVocab", "vocab_from_dict"]


class Vocab:
    """A fixed list of symbols; a symbol's id is its position.

    Parameters
    ----------
    symbols : sequence of str
        The ordinary symbols, in id order (after the specials). Must not repeat or contain the specials.
    pad : str or None
        Padding symbol, id 0 when present. Padded positions of a batch hold this id.
    unk : str or None
        Symbol that every unknown symbol maps to. Without it, encoding an unknown symbol raises KeyError.
    bos, eos : str or None
        Begin and end of a sequence (a decoder's first input, and the symbol that ends its output).
    """

    kind = "symbols"

    def __init__(self, symbols: Sequence[str], pad: str | None = "<pad>", unk: str | None = "<unk>",
                 bos: str | None = None, eos: str | None = None) -> None:
        specials = [s for s in (pad, bos, eos, unk) if s is not None]
        self.n_specials = len(specials)
        self.itos: list[str] = specials + list(symbols)
        self.stoi: dict[str, int] = {s: i for i, s in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            repeated = sorted({s for s in self.itos if self.itos.count(s) > 1})
            raise ValueError(f"{type(self).__name__}: symbols appear twice (or clash with a special): {repeated}")
        self.pad, self.unk, self.bos, self.eos = pad, unk, bos, eos
        self.pad_index = None if pad is None else self.stoi[pad]
        self.unk_index = None if unk is None else self.stoi[unk]
        self.bos_index = None if bos is None else self.stoi[bos]
        self.eos_index = None if eos is None else self.stoi[eos]

    @classmethod
    def from_counts(cls, counts: Counter, min_count: int = 1, max_size: int | None = None, **specials) -> "Vocab":
        """Keep the symbols seen at least ``min_count`` times (the ``max_size`` most frequent, ties by
        symbol); the kept symbols are then sorted, so ids do not depend on counting order."""
        reserved = cls([], **specials).stoi  # the special symbols, never counted as ordinary ones
        kept = sorted((s for s, c in counts.items() if c >= min_count and s not in reserved),
                      key=lambda s: (-counts[s], s))
        if max_size is not None:
            kept = kept[:max_size]
        return cls(sorted(kept), **specials)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, symbol: str) -> bool:
        return symbol in self.stoi

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={len(self)}, pad={self.pad!r}, unk={self.unk!r})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.to_dict() == self.to_dict()

    def index(self, symbol: str) -> int:
        """Id of ``symbol`` (the unknown id if it is not in the vocabulary)."""
        found = self.stoi.get(symbol, self.unk_index)
        if found is None:
            raise KeyError(f"{type(self).__name__}: symbol {symbol!r} is not in the vocabulary and there is no unk")
        return found

    def encode(self, symbols: Iterable[str]) -> np.ndarray:
        """Ids of ``symbols`` as an int64 array of shape (len(symbols),)."""
        stoi, unk = self.stoi, self.unk_index
        if unk is None:
            return np.fromiter((self.index(s) for s in symbols), dtype=np.int64)
        return np.fromiter((stoi.get(s, unk) for s in symbols), dtype=np.int64)

    def decode(self, ids) -> list[str]:
        """Symbols of integer ``ids`` (any iterable of ints, e.g. an array row)."""
        return [self.itos[int(i)] for i in ids]

    def to_dict(self) -> dict:
        """JSON-friendly description; :func:`vocab_from_dict` turns it back into the same vocabulary."""
        return {"kind": self.kind, "symbols": self.itos[self.n_specials:], "pad": self.pad, "unk": self.unk,
                "bos": self.bos, "eos": self.eos}


class CharVocab(Vocab):
    """Characters to ids. By default no padding symbol, and U+FFFD (the replacement character) for unknowns,
    so decoding gives one character per id. The ordinary symbols and ``unk`` are single characters;
    ``pad``, ``bos`` and ``eos`` may be any string, since decoding drops them (and stops at ``eos``)."""

    kind = "char"

    def __init__(self, symbols: Sequence[str], pad: str | None = None, unk: str | None = "\ufffd",
                 bos: str | None = None, eos: str | None = None) -> None:
        for s in list(symbols) + [unk]:
            if s is not None and len(s) != 1:
                raise ValueError(f"CharVocab: symbols must be single characters, got {s!r}")
        super().__init__(symbols, pad=pad, unk=unk, bos=bos, eos=eos)

    @classmethod
    def build(cls, text: str, min_count: int = 1, max_size: int | None = None, **specials) -> "CharVocab":
        """The characters of ``text`` seen at least ``min_count`` times."""
        return cls.from_counts(Counter(text), min_count, max_size, **specials)

    def decode(self, ids) -> str:  # type: ignore[override]
        """The text of ``ids`` up to the first ``eos``, without padding and ``bos``."""
        skipped = {self.pad_index, self.bos_index} - {None}
        text = []
        for i in ids:
            i = int(i)
            if i == self.eos_index:
                break
            if i not in skipped:
                text.append(self.itos[i])
        return "".join(text)


class WordVocab(Vocab):
    """Words to ids, with ``<pad>`` (id 0) and ``<unk>`` (id 1) by default. Text is split on whitespace."""

    kind = "word"

    @staticmethod
    def tokenize(text: str) -> list[str]:
        return text.split()

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str] | str], min_count: int = 1, max_size: int | None = None,
              **specials) -> "WordVocab":
        """The words of ``sentences`` (strings are split on whitespace) seen at least ``min_count`` times."""
        counts: Counter = Counter()
        for sentence in sentences:
            counts.update(cls.tokenize(sentence) if isinstance(sentence, str) else sentence)
        return cls.from_counts(counts, min_count, max_size, **specials)

    def encode(self, symbols: Iterable[str] | str) -> np.ndarray:
        return super().encode(self.tokenize(symbols) if isinstance(symbols, str) else symbols)


_KINDS = {cls.kind: cls for cls in (Vocab, CharVocab, WordVocab)}


def vocab_from_dict(d: dict) -> Vocab:
    """The vocabulary described by ``Vocab.to_dict()``."""
    try:
        cls = _KINDS[d["kind"]]
        return cls(d["symbols"], pad=d["pad"], unk=d["unk"], bos=d.get("bos"), eos=d.get("eos"))
    except (KeyError, TypeError) as error:
        raise ValueError(f"vocab_from_dict: not a vocabulary description ({error!r})") from None
