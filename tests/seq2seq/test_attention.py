"""Attention: weights are a distribution over unmasked positions, masking is exact, gradients are right."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.seq2seq.attention import (
    AdditiveAttention,
    LuongAttention,
    make_attention,
    masked_softmax,
    scaled_dot_product_attention,
)

from .helpers import ATTENTIONS


@st.composite
def attention_inputs(draw, allow_empty_rows: bool = True):
    """query (B, Q), keys (B, S, K), a (B, S) mask (rows may be fully masked), and sizes."""
    batch, source = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    query_size, key_size = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mask = rng.random((batch, source)) < draw(st.sampled_from([0.5, 0.8, 1.0]))
    if not allow_empty_rows:
        mask[:, 0] = True
    query = rng.standard_normal((batch, query_size))
    keys = rng.standard_normal((batch, source, key_size))
    return query, keys, mask


def _module(kind: str, query_size: int, key_size: int, seed: int = 0):
    ms.manual_seed(seed)
    if kind == "dot":
        query_size = key_size
    return make_attention(kind, query_size, key_size, attention_size=3).double(), query_size


def _check_distribution(weights: np.ndarray, mask: np.ndarray) -> None:
    assert np.isfinite(weights).all()
    assert (weights >= 0).all()
    assert (weights[~mask] == 0).all()  # exactly zero, not merely small
    has_any = mask.any(axis=-1)
    np.testing.assert_allclose(weights.sum(axis=-1)[has_any], 1.0, rtol=1e-12)
    assert (weights[~has_any] == 0).all()  # a fully masked row: zero weights, no NaN


# -- masked softmax --------------------------------------------------------------------------------------
@given(attention_inputs())
def test_masked_softmax_is_a_distribution_over_unmasked_positions(inputs):
    _, keys, mask = inputs
    scores = keys[..., 0] * 10
    scores[~mask] = np.inf  # whatever sits at masked positions is never read
    weights = masked_softmax(ms.Tensor(scores), mask).data
    _check_distribution(weights, mask)
    expected = np.exp(scores - np.where(mask, scores, -np.inf).max(-1, keepdims=True, initial=-np.inf))
    rows = mask.any(-1)
    expected = np.where(mask, expected, 0)[rows]
    np.testing.assert_allclose(weights[rows], expected / expected.sum(-1, keepdims=True), rtol=1e-12)


@given(attention_inputs())
def test_masked_softmax_gradient_and_no_gradient_at_masked_positions(inputs):
    _, keys, mask = inputs
    scores = ms.Tensor(keys[..., 0].copy(), requires_grad=True)
    ms.gradcheck(lambda s: masked_softmax(s, mask), [scores])
    masked_softmax(scores, mask).backward(np.random.default_rng(0).standard_normal(mask.shape))
    assert np.isfinite(scores.grad).all()
    assert (scores.grad[~mask] == 0).all()


def test_masked_softmax_without_mask_is_softmax_and_rejects_bad_masks():
    x = ms.Tensor(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(masked_softmax(x).data, ms.softmax(x, -1).data)
    np.testing.assert_allclose(masked_softmax(x, np.ones((1, 3), bool)).data, ms.softmax(x, -1).data)
    with pytest.raises(TypeError, match="boolean"):
        masked_softmax(x, np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"\(2,\) does not broadcast"):
        masked_softmax(x, np.ones(2, bool))


@pytest.mark.filterwarnings("error")  # no NaN, and no invalid operation along the way either
def test_fully_masked_row_gives_zeros_and_finite_gradients():
    scores = ms.Tensor(np.array([[1.0, 2.0], [3.0, -1.0]]), requires_grad=True)
    mask = np.array([[False, False], [True, False]])
    weights = masked_softmax(scores, mask)
    np.testing.assert_array_equal(weights.data, [[0.0, 0.0], [1.0, 0.0]])
    weights.backward(np.array([[0.3, -2.0], [1.5, 0.7]]))
    np.testing.assert_array_equal(scores.grad, np.zeros((2, 2)))


# -- the attention modules -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ATTENTIONS)
@given(inputs=attention_inputs())
def test_attention_weights_are_masked_distributions_and_context_is_their_average(kind, inputs):
    query, keys, mask = inputs
    module, query_size = _module(kind, query.shape[1], keys.shape[2])
    query = np.resize(query, (query.shape[0], query_size))
    context, weights = module(ms.Tensor(query), ms.Tensor(keys), mask)
    _check_distribution(weights.data, mask)
    np.testing.assert_allclose(context.data, np.einsum("bs,bsk->bk", weights.data, keys), atol=1e-12)


@pytest.mark.parametrize("kind", ATTENTIONS)
@given(inputs=attention_inputs())
def test_attention_gradients_match_finite_differences(kind, inputs):
    query, keys, mask = inputs
    module, query_size = _module(kind, query.shape[1], keys.shape[2])
    query = ms.Tensor(np.resize(query, (query.shape[0], query_size)), requires_grad=True)
    keys = ms.Tensor(keys, requires_grad=True)
    parameters = list(module.parameters())
    ms.gradcheck(lambda q, k, *p: module(q, k, mask), [query, keys, *parameters])


@pytest.mark.parametrize("kind", ATTENTIONS)
@given(inputs=attention_inputs())
def test_masked_keys_get_no_gradient_and_do_not_change_anything(kind, inputs):
    query, keys, mask = inputs
    module, query_size = _module(kind, query.shape[1], keys.shape[2])
    query = np.resize(query, (query.shape[0], query_size))
    garbage = np.where(mask[..., None], keys, 1e3)  # huge values at masked positions
    keys_tensor = ms.Tensor(garbage, requires_grad=True)
    context, weights = module(ms.Tensor(query), keys_tensor, mask)
    clean_context, clean_weights = module(ms.Tensor(query), ms.Tensor(keys), mask)
    np.testing.assert_allclose(context.data, clean_context.data, atol=1e-12)
    np.testing.assert_allclose(weights.data, clean_weights.data, atol=1e-12)
    (context.sum() + (weights * ms.Tensor(np.arange(mask.shape[1], dtype=float))).sum()).backward()
    assert (keys_tensor.grad[~mask] == 0).all()


def test_prepared_part_is_the_same_as_computing_it_each_step():
    rng = np.random.default_rng(0)
    keys, query = ms.Tensor(rng.standard_normal((2, 3, 4))), ms.Tensor(rng.standard_normal((2, 5)))
    for module in (AdditiveAttention(5, 4), LuongAttention(5, 4, "general"), LuongAttention(5, 4, "concat")):
        a = module(query, keys)
        b = module(query, keys, prepared=module.prepare(keys))
        np.testing.assert_array_equal(a[0].data, b[0].data)


def test_scores_follow_the_papers_formulas():
    rng = np.random.default_rng(1)
    q, k = rng.standard_normal((2, 3)), rng.standard_normal((2, 4, 3))
    additive = AdditiveAttention(3, 3, attention_size=5).double()
    W, U, v = additive.W.weight.data, additive.U.weight.data, additive.v.data
    expected = np.tanh((q @ W.T)[:, None] + k @ U.T) @ v  # e_j = v^T tanh(W s + U h_j)
    np.testing.assert_allclose(additive.score(ms.Tensor(q), ms.Tensor(k), additive.prepare(ms.Tensor(k))).data, expected)
    dot = LuongAttention(3, 3, "dot")
    np.testing.assert_allclose(dot.score(ms.Tensor(q), ms.Tensor(k), dot.prepare(ms.Tensor(k))).data, np.einsum("bq,bsq->bs", q, k))
    general = LuongAttention(3, 3, "general").double()
    W_a = general.W_a.weight.data  # h_t^T W_a h_j with W_a (Q, K)
    np.testing.assert_allclose(
        general.score(ms.Tensor(q), ms.Tensor(k), general.prepare(ms.Tensor(k))).data, np.einsum("bq,qk,bsk->bs", q, W_a, k)
    )
    concat = LuongAttention(3, 3, "concat", attention_size=5).double()
    W_a, v = concat.W_a.weight.data, concat.v.data
    pairs = np.concatenate([np.broadcast_to(q[:, None], k.shape), k], axis=-1)  # [h_t; h_j]
    np.testing.assert_allclose(concat.score(ms.Tensor(q), ms.Tensor(k), concat.prepare(ms.Tensor(k))).data, np.tanh(pairs @ W_a.T) @ v)


def test_attention_errors_name_the_problem():
    with pytest.raises(ValueError, match="dot score needs query and key sizes equal"):
        LuongAttention(3, 4, "dot")
    with pytest.raises(ValueError, match="method must be one of"):
        LuongAttention(3, 3, "cosine")
    with pytest.raises(ValueError, match="attention must be"):
        make_attention("luong", 3, 3)
    module = AdditiveAttention(3, 4)
    with pytest.raises(ValueError, match=r"keys must have shape \(B, S, 4\)"):
        module(ms.zeros(2, 3), ms.zeros(2, 5, 3))
    with pytest.raises(ValueError, match=r"query must have shape \(2, 3\)"):
        module(ms.zeros(2, 4), ms.zeros(2, 5, 4))
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 5\)"):
        module(ms.zeros(2, 3), ms.zeros(2, 5, 4), np.ones((2, 4), bool))


# -- scaled dot-product ----------------------------------------------------------------------------------
@st.composite
def sdpa_inputs(draw):
    lead = draw(st.lists(st.integers(1, 2), max_size=2))
    L, S, E, Ev = (draw(st.integers(1, 3)) for _ in range(4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    q = rng.standard_normal((*lead, L, E))
    k = rng.standard_normal((*lead, S, E))
    v = rng.standard_normal((*lead, S, Ev))
    mask = rng.random((*lead, L, S)) < 0.7 if draw(st.booleans()) else None
    return q, k, v, mask


@given(sdpa_inputs())
def test_scaled_dot_product_attention_matches_its_formula(inputs):
    q, k, v, mask = inputs
    output, weights = scaled_dot_product_attention(ms.Tensor(q), ms.Tensor(k), ms.Tensor(v), mask, return_weights=True)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    keep = np.ones(scores.shape, bool) if mask is None else mask
    e = np.where(keep, np.exp(scores - scores.max(-1, keepdims=True)), 0)
    total = e.sum(-1, keepdims=True)
    expected = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    np.testing.assert_allclose(weights.data, expected, atol=1e-12)
    np.testing.assert_allclose(output.data, expected @ v, atol=1e-12)
    _check_distribution(weights.data, keep)


@given(sdpa_inputs())
def test_scaled_dot_product_attention_gradient(inputs):
    q, k, v, mask = inputs
    ms.gradcheck(lambda a, b, c: scaled_dot_product_attention(a, b, c, mask), [q, k, v])


def test_scaled_dot_product_attention_errors():
    with pytest.raises(ValueError, match="query size 3 .* differs from key size 2"):
        scaled_dot_product_attention(ms.zeros(2, 3), ms.zeros(4, 2), ms.zeros(4, 5))
    with pytest.raises(ValueError, match="key has 4 positions .* value has 3"):
        scaled_dot_product_attention(ms.zeros(2, 3), ms.zeros(4, 3), ms.zeros(3, 5))
