import numpy as np
import pytest

from microseq.text import WordVectors, spearman

WORDS = ["man", "woman", "king", "queen", "apple"]
VECTORS = np.array([[1.0, 0, 0, 0], [1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 1]])  # apple: cos 0 with all


def test_neighbors_are_by_cosine_and_exclude_the_word():
    wv = WordVectors(WORDS, VECTORS * np.array([[1], [5], [2], [3], [1]]))  # lengths do not matter
    best = wv.neighbors("king", k=2)
    assert [w for w, _ in best] == ["queen", "man"]
    assert best[0][1] == pytest.approx(2 / np.sqrt(6))


@pytest.mark.parametrize("method", ["add", "mul"])
def test_analogies_exclude_the_question_words(method):
    wv = WordVectors(WORDS, VECTORS)
    answers = wv.analogy("man", "woman", "king", k=5, method=method)  # b - a + c = queen exactly
    assert [w for w, _ in answers[:2]] == ["queen", "apple"]
    assert {w for w, s in answers if np.isneginf(s)} == {"man", "woman", "king"}
    # man : queen :: woman : ?  b - a + c = (1, 2, 1, 0) is nearest to queen, a question word: king is the answer
    scores = wv.analogy_scores(wv.ids(["man", "queen", "woman"])[None], method)[0]
    assert np.isneginf(scores[wv.index["queen"]]) and scores.argmax() == wv.index["king"]
    assert wv.analogy_accuracy([("man", "woman", "king", "queen"), ("woman", "man", "queen", "king"),
                                ("man", "king", "woman", "apple")], method) == pytest.approx(2 / 3)


def test_3cosmul_formula():
    wv = WordVectors(WORDS, VECTORS)
    q = wv.ids(["man", "woman", "king"])
    cos = wv.unit @ wv.unit.T
    shift = (cos + 1) / 2
    expected = shift[q[1]] * shift[q[2]] / (shift[q[0]] + 1e-3)
    expected[q] = -np.inf
    np.testing.assert_allclose(wv.analogy_scores(q[None], "mul")[0], expected)


def test_spearman_with_ties_equals_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, 30).astype(float), rng.normal(size=30)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_similarity_correlation():
    wv = WordVectors(WORDS, VECTORS)
    pairs = [("man", "woman", 3.0), ("king", "queen", 3.0), ("man", "queen", 2.0), ("man", "apple", 0.0)]
    assert wv.similarity_correlation(pairs) == pytest.approx(spearman(
        [wv.unit[0] @ wv.unit[1], wv.unit[2] @ wv.unit[3], wv.unit[0] @ wv.unit[3], wv.unit[0] @ wv.unit[4]],
        [3, 3, 2, 0]))


def test_unknown_words_give_one_line_errors():
    wv = WordVectors(WORDS, VECTORS)
    with pytest.raises(KeyError, match="word not in the vocabulary: 'pear'"):
        wv.neighbors("pear")
    with pytest.raises(KeyError, match="'prince'"):
        wv.analogy("man", "prince", "king")
    with pytest.raises(ValueError, match="3CosAdd"):
        wv.analogy("man", "woman", "king", method="sub")


def test_rows_for_a_task_vocabulary():
    wv = WordVectors(WORDS, VECTORS)
    rows, found = wv.rows_for(["<pad>", "queen", "pear", "man"])
    assert found.tolist() == [False, True, False, True]
    np.testing.assert_array_equal(rows, [[0, 0, 0, 0], VECTORS[3], [0, 0, 0, 0], VECTORS[0]])
    assert wv.rows_for([])[0].shape == (0, 4)
