"""Sequence-to-sequence tasks generated inside the package: seeded, nothing downloaded.

- ``reverse``: a string of symbols -> the same string backwards ("abcd" -> "dcba");
- ``sort``: a string of symbols -> its symbols in sorted order ("dbca" -> "abcd");
- ``dates``: a date written in one of many human formats -> ISO 8601 ("3rd of March 1999",
  "03/03/99", "March 3, 1999", "Wed 3 Mar 1999", "1999.03.03", ... -> "1999-03-03").

Each task has a fixed validation and test set, drawn from the seed, and an endless stream of training
examples that never meets them: ``dates`` holds out whole *dates* (a test date never appears in training, in
any format), ``reverse`` and ``sort`` hold out source strings.

Date conventions (so that every string has exactly one reading): dates run from 1950-01-01 to 2049-12-31;
a two-digit year ``yy`` means 19yy when yy >= 50 and 20yy otherwise; numeric dates with slashes are American
(month first: "03/04/99" is 4 March 1999), with dots European (day first: "04.03.1999"), and year-first forms
use dots, slashes, dashes or nothing ("1999.03.04", "1999/03/04", "1999-03-04", "19990304").

Every vocabulary is a :class:`~microseq.data.CharVocab` made by :func:`seq2seq_vocab`: index 0 padding,
1 begin (BOS), 2 end (EOS), 3 unknown (decoded as "?"), then the task's symbols.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Sequence

import numpy as np

from ..data import Batch, CharVocab, pad_sequences

__all__ = [
    "PAD", "BOS", "EOS", "UNK", "seq2seq_vocab", "make_batch", "PairTask", "SymbolTask", "DateTask",
    "DATE_FORMATS", "format_date",
]

PAD, BOS, EOS, UNK = 0, 1, 2, 3


def seq2seq_vocab(symbols: str) -> CharVocab:
    """The characters ``symbols`` after the four specials (PAD, BOS, EOS, UNK at indices 0 to 3)."""
    return CharVocab(symbols, pad="<pad>", bos="<s>", eos="</s>", unk="?")


def make_batch(pairs: Sequence[tuple[str, str]], source_vocab: CharVocab, target_vocab: CharVocab) -> Batch:
    """Encode and pad ``(source, target)`` string pairs (sources must be non-empty).

    Returns a :class:`~microseq.data.Batch`: ``inputs`` the sources (B, S) padded with PAD, ``lengths``
    their lengths (B,), ``decoder_inputs`` BOS then the target (B, T), ``targets`` the target then EOS (B, T).
    """
    sources = [source_vocab.encode(s) for s, _ in pairs]
    if any(len(s) == 0 for s in sources):
        raise ValueError("make_batch: every source must have at least one symbol")
    targets = [target_vocab.encode(t) for _, t in pairs]
    inputs, lengths = pad_sequences(sources, PAD, dtype=np.int64)
    decoder_inputs, _ = pad_sequences([np.concatenate([[BOS], t]) for t in targets], PAD, dtype=np.int64)
    outputs, _ = pad_sequences([np.concatenate([t, [EOS]]) for t in targets], PAD, dtype=np.int64)
    return Batch(inputs, outputs, lengths, decoder_inputs)


class PairTask:
    """A task: vocabularies, fixed held-out sets, and a stream of training pairs disjoint from them.

    Attributes
    ----------
    name : str
    source_vocab, target_vocab : CharVocab (see :func:`seq2seq_vocab`)
    valid, test : list of (source, target) str pairs
        Validation (for choosing when to stop) and test (for the final score); disjoint from training.
    max_target_length : int
        The longest target of the task (without EOS): a good ``max_len`` for decoding.
    """

    name: str
    source_vocab: CharVocab
    target_vocab: CharVocab
    valid: list
    test: list
    max_target_length: int

    def draw(self, rng: np.random.Generator) -> tuple[str, str]:
        """One training pair (never a held-out one)."""
        raise NotImplementedError

    def sample(self, n: int, rng: np.random.Generator) -> list[tuple[str, str]]:
        """``n`` training pairs."""
        return [self.draw(rng) for _ in range(n)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, valid={len(self.valid)}, test={len(self.test)})"


class SymbolTask(PairTask):
    """``reverse`` or ``sort`` strings of ``n_symbols`` letters with lengths in [min_length, max_length].

    The held-out sets are distinct source strings, and training never draws one of them.
    """

    def __init__(
        self,
        name: str,
        seed: int = 0,
        n_symbols: int = 10,
        min_length: int = 3,
        max_length: int = 12,
        n_valid: int = 500,
        n_test: int = 1000,
    ) -> None:
        transforms = {"reverse": lambda s: s[::-1], "sort": lambda s: "".join(sorted(s))}
        if name not in transforms:
            raise ValueError(f"SymbolTask: name must be 'reverse' or 'sort', got {name!r}")
        if not 1 <= n_symbols <= 26 or not 1 <= min_length <= max_length:
            raise ValueError(
                f"SymbolTask: need 1 <= n_symbols <= 26 and 1 <= min_length <= max_length, got {n_symbols}, "
                f"{min_length}, {max_length}"
            )
        self.name, self._transform = name, transforms[name]
        self.alphabet = string.ascii_lowercase[:n_symbols]
        self.min_length, self.max_length = min_length, max_length
        self.source_vocab = self.target_vocab = seq2seq_vocab(self.alphabet)
        self.max_target_length = max_length
        rng = np.random.default_rng(seed)
        capacity = sum(n_symbols**k for k in range(min_length, max_length + 1))
        if n_valid + n_test > capacity // 2:
            raise ValueError(f"SymbolTask: {n_valid + n_test} held-out strings leave too few of {capacity} for training")
        held_out: dict[str, None] = {}  # insertion-ordered set
        while len(held_out) < n_valid + n_test:
            held_out.setdefault(self._random_string(rng))
        sources = list(held_out)
        self._held_out = set(sources)
        self.valid = [(s, self._transform(s)) for s in sources[:n_valid]]
        self.test = [(s, self._transform(s)) for s in sources[n_valid:]]

    def _random_string(self, rng: np.random.Generator) -> str:
        length = int(rng.integers(self.min_length, self.max_length + 1))
        return "".join(self.alphabet[i] for i in rng.integers(0, len(self.alphabet), size=length))

    def draw(self, rng):
        while True:
            source = self._random_string(rng)
            if source not in self._held_out:
                return source, self._transform(source)


# ------------------------------------------------------------------------------------------------------
# Dates
# ------------------------------------------------------------------------------------------------------
_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FIRST_DATE, LAST_DATE = dt.date(1950, 1, 1), dt.date(2049, 12, 31)


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st, 22nd, 23rd, ..., 31st."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _fields(d: dt.date) -> dict:
    month, weekday = _MONTHS[d.month - 1], _WEEKDAYS[d.weekday()]
    return {
        "d": d.day, "dd": f"{d.day:02d}", "ord": _ordinal(d.day),
        "m": d.month, "mm": f"{d.month:02d}", "Month": month, "Mon": month[:3],
        "yyyy": f"{d.year:04d}", "yy": f"{d.year % 100:02d}",
        "Weekday": weekday, "Wkd": weekday[:3],
    }


# Each format is a str.format pattern over the fields above. Order does not matter; names are for humans.
DATE_FORMATS: dict[str, str] = {
    "ordinal of month": "{ord} of {Month} {yyyy}",
    "the ordinal of month,": "the {ord} of {Month}, {yyyy}",
    "month day, year": "{Month} {d}, {yyyy}",
    "month ordinal, year": "{Month} {ord}, {yyyy}",
    "mon day, year": "{Mon} {d}, {yyyy}",
    "mon. day, year": "{Mon}. {d}, {yyyy}",
    "mon day 'yy": "{Mon} {d} '{yy}",
    "day month year": "{d} {Month} {yyyy}",
    "day mon year": "{d} {Mon} {yyyy}",
    "day mon 'yy": "{d} {Mon} '{yy}",
    "wkd day mon year": "{Wkd} {d} {Mon} {yyyy}",
    "rfc 2822": "{Wkd}, {dd} {Mon} {yyyy}",
    "weekday, month day, year": "{Weekday}, {Month} {d}, {yyyy}",
    "weekday ordinal month year": "{Weekday} {ord} {Month} {yyyy}",
    "dd-mon-yyyy": "{dd}-{Mon}-{yyyy}",
    "d-mon-yy": "{d}-{Mon}-{yy}",
    "year month day": "{yyyy} {Month} {d}",
    "mm/dd/yy (US)": "{mm}/{dd}/{yy}",
    "mm/dd/yyyy (US)": "{mm}/{dd}/{yyyy}",
    "m/d/yyyy (US)": "{m}/{d}/{yyyy}",
    "m/d/yy (US)": "{m}/{d}/{yy}",
    "dd.mm.yyyy (European)": "{dd}.{mm}.{yyyy}",
    "d.m.yy (European)": "{d}.{m}.{yy}",
    "yyyy.mm.dd": "{yyyy}.{mm}.{dd}",
    "yyyy/mm/dd": "{yyyy}/{mm}/{dd}",
    "iso": "{yyyy}-{mm}-{dd}",
    "yyyymmdd": "{yyyy}{mm}{dd}",
}
_PATTERNS = list(DATE_FORMATS.values())
_CASINGS = (str, str.lower, str.upper)  # "March", "march", "MARCH" (for formats with words)


def format_date(d: dt.date, pattern: str, casing: Callable[[str], str] = str) -> str:
    """``d`` written with a :data:`DATE_FORMATS` pattern, e.g. ``format_date(date(1999, 3, 3), "{ord} of {Month} {yyyy}")``."""
    return casing(pattern.format(**_fields(d)))


def _random_writing(d: dt.date, rng: np.random.Generator) -> str:
    pattern = _PATTERNS[int(rng.integers(len(_PATTERNS)))]
    casing = _CASINGS[int(rng.integers(len(_CASINGS)))]
    return format_date(d, pattern, casing)


class DateTask(PairTask):
    """Human-written dates -> ISO 8601, with the validation and test *dates* held out of training.

    The days from 1950-01-01 to 2049-12-31 are shuffled with the seed; the first ``n_test`` are the test
    dates, the next ``n_valid`` the validation dates, the rest are for training. Each held-out date appears
    once, in a format (and casing) drawn from the seed; training draws a training date and a format afresh
    for every example.
    """

    def __init__(self, seed: int = 0, n_valid: int = 1000, n_test: int = 2000) -> None:
        self.name = "dates"
        self.source_vocab = seq2seq_vocab(string.ascii_letters + string.digits + " ,.-/'")
        self.target_vocab = seq2seq_vocab(string.digits + "-")
        self.max_target_length = 10
        days = (LAST_DATE - FIRST_DATE).days + 1
        if n_valid + n_test > days // 2:
            raise ValueError(f"DateTask: {n_valid + n_test} held-out dates leave too few of {days} for training")
        rng = np.random.default_rng(seed)
        order = rng.permutation(days)
        self.test = [self._example(int(i), rng) for i in order[:n_test]]
        self.valid = [self._example(int(i), rng) for i in order[n_test : n_test + n_valid]]
        self._train_days = np.sort(order[n_test + n_valid :])

    @staticmethod
    def _example(day: int, rng: np.random.Generator) -> tuple[str, str]:
        d = FIRST_DATE + dt.timedelta(days=day)
        return _random_writing(d, rng), d.isoformat()

    def draw(self, rng):
        return self._example(int(self._train_days[rng.integers(len(self._train_days))]), rng)

    def held_out_dates(self) -> set[str]:
        """The ISO dates of the validation and test sets."""
        return {iso for _, iso in self.valid + self.test}

    def training_dates(self) -> set[str]:
        """The ISO dates training may draw."""
        return {(FIRST_DATE + dt.timedelta(days=int(i))).isoformat() for i in self._train_days}
