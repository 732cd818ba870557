"""word2vec: skip-gram and CBOW with negative sampling (Mikolov et al. 2013, the settings of the C tool).

For an input vector h (skip-gram: the centre word's v_w; CBOW: the mean of the context words' v) and a
positive output word c with K negatives n drawn from the unigram counts to the power 3/4::

    loss = -log s(u_c . h) - sum_n log s(-u_n . h)
    d loss / d u_c = (s(u_c . h) - 1) h,   d loss / d u_n = s(u_n . h) h,
    d loss / d h = (s(u_c . h) - 1) u_c + sum_n s(u_n . h) u_n

Two tables: input vectors v (the word vectors one keeps) and output vectors u (zeros at the start). Each epoch
keeps a token of frequency f with probability (sqrt(f/t) + 1) t / f, draws each centre's window uniformly
in 1..window, and the step size falls linearly from ``lr`` to ``lr * 1e-4`` over training.

The samples (kept tokens, windows, negatives) are drawn with NumPy from one seeded generator; the updates
run either in the fused kernel ``microseq.kernels.word2vec.sgns_train`` or through the autograd engine
(``sgns_loss``, readable and slow). Both take the same samples and make the same steps.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import ops
from ..data import DataError
from ..kernels.word2vec import sgns_train
from ..tensor import Tensor
from .vocabulary import Corpus

__all__ = ["Word2Vec", "sgns_loss", "Examples", "draw_examples", "keep_probability", "noise_table",
           "sentence_chunks"]


CHUNK_TOKENS = 1_000_000  # examples are drawn for this many tokens at a time: about 100 MB at window 5


def sentence_chunks(sentence: np.ndarray, size: int) -> np.ndarray:
    """Cut points 0 = c0 < c1 < ... = N of the token range into chunks of about ``size`` tokens, each cut at
    a sentence start (windows never cross sentences, so drawing examples chunk by chunk loses none)."""
    N = len(sentence)
    starts = np.flatnonzero(np.r_[True, sentence[1:] != sentence[:-1]])
    wanted = np.searchsorted(starts, np.arange(size, N, size))
    cuts = np.where(wanted < len(starts), starts[np.minimum(wanted, len(starts) - 1)], N)
    return np.unique(np.r_[0, cuts, N]).astype(np.int64)


def keep_probability(counts: np.ndarray, sample: float) -> np.ndarray:
    """The C tool's subsampling: a token of word w is kept with probability min(1, (sqrt(f/t) + 1) t / f),
    f = count(w) / total; ``sample`` = t (0 keeps everything). Shape (V,)."""
    if sample <= 0:
        return np.ones(len(counts))
    f = counts / counts.sum()
    return np.minimum(1.0, (np.sqrt(f / sample) + 1.0) * sample / f)


class Examples:
    """Training examples in CSR form: example e reads the input words ``in_ids[in_ptr[e]:in_ptr[e + 1]]``
    and has the targets ``targets[e]`` (E, 1 + K), positive first; ``position[e]`` is the index in the corpus
    of its centre token (for the learning-rate schedule)."""

    def __init__(self, in_ptr, in_ids, targets, position) -> None:
        self.in_ptr, self.in_ids, self.targets, self.position = in_ptr, in_ids, targets, position

    def __len__(self) -> int:
        return len(self.targets)


def noise_table(counts: np.ndarray, size: int = 1_000_000) -> np.ndarray:
    """The C tool's unigram table: word w fills a share count(w)^0.75 / sum of its ``size`` slots, so that a
    uniform slot is a draw from the noise distribution (a gather instead of a binary search). A word whose
    share is below 1 / (2 size) gets no slot. 10^6 int32 slots fit in the cache; the C tool has 10^8.
    Shape (size,)."""
    weights = counts.astype(np.float64) ** 0.75
    ends = np.round(np.cumsum(weights) / weights.sum() * size).astype(np.int64)
    return np.repeat(np.arange(len(counts), dtype=np.int32), np.diff(np.r_[0, ends]))


def draw_examples(ids: np.ndarray, sentence: np.ndarray, noise: np.ndarray, keep: np.ndarray, window: int,
                  negatives: int, cbow: bool, rng: np.random.Generator) -> Examples:
    """One epoch's examples from the token ids (N,) and their sentence numbers (N,), in corpus order;
    ``noise`` is the :func:`noise_table`, ``keep`` each word's :func:`keep_probability`."""
    kept = np.flatnonzero(rng.random(len(ids)) < keep[ids])
    tokens, sent = ids[kept], sentence[kept]
    reach = rng.integers(1, window + 1, size=len(kept))  # each centre's window
    centres, contexts = [], []
    for d in [*range(-window, 0), *range(1, window + 1)]:
        i = np.arange(max(0, -d), len(kept) - max(0, d))
        i = i[(abs(d) <= reach[i]) & (sent[i] == sent[i + d])]
        centres.append(i)
        contexts.append(i + d)
    centre, context = np.concatenate(centres), np.concatenate(contexts)
    order = np.argsort(centre, kind="stable")
    centre, context = centre[order], context[order]
    if cbow:  # one example per centre, its inputs the whole window
        starts = np.flatnonzero(np.r_[True, centre[1:] != centre[:-1]]) if len(centre) else np.zeros(0, np.int64)
        in_ptr = np.r_[starts, len(centre)].astype(np.int64)
        in_ids, positive = tokens[context], tokens[centre[starts]]
        centre = centre[starts]
    else:  # one example per (centre, context) pair: the centre predicts the context word
        in_ptr, in_ids, positive = np.arange(len(centre) + 1, dtype=np.int64), tokens[centre], tokens[context]
    targets = np.empty((len(positive), 1 + negatives), dtype=np.int32)  # int32: half the memory traffic
    targets[:, 0] = positive
    targets[:, 1:] = noise[rng.integers(0, len(noise), (len(positive), negatives), dtype=np.int32)]
    return Examples(in_ptr, in_ids.astype(np.int64), targets, kept[centre])


def sgns_loss(v: Tensor, u: Tensor, in_ptr: np.ndarray, in_ids: np.ndarray, targets: np.ndarray) -> Tensor:
    """The summed negative-sampling loss of a batch of examples, through the autograd engine.

    v, u : Tensor (V, D), the input and output tables; the batch in the CSR form of :class:`Examples`.
    Returns a scalar Tensor.
    """
    counts = np.diff(in_ptr)
    width = int(counts.max()) if len(counts) else 1
    slot = np.arange(width)[None, :]
    mask = (slot < counts[:, None]).astype(v.dtype)  # (E, C): which context slots are real
    rows = in_ids[np.minimum(in_ptr[:-1, None] + slot, len(in_ids) - 1)]  # (E, C)
    h = (v[rows] * mask[:, :, None]).sum(axis=1) / counts[:, None].astype(v.dtype)  # (E, D): embedding lookup
    scores = (u[targets] * h.unsqueeze(1)).sum(axis=2)  # (E, 1 + K): dot products
    labels = np.zeros(targets.shape, dtype=v.dtype)
    labels[:, 0] = 1.0
    return ops.binary_cross_entropy_with_logits(scores, labels, reduction="sum")  # -log s(+-score)


def _composed_train(v, u, examples: Examples, batch_ptr, lrs) -> float:
    """The autograd path of ``sgns_train``: one SGD step per batch on the summed loss, in place."""
    total = 0.0
    for b in range(len(batch_ptr) - 1):
        s, e = batch_ptr[b], batch_ptr[b + 1]
        ptr = examples.in_ptr[s:e + 1]
        vt, ut = Tensor(v, requires_grad=True), Tensor(u, requires_grad=True)
        loss = sgns_loss(vt, ut, ptr - ptr[0], examples.in_ids[ptr[0]:ptr[-1]], examples.targets[s:e])
        loss.backward()
        v -= lrs[b] * vt.grad
        u -= lrs[b] * ut.grad
        total += loss.item()
    return total


class Word2Vec:
    """word2vec with negative sampling; ``fit`` on tokenised sentences, then read ``vectors`` (V, D).

    Parameters
    ----------
    dim : int
        D, the vector size.
    window : int
        The largest distance to a context word; each centre draws its own in 1..window.
    negatives : int
        K, noise words per positive word.
    cbow : bool
        CBOW (predict the centre from the mean of its context) instead of skip-gram.
    sample : float
        The subsampling threshold t (0 keeps every token).
    min_count : int
        Rarer words are dropped.
    lr : float
        The first step size (falls linearly towards 0).
    epochs : int
    batch_size : int
        Examples per SGD step (1 updates after every example, as the C tool).
    engine : {"fused", "composed"}
        The numba kernel or the autograd engine for the updates.
    seed : int
    dtype : float32 or float64
    """

    def __init__(self, dim: int = 100, window: int = 5, negatives: int = 5, cbow: bool = False, sample: float = 1e-3,
                 min_count: int = 5, lr: float | None = None, epochs: int = 5, batch_size: int = 1,
                 engine: str = "fused", seed: int = 0, dtype=np.float32) -> None:
        for name, value in (("dim", dim), ("window", window), ("negatives", negatives), ("epochs", epochs),
                            ("batch_size", batch_size), ("min_count", min_count)):
            if int(value) != value or value < 1:
                raise ValueError(f"Word2Vec: {name} must be a positive integer, got {value!r}")
        if engine not in ("fused", "composed"):
            raise ValueError(f"Word2Vec: engine must be 'fused' or 'composed', got {engine!r}")
        self.dim, self.window, self.negatives, self.cbow, self.sample = dim, window, negatives, cbow, sample
        self.min_count, self.epochs, self.batch_size = min_count, epochs, batch_size
        self.engine, self.seed = engine, seed
        self.lr = (0.05 if cbow else 0.025) if lr is None else lr
        self.dtype = np.dtype(dtype)

    def fit(self, sentences: Sequence[Sequence[str]]) -> "Word2Vec":
        corpus = Corpus(sentences, self.min_count)
        V = len(corpus)
        if V < self.negatives + 1:
            raise DataError(f"word2vec: the corpus has {V} distinct words; {self.negatives} negatives need at least "
                            f"{self.negatives + 1}")
        self.words, self.index, self.counts = corpus.words, corpus.index, corpus.counts
        rng = np.random.default_rng(self.seed)
        noise = noise_table(corpus.counts)
        keep = keep_probability(corpus.counts, self.sample)
        self.v = ((rng.random((V, self.dim)) - 0.5) / self.dim).astype(self.dtype)  # the C tool's start
        self.u = np.zeros((V, self.dim), dtype=self.dtype)
        if not (corpus.sentence[1:] == corpus.sentence[:-1]).any():
            raise DataError("word2vec: no sentence has two words, so no word has a context")
        N, cuts = len(corpus.ids), sentence_chunks(corpus.sentence, CHUNK_TOKENS)
        self.losses, self.examples_seen = [], 0
        for epoch in range(self.epochs):
            loss, count = 0.0, 0
            for start, stop in zip(cuts[:-1], cuts[1:]):
                examples = draw_examples(corpus.ids[start:stop], corpus.sentence[start:stop], noise, keep,
                                         self.window, self.negatives, self.cbow, rng)
                if len(examples) == 0:
                    continue
                batch_ptr = np.r_[np.arange(0, len(examples), self.batch_size), len(examples)].astype(np.int64)
                progress = (epoch * N + start + examples.position[batch_ptr[:-1]]) / (self.epochs * N)
                lrs = (self.lr * np.maximum(1.0 - progress, 1e-4)).astype(self.dtype)
                if self.engine == "fused":
                    loss += sgns_train(self.v, self.u, examples.in_ptr, examples.in_ids, examples.targets,
                                       batch_ptr, lrs)
                else:
                    loss += _composed_train(self.v, self.u, examples, batch_ptr, lrs)
                count += len(examples)
            self.losses.append(loss / count if count else float("nan"))
            self.examples_seen += count
        return self

    @property
    def vectors(self) -> np.ndarray:
        """The input vectors v, shape (V, D): the word vectors."""
        return self.v
