"""Solutions of tutorial 07 (from counts to vectors)."""

from __future__ import annotations

import numpy as np


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def naive_bayes_fit(X, y, alpha):
    """Multinomial Naive Bayes: X (D, F) counts, y (D,) labels -> log P(c) (C,) and log P(t | c) (C, F),
    classes in sorted order, Laplace/Lidstone smoothing ``alpha``."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    classes = np.unique(y)
    log_prior = np.log(np.array([(y == c).mean() for c in classes]))
    counts = np.stack([X[y == c].sum(axis=0) for c in classes]) + alpha  # N_ct + alpha
    return log_prior, np.log(counts / counts.sum(axis=1, keepdims=True))  # / (N_c + alpha F)


def sgns_gradients(h, u_pos, u_neg):
    """Gradients of -log s(u_pos . h) - sum_n log s(-u_neg[n] . h): h (D,), u_pos (D,), u_neg (K, D) ->
    d/dh (D,), d/du_pos (D,), d/du_neg (K, D)."""
    g_pos = _sigmoid(u_pos @ h) - 1  # d(-log s(s)) / ds
    g_neg = _sigmoid(u_neg @ h)  # d(-log s(-s)) / ds, (K,)
    return g_pos * u_pos + g_neg @ u_neg, g_pos * h, g_neg[:, None] * h[None, :]


def unseen_fraction(train, test, n):
    """The share of the n-grams of ``test`` (one per position, repeats counted) that never occur in ``train``."""
    seen = {tuple(train[i:i + n]) for i in range(len(train) - n + 1)}
    grams = [tuple(test[i:i + n]) for i in range(len(test) - n + 1)]
    return sum(g not in seen for g in grams) / len(grams)


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def naive_bayes_fit_smoothing_one_feature(X, y, alpha):
    """Adds alpha to each count but only alpha (not alpha F) to the total: the probabilities sum past one."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    classes = np.unique(y)
    log_prior = np.log(np.array([(y == c).mean() for c in classes]))
    counts = np.stack([X[y == c].sum(axis=0) for c in classes])
    return log_prior, np.log((counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha))


def naive_bayes_fit_on_presence(X, y, alpha):
    """Counts documents that contain each word instead of the word's occurrences (a Bernoulli count in a
    multinomial model)."""
    return naive_bayes_fit(np.asarray(X) > 0, y, alpha)


def sgns_gradients_positive_as_negative(h, u_pos, u_neg):
    """Uses s(score) for the positive word too (forgets the -1 of d(-log s(s))/ds)."""
    g_pos, g_neg = _sigmoid(u_pos @ h), _sigmoid(u_neg @ h)
    return g_pos * u_pos + g_neg @ u_neg, g_pos * h, g_neg[:, None] * h[None, :]


def sgns_gradients_without_the_negatives_in_h(h, u_pos, u_neg):
    """Sends only the positive word's gradient into h: the negatives never push the centre word away."""
    g_pos, g_neg = _sigmoid(u_pos @ h) - 1, _sigmoid(u_neg @ h)
    return g_pos * u_pos, g_pos * h, g_neg[:, None] * h[None, :]


def unseen_fraction_of_distinct(train, test, n):
    """Counts each distinct test n-gram once (types, not tokens)."""
    seen = {tuple(train[i:i + n]) for i in range(len(train) - n + 1)}
    grams = {tuple(test[i:i + n]) for i in range(len(test) - n + 1)}
    return sum(g not in seen for g in grams) / len(grams)


def unseen_fraction_of_shorter_grams(train, test, n):
    """Off by one: compares the (n-1)-grams, i.e. the histories, not the n-grams."""
    return unseen_fraction(train, test, max(n - 1, 1))


MISTAKES = {
    "naive_bayes_fit": [naive_bayes_fit_smoothing_one_feature, naive_bayes_fit_on_presence],
    "sgns_gradients": [sgns_gradients_positive_as_negative, sgns_gradients_without_the_negatives_in_h],
    "unseen_fraction": [unseen_fraction_of_distinct, unseen_fraction_of_shorter_grams],
}
