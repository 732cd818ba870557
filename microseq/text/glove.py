"""GloVe (Pennington et al. 2014): weighted least squares on log co-occurrence counts.

Over the nonzero entries X_ij of the co-occurrence matrix (each pair within the window adds 1/distance)::

    J = 1/2 sum f(X_ij) (w_i . wc_j + b_i + bc_j - log X_ij)^2,   f(x) = min(1, (x / x_max)^alpha)

(the 1/2 as in the GloVe tool), minimised by AdaGrad one entry at a time in a shuffled order each epoch; the
word vectors are w + wc. ``glove_loss`` is the readable objective through the autograd engine; the training
pass is the fused kernel ``microseq.kernels.glove.glove_train``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import ops
from ..data import DataError
from ..kernels.glove import glove_train
from ..tensor import Tensor
from .vocabulary import Corpus

__all__ = ["GloVe", "cooccurrence", "glove_loss"]


def cooccurrence(ids: np.ndarray, sentence: np.ndarray, vocab_size: int, window: int):
    """Sparse symmetric co-occurrence counts: each pair of tokens of one sentence at distance d <= window adds
    1/d to X[a, b] and to X[b, a]. Returns (rows, cols, values), sorted by (row, col), shapes (P,)."""
    codes, weights = [], []
    for d in range(1, window + 1):
        i = np.arange(len(ids) - d)
        i = i[sentence[i] == sentence[i + d]]
        a, b = ids[i], ids[i + d]
        codes += [a * vocab_size + b, b * vocab_size + a]
        weights += [np.full(2 * len(i), 1.0 / d)]
    codes = np.concatenate(codes) if codes else np.zeros(0, np.int64)
    table, inverse = np.unique(codes, return_inverse=True)
    values = np.bincount(inverse.reshape(-1), weights=np.concatenate(weights), minlength=len(table))
    return table // vocab_size, table % vocab_size, values


def glove_loss(w: Tensor, wc: Tensor, b: Tensor, bc: Tensor, rows, cols, counts, x_max: float = 100.0,
               alpha: float = 0.75) -> Tensor:
    """The GloVe objective J over the entries (rows[e], cols[e], counts[e]), through the autograd engine.

    w, wc : Tensor (V, D); b, bc : Tensor (V,); rows, cols int (P,), counts float (P,) > 0. Scalar Tensor.
    """
    counts = np.asarray(counts, dtype=w.dtype)
    weight = np.minimum(1.0, (counts / x_max) ** alpha).astype(w.dtype)
    diff = (w[rows] * wc[cols]).sum(axis=1) + b[rows] + bc[cols] - np.log(counts)
    return ops.sum(diff * diff * weight) * 0.5


class GloVe:
    """GloVe vectors; ``fit`` on tokenised sentences, then read ``vectors`` = w + wc, shape (V, D).

    Parameters
    ----------
    dim : int
    window : int
        Pairs up to this distance count, weighted 1/distance.
    x_max, alpha : float
        The weighting function f.
    lr : float
        AdaGrad's step size.
    epochs, min_count, seed : int
    """

    def __init__(self, dim: int = 50, window: int = 10, x_max: float = 100.0, alpha: float = 0.75,
                 lr: float = 0.05, epochs: int = 25, min_count: int = 5, seed: int = 0) -> None:
        for name, value in (("dim", dim), ("window", window), ("epochs", epochs), ("min_count", min_count)):
            if int(value) != value or value < 1:
                raise ValueError(f"GloVe: {name} must be a positive integer, got {value!r}")
        self.dim, self.window, self.x_max, self.alpha, self.lr = dim, window, x_max, alpha, lr
        self.epochs, self.min_count, self.seed = epochs, min_count, seed

    def fit(self, sentences: Sequence[Sequence[str]]) -> "GloVe":
        corpus = Corpus(sentences, self.min_count)
        self.words, self.index, self.counts = corpus.words, corpus.index, corpus.counts
        V, D = len(corpus), self.dim
        rows, cols, values = cooccurrence(corpus.ids, corpus.sentence, V, self.window)
        if len(values) == 0:
            raise DataError("glove: no two words of one sentence are within the window")
        rng = np.random.default_rng(self.seed)
        self.w, self.wc = (rng.random((V, D)) - 0.5) / D, (rng.random((V, D)) - 0.5) / D  # the GloVe tool's start
        self.b, self.bc = (rng.random(V) - 0.5) / D, (rng.random(V) - 0.5) / D
        grads = [np.ones((V, D)), np.ones((V, D)), np.ones(V), np.ones(V)]  # AdaGrad's sums start at 1
        self.losses = []
        for _ in range(self.epochs):
            order = rng.permutation(len(values))
            loss = glove_train(self.w, self.wc, self.b, self.bc, *grads, rows, cols, values, order, self.lr,
                               self.x_max, self.alpha)
            self.losses.append(loss / len(values))
        self.entries = len(values)
        return self

    @property
    def vectors(self) -> np.ndarray:
        """w + wc, shape (V, D)."""
        return self.w + self.wc
