"""Bags of words and of word n-grams: documents (lists of tokens) to a count matrix."""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["NGramFeatures"]


class NGramFeatures:
    """The n-grams of orders ``min_n..max_n`` seen in the training documents, as columns of a count matrix.

    An n-gram is the tokens joined by a space ("not good" is the bigram of "not" and "good"). Unknown
    n-grams of later documents are ignored.

    Examples
    --------
    >>> f = NGramFeatures(1, 2).fit([["not", "good"], ["good"]])
    >>> f.names
    ['good', 'not', 'not good']
    >>> f.transform([["not", "good", "good"]]).tolist()
    [[2, 1, 1]]
    """

    def __init__(self, min_n: int = 1, max_n: int = 1) -> None:
        if not 1 <= min_n <= max_n:
            raise ValueError(f"NGramFeatures: need 1 <= min_n <= max_n, got {min_n}, {max_n}")
        self.min_n, self.max_n = min_n, max_n
        self.names: list[str] = []
        self.index: dict[str, int] = {}

    def grams(self, tokens: Sequence[str]) -> list[str]:
        """Every n-gram of one document, in order."""
        return [" ".join(tokens[i:i + n]) for n in range(self.min_n, self.max_n + 1)
                for i in range(len(tokens) - n + 1)]

    def fit(self, documents: Sequence[Sequence[str]]) -> "NGramFeatures":
        self.names = sorted({g for doc in documents for g in self.grams(doc)})
        if not self.names:
            raise ValueError("NGramFeatures: the training documents hold no n-grams (empty corpus?)")
        self.index = {g: i for i, g in enumerate(self.names)}
        return self

    def transform(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        """Counts, shape (D documents, F features), int64."""
        if not self.index:
            raise RuntimeError("NGramFeatures: call fit() first")
        rows, cols = [], []
        for d, doc in enumerate(documents):
            found = [self.index[g] for g in self.grams(doc) if g in self.index]
            rows.extend([d] * len(found))
            cols.extend(found)
        counts = np.zeros((len(documents), len(self.names)), dtype=np.int64)
        np.add.at(counts, (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)), 1)
        return counts
