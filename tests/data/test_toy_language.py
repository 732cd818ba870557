"""The generated sentiment and part-of-speech sentences."""

import numpy as np

from microseq.data import POS_TAGS, pos_examples, sentiment_examples
from microseq.data import toy_language


def _sentiment_by_rule(words):
    """An independent reading of a review: the polarity of the last clause, flipped by 'not'."""
    for separator in ("but", ",", "and"):
        if separator in words:
            words = words[len(words) - words[::-1].index(separator):]
    positive = any(w in toy_language._POSITIVE for w in words)
    return int(positive) ^ ("not" in words)


def test_sentiment_labels_follow_the_grammar():
    sentences, labels = sentiment_examples(np.random.default_rng(3), 500)
    assert [_sentiment_by_rule(s) for s in sentences] == labels
    assert 0.4 < np.mean(labels) < 0.6
    assert sentiment_examples(np.random.default_rng(3), 500) == (sentences, labels)


def test_pos_tags_come_from_the_lexicon_and_ambiguity_exists():
    sentences, tags = pos_examples(np.random.default_rng(4), 500)
    seen = {}
    for words, word_tags in zip(sentences, tags):
        assert len(words) == len(word_tags) and 2 <= len(words) <= 16
        for w, t in zip(words, word_tags):
            assert t in POS_TAGS and w in toy_language._LEXICON[t]
            seen.setdefault(w, set()).add(t)
    assert seen["saw"] == {"NOUN", "VERB"} and seen["light"] == {"ADJ", "NOUN"}
