import numpy as np

from microseq.text import GloVe, Word2Vec, WordVectors, planted_corpus, python_docs_corpus, tokenize


def factor_vectors(factors):
    """The vectors the planted corpus is built from: one one-hot block per factor, summed."""
    slots = {}
    for word, values in factors.items():
        for position, value in enumerate(values):
            slots.setdefault((values[0], position, value), len(slots))
    vectors = np.zeros((len(factors), len(slots)))
    for i, values in enumerate(factors.values()):
        for position, value in enumerate(values):
            vectors[i, slots[values[0], position, value]] = 1.0
    return WordVectors(list(factors), vectors)


def test_planted_questions_hold_by_construction_and_are_split():
    corpus = planted_corpus(200, seed=1)
    ideal = factor_vectors(corpus.factors)
    assert ideal.analogy_accuracy(corpus.held_out) == 1.0
    assert ideal.analogy_accuracy(corpus.dev) == 1.0
    assert not set(corpus.dev) & set(corpus.held_out) and len(corpus.held_out) > 1000
    assert ideal.similarity_correlation(corpus.similarity) > 0.9
    relations = {(corpus.factors[a][0], corpus.factors[b][0]) for a, b, _, _ in corpus.held_out}
    assert relations == {("person", "person"), ("place", "place"), ("company", "company"), ("adjective", "adjective")}
    assert ("king", "queen", "man", "woman") in corpus.dev + corpus.held_out
    assert ("big", "bigger", "happy", "happier") in corpus.dev + corpus.held_out


def test_planted_corpus_is_seeded_and_sentences_carry_their_factors():
    a, b = planted_corpus(50, seed=2), planted_corpus(50, seed=2)
    assert a.sentences == b.sentences and a.held_out == b.held_out
    assert a.sentences != planted_corpus(50, seed=3).sentences
    queen = [s for s in planted_corpus(2000).sentences if "queen" in s]
    assert queen and all(len(s) == 9 for s in queen)  # the word, 2 words of each of 3 factors, 2 background


def test_tokenize_keeps_identifiers_and_splits_sentences():
    text = "Call __init__() first. Then sys.path holds paths!\n\nA new paragraph"
    assert tokenize(text) == [["call", "__init__", "first"], ["then", "sys", "path", "holds", "paths"],
                              ["a", "new", "paragraph"]]


def test_trained_vectors_answer_the_held_out_analogies():
    # a quarter of the benchmark's corpus (python -m microseq.text.benchmark planted reaches 99.7-100%)
    corpus = planted_corpus(15_000)
    for model in (Word2Vec(dim=30, epochs=3, min_count=1), Word2Vec(dim=30, epochs=5, min_count=1, cbow=True)):
        model.fit(corpus.sentences)
        assert WordVectors(model.words, model.vectors).analogy_accuracy(corpus.held_out) > 0.9
    glove = GloVe(dim=30, window=5, epochs=20, min_count=1).fit(corpus.sentences)
    assert WordVectors(glove.words, glove.vectors).analogy_accuracy(corpus.held_out) > 0.7


def test_python_docs_corpus_is_english_from_the_standard_library():
    sentences = python_docs_corpus(max_chars=200_000)
    words = [w for s in sentences for w in s]
    assert 20_000 < len(words) < 60_000
    assert {"the", "list", "file", "exception"} <= set(words)
