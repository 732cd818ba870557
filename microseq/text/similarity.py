"""Evaluating word vectors: cosine neighbours, analogies (3CosAdd, 3CosMul) and similarity correlation.

Analogy a : b :: c : ? over unit vectors (Levy and Goldberg 2014)::

    3CosAdd:  argmax_d cos(d, b - a + c)  =  argmax_d cos(d, b) - cos(d, a) + cos(d, c)
    3CosMul:  argmax_d cos'(d, b) cos'(d, c) / (cos'(d, a) + eps),   cos' = (cos + 1) / 2 in [0, 1]

with a, b and c themselves never an answer.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["WordVectors", "spearman"]


class WordVectors:
    """Words and their vectors (V, D), with the look-ups that evaluate them."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or len(words) != len(vectors):
            raise ValueError(f"WordVectors: need one vector per word, got {len(words)} words and shape {vectors.shape}")
        self.words, self.vectors = list(words), vectors
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("WordVectors: a word appears twice")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit = vectors / np.where(norms > 0, norms, 1.0)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def ids(self, words: Sequence[str]) -> np.ndarray:
        """The rows of ``words``; a one-line KeyError naming the first unknown word."""
        missing = [w for w in words if w not in self.index]
        if missing:
            raise KeyError(f"word not in the vocabulary: {missing[0]!r}")
        return np.array([self.index[w] for w in words], dtype=np.int64)

    def rows_for(self, symbols: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """A (len(symbols), D) matrix whose row i is the vector of ``symbols[i]`` (zeros for a symbol without
        one, e.g. ``<pad>``), and the boolean mask (len(symbols),) of the rows found: the weight to start an
        embedding layer from, in the order of a task's vocabulary (``vocab.itos``)."""
        found = np.array([s in self.index for s in symbols], dtype=bool)
        rows = np.zeros((len(symbols), self.vectors.shape[1]), dtype=self.vectors.dtype)
        rows[found] = self.vectors[[self.index[s] for s, f in zip(symbols, found) if f]]
        return rows, found

    def neighbors(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` words of highest cosine similarity to ``word`` (itself excluded), best first."""
        i = self.ids([word])[0]
        cos = self.unit @ self.unit[i]
        cos[i] = -np.inf
        best = np.argsort(-cos, kind="stable")[:k]
        return [(self.words[j], float(cos[j])) for j in best]

    def analogy_scores(self, questions: np.ndarray, method: str = "add") -> np.ndarray:
        """Scores of every word as the answer to each question a : b :: c : ?; questions int (Q, 3) of
        rows; the question's own words score -inf. Shape (Q, V)."""
        if method not in ("add", "mul"):
            raise ValueError(f"analogy method must be 'add' (3CosAdd) or 'mul' (3CosMul), got {method!r}")
        cos = self.unit[questions.reshape(-1)].reshape(*questions.shape, -1) @ self.unit.T  # (Q, 3, V)
        ca, cb, cc = cos[:, 0], cos[:, 1], cos[:, 2]
        if method == "add":
            scores = cb - ca + cc
        else:
            scores = ((cb + 1) / 2) * ((cc + 1) / 2) / ((ca + 1) / 2 + 1e-3)
        np.put_along_axis(scores, questions, -np.inf, axis=1)
        return scores

    def analogy(self, a: str, b: str, c: str, k: int = 1, method: str = "add") -> list[tuple[str, float]]:
        """The best ``k`` answers to a : b :: c : ? (a, b and c excluded)."""
        scores = self.analogy_scores(self.ids([a, b, c])[None, :], method)[0]
        best = np.argsort(-scores, kind="stable")[:k]
        return [(self.words[j], float(scores[j])) for j in best]

    def analogy_accuracy(self, questions: Sequence[Sequence[str]], method: str = "add") -> float:
        """Fraction of questions (a, b, c, d) whose best answer is d; questions with an unknown word count
        as wrong."""
        if not questions:
            raise ValueError("analogy_accuracy: no questions")
        known = [q for q in questions if all(w in self.index for w in q)]
        if not known:
            return 0.0
        rows = np.array([[self.index[w] for w in q] for q in known], dtype=np.int64)
        right = 0
        for start in range(0, len(rows), 1024):  # bounded memory: (1024, 3, V) cosines at a time
            chunk = rows[start:start + 1024]
            right += int((self.analogy_scores(chunk[:, :3], method).argmax(axis=1) == chunk[:, 3]).sum())
        return right / len(questions)

    def similarity_correlation(self, pairs: Sequence[tuple[str, str, float]]) -> float:
        """Spearman correlation between the cosine of each pair (a, b, score) and its given score."""
        known = [p for p in pairs if p[0] in self.index and p[1] in self.index]
        if len(known) < 2:
            raise ValueError("similarity_correlation: need at least two pairs of known words")
        a, b = self.ids([p[0] for p in known]), self.ids([p[1] for p in known])
        return spearman((self.unit[a] * self.unit[b]).sum(axis=1), np.array([p[2] for p in known]))


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their mean rank."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    values, inverse = np.unique(x, return_inverse=True)
    return np.bincount(inverse, weights=ranks)[inverse] / np.bincount(inverse)[inverse]


def spearman(x, y) -> float:
    """Spearman's rank correlation: Pearson's correlation of the ranks (ties averaged)."""
    rx, ry = _ranks(np.asarray(x, float)), _ranks(np.asarray(y, float))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float((rx * ry).sum() / denominator) if denominator > 0 else 0.0
