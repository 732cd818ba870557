"""Reductions (sum, mean, max, min) and the softmax family: forward, gradient, stability."""

import numpy as np
import pytest
import scipy.special
from hypothesis import example, given
from hypothesis import strategies as st

import microseq as ms
from microseq.testing import arrays, axes, check_gradients, shapes


REDUCTIONS = {
    "sum": (ms.sum, np.sum),
    "mean": (ms.mean, np.mean),
    "max": (ms.max, np.max),
    "min": (ms.min, np.min),
    "logsumexp": (ms.logsumexp, lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")  # NumPy's reference, not ours
@given(data=st.data(), keepdims=st.booleans())
def test_reduction_forward_and_gradient(name, data, keepdims):
    op, reference = REDUCTIONS[name]
    extremum = name in ("max", "min")
    # max/min are undefined over an empty axis (tested with the errors) and need distinct values for
    # finite differences (ties are pinned below)
    shape = data.draw(shapes(max_dims=3, max_side=4, min_side=1 if extremum else 0))
    x = data.draw(arrays(shape, distinct=extremum))
    axis = data.draw(axes(shape))
    out = op(ms.Tensor(x), axis=axis, keepdims=keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):  # the mean of an empty axis is NaN, as in NumPy
        expected = reference(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    check_gradients(lambda x: op(x, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [1, -1, (1, 2), (0, 2), (2, 0)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keep"])
def test_partial_reductions_over_non_leading_axes(name, axis, keepdims):
    """Always run (not left to the draw): on a cube, a gradient put back on the wrong axes still broadcasts
    to the input's shape, so only the values tell (a rule that ignores ``keepdims`` gets caught here)."""
    op, reference = REDUCTIONS[name]
    x = np.random.default_rng(3).permutation(27).reshape(3, 3, 3) / 9.0 - 1.5  # distinct: max/min have no ties
    out = op(ms.Tensor(x), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, reference(x, axis=axis, keepdims=keepdims), rtol=1e-12)
    check_gradients(lambda x: op(x, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize(
    "op, x, expected_grad",
    [
        (ms.max, [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], [[0.0, 3.0, 3.0], [1.0, 1.0, 1.0]]),
        (ms.min, [[1.0, 1.0, 3.0], [2.0, 2.0, 2.0]], [[3.0, 3.0, 0.0], [1.0, 1.0, 1.0]]),
    ],
    ids=["max", "min"],
)
def test_ties_share_the_gradient_equally(op, x, expected_grad):
    """At a tie the subgradient is split evenly between the winners (like torch.amax/amin)."""
    t = ms.Tensor(np.array(x), requires_grad=True)
    op(t, axis=1).backward(np.array([6.0, 3.0]))
    np.testing.assert_array_equal(t.grad, expected_grad)


TIES = np.array([[1.0, 3.0, 3.0, -np.inf], [np.inf, 2.0, np.inf, 2.0], [0.0, -0.0, 0.0, 0.0]])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keep"])
def test_ties_and_infinities_match_pytorch_amax_amin(name, axis, keepdims):
    """Ties (3 and 3, 0 and -0, inf and inf) share the gradient evenly, as torch.amax/amin do."""
    torch = pytest.importorskip("torch")
    x = ms.Tensor(TIES.copy(), requires_grad=True)
    y = REDUCTIONS[name][0](x, axis=axis, keepdims=keepdims)
    upstream = np.arange(1.0, y.size + 1).reshape(y.shape)
    y.backward(upstream)
    t = torch.tensor(TIES, requires_grad=True)
    dims = tuple(range(TIES.ndim)) if axis is None else axis
    z = getattr(torch, "a" + name)(t, dim=dims, keepdim=keepdims)
    z.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(y.data, z.detach().numpy())
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp"])
@pytest.mark.parametrize("shape, axis", [((0, 3), 0), ((2, 0), 1), ((2, 0, 3), (1, 2)), ((0,), None)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keep"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # torch's reference has none; NumPy warns about 0 / 0
def test_reductions_over_empty_axes_match_pytorch(name, shape, axis, keepdims):
    """Sum of nothing 0, mean NaN, logsumexp -inf; the gradient has the input's (empty or not) shape."""
    torch = pytest.importorskip("torch")
    x = ms.Tensor(np.zeros(shape), requires_grad=True)
    y = REDUCTIONS[name][0](x, axis=axis, keepdims=keepdims)
    y.backward(np.ones(y.shape))
    t = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    dims = tuple(range(len(shape))) if axis is None else axis
    z = getattr(torch, name)(t, dim=dims, keepdim=keepdims)
    z.backward(torch.ones(z.shape, dtype=torch.float64))
    assert y.shape == tuple(z.shape)
    np.testing.assert_array_equal(y.data, z.detach().numpy())
    assert x.grad.shape == shape
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


def test_method_forms_match_functions():
    x = ms.Tensor(np.arange(6.0).reshape(2, 3))
    for method, function in [("sum", ms.sum), ("mean", ms.mean), ("max", ms.max), ("min", ms.min)]:
        np.testing.assert_array_equal(getattr(x, method)(axis=0).data, function(x, axis=0).data)


# -- softmax, log_softmax ---------------------------------------------------------------------------
SOFTMAXES = {  # closed forms: the drawn values are bounded, so exp does not overflow
    "softmax": (ms.softmax, lambda x, axis: np.exp(x) / np.sum(np.exp(x), axis=axis, keepdims=True)),
    "log_softmax": (ms.log_softmax, lambda x, axis: x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))),
}


@pytest.mark.parametrize("name", SOFTMAXES)
@given(data=st.data())
def test_softmax_family_forward_and_gradient(name, data):
    op, reference = SOFTMAXES[name]
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(arrays(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    out = op(ms.Tensor(x), axis=axis)
    with np.errstate(divide="ignore"):  # the reference's log of an empty sum
        expected = reference(x, axis=axis)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-15)
    check_gradients(lambda x: op(x, axis=axis), x)


def test_softmax_family_over_an_empty_axis():
    """Like PyTorch: softmax of nothing is empty, logsumexp of nothing is -inf (log of an empty sum)."""
    x = ms.Tensor(np.zeros((0, 3)), requires_grad=True)
    assert ms.softmax(x, axis=0).shape == (0, 3)
    assert ms.log_softmax(x, axis=0).shape == (0, 3)
    lse = ms.logsumexp(x, axis=0)
    np.testing.assert_array_equal(lse.data, [-np.inf] * 3)
    lse.backward(np.ones(3))
    assert x.grad.shape == (0, 3)


SPECIAL_ROWS = np.array([
    [-np.inf, -np.inf, -np.inf],  # nothing to attend to: NaN (PyTorch's softmax; masked_softmax gives zeros)
    [np.inf, 0.0, 1.0],  # +inf: softmax and log_softmax NaN (inf - inf), logsumexp +inf
    [np.inf, np.inf, 0.0],
    [np.nan, 0.0, 1.0],
    [-np.inf, 0.0, 1.0],  # a masked position: weight exactly 0
    [1e308, -1e308, 0.0],
])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_softmax_family_at_infinities_and_nan_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    x = ms.Tensor(SPECIAL_ROWS.copy(), requires_grad=True)
    y = getattr(ms, name)(x, axis=1)
    upstream = np.arange(1.0, y.size + 1).reshape(y.shape)
    y.backward(upstream)
    t = torch.tensor(SPECIAL_ROWS, requires_grad=True)
    z = getattr(torch, name)(t, dim=1)
    z.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.data, z.detach().numpy(), rtol=1e-15, atol=0, equal_nan=True)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-14, atol=0, equal_nan=True)


# -- numerical stability ----------------------------------------------------------------------------
LARGE = (-1e4, 1e4)


@given(x=arrays(shapes(min_dims=1, max_dims=2, max_side=5), domain=LARGE))
@example(x=np.array([-1e4, -745.2, -1.0, 0.0, 1.0, 745.2, 1e4]))
def test_sigmoid_is_stable_for_large_inputs(x):
    t = ms.Tensor(x, requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        y = ms.sigmoid(t)
        y.backward(np.ones(x.shape))
    assert np.all((y.data >= 0) & (y.data <= 1))
    np.testing.assert_allclose(y.data, scipy.special.expit(x), rtol=1e-15, atol=1e-300)
    assert np.all(np.isfinite(t.grad))


@given(x=arrays(st.tuples(st.integers(1, 3), st.integers(1, 5)), domain=LARGE), data=st.data())
@example(x=np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]]), data=None)
def test_logsumexp_log_softmax_cross_entropy_are_stable_for_large_inputs(x, data):
    target = np.zeros(x.shape[0], dtype=np.int64) if data is None else data.draw(
        arrays(x.shape[:1], np.int64, (0, x.shape[1] - 1))
    )
    t = ms.Tensor(x, requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        lse = ms.logsumexp(t, axis=1)
        log_p = ms.log_softmax(t, axis=1)
        loss = ms.cross_entropy(t, target, reduction="sum")
        (lse.sum() + log_p.sum() + loss).backward()
    expected_lse = scipy.special.logsumexp(x, axis=1)
    np.testing.assert_allclose(lse.data, expected_lse, rtol=1e-14)
    np.testing.assert_allclose(log_p.data, x - expected_lse[:, None], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(loss.data, np.sum(expected_lse - x[np.arange(len(x)), target]), rtol=1e-12, atol=1e-9)
    assert np.all(np.isfinite(t.grad))


def test_softmax_with_minus_infinity_entries():
    """-inf scores (masked positions) get probability exactly 0 and no NaN reaches the gradients."""
    x = np.array([[-np.inf, 0.0, 1.0, -np.inf], [2.0, -np.inf, 2.0, 2.0]])
    t = ms.Tensor(x, requires_grad=True)
    y = ms.softmax(t, axis=1)
    e = np.exp(np.array([[0.0, 1.0], [2.0, 2.0]]))
    np.testing.assert_allclose(y.data[0], [0.0, e[0, 0] / e[0].sum(), e[0, 1] / e[0].sum(), 0.0], rtol=1e-15)
    np.testing.assert_allclose(y.data[1], [1 / 3, 0.0, 1 / 3, 1 / 3], rtol=1e-15)
    y.backward(np.arange(8.0).reshape(2, 4))
    assert np.all(np.isfinite(t.grad))
    assert t.grad[0, 0] == 0.0 and t.grad[1, 1] == 0.0
    log_p = ms.log_softmax(ms.Tensor(x), axis=1)
    assert log_p.data[0, 0] == -np.inf and np.isfinite(log_p.data[0, 1])


ZERO_DIM_OPS = {
    "sum": (lambda x, d: ms.sum(x, axis=d), lambda torch, x, d: torch.sum(x, dim=d)),
    "mean": (lambda x, d: ms.mean(x, axis=d), lambda torch, x, d: torch.mean(x, dim=d)),
    "logsumexp": (lambda x, d: ms.logsumexp(x, axis=d), lambda torch, x, d: torch.logsumexp(x, dim=d)),
    "softmax": (lambda x, d: ms.softmax(x, axis=d), lambda torch, x, d: torch.softmax(x, dim=d)),
    "log_softmax": (lambda x, d: ms.log_softmax(x, axis=d), lambda torch, x, d: torch.log_softmax(x, dim=d)),
}
ZERO_DIM_EXPECTED = {"sum": (2.0, 1.0), "mean": (2.0, 1.0), "logsumexp": (2.0, 1.0), "softmax": (1.0, 0.0),
                     "log_softmax": (0.0, 0.0)}


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("name", list(ZERO_DIM_OPS))
def test_zero_dim_tensor_accepts_dim_0_and_minus_1(name, dim):
    """PyTorch treats a 0-d tensor as having one dim for ``dim`` arguments; nothing is reduced."""
    x = ms.tensor(2.0, requires_grad=True)
    y = ZERO_DIM_OPS[name][0](x, dim)
    y.backward()
    assert y.shape == () and (float(y.data), float(x.grad)) == ZERO_DIM_EXPECTED[name]
    with pytest.raises(IndexError, match="axis 1 is out of range for a tensor with 0 dimensions"):
        ZERO_DIM_OPS[name][0](x, 1)


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("name", list(ZERO_DIM_OPS))
def test_zero_dim_reductions_match_pytorch(name, dim):
    torch = pytest.importorskip("torch")
    xt = torch.tensor(2.0, requires_grad=True)
    yt = ZERO_DIM_OPS[name][1](torch, xt, dim)
    yt.backward()
    assert ZERO_DIM_EXPECTED[name] == (yt.item(), xt.grad.item())
