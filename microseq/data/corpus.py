"""Text corpora: the default one (Python's own standard library sources) and any UTF-8 file.

The default corpus is on every machine that runs microseq, needs no download and is not copied into the
repository: the ``.py`` files at the top of the standard library directory (``sysconfig``'s ``stdlib``
path), in sorted order, skipping private modules (``_*.py``), until ``max_chars`` characters are
collected. It depends only on the Python version, not on the machine. (char-rnn was famously trained on
source code; this is the same idea at a size that trains in minutes.)
"""

from __future__ import annotations

import os
import sysconfig

__all__ = ["DataError", "stdlib_corpus", "stdlib_files", "read_text", "split_text"]

DEFAULT_CORPUS_CHARS = 1_000_000


class DataError(ValueError):
    """Input data that cannot be used, with a message meant for the user (one line)."""


def stdlib_files(max_chars: int = DEFAULT_CORPUS_CHARS) -> list[str]:
    """Paths of the standard library files that make up the default corpus, in order."""
    root = sysconfig.get_paths()["stdlib"]
    try:
        names = sorted(n for n in os.listdir(root) if n.endswith(".py") and not n.startswith("_"))
    except OSError:
        names = []
    if not names:
        raise DataError(f"no Python standard library sources found in {root}; train on a file with --text FILE")
    chosen, total = [], 0
    for name in names:
        if total >= max_chars:
            break
        path = os.path.join(root, name)
        chosen.append(path)
        total += os.path.getsize(path)
    return chosen


def stdlib_corpus(max_chars: int = DEFAULT_CORPUS_CHARS) -> str:
    """The default corpus: standard library sources joined in sorted file order, cut to ``max_chars``."""
    parts = []
    for path in stdlib_files(max_chars):
        with open(path, encoding="utf-8", errors="replace") as f:
            parts.append(f.read())
    return "\n".join(parts)[:max_chars]


def read_text(path: str) -> str:
    """The contents of a UTF-8 text file; a clear :class:`DataError` if it is missing, unreadable, not
    UTF-8 or empty."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"text file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"expected a text file, got a directory: {path}") from None
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(f"{path} is not UTF-8 text (invalid byte 0x{raw[error.start]:02x} on line {line})") from None
    if not text.strip():
        raise DataError(f"{path} is empty")
    return text


def split_text(text: str, valid_fraction: float = 0.05) -> tuple[str, str]:
    """Split into (train, valid): the last ``valid_fraction`` of the text, cut at a line start if possible."""
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(f"split_text: valid_fraction must be in (0, 1), got {valid_fraction}")
    cut = int(len(text) * (1.0 - valid_fraction))
    newline = text.find("\n", cut)
    if 0 <= newline < len(text) - 1 and newline - cut < 10_000:
        cut = newline + 1
    return text[:cut], text[cut:]
