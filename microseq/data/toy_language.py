"""Two small languages generated from grammars: one to classify whole sentences, one to tag every word.

Both are built so that a bag of words is not enough and order matters:

* **sentiment** (many-to-one): reviews such as ``the plot was not very good but the acting was superb``.
  The label is the polarity of the last clause, flipped by ``not``; ``although A , B`` and ``A but B`` take
  B's polarity, ``A and B`` joins clauses that agree.
* **part-of-speech tags** (many-to-many): sentences such as ``the old man saw a duck near the park`` with
  ambiguous words (``saw``, ``duck``, ``fish``, ``can`` are nouns or verbs; ``light`` is an adjective or a
  noun, ``fast`` an adjective or an adverb). Each word's tag follows from its neighbours, sometimes from
  the *next* word (``the light dog`` vs ``the light``): a bidirectional tagger can get nearly every tag
  right (a few sentences, like ``the light can fish``, have two parses).

Everything is a function of the generator passed in, so a seed fixes a data set.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SENTIMENT_LABELS", "sentiment_examples", "POS_TAGS", "pos_examples"]

SENTIMENT_LABELS = ("negative", "positive")

_SUBJECTS = ["the movie", "the film", "this book", "the food", "the service", "our trip", "the plot",
             "the acting", "the music", "the hotel", "the ending", "the staff"]
_BE = ["was", "is", "seemed", "felt", "looked"]
_INTENSIFIERS = ["very", "really", "quite", "so", "rather"]
_POSITIVE = ["good", "great", "excellent", "wonderful", "fun", "lovely", "brilliant", "pleasant",
             "enjoyable", "superb", "charming", "fantastic"]
_NEGATIVE = ["bad", "awful", "terrible", "boring", "dull", "poor", "horrible", "bland", "disappointing",
             "weak", "tedious", "mediocre"]
_OPENERS = ["honestly ,", "i think", "overall ,", "to be fair ,"]


def _pick(rng: np.random.Generator, words: list[str]) -> str:
    return words[int(rng.integers(len(words)))]


def _clause(rng: np.random.Generator, polarity: int) -> list[str]:
    """A clause meaning ``polarity`` (1 positive), negated half of the time."""
    negated = bool(rng.integers(2))
    adjective_polarity = polarity ^ negated
    words = _pick(rng, _SUBJECTS).split() + [_pick(rng, _BE)]
    if negated:
        words.append("not")
    if rng.random() < 0.4:
        words.append(_pick(rng, _INTENSIFIERS))
    words.append(_pick(rng, _POSITIVE if adjective_polarity else _NEGATIVE))
    return words


def _review(rng: np.random.Generator) -> tuple[list[str], int]:
    label = int(rng.integers(2))
    shape = rng.random()
    if shape < 0.35:
        words = _clause(rng, label)
    elif shape < 0.6:
        words = _clause(rng, 1 - label) + ["but"] + _clause(rng, label)
    elif shape < 0.8:
        words = ["although"] + _clause(rng, 1 - label) + [","] + _clause(rng, label)
    else:
        words = _clause(rng, label) + ["and"] + _clause(rng, label)
    if rng.random() < 0.2:
        words = _pick(rng, _OPENERS).split() + words
    return words, label


def sentiment_examples(rng: np.random.Generator, n: int) -> tuple[list[list[str]], list[int]]:
    """``n`` generated reviews (lists of words, 4 to 20 words) and their labels (0 negative, 1 positive)."""
    pairs = [_review(rng) for _ in range(n)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


POS_TAGS = ("DET", "ADJ", "NOUN", "PRON", "VERB", "AUX", "ADV", "PREP")

_LEXICON = {
    "DET": ["the", "a", "this", "every", "my", "her"],
    "ADJ": ["old", "green", "quick", "small", "light", "fast", "happy", "red"],
    "NOUN": ["dog", "cat", "man", "woman", "fish", "light", "saw", "duck", "book", "can", "watch", "park",
             "table", "river"],
    "PRON": ["she", "he", "they", "we"],
    "VERB": ["saw", "fish", "duck", "book", "watch", "park", "sees", "likes", "finds", "paints", "can"],
    "AUX": ["will", "can", "may", "must"],
    "ADV": ["quickly", "fast", "today", "again", "slowly"],
    "PREP": ["in", "near", "with", "on", "under"],
}


def _tagged(rng: np.random.Generator, tag: str) -> tuple[str, str]:
    return _pick(rng, _LEXICON[tag]), tag


def _noun_phrase(rng: np.random.Generator, allow_pronoun: bool) -> list[tuple[str, str]]:
    if allow_pronoun and rng.random() < 0.25:
        return [_tagged(rng, "PRON")]
    words = [_tagged(rng, "DET")]
    for _ in range(int(rng.integers(0, 3))):
        words.append(_tagged(rng, "ADJ"))
    words.append(_tagged(rng, "NOUN"))
    return words


def _sentence(rng: np.random.Generator) -> list[tuple[str, str]]:
    words = _noun_phrase(rng, allow_pronoun=True)
    if rng.random() < 0.3:
        words.append(_tagged(rng, "AUX"))
    words.append(_tagged(rng, "VERB"))
    if rng.random() < 0.8:
        words += _noun_phrase(rng, allow_pronoun=False)
    if rng.random() < 0.4:
        words += [_tagged(rng, "PREP")] + _noun_phrase(rng, allow_pronoun=False)
    if rng.random() < 0.3:
        words.append(_tagged(rng, "ADV"))
    return words


def pos_examples(rng: np.random.Generator, n: int) -> tuple[list[list[str]], list[list[str]]]:
    """``n`` generated sentences (lists of words, 2 to 14 words) and their tags (from :data:`POS_TAGS`)."""
    sentences = [_sentence(rng) for _ in range(n)]
    return [[w for w, _ in s] for s in sentences], [[t for _, t in s] for s in sentences]
