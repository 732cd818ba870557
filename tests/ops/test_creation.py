"""Creation ops (eye, linspace, empty, zeros_like, ones_like, full_like, rand_like, randn_like): values and
dtypes as PyTorch's, the random ones repeatable through ms.manual_seed."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.testing import arrays, shapes


@given(n=st.integers(0, 5), m=st.one_of(st.none(), st.integers(0, 5)))
def test_eye_matches_pytorch(n, m):
    torch = pytest.importorskip("torch")
    got = ms.eye(n, m)
    want = torch.eye(n, m if m is not None else n).numpy()
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got.data, want)
    assert ms.eye(n, m, dtype=np.int64).dtype == np.int64


@given(start=st.floats(-10, 10), end=st.floats(-10, 10), steps=st.integers(0, 20))
def test_linspace_matches_pytorch(start, end, steps):
    torch = pytest.importorskip("torch")
    got = ms.linspace(start, end, steps, dtype=np.float64)
    want = torch.linspace(start, end, steps, dtype=torch.float64).numpy()
    assert got.shape == want.shape and ms.linspace(start, end, steps).dtype == np.float32
    np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)
    if steps:
        assert got.data[0] == start and got.data[-1] == (end if steps > 1 else start)


@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64, np.int64]))
def test_like_ops_keep_shape_and_dtype(data, dtype):
    x = data.draw(arrays(shapes(max_dims=3, max_side=4), dtype, domain=(-3, 3)))
    t = ms.Tensor(x)
    for made, value in [(ms.zeros_like(t), 0), (ms.ones_like(t), 1), (ms.full_like(t, 7), 7)]:
        assert made.shape == x.shape and made.dtype == x.dtype and not made.requires_grad
        np.testing.assert_array_equal(made.data, np.full(x.shape, value, dtype=x.dtype))
    assert ms.zeros_like(t, dtype=np.float16).dtype == np.float16
    assert ms.empty(*x.shape).shape == x.shape and ms.empty(x.shape, dtype=np.int64).dtype == np.int64


def test_random_like_ops_follow_the_seed_and_the_dtype():
    x = ms.zeros(3, 4, dtype=np.float64)
    ms.manual_seed(5)
    first = ms.randn_like(x), ms.rand_like(x)
    ms.manual_seed(5)
    second = ms.randn_like(x), ms.rand_like(x)
    for a, b in zip(first, second):
        assert a.dtype == np.float64 and a.shape == (3, 4)
        np.testing.assert_array_equal(a.data, b.data)
    u = ms.rand_like(ms.zeros(1000), requires_grad=True)
    assert u.requires_grad and u.dtype == np.float32 and 0 <= u.data.min() and u.data.max() < 1
    assert abs(ms.randn_like(ms.zeros(4000)).data.std() - 1) < 0.1
    with pytest.raises(TypeError, match="randn_like: needs a floating-point dtype, got int64"):
        ms.randn_like(ms.Tensor(np.zeros(2, np.int64)))


def test_bad_sizes_say_what_is_wrong():
    with pytest.raises(ValueError, match="eye: sizes must be non-negative"):
        ms.eye(-1)
    with pytest.raises(ValueError, match="linspace: steps must be non-negative"):
        ms.linspace(0, 1, -2)
