"""The word list of a tokenised corpus, most frequent first, and the corpus as one array of ids."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

from ..data import DataError

__all__ = ["Corpus"]


class Corpus:
    """Sentences (lists of words) as a flat id array with the sentence of each token.

    Words seen fewer than ``min_count`` times are dropped (as word2vec does). Ids number the words by
    decreasing count, ties by word.

    Attributes
    ----------
    words : list of str, (V,)
    counts : int64 array (V,), each word's count
    ids : int64 array (N,), the kept tokens in order
    sentence : int64 array (N,), the sentence number of each token (windows never cross sentences)
    """

    def __init__(self, sentences: Sequence[Sequence[str]], min_count: int = 1) -> None:
        counts = Counter(w for s in sentences for w in s)
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        if not kept:
            raise DataError("the corpus is empty" if not counts else
                            f"no word occurs at least min_count={min_count} times in the corpus")
        self.words = kept
        self.index = {w: i for i, w in enumerate(kept)}
        self.counts = np.array([counts[w] for w in kept], dtype=np.int64)
        ids, sentence = [], []
        for number, s in enumerate(sentences):
            found = [self.index[w] for w in s if w in self.index]
            ids.extend(found)
            sentence.extend([number] * len(found))
        self.ids = np.array(ids, dtype=np.int64)
        self.sentence = np.array(sentence, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.words)
