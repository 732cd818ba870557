"""The public strategies of microseq.testing keep their promises (users rely on them in their own tests)."""

import doctest

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
import microseq.testing as mt


@given(mt.shapes(min_dims=1, max_dims=3, min_side=0, max_side=2))
def test_shapes_respect_their_bounds(shape):
    assert 1 <= len(shape) <= 3 and all(0 <= n <= 2 for n in shape)


@given(mt.broadcastable_shapes(3, max_dims=3, max_side=3))
def test_broadcastable_shapes_broadcast_to_the_result(drawn):
    assert len(drawn.input_shapes) == 3
    assert np.broadcast_shapes(*drawn.input_shapes) == drawn.result_shape


@given(mt.broadcastable_shapes(2, signature=np.matmul.signature, max_dims=2, max_side=3))
def test_signature_shapes_fit_matmul(drawn):
    a, b = drawn.input_shapes
    assert np.matmul(np.zeros(a), np.zeros(b)).shape == drawn.result_shape


@given(data=st.data(), domain=st.sampled_from(["real", "positive", "nonzero", "unit", (-0.5, 0.25)]))
def test_arrays_stay_in_their_domain(data, domain):
    x = data.draw(mt.arrays((3, 4), domain=domain))
    intervals = mt.DOMAINS[domain] if isinstance(domain, str) else (domain,)
    inside = np.zeros(x.shape, bool)
    for lo, hi in intervals:
        inside |= (lo <= x) & (x <= hi)
    assert x.dtype == np.float64 and inside.all()


@given(x=mt.arrays((5, 5), avoid=(0.0, 1.0)))
def test_arrays_avoid_kinks(x):
    margin = mt.KINK_MARGIN * (1 - 1e-9)  # up to rounding
    assert np.all(np.abs(x) >= margin) and np.all(np.abs(x - 1.0) >= margin)


@given(x=mt.arrays(st.tuples(st.integers(0, 6), st.integers(0, 6)), domain="nonzero", distinct=True))
def test_distinct_arrays_have_no_near_ties(x):
    values = np.sort(x.ravel())
    assert np.all(np.diff(values) >= mt.DISTINCT_GAP * 0.99)


@given(i=mt.arrays((4,), np.int64, (2, 5)), b=mt.arrays((4,), bool), f=mt.arrays((4,), np.float32, "unit"))
def test_arrays_of_other_dtypes(i, b, f):
    assert i.dtype == np.int64 and np.all((2 <= i) & (i <= 5))
    assert b.dtype == np.bool_
    assert f.dtype == np.float32 and np.all((0 <= f) & (f <= 1))


@given(t=mt.tensors((2, 3), domain="positive"), i=mt.tensors((2,), np.int64, (0, 3)))
def test_tensors_require_grad_when_they_can(t, i):
    assert isinstance(t, ms.Tensor) and t.requires_grad and np.all(t.data > 0)
    assert not i.requires_grad


@given(mt.sequence_batches(max_time=5, max_batch=3, features=(2,)))
def test_sequence_batches_are_consistent(batch):
    T, B = batch.max_time, batch.batch_size
    assert batch.data.shape == ((B, T, 2) if batch.batch_first else (T, B, 2))
    assert batch.lengths.dtype == np.int64 and batch.lengths.shape == (B,)
    assert np.all((1 <= batch.lengths) & (batch.lengths <= T))
    time_major_mask = batch.mask.T if batch.batch_first else batch.mask
    np.testing.assert_array_equal(time_major_mask, np.arange(T)[:, None] < batch.lengths[None, :])
    np.testing.assert_array_equal(batch.padding_mask, ~batch.mask)
    data = batch.time_major()  # (T, B, 2)
    real, padding = data[time_major_mask], data[~time_major_mask]
    assert np.all(np.abs(real) <= 3)  # the "real" domain
    assert np.all(np.abs(padding) >= 1e5)  # garbage, never zeros
    for b in range(B):
        np.testing.assert_array_equal(batch.sequence(b), data[: batch.lengths[b], b])


def test_sequence_batches_draw_both_layouts():
    seen = set()

    @given(mt.sequence_batches(max_time=3, max_batch=2))
    def collect(batch):
        seen.add(batch.batch_first)

    collect()
    assert seen == {True, False}


@given(mt.sequence_batches(batch_first=True, enforce_sorted=True, features=(), dtype=np.float32))
def test_sequence_batches_options(batch):
    assert batch.batch_first and batch.data.ndim == 2 and batch.data.dtype == np.float32
    assert np.all(np.diff(batch.lengths) <= 0)  # decreasing, as pack_padded_sequence wants


def test_the_documented_examples_run():
    failures, _ = doctest.testmod(mt, optionflags=doctest.ELLIPSIS)
    assert failures == 0

    # the module docstring's example, as a user would write it
    @given(mt.arrays(mt.shapes(max_dims=3, max_side=4)))
    def test_softplus_gradient(x):
        mt.check_gradients(lambda x: ms.log(1 + ms.exp(x)), x)

    test_softplus_gradient()
