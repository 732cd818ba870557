"""Word vectors in the word2vec C tool's text and binary formats (what gensim and fastText read).

Text: a header line ``V D``, then one line per word: the word and D numbers, separated by spaces.
Binary: the same header line, then per word the UTF-8 word, a space, D little-endian float32 and a newline.
Files are written atomically (a temporary file in the same directory, then renamed); a malformed file
raises :class:`~microseq.data.DataError` with one line naming the file and the problem.
"""

from __future__ import annotations

import os
import tempfile
from typing import Sequence

import numpy as np

from ..data import DataError

__all__ = ["save_vectors", "load_vectors"]


def save_vectors(path: str, words: Sequence[str], vectors: np.ndarray, binary: bool = False) -> None:
    """Write ``words`` and their ``vectors`` (V, D) to ``path``."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(words) != len(vectors):
        raise ValueError(f"save_vectors: need one vector per word, got {len(words)} words and shape {vectors.shape}")
    bad = [w for w in words if not w or any(c.isspace() for c in w)]
    if bad:
        raise ValueError(f"save_vectors: words may not be empty or hold whitespace, got {bad[0]!r}")
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".vectors-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(f"{len(words)} {vectors.shape[1]}\n".encode())
            for word, row in zip(words, vectors):
                if binary:
                    f.write(word.encode() + b" " + row.astype("<f4").tobytes() + b"\n")
                else:
                    f.write((word + " " + " ".join(repr(float(x)) for x in row) + "\n").encode())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _header(path: str, line: bytes) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise DataError(f"{path}: not a word2vec vector file (the first line should be 'count dimension', "
                        f"got {line[:40]!r})")
    return int(parts[0]), int(parts[1])


def load_vectors(path: str, binary: bool | None = None) -> tuple[list[str], np.ndarray]:
    """Read (words, vectors (V, D) float32) from a word2vec text or binary file; ``binary=None`` guesses
    from the contents."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as error:
        raise DataError(f"cannot read vector file {path}: {error.strerror}") from None
    newline = raw.find(b"\n")
    count, dim = _header(path, raw[: newline if newline >= 0 else len(raw)])
    body = raw[newline + 1:]
    if binary is None:
        try:
            body.decode("utf-8")
            binary = False
        except UnicodeDecodeError:
            binary = True
    words, vectors = [], np.zeros((count, dim), dtype=np.float32)
    if binary:
        at = 0
        for i in range(count):
            space = body.find(b" ", at)
            if space < 0 or space + 1 + 4 * dim > len(body):
                raise DataError(f"{path}: binary vector file ends early, at word {i + 1} of {count}")
            words.append(body[at:space].decode("utf-8", errors="replace").lstrip("\n"))
            vectors[i] = np.frombuffer(body, dtype="<f4", count=dim, offset=space + 1)
            at = space + 1 + 4 * dim
    else:
        lines = body.decode("utf-8").splitlines()
        lines = [line for line in lines if line.strip()]
        if len(lines) != count:
            raise DataError(f"{path}: the header says {count} words, the file has {len(lines)} lines")
        for i, line in enumerate(lines):
            parts = line.rstrip().split(" ")
            if len(parts) != dim + 1:
                raise DataError(f"{path}: line {i + 2} has {len(parts) - 1} numbers, expected {dim}")
            try:
                vectors[i] = np.array(parts[1:], dtype=np.float32)
            except ValueError:
                raise DataError(f"{path}: line {i + 2} holds something that is not a number") from None
            words.append(parts[0])
    if len(set(words)) != len(words):
        raise DataError(f"{path}: a word appears twice")
    return words, vectors
