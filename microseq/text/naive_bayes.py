"""Naive Bayes text classifiers on count features (multinomial, or Bernoulli on presence).

Multinomial, with Laplace/Lidstone smoothing alpha over F features and classes c::

    log P(c | x)  =  log P(c) + sum_t x_t log P(t | c) + const,   P(t | c) = (N_ct + alpha) / (N_c + alpha F)

with N_ct the count of feature t in the documents of class c and N_c = sum_t N_ct. Bernoulli uses only
whether each feature occurs, and also the features that do not::

    log P(c | x)  =  log P(c) + sum_t [b_t log p_ct + (1 - b_t) log(1 - p_ct)],
    p_ct = (D_ct + alpha) / (D_c + 2 alpha)

with D_ct the number of documents of class c holding t and D_c the documents of class c. These are
scikit-learn's MultinomialNB and BernoulliNB (with ``fit_prior=True``): the same alpha gives the same
predictions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NaiveBayes"]


class NaiveBayes:
    """Naive Bayes over count matrices X (D documents, F features) and integer labels y (D,).

    Parameters
    ----------
    alpha : float
        The smoothing pseudo-count (1 is Laplace).
    kind : {"multinomial", "bernoulli"}
    """

    def __init__(self, alpha: float = 1.0, kind: str = "multinomial") -> None:
        if alpha <= 0:
            raise ValueError(f"NaiveBayes: alpha must be positive, got {alpha}")
        if kind not in ("multinomial", "bernoulli"):
            raise ValueError(f"NaiveBayes: kind must be 'multinomial' or 'bernoulli', got {kind!r}")
        self.alpha, self.kind = float(alpha), kind

    def fit(self, X, y) -> "NaiveBayes":
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[0] != len(y):
            raise ValueError(f"NaiveBayes: need X of shape (D, F) with D > 0 and D labels, got {X.shape} and {len(y)}")
        if (X < 0).any():
            raise ValueError("NaiveBayes: feature counts must be non-negative")
        self.classes, y = np.unique(y, return_inverse=True)
        onehot = np.eye(len(self.classes))[y]  # (D, C)
        docs = onehot.sum(axis=0)
        self.log_prior = np.log(docs / docs.sum())
        self.feature_counts, self.documents = onehot.T @ X, docs  # (C, F), (C,)
        if self.kind == "multinomial":
            counts = self.feature_counts + self.alpha
            self.log_prob = np.log(counts) - np.log(counts.sum(axis=1, keepdims=True))
        else:
            present = onehot.T @ (X > 0) + self.alpha
            p = present / (docs[:, None] + 2 * self.alpha)
            self.log_prob, self.log_absent = np.log(p), np.log1p(-p)
        return self

    @classmethod
    def from_counts(cls, classes, feature_counts, documents, alpha: float = 1.0) -> "NaiveBayes":
        """The multinomial model fitted to data with these ``feature_counts`` (C, F) per class and
        ``documents`` (C,) per class (what a checkpoint stores)."""
        nb = cls(alpha)
        nb.classes, nb.feature_counts, nb.documents = np.asarray(classes), np.asarray(feature_counts), np.asarray(documents)
        nb.log_prior = np.log(nb.documents / nb.documents.sum())
        counts = nb.feature_counts + nb.alpha
        nb.log_prob = np.log(counts) - np.log(counts.sum(axis=1, keepdims=True))
        return nb

    def joint_log_likelihood(self, X) -> np.ndarray:
        """log P(c) + log P(x | c) for each document and class, shape (D, C)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.log_prob.shape[1]:
            raise ValueError(f"NaiveBayes: expected X with {self.log_prob.shape[1]} features, got shape {X.shape}")
        if self.kind == "multinomial":
            return X @ self.log_prob.T + self.log_prior
        b = (X > 0).astype(np.float64)
        return b @ (self.log_prob - self.log_absent).T + self.log_absent.sum(axis=1) + self.log_prior

    def predict_log_proba(self, X) -> np.ndarray:
        jll = self.joint_log_likelihood(X)
        top = jll.max(axis=1, keepdims=True)
        return jll - (top + np.log(np.exp(jll - top).sum(axis=1, keepdims=True)))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each document (the first on ties, as scikit-learn), shape (D,)."""
        return self.classes[np.argmax(self.joint_log_likelihood(X), axis=1)]

    def accuracy(self, X, y) -> float:
        return float((self.predict(X) == np.asarray(y)).mean())
