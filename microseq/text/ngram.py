"""n-gram language models over integer token ids (characters or words), counted with NumPy.

Counting. The n-grams of every order k = 1..n are numbered densely, order by order: a k-gram's code is
``id(its first k-1 tokens) * V + last token``, so codes never overflow whatever V and n are, and one
``np.unique`` per order gives the sorted table, the counts and each position's id. Lookups of new text use
``np.searchsorted`` on the same sorted codes: no Python dictionary in any loop over tokens.

Smoothing, for a word w after a history h (h' is h without its first token):

* ``"ml"``: maximum likelihood c(h w) / c(h) with the longest history seen in training.
* ``"add-k"``: (c(h w) + k) / (c(h) + k V).
* ``"kneser-ney"`` (interpolated, absolute discount D)::

      P(w | h) = max(c(h w) - D, 0) / c(h)  +  D N1+(h .) / c(h) * P(w | h')

  where the highest order uses raw counts c and every lower order the continuation counts
  c(g) = N1+(. g), the number of distinct tokens seen before g. The unigram level interpolates with the
  uniform distribution 1/V the same way, so every token of the vocabulary has a probability above zero. A
  history never seen in training passes its whole mass to the lower order.

Here c(h) = sum over w of c(h w) and N1+(h .) = the number of distinct w with c(h w) > 0, so for every
history the probabilities over the V tokens sum to one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NGramLM", "SMOOTHINGS"]

SMOOTHINGS = ("ml", "add-k", "kneser-ney")


def _gather(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """values[ids] as float64, 0 where an id is -1 (unseen) or ``values`` is empty."""
    if len(values) == 0:
        return np.zeros(len(ids))
    return np.where(ids >= 0, values[np.maximum(ids, 0)], 0.0)


class _Order:
    """The table of one order k: sorted codes, raw and continuation counts, and per-history sums."""

    def __init__(self, codes: np.ndarray, counts: np.ndarray, n_histories: int, vocab_size: int) -> None:
        self.codes, self.counts = codes, counts.astype(np.float64)
        self.continuation = np.zeros(len(codes))  # filled in from the order above
        self.history = codes // vocab_size  # dense id of each k-gram's first k-1 tokens
        self.n_histories = n_histories

    def history_sums(self, continuation: bool) -> tuple[np.ndarray, np.ndarray]:
        """c(h) and N1+(h .) for every history id, from raw or continuation counts."""
        counts = self.continuation if continuation else self.counts
        total = np.bincount(self.history, weights=counts, minlength=self.n_histories)
        distinct = np.bincount(self.history, weights=(counts > 0).astype(np.float64), minlength=self.n_histories)
        return total, distinct

    def lookup(self, codes: np.ndarray) -> np.ndarray:
        """Dense ids of ``codes`` (-1 where the n-gram was never seen)."""
        where = np.searchsorted(self.codes, codes)
        where = np.minimum(where, len(self.codes) - 1)
        found = (codes >= 0) & (self.codes[where] == codes) if len(self.codes) else np.zeros(len(codes), bool)
        return np.where(found, where, -1)


class NGramLM:
    """An n-gram language model of order ``order`` over token ids in [0, vocab_size).

    Parameters
    ----------
    order : int
        n, the number of tokens in the longest n-gram (1 is a unigram model).
    vocab_size : int
        V; ids of the training and test sequences must be below it.
    smoothing : {"kneser-ney", "add-k", "ml"}
    discount : float
        D of Kneser-Ney, in (0, 1].
    k : float
        The pseudo-count of add-k.

    Examples
    --------
    >>> lm = NGramLM(2, 3).fit(np.array([0, 1, 2, 0, 1, 2]))
    >>> float(lm.distribution([0]).sum())
    1.0
    """

    def __init__(self, order: int, vocab_size: int, smoothing: str = "kneser-ney", discount: float = 0.75,
                 k: float = 1.0) -> None:
        if int(order) != order or order < 1:
            raise ValueError(f"NGramLM: order must be a positive integer, got {order!r}")
        if vocab_size < 1:
            raise ValueError(f"NGramLM: vocab_size must be positive, got {vocab_size}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"NGramLM: smoothing must be one of {', '.join(SMOOTHINGS)}, got {smoothing!r}")
        if not 0.0 < discount <= 1.0:
            raise ValueError(f"NGramLM: discount must be in (0, 1], got {discount}")
        if k <= 0:
            raise ValueError(f"NGramLM: k must be positive, got {k}")
        self.order, self.vocab_size, self.smoothing = int(order), int(vocab_size), smoothing
        self.discount, self.k = float(discount), float(k)
        self.orders: list[_Order] = []

    def _check_ids(self, ids, what: str) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"NGramLM: {what} ids must be in [0, {self.vocab_size}), got {ids.min()}..{ids.max()}")
        return ids

    def fit(self, ids) -> "NGramLM":
        """Count every n-gram of order 1..n of the sequence ``ids`` (shape (N,))."""
        ids = self._check_ids(ids, "training")
        if ids.size == 0:
            raise ValueError("NGramLM: cannot fit on an empty sequence")
        V, self.orders = self.vocab_size, []
        prefix_ids = np.zeros(len(ids), dtype=np.int64)  # id of the (k-1)-gram starting at each position
        n_prefixes = 1
        for k in range(1, self.order + 1):
            n = len(ids) - k + 1
            if n <= 0:
                break
            codes = prefix_ids[:n] * V + ids[k - 1:k - 1 + n]
            table, first, inverse, counts = np.unique(codes, return_index=True, return_inverse=True,
                                                      return_counts=True)
            self.orders.append(_Order(table, counts, n_prefixes, V))
            prefix_ids, n_prefixes = inverse.reshape(-1), len(table)
            if k > 1:  # N1+(. g): each distinct k-gram adds one to the (k-1)-gram it ends with
                suffix = self._ids_at(ids, first + 1, k - 1)
                self.orders[k - 2].continuation = np.bincount(suffix, minlength=len(self.orders[k - 2].codes))
        while len(self.orders) < self.order:  # a text shorter than n: the missing orders are empty
            self.orders.append(_Order(np.zeros(0, np.int64), np.zeros(0), n_prefixes, V))
        self._sums = [(o.history_sums(False), o.history_sums(True)) for o in self.orders]
        return self

    def tables(self) -> dict:
        """The counts as named float64 arrays (exact integers below 2^53), for a safetensors checkpoint:
        ``order{k}_codes``, ``order{k}_counts`` and ``order{k}_continuation`` for k = 1..n."""
        if not self.orders:
            raise RuntimeError("NGramLM: call fit() first")
        return {f"order{k}_{part}": getattr(o, part).astype(np.float64)
                for k, o in enumerate(self.orders, start=1) for part in ("codes", "counts", "continuation")}

    @classmethod
    def from_tables(cls, tables: dict, order: int, vocab_size: int, smoothing: str = "kneser-ney",
                    discount: float = 0.75, k: float = 1.0) -> "NGramLM":
        """The fitted model whose :meth:`tables` are ``tables``."""
        lm, n_histories = cls(order, vocab_size, smoothing, discount, k), 1
        for j in range(1, lm.order + 1):
            codes = np.asarray(tables[f"order{j}_codes"]).astype(np.int64)
            table = _Order(codes, np.asarray(tables[f"order{j}_counts"]), n_histories, lm.vocab_size)
            table.continuation = np.asarray(tables[f"order{j}_continuation"], dtype=np.float64)
            lm.orders.append(table)
            n_histories = len(codes)
        lm._sums = [(o.history_sums(False), o.history_sums(True)) for o in lm.orders]
        return lm

    def _ids_at(self, ids: np.ndarray, starts: np.ndarray, k: int) -> np.ndarray:
        """Dense ids of the k-grams of ``ids`` starting at ``starts`` (-1 if unseen or out of range)."""
        dense = np.zeros(len(starts), dtype=np.int64)
        for j in range(k):
            pos = starts + j
            inside = pos < len(ids)
            token = np.where(inside, ids[np.minimum(pos, len(ids) - 1)], 0)
            code = np.where((dense >= 0) & inside, dense * self.vocab_size + token, -1)
            dense = self.orders[j].lookup(code)
        return dense

    def _probabilities(self, histories: np.ndarray, words: np.ndarray) -> np.ndarray:
        """P(words[i] | histories[i]) for histories (P, n-1) left-padded with -1, words (P,)."""
        if not self.orders:
            raise RuntimeError("NGramLM: call fit() before scoring")
        V, P = self.vocab_size, len(words)
        top = 1 + (histories >= 0).sum(axis=1)  # the order each row starts from
        prob = np.full(P, 1.0 / V)
        for k in range(1, self.order + 1):
            table = self.orders[k - 1]
            history = np.zeros(P, dtype=np.int64)  # dense id of the last k-1 tokens of the history
            for j in range(k - 1):
                token = histories[:, self.order - k + j]
                code = np.where((history >= 0) & (token >= 0), history * V + token, -1)
                history = self.orders[j].lookup(code)
            gram = table.lookup(np.where(history >= 0, history * V + words, -1))
            (total_raw, distinct_raw), (total_cont, distinct_cont) = self._sums[k - 1]
            raw_count, raw_total = _gather(table.counts, gram), _gather(total_raw, history)
            if self.smoothing == "add-k":  # only the starting order counts
                prob = np.where(k == top, (raw_count + self.k) / (raw_total + self.k * V), prob)
                continue
            if self.smoothing == "ml":  # the longest history seen in training decides
                seen = (k <= top) & (raw_total > 0)
                prob = np.where(seen, raw_count / np.where(seen, raw_total, 1.0), prob)
                continue
            raw = k == top  # Kneser-Ney: raw counts at the starting order, continuation counts below it
            count = np.where(raw, raw_count, _gather(table.continuation, gram))
            total = np.where(raw, raw_total, _gather(total_cont, history))
            distinct = np.where(raw, _gather(distinct_raw, history), _gather(distinct_cont, history))
            seen = (k <= top) & (total > 0)  # an unseen history leaves P(w | h') as it is
            safe, d = np.where(seen, total, 1.0), self.discount
            prob = np.where(seen, np.maximum(count - d, 0.0) / safe + d * distinct / safe * prob, prob)
        return prob

    def _histories(self, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The up-to-(n-1) tokens before each position, as rows left-padded with -1."""
        width = self.order - 1
        offsets = positions[:, None] - width + np.arange(width)[None, :]
        return np.where(offsets >= 0, ids[np.maximum(offsets, 0)], -1)

    def log_probs(self, ids) -> np.ndarray:
        """Natural-log probability of each token ids[1:], each given the tokens before it in ``ids``
        (at most n-1 of them; the first token is the given start, as for a recurrent model). Shape (N-1,)."""
        ids = self._check_ids(ids, "test")
        positions = np.arange(1, len(ids))
        with np.errstate(divide="ignore"):
            return np.log(self._probabilities(self._histories(ids, positions), ids[positions]))

    def cross_entropy(self, ids) -> float:
        """Mean negative log-likelihood in nats per token of ids[1:] (inf if a token has probability 0)."""
        lp = self.log_probs(ids)
        if lp.size == 0:
            raise ValueError("NGramLM: need at least two tokens to score")
        return float(-lp.mean())

    def bits_per_token(self, ids) -> float:
        """Cross-entropy in bits per token (bits per character for a character model)."""
        return self.cross_entropy(ids) / np.log(2.0)

    def perplexity(self, ids) -> float:
        """exp of the cross-entropy in nats."""
        return float(np.exp(self.cross_entropy(ids)))

    def distribution(self, history) -> np.ndarray:
        """P(w | history) for every token w of the vocabulary, shape (V,); only the last n-1 tokens of
        ``history`` are used."""
        history = self._check_ids(history, "history")[-(self.order - 1):] if self.order > 1 else np.zeros(0, np.int64)
        row = np.full(self.order - 1, -1, dtype=np.int64)
        if len(history):
            row[-len(history):] = history
        words = np.arange(self.vocab_size)
        return self._probabilities(np.repeat(row[None, :], self.vocab_size, axis=0), words)

    def sample(self, length: int, history=(), seed: int | np.random.Generator = 0) -> np.ndarray:
        """``length`` token ids drawn one at a time from the model after ``history``, shape (length,)."""
        rng = np.random.default_rng(seed)
        tokens = list(self._check_ids(history, "history"))
        for _ in range(length):
            p = self.distribution(np.array(tokens[-(self.order - 1):] if self.order > 1 else [], np.int64))
            tokens.append(int(rng.choice(self.vocab_size, p=p / p.sum())))
        return np.array(tokens[len(tokens) - length:], dtype=np.int64)

    def unseen_fraction(self, ids) -> float:
        """Fraction of the n-grams of ``ids`` (full order n) never seen in training: the sparsity problem."""
        ids = self._check_ids(ids, "test")
        n = len(ids) - self.order + 1
        if n <= 0:
            raise ValueError(f"NGramLM: need at least {self.order} tokens")
        return float((self._ids_at(ids, np.arange(n), self.order) < 0).mean())
