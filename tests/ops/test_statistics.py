"""The new reductions and scans (prod, var, std, norm, amax/amin, max/min along a dim, argmax/argmin,
any/all, sum(dtype=), cumsum, cumprod): forward against NumPy, gradient against finite differences, parity
with PyTorch, and their special points (zeros in prod and cumprod, one element with a correction, norm at 0,
ties, NaN, empty axes, partial reductions over non-leading axes)."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import microseq as ms
from microseq.testing import arrays, axes, check_against_torch, check_gradients, check_second_derivatives, shapes


@st.composite
def with_zeros(draw, shape):
    """Values of ``shape`` where some entries are exactly 0 (prod and cumprod's special point), the others at
    least 0.1 from it: without a zero cumprod's rule divides by x (as PyTorch's), and the second derivative of
    that loses accuracy as |x| -> 0 (terms of size g / x cancel)."""
    x = draw(arrays(shape, domain="nonzero"))
    return np.where(draw(arrays(shape, bool)), 0.0, x) if draw(st.booleans()) else x


@dataclass(frozen=True)
class Case:
    name: str
    op: Callable  # microseq: op(x, dim, keepdim)
    reference: Callable  # NumPy: reference(x, axis, keepdims)
    torch_op: Callable  # torch_op(x, dim, keepdim)
    dims: Callable = axes  # shape -> strategy of dim
    values: Callable = arrays  # shape -> strategy of arrays
    nonempty: bool = False  # the reduced axes must not be empty (max, norm inf)
    min_count: int = 0  # at least this many elements reduced (var's correction)


def _count(shape, dim):
    dims = range(len(shape)) if dim is None else (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in dims]))


def one_dim_or_none(shape):
    return axes(shape, allow_tuple=False)


def one_dim(shape):
    return axes(shape, allow_none=False, allow_tuple=False)


def torch_prod(x, dim, keepdim):
    return x.prod() if dim is None else x.prod(dim, keepdim)


def torch_norm(p):
    def norm(x, dim, keepdim):
        import torch

        if p == "fro" and isinstance(dim, tuple) and len(dim) > 2:  # torch.norm's 'fro' takes 2 dims at most
            return torch.linalg.vector_norm(x, 2, dim, keepdim)
        return torch.norm(x, p, dim, keepdim)

    return norm


def numpy_norm(p):
    def norm(x, axis, keepdims):
        if p == 1:
            return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
        if p in (np.inf, -np.inf):
            return (np.max if p > 0 else np.min)(np.abs(x), axis=axis, keepdims=keepdims)
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))

    return norm


def ms_norm(p):
    return lambda x, dim, keepdim: x.norm(p, dim, keepdim)


def distinct(shape):
    return arrays(shape, distinct=True)


@st.composite
def distinct_magnitudes(draw, shape):
    """No two values with the same |x| (the inf-norms' ties), signs of both kinds."""
    magnitudes = draw(arrays(shape, domain="positive", distinct=True))
    return np.where(draw(arrays(shape, bool)), -magnitudes, magnitudes)


def nonzero(shape):
    return arrays(shape, avoid=(0.0,))


CASES = [
    Case("prod", lambda x, d, k: x.prod(d, k), lambda x, axis, keepdims: np.prod(x, axis, keepdims=keepdims),
         torch_prod, dims=one_dim_or_none, values=with_zeros),
    Case("var", lambda x, d, k: ms.var(x, d, keepdim=k), lambda x, axis, keepdims: np.var(x, axis, ddof=1, keepdims=keepdims),
         lambda x, d, k: x.var(d, keepdim=k), min_count=2),
    Case("var_population", lambda x, d, k: x.var(d, correction=0, keepdim=k),
         lambda x, axis, keepdims: np.var(x, axis, keepdims=keepdims), lambda x, d, k: x.var(d, correction=0, keepdim=k), min_count=1),
    Case("std", lambda x, d, k: x.std(d, keepdim=k), lambda x, axis, keepdims: np.std(x, axis, ddof=1, keepdims=keepdims),
         lambda x, d, k: x.std(d, keepdim=k), values=distinct, min_count=2),
    Case("norm_fro", ms_norm("fro"), numpy_norm(2), torch_norm("fro"), values=nonzero),  # the kink at 0: pinned below
    Case("norm_2", ms_norm(2), numpy_norm(2), torch_norm(2), values=nonzero),
    Case("norm_1", ms_norm(1), numpy_norm(1), torch_norm(1), values=nonzero),
    Case("norm_inf", ms_norm(np.inf), numpy_norm(np.inf), torch_norm(np.inf), values=distinct_magnitudes, nonempty=True),
    Case("norm_neg_inf", ms_norm(-np.inf), numpy_norm(-np.inf), torch_norm(-np.inf), values=distinct_magnitudes, nonempty=True),
    Case("amax", lambda x, d, k: x.amax(() if d is None else d, k), lambda x, axis, keepdims: np.max(x, axis, keepdims=keepdims),
         lambda x, d, k: x.amax(() if d is None else d, k), values=distinct, nonempty=True),
    Case("amin", lambda x, d, k: ms.amin(x, () if d is None else d, k), lambda x, axis, keepdims: np.min(x, axis, keepdims=keepdims),
         lambda x, d, k: x.amin(() if d is None else d, k), values=distinct, nonempty=True),
    Case("max_dim", lambda x, d, k: x.max(dim=d, keepdim=k).values, lambda x, axis, keepdims: np.max(x, axis, keepdims=keepdims),
         lambda x, d, k: x.max(d, k).values, dims=one_dim, values=distinct, nonempty=True),
    Case("min_dim", lambda x, d, k: ms.min(x, dim=d, keepdim=k).values, lambda x, axis, keepdims: np.min(x, axis, keepdims=keepdims),
         lambda x, d, k: x.min(d, k).values, dims=one_dim, values=distinct, nonempty=True),
    Case("cumsum", lambda x, d, k: x.cumsum(d), lambda x, axis, keepdims: np.cumsum(x, axis),
         lambda x, d, k: x.cumsum(d), dims=one_dim),
    Case("cumprod", lambda x, d, k: ms.cumprod(x, d), lambda x, axis, keepdims: np.cumprod(x, axis),
         lambda x, d, k: x.cumprod(d), dims=one_dim, values=with_zeros),
]
IDS = [c.name for c in CASES]


@st.composite
def case_inputs(draw, case: Case):
    shape = draw(shapes(min_dims=1 if case.dims is one_dim else 0, max_dims=3, max_side=4, min_side=1 if case.nonempty else 0))
    dim = draw(case.dims(shape))
    assume(_count(shape, dim) >= case.min_count)
    return draw(case.values(shape)), dim, draw(st.booleans())


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    x, dim, keepdim = data.draw(case_inputs(case))
    out = case.op(ms.Tensor(x), dim, keepdim)
    expected = case.reference(x, dim, keepdim)
    assert out.shape == np.shape(expected) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_gradient_matches_finite_differences(case, data):
    x, dim, keepdim = data.draw(case_inputs(case))
    check_gradients(lambda x: case.op(x, dim, keepdim), x)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_matches_pytorch(case, data):
    pytest.importorskip("torch")
    x, dim, keepdim = data.draw(case_inputs(case))
    keepdim = keepdim and not (case.name == "prod" and dim is None)  # torch.prod(x) has no keepdim
    check_against_torch(lambda x: case.op(x, dim, keepdim), lambda x: case.torch_op(x, dim, keepdim), x, rtol=1e-10)


PARTIAL = [(case, dim) for case in CASES for dim in (1, -1, (1, 2)) if case.dims is axes or not isinstance(dim, tuple)]


@pytest.mark.parametrize("case, dim", PARTIAL, ids=[f"{case.name}-{dim}" for case, dim in PARTIAL])
def test_partial_reduction_over_non_leading_axes(case, dim):
    """keepdim=False over an axis that is not the first: the gradient must put the axis back where it was."""
    x = np.random.default_rng(1).permutation(24).reshape(2, 3, 4) / 7.0 - 1.5  # distinct, no zeros
    expected = case.reference(x, dim, False)
    np.testing.assert_allclose(case.op(ms.Tensor(x), dim, False).data, expected, rtol=1e-12)
    check_gradients(lambda x: case.op(x, dim, False), x)




@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_second_derivatives(case, data):
    """gradgradcheck: the rules (prod's and cumprod's at zeros included) are differentiable again."""
    x, dim, keepdim = data.draw(case_inputs(case))
    check_second_derivatives(lambda x: case.op(x, dim, keepdim), x)


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 3.0], [1.5, -2.0, 0.5]], ids=["one_zero", "two_zeros", "no_zero"])
def test_second_derivatives_of_prod_and_cumprod_match_pytorch(x):
    """The Hessian-vector products through the zero-safe rules, against torch.autograd.grad(create_graph)."""
    torch = pytest.importorskip("torch")
    x = np.array(x)
    v, u = np.linspace(0.5, 1.5, len(x)), np.linspace(-1.0, 1.0, len(x))
    for ours, theirs in [(lambda t: t.prod().reshape(1) * v[:1], lambda t: t.prod().reshape(1) * torch.tensor(v[:1])),
                         (lambda t: ms.cumprod(t, 0) * v, lambda t: torch.cumprod(t, 0) * torch.tensor(v))]:
        t = ms.Tensor(x, requires_grad=True)
        (g,) = ms.autograd.grad(ours(t).sum(), [t], create_graph=True)
        (h,) = ms.autograd.grad((g * u).sum(), [t])
        tt = torch.tensor(x, requires_grad=True)
        (tg,) = torch.autograd.grad(theirs(tt).sum(), tt, create_graph=True)
        (th,) = torch.autograd.grad((tg * torch.tensor(u)).sum(), tt)
        np.testing.assert_allclose(h.data, th.numpy(), rtol=1e-12, atol=1e-12)
# -- special points ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x, grad",
    [
        ([2.0, 0.0, 3.0, 4.0], [0.0, 24.0, 0.0, 0.0]),  # one zero: it gets the product of the others
        ([2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]),  # two zeros: every partial derivative is 0
        ([0.0], [1.0]),
        ([], []),
    ],
    ids=["one_zero", "two_zeros", "single_zero", "empty"],
)
def test_prod_gradient_with_zeros(x, grad):
    t = ms.Tensor(np.array(x), requires_grad=True)
    t.prod().backward()
    np.testing.assert_array_equal(t.grad, grad)


def test_prod_with_zeros_matches_pytorch_along_rows():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 0.0, 2.0, 3.0], [0.0, 0.0, 5.0, 1.0], [1.5, 2.0, -1.0, 4.0]])
    check_against_torch(lambda x: x.prod(1), lambda x: x.prod(1), x)
    check_against_torch(lambda x: x.prod(0, keepdim=True), lambda x: x.prod(0, keepdim=True), x)


@pytest.mark.parametrize(
    "x",
    [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 3.0], [1.0, 2.0, 3.0, 0.0], [0.0], [0.0, 0.0]],
    ids=["one_zero", "two_zeros", "zero_last", "single_zero", "all_zero"],
)
def test_cumprod_gradient_with_zeros(x):
    pytest.importorskip("torch")
    check_against_torch(lambda x: ms.cumprod(x, 0), lambda x: x.cumprod(0), np.array(x))
    check_gradients(lambda x: x.cumprod(-1), np.array(x))


def test_var_of_one_element_is_nan_with_correction_and_zero_without():
    torch = pytest.importorskip("torch")
    x = np.array([[1.5], [2.0]])
    check_against_torch(lambda x: x.var(1), lambda x: x.var(1), x)  # NaN values and NaN gradients
    check_against_torch(lambda x: x.var(1, correction=0), lambda x: x.var(1, correction=0), x)
    check_against_torch(lambda x: x.std(0, correction=2), lambda x: x.std(0, correction=2), x)  # n == correction: inf
    assert np.isnan(ms.var(ms.Tensor(x), 1).data).all()


@pytest.mark.parametrize("p", [1, 2, "fro", np.inf, -np.inf])
def test_norm_gradient_at_zero_is_zero(p):
    pytest.importorskip("torch")
    x = np.zeros((2, 3))
    check_against_torch(lambda x: ms.norm(x, p), lambda x: __import__("torch").norm(x, p), x)
    t = ms.Tensor(x, requires_grad=True)
    t.norm(p, dim=1).backward(np.ones(2))
    np.testing.assert_array_equal(t.grad, np.zeros((2, 3)))


def test_ties_amax_shares_max_dim_picks_the_first_like_pytorch():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    check_against_torch(lambda x: x.amax(1), lambda x: x.amax(1), x)
    check_against_torch(lambda x: x.max(dim=1), lambda x: x.max(1), x)
    check_against_torch(lambda x: x.min(dim=0, keepdim=True), lambda x: x.min(0, keepdim=True), x)
    check_against_torch(lambda x: ms.norm(x, np.inf, 1), lambda x: torch.norm(x, np.inf, 1), x)
    t = ms.Tensor(x, requires_grad=True)
    values, indices = ms.max(t, dim=1)
    np.testing.assert_array_equal(indices.data, [1, 0])
    values.backward(np.ones(2))
    np.testing.assert_array_equal(t.grad, [[0, 1, 0, 0], [1, 0, 0, 0]])


def test_max_with_no_dim_is_the_full_reduction_and_axis_is_values_only():
    x = ms.Tensor(np.array([[1.0, 5.0], [7.0, 2.0]]))
    assert x.max().item() == 7.0
    np.testing.assert_array_equal(x.max(1).data, [5.0, 7.0])  # positional: NumPy's axis, values only
    assert isinstance(x.max(dim=1), ms.ValuesIndices)
    with pytest.raises(TypeError, match="either axis/keepdims .values. or dim/keepdim"):
        ms.max(x, 0, dim=1)


def test_nan_wins_max_argmax_and_sorts_last():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, np.nan, 3.0], [4.0, 0.5, np.nan]])
    check_against_torch(lambda x: x.max(dim=1), lambda x: x.max(1), x)
    for dim in (0, 1, None):
        np.testing.assert_array_equal(ms.argmax(x, dim).data, torch.argmax(torch.tensor(x), dim).numpy())
        np.testing.assert_array_equal(ms.argmin(x, dim).data, torch.argmin(torch.tensor(x), dim).numpy())


@given(data=st.data(), keepdim=st.booleans())
def test_argmax_argmin_with_ties_match_pytorch(data, keepdim):
    torch = pytest.importorskip("torch")
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = data.draw(arrays(shape, np.int64, domain=(0, 2))).astype(np.float64)  # many ties
    dim = data.draw(axes(shape, allow_tuple=False))
    for ours, theirs in [(ms.argmax, torch.argmax), (ms.argmin, torch.argmin)]:
        got, want = ours(ms.Tensor(x), dim, keepdim), theirs(torch.tensor(x), dim, keepdim)
        assert got.dtype == np.int64 and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.data, want.numpy())


@given(data=st.data(), keepdim=st.booleans())
def test_any_all_match_numpy_and_pytorch(data, keepdim):
    torch = pytest.importorskip("torch")
    shape = data.draw(shapes(max_dims=3, max_side=3))
    x = data.draw(arrays(shape, bool))
    dim = data.draw(axes(shape))
    for ours, numpy, theirs in [(ms.any, np.any, torch.any), (ms.all, np.all, torch.all)]:
        got = ours(ms.Tensor(x), dim, keepdim)
        np.testing.assert_array_equal(got.data, numpy(x, axis=dim, keepdims=keepdim))
        want = theirs(torch.tensor(x), dim, keepdim) if dim is not None else theirs(torch.tensor(x))
        if dim is not None:
            assert got.shape == tuple(want.shape) and got.dtype == np.bool_
        np.testing.assert_array_equal(got.data, want.numpy().reshape(got.shape))


def test_empty_axes():
    empty = ms.Tensor(np.zeros((2, 0)), requires_grad=True)
    np.testing.assert_array_equal(empty.prod(1).data, [1.0, 1.0])
    np.testing.assert_array_equal(ms.norm(empty, 2, 1).data, [0.0, 0.0])
    np.testing.assert_array_equal(ms.all(empty, 1).data, [True, True])
    assert ms.cumsum(empty, 1).shape == (2, 0)
    with pytest.raises(ValueError, match="argmax: cannot reduce over the empty dimension 1"):
        ms.argmax(empty, 1)
    with pytest.raises(ValueError, match="max: cannot reduce over an empty axis"):
        empty.amax(1)


def test_integer_inputs_follow_pytorch_dtypes():
    torch = pytest.importorskip("torch")
    x = np.array([[1, 2], [3, 4]], dtype=np.int32)
    for ours, theirs in [(lambda t: t.prod(), lambda t: t.prod()), (lambda t: t.cumsum(1), lambda t: t.cumsum(1)),
                         (lambda t: t.cumprod(0), lambda t: t.cumprod(0))]:
        got, want = ours(ms.Tensor(x)), theirs(torch.tensor(x))
        assert got.dtype == want.numpy().dtype
        np.testing.assert_array_equal(got.data, want.numpy())


@given(x=arrays(shapes(max_dims=3, max_side=4), np.float32), data=st.data())
def test_sum_with_dtype_casts_first_like_pytorch(x, data):
    torch = pytest.importorskip("torch")
    dim = data.draw(axes(x.shape))
    t = ms.Tensor(x, requires_grad=True)
    out = ms.sum(t, dim, dtype=np.float64)
    want = torch.sum(torch.tensor(x), () if dim is None else dim, dtype=torch.float64).numpy()
    assert out.dtype == np.float64 and out.shape == want.shape
    np.testing.assert_allclose(out.data, want, rtol=1e-12)
    out.backward(np.ones(out.shape))
    assert t.grad.dtype == np.float32
    np.testing.assert_array_equal(t.grad, np.ones(x.shape, np.float32))
    assert t.sum(dtype=np.float64).dtype == np.float64


def test_numpy_cumsum_and_cumprod_on_tensors_are_the_recorded_ops():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    t = ms.Tensor(x, requires_grad=True)
    for ours, reference in [(np.cumsum(t), np.cumsum(x)), (np.cumsum(t, axis=1), np.cumsum(x, axis=1)),
                            (np.cumprod(t, 0), np.cumprod(x, 0)), (np.cumprod(t), np.cumprod(x))]:
        assert isinstance(ours, ms.Tensor) and ours.requires_grad
        np.testing.assert_array_equal(ours.data, reference)
