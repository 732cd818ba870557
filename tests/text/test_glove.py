import numpy as np
import pytest
from hypothesis import given, strategies as st

import microseq as ms
from microseq.data import DataError
from microseq.kernels.glove import glove_train
from microseq.testing import check_gradients
from microseq.text import GloVe, cooccurrence, glove_loss


@st.composite
def glove_entries(draw, distinct=False):
    V, D, P = draw(st.integers(2, 5)), draw(st.integers(1, 4)), draw(st.integers(0, 6))
    if distinct:  # no row or column twice: one AdaGrad step per entry is then one step on the batch
        P = min(P, V)
        rows = np.array(draw(st.permutations(range(V))))[:P]
        cols = np.array(draw(st.permutations(range(V))))[:P]
    else:
        rows = np.array(draw(st.lists(st.integers(0, V - 1), min_size=P, max_size=P)))
        cols = np.array(draw(st.lists(st.integers(0, V - 1), min_size=P, max_size=P)))
    counts = np.array(draw(st.lists(st.sampled_from([0.25, 1.0, 3.0, 99.0, 100.0, 250.0]), min_size=P, max_size=P)))
    return V, D, rows.astype(np.int64), cols.astype(np.int64), counts, draw(st.integers(0, 2**16))


@given(glove_entries())
def test_glove_loss_gradients_match_finite_differences(entries):
    V, D, rows, cols, counts, seed = entries
    rng = np.random.default_rng(seed)
    tables = rng.normal(size=(V, D)), rng.normal(size=(V, D)), rng.normal(size=V), rng.normal(size=V)
    check_gradients(lambda w, wc, b, bc: glove_loss(w, wc, b, bc, rows, cols, counts, x_max=100.0, alpha=0.75),
                    *tables, names=["w", "wc", "b", "bc"])


def test_glove_loss_value_by_hand():
    w, wc, b, bc = np.array([[1.0, 2.0]]), np.array([[0.5, -1.0]]), np.array([0.25]), np.array([0.5])
    loss = glove_loss(*map(ms.tensor, (w, wc, b, bc)), np.array([0]), np.array([0]), np.array([50.0]))
    diff = 0.5 - 2.0 + 0.25 + 0.5 - np.log(50.0)
    assert loss.item() == pytest.approx(0.5 * (50 / 100) ** 0.75 * diff**2)


@given(glove_entries(distinct=True), st.floats(0.01, 0.5))
def test_fused_adagrad_pass_equals_the_composed_step(entries, lr):
    V, D, rows, cols, counts, seed = entries
    rng = np.random.default_rng(seed)
    tables = [rng.normal(size=(V, D)), rng.normal(size=(V, D)), rng.normal(size=V), rng.normal(size=V)]
    sums = [rng.uniform(1, 2, size=t.shape) for t in tables]
    fused, fused_sums = [t.copy() for t in tables], [s.copy() for s in sums]
    loss = glove_train(*fused, *fused_sums, rows, cols, counts, np.arange(len(rows)), lr, 100.0, 0.75)
    params = [ms.tensor(t, requires_grad=True) for t in tables]
    composed = glove_loss(*params, rows, cols, counts)
    composed.backward()
    assert loss == pytest.approx(composed.item(), rel=1e-12)
    for t, s, p, f, fs in zip(tables, sums, params, fused, fused_sums):  # AdaGrad: G += g^2, x -= lr g / sqrt(G)
        G = s + p.grad**2
        np.testing.assert_allclose(fs, G, rtol=1e-12)
        np.testing.assert_allclose(f, t - lr * p.grad / np.sqrt(G), rtol=1e-12, atol=1e-12)


def test_cooccurrence_weights_pairs_by_inverse_distance_within_sentences():
    ids, sentence = np.array([0, 1, 2, 0, 1]), np.array([0, 0, 0, 1, 1])
    rows, cols, values = cooccurrence(ids, sentence, 3, window=2)
    X = np.zeros((3, 3))
    X[rows, cols] = values
    expected = np.array([[0, 1 + 1, 0.5], [1 + 1, 0, 1], [0.5, 1, 0]])
    np.testing.assert_allclose(X, expected)


def test_training_lowers_the_loss_and_is_seeded():
    sentences = [[str(w) for w in np.random.default_rng(i).integers(0, 20, 10)] for i in range(50)]
    a = GloVe(dim=5, window=3, epochs=5, min_count=1, seed=1).fit(sentences)
    b = GloVe(dim=5, window=3, epochs=5, min_count=1, seed=1).fit(sentences)
    assert np.array_equal(a.vectors, b.vectors)
    assert a.losses[-1] < a.losses[0]


def test_bad_corpora():
    with pytest.raises(DataError, match="the corpus is empty"):
        GloVe(min_count=1).fit([[]])
    with pytest.raises(DataError, match="no two words of one sentence are within the window"):
        GloVe(min_count=1).fit([["a"], ["b"]])
