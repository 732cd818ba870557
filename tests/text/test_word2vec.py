import numpy as np
import pytest
from hypothesis import given, strategies as st

import microseq as ms
from microseq.data import DataError
from microseq.kernels.word2vec import sgns_train
from microseq.testing import check_gradients
from microseq.text import Word2Vec, sgns_loss
from microseq.text import word2vec
from microseq.text.word2vec import keep_probability, noise_table, sentence_chunks


@st.composite
def sgns_batches(draw):
    """A table size, a vector size and a batch of examples in CSR form (1..3 inputs each: CBOW windows)."""
    V, D, E, K = draw(st.integers(2, 6)), draw(st.integers(1, 4)), draw(st.integers(0, 5)), draw(st.integers(0, 3))
    counts = np.array(draw(st.lists(st.integers(1, 3), min_size=E, max_size=E)))
    in_ptr = np.r_[0, np.cumsum(counts, dtype=np.int64)].astype(np.int64)
    words = st.integers(0, V - 1)
    in_ids = np.array(draw(st.lists(words, min_size=int(in_ptr[-1]), max_size=int(in_ptr[-1]))), dtype=np.int64)
    targets = np.array(draw(st.lists(words, min_size=E * (K + 1), max_size=E * (K + 1))), dtype=np.int64)
    return V, D, in_ptr, in_ids, targets.reshape(E, K + 1), draw(st.integers(0, 2**16))


@given(sgns_batches())
def test_sgns_loss_gradients_match_finite_differences(batch):
    V, D, in_ptr, in_ids, targets, seed = batch
    rng = np.random.default_rng(seed)
    v, u = rng.normal(size=(V, D)), rng.normal(size=(V, D))
    check_gradients(lambda v, u: sgns_loss(v, u, in_ptr, in_ids, targets), v, u, names=["v", "u"])


def test_an_empty_batch_has_zero_loss_and_gradients():
    v, u = ms.tensor(np.ones((3, 2)), requires_grad=True), ms.tensor(np.ones((3, 2)), requires_grad=True)
    loss = sgns_loss(v, u, np.array([0]), np.zeros(0, np.int64), np.zeros((0, 2), np.int64))
    loss.backward()
    assert loss.item() == 0.0 and not v.grad.any() and not u.grad.any()


def test_sgns_loss_value_by_hand():
    v, u = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[0.5, 0.5], [1.0, -1.0]])
    # skip-gram example: centre 0, positive 1, negative 0: -log s(u1.v0) - log s(-u0.v0) = -log s(1) - log s(-0.5)
    loss = sgns_loss(ms.tensor(v), ms.tensor(u), np.array([0, 1]), np.array([0]), np.array([[1, 0]]))
    assert loss.item() == pytest.approx(np.log1p(np.exp(-1.0)) + np.log1p(np.exp(0.5)))
    # CBOW example: mean of v0 and v1 = (0.5, 1), positive 0: u0.h = 0.75
    loss = sgns_loss(ms.tensor(v), ms.tensor(u), np.array([0, 2]), np.array([0, 1]), np.array([[0]]))
    assert loss.item() == pytest.approx(np.log1p(np.exp(-0.75)))


@given(sgns_batches(), st.integers(1, 3))
def test_fused_updates_equal_the_composed_sgd_steps(batch, batch_size):
    V, D, in_ptr, in_ids, targets, seed = batch
    rng = np.random.default_rng(seed)
    v, u = rng.normal(size=(V, D)), rng.normal(size=(V, D))
    E = len(targets)
    batch_ptr = np.r_[np.arange(0, E, batch_size), E].astype(np.int64)
    lrs = rng.uniform(0.01, 0.5, size=len(batch_ptr) - 1)
    fused_v, fused_u = v.copy(), u.copy()
    fused_loss = sgns_train(fused_v, fused_u, in_ptr, in_ids, targets, batch_ptr, lrs)
    composed_loss = 0.0
    for b in range(len(batch_ptr) - 1):  # the same steps through autograd
        s, e = batch_ptr[b], batch_ptr[b + 1]
        vt, ut = ms.tensor(v, requires_grad=True), ms.tensor(u, requires_grad=True)
        ptr = in_ptr[s:e + 1]
        loss = sgns_loss(vt, ut, ptr - ptr[0], in_ids[ptr[0]:ptr[-1]], targets[s:e])
        loss.backward()
        v, u = v - lrs[b] * vt.grad, u - lrs[b] * ut.grad
        composed_loss += loss.item()
    np.testing.assert_allclose(fused_v, v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fused_u, u, rtol=1e-12, atol=1e-12)
    assert fused_loss == pytest.approx(composed_loss, rel=1e-12)


SENTENCES = [[str(w) for w in np.random.default_rng(i).integers(0, 30, 12)] for i in range(60)]


@pytest.mark.parametrize("cbow", [False, True])
def test_training_is_seeded_and_both_engines_agree(cbow):
    settings = dict(dim=8, window=3, negatives=3, min_count=1, epochs=2, batch_size=4, cbow=cbow, dtype=np.float64)
    fused = Word2Vec(**settings, seed=3).fit(SENTENCES)
    again = Word2Vec(**settings, seed=3).fit(SENTENCES)
    composed = Word2Vec(**settings, seed=3, engine="composed").fit(SENTENCES)
    assert np.array_equal(fused.vectors, again.vectors)
    np.testing.assert_allclose(composed.vectors, fused.vectors, rtol=1e-9, atol=1e-12)
    assert fused.losses[1] < fused.losses[0]
    assert not np.array_equal(Word2Vec(**settings, seed=4).fit(SENTENCES).vectors, fused.vectors)


def test_keep_probability_is_the_c_tools():
    counts = np.array([900, 90, 10])
    f = counts / 1000
    assert keep_probability(counts, 1e-2) == pytest.approx(np.minimum(1, (np.sqrt(f / 1e-2) + 1) * 1e-2 / f))
    assert keep_probability(counts, 0) == pytest.approx([1, 1, 1])


@pytest.mark.parametrize("sentences, settings, message", [
    ([], {}, "the corpus is empty"),
    ([["a", "b"]], dict(min_count=2), "no word occurs at least min_count=2 times"),
    ([["a", "b", "c"]], dict(negatives=5), "3 distinct words; 5 negatives need at least 6"),
    ([["a"], ["b"], ["c"]], dict(negatives=1, sample=0), "no sentence has two words"),
])
def test_bad_corpora_give_one_line_errors(sentences, settings, message):
    with pytest.raises(DataError, match=message) as error:
        Word2Vec(**{"min_count": 1, "dim": 4, **settings}).fit(sentences)
    assert "\n" not in str(error.value)


def test_bad_settings():
    with pytest.raises(ValueError, match="window must be a positive integer"):
        Word2Vec(window=0)
    with pytest.raises(ValueError, match="engine must be 'fused' or 'composed'"):
        Word2Vec(engine="gpu")


def test_noise_table_follows_the_three_quarter_power():
    counts = np.array([1000, 100, 10, 1])
    table = noise_table(counts, size=100_000)
    share = np.bincount(table, minlength=4) / len(table)
    np.testing.assert_allclose(share, counts**0.75 / (counts**0.75).sum(), atol=1e-5)


def test_sentence_chunks_cut_at_sentence_starts():
    sentence = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    assert sentence_chunks(sentence, 4).tolist() == [0, 5, 9, 10]  # 4 and 8 fall inside sentences
    assert sentence_chunks(sentence, 100).tolist() == [0, 10]
    assert sentence_chunks(sentence, 1).tolist() == [0, 3, 5, 9, 10]


def test_training_in_chunks_draws_every_sentence(monkeypatch):
    settings = dict(dim=6, window=1, negatives=2, min_count=1, epochs=1, sample=0, dtype=np.float64)
    whole = Word2Vec(**settings).fit(SENTENCES)
    monkeypatch.setattr(word2vec, "CHUNK_TOKENS", 50)
    chunked = Word2Vec(**settings).fit(SENTENCES)
    assert chunked.examples_seen == whole.examples_seen == 60 * 11 * 2  # every neighbour, chunk by chunk
    assert np.isfinite(chunked.losses).all()


def test_saturated_scores_stay_finite_in_both_paths():
    # scores of +-2000: s(x) is 0 or 1 in float64, the loss is softplus(-z) = 2000 or 0, never inf or NaN
    v, u = np.array([[20.0, 20.0, 20.0, 20.0, 20.0]]), np.array([[-20.0] * 5])
    in_ptr, in_ids, targets = np.array([0, 1]), np.array([0]), np.array([[0, 0]])
    loss = sgns_train(v.copy(), u.copy(), in_ptr, in_ids, targets, np.array([0, 1]), np.array([0.1]))
    composed = sgns_loss(ms.tensor(v), ms.tensor(u), in_ptr, in_ids, targets)
    assert loss == pytest.approx(2000.0) and composed.item() == pytest.approx(2000.0)
