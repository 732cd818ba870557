import numpy as np
import pytest

from microseq.data import sentiment_examples
from microseq.text import NaiveBayes, NGramFeatures


def test_multinomial_closed_form_on_a_tiny_corpus():
    docs = [["good", "good", "fun"], ["bad", "dull"], ["good", "plot"], ["bad", "bad", "plot"]]
    f = NGramFeatures().fit(docs)  # bad dull fun good plot
    X, y = f.transform(docs), np.array([1, 0, 1, 0])
    nb = NaiveBayes(alpha=1.0).fit(X, y)
    # class 1: counts bad 0, dull 0, fun 1, good 3, plot 1 (5 tokens); P(t|1) = (n + 1) / (5 + 5)
    assert np.exp(nb.log_prob[1]) == pytest.approx([0.1, 0.1, 0.2, 0.4, 0.2])
    # class 0: bad 3, dull 1, plot 1 (5 tokens)
    assert np.exp(nb.log_prob[0]) == pytest.approx([0.4, 0.2, 0.1, 0.1, 0.2])
    x = f.transform([["good", "bad", "plot", "plot"]])
    jll = nb.joint_log_likelihood(x)[0]
    assert jll[1] == pytest.approx(np.log(0.5) + np.log(0.4) + np.log(0.1) + 2 * np.log(0.2))
    assert jll[0] == pytest.approx(np.log(0.5) + np.log(0.1) + np.log(0.4) + 2 * np.log(0.2))
    assert nb.predict(x)[0] == 0  # a tie in the jll: the first class, as scikit-learn
    bern = NaiveBayes(alpha=1.0, kind="bernoulli").fit(X, y)
    assert np.exp(bern.log_prob[1]) == pytest.approx([1 / 4, 1 / 4, 2 / 4, 3 / 4, 2 / 4])


@pytest.mark.parametrize("kind", ["multinomial", "bernoulli"])
@pytest.mark.parametrize("alpha", [1.0, 0.1])
def test_predictions_equal_scikit_learn(kind, alpha):
    naive_bayes = pytest.importorskip("sklearn.naive_bayes")
    rng = np.random.default_rng(0)
    docs, y = sentiment_examples(rng, 400)
    test_docs, _ = sentiment_examples(rng, 200)
    f = NGramFeatures(1, 2).fit(docs)
    X, Xt = f.transform(docs), f.transform(test_docs)
    ours = NaiveBayes(alpha, kind).fit(X, y)
    theirs = (naive_bayes.MultinomialNB if kind == "multinomial" else naive_bayes.BernoulliNB)(alpha=alpha).fit(X, y)
    assert np.array_equal(ours.predict(Xt), theirs.predict(Xt))
    np.testing.assert_allclose(ours.predict_log_proba(Xt), theirs.predict_log_proba(Xt), atol=1e-10)


def test_bigrams_see_word_order_that_a_bag_of_words_cannot():
    rng = np.random.default_rng(1)
    docs, y = sentiment_examples(rng, 2000)
    test_docs, test_y = sentiment_examples(rng, 1000)
    accuracy = {}
    for n in (1, 2):
        f = NGramFeatures(1, n).fit(docs)
        accuracy[n] = NaiveBayes().fit(f.transform(docs), y).accuracy(f.transform(test_docs), test_y)
    assert accuracy[2] > accuracy[1] + 0.05


def test_bad_input():
    with pytest.raises(ValueError, match="empty corpus"):
        NGramFeatures().fit([[], []])
    with pytest.raises(ValueError, match="alpha must be positive"):
        NaiveBayes(alpha=0)
    nb = NaiveBayes().fit(np.eye(3), [0, 1, 1])
    with pytest.raises(ValueError, match="expected X with 3 features"):
        nb.predict(np.ones((1, 4)))
