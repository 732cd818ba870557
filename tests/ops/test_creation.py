"""Creation ops (eye, linspace, empty, zeros_like, ones_like, full_like, rand_like, randn_like): values,
dtypes, shapes and requires_grad as PyTorch's, the random ones repeatable through ms.manual_seed."""

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


# -- *_like against PyTorch: shape, dtype, values, requires_grad -------------------------------------------
LIKE_DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.bool_]
FLOAT_DTYPES = [np.float32, np.float64, np.float16]


def _torch_dtype(torch, dtype):
    return torch.from_numpy(np.zeros(0, dtype)).dtype


@given(shape=shapes(max_dims=3, max_side=4), dtype=st.sampled_from(LIKE_DTYPES),
       fill=st.sampled_from([0, 7, -2.7, 2.5, True, 1e-3]))
def test_constant_like_ops_match_pytorch(shape, dtype, fill):
    torch = pytest.importorskip("torch")
    x = np.zeros(shape, dtype)
    for name, args in [("zeros_like", ()), ("ones_like", ()), ("full_like", (fill,))]:
        got = getattr(ms, name)(ms.Tensor(x), *args)
        want = getattr(torch, name)(torch.from_numpy(x), *args).numpy()
        assert got.shape == want.shape and got.dtype == want.dtype and not got.requires_grad, name
        np.testing.assert_array_equal(got.data, want, err_msg=name)


@pytest.mark.parametrize("name, args", [("zeros_like", ()), ("ones_like", ()), ("full_like", (-1.5,)),
                                        ("rand_like", ()), ("randn_like", ())])
@pytest.mark.parametrize("source, target", [
    (source, target) for source in LIKE_DTYPES for target in [None, *FLOAT_DTYPES]
    if np.dtype(target or source).kind == "f"  # a float result (integers: the next test)
])
def test_like_ops_take_dtype_and_requires_grad_as_pytorch(name, args, source, target):
    """A ``dtype=`` overrides the source's; a float result may require grad, and says so."""
    torch = pytest.importorskip("torch")
    x = np.zeros((2, 3), source)
    dtype = np.dtype(target or source)
    kwargs = {} if target is None else {"dtype": target}
    got = getattr(ms, name)(ms.Tensor(x), *args, requires_grad=True, **kwargs)
    torch_kwargs = {} if target is None else {"dtype": _torch_dtype(torch, target)}
    want = getattr(torch, name)(torch.from_numpy(x), *args, requires_grad=True, **torch_kwargs)
    assert got.shape == tuple(want.shape) and got.dtype == want.detach().numpy().dtype == dtype
    assert got.requires_grad and want.requires_grad and got.is_leaf and want.is_leaf
    if name in ("zeros_like", "ones_like", "full_like"):
        np.testing.assert_array_equal(got.data, want.detach().numpy())
    elif name == "rand_like":
        assert 0 <= got.data.min() and got.data.max() < 1


@pytest.mark.parametrize("source", [np.int64, np.int32, np.bool_])
def test_like_ops_refuse_what_pytorch_refuses_for_integers(source):
    """Random values and gradients need a float dtype, in both (PyTorch: NotImplementedError for the random
    ones and RuntimeError for requires_grad; microseq: TypeError for both, as for ``Tensor(ints,
    requires_grad=True)``)."""
    torch = pytest.importorskip("torch")
    x = np.zeros((2, 3), source)
    for name in ("rand_like", "randn_like"):
        with pytest.raises(NotImplementedError):
            getattr(torch, name)(torch.from_numpy(x))
        with pytest.raises(TypeError, match=f"{name}: needs a floating-point dtype"):
            getattr(ms, name)(ms.Tensor(x))
    with pytest.raises(RuntimeError, match="floating point"):
        torch.zeros_like(torch.from_numpy(x), requires_grad=True)
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        ms.zeros_like(ms.Tensor(x), requires_grad=True)
