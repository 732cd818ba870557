import numpy as np
import pytest
from hypothesis import given, strategies as st

from microseq.data import CharVocab, split_text
from microseq.text import NGramLM


@given(st.lists(st.integers(0, 4), min_size=1, max_size=40), st.integers(1, 4),
       st.sampled_from(["kneser-ney", "add-k", "ml"]), st.lists(st.integers(0, 5), max_size=4))
def test_probabilities_sum_to_one_for_every_history(train, order, smoothing, history):
    lm = NGramLM(order, 6, smoothing).fit(np.array(train))
    p = lm.distribution(np.array(history, dtype=np.int64))
    assert p.shape == (6,) and (p >= 0).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_kneser_ney_matches_a_hand_computed_bigram_example():
    # text a b a c a b (ids 0 1 0 2 0 1), V = 4 (id 3 never seen), D = 0.75
    lm = NGramLM(2, 4, "kneser-ney", discount=0.75).fit(np.array([0, 1, 0, 2, 0, 1]))
    # continuation counts N1+(. w): a after {b, c} = 2, b after {a} = 1, c after {a} = 1, d = 0; total 4, 3 types
    unigram = {w: max(n - 0.75, 0) / 4 + 0.75 * 3 / 4 * 0.25 for w, n in enumerate([2, 1, 1, 0])}
    # history a: c(a b) = 2, c(a c) = 1, c(a .) = 3, N1+(a .) = 2
    expected_b = (2 - 0.75) / 3 + 0.75 * 2 / 3 * unigram[1]
    expected_d = 0.75 * 2 / 3 * unigram[3]
    p = lm.distribution(np.array([0]))
    assert p[1] == pytest.approx(expected_b, abs=1e-15)
    assert p[3] == pytest.approx(expected_d, abs=1e-15)
    # an unseen history (d) gives the whole mass to the continuation unigram
    assert lm.distribution(np.array([3])) == pytest.approx([unigram[w] for w in range(4)], abs=1e-15)


def test_maximum_likelihood_and_add_k_closed_forms():
    ids = np.array([0, 1, 0, 2, 0, 1])
    ml = NGramLM(2, 3, "ml").fit(ids)
    assert ml.distribution(np.array([0])) == pytest.approx([0, 2 / 3, 1 / 3])
    add = NGramLM(2, 3, "add-k", k=0.5).fit(ids)
    assert add.distribution(np.array([0])) == pytest.approx([0.5 / 4.5, 2.5 / 4.5, 1.5 / 4.5])
    assert add.log_probs(np.array([0, 1]))[0] == pytest.approx(np.log(2.5 / 4.5))
    assert ml.cross_entropy(np.array([1, 2])) == np.inf  # "b c" never seen: ML gives it probability 0


def test_bits_per_character_on_the_charlm_split_drop_with_order():
    text = "def f(x):\n    return x + 1\n" * 200
    train, valid = split_text(text, 0.05)  # the split `microseq train` (charlm) holds out
    vocab = CharVocab.build(train)
    bpc = [NGramLM(n, len(vocab)).fit(vocab.encode(train)).bits_per_token(vocab.encode(valid)) for n in (1, 3, 6)]
    assert bpc[0] > bpc[1] > bpc[2]
    assert bpc[2] < 0.5  # a repeated line is almost certain to a 6-gram model


def test_sampling_is_seeded_and_follows_the_counts():
    lm = NGramLM(3, 3).fit(np.array([0, 1, 2] * 50))
    a, b = lm.sample(30, history=[0, 1], seed=4), lm.sample(30, history=[0, 1], seed=4)
    assert np.array_equal(a, b) and a.shape == (30,)
    assert (np.diff(np.r_[1, a]) % 3 == 1).mean() > 0.9  # 0 1 2 0 1 2 ... nearly always


def test_unseen_fraction_grows_with_order():
    rng = np.random.default_rng(0)
    train, test = rng.integers(0, 5, 500), rng.integers(0, 5, 200)
    fractions = [NGramLM(n, 5).fit(train).unseen_fraction(test) for n in (1, 3, 6)]
    assert fractions[0] == 0.0 and fractions[0] < fractions[1] < fractions[2]


@pytest.mark.parametrize("make, message", [
    (lambda: NGramLM(0, 5), "order must be a positive integer"),
    (lambda: NGramLM(2, 5, "witten-bell"), "smoothing must be one of"),
    (lambda: NGramLM(2, 5).fit(np.array([], dtype=np.int64)), "empty sequence"),
    (lambda: NGramLM(2, 5).fit(np.array([0, 7])), r"ids must be in \[0, 5\)"),
])
def test_bad_input_gives_one_line_errors(make, message):
    with pytest.raises(ValueError, match=message) as error:
        make()
    assert "\n" not in str(error.value)
