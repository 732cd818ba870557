"""Element-wise ops: forward against NumPy, gradient against finite differences, kinks pinned.

Each case declares the domain of every argument (``"positive"`` for log, kinks to avoid for relu, ...);
the same table drives the forward test and the gradient property test.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.testing import Arg, Case, arrays, broadcastable_shapes, case_inputs, check_gradients, shapes


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


REAL, POSITIVE, NONZERO = Arg("real"), Arg("positive"), Arg("nonzero")
CASES = [
    Case("neg", ms.neg, np.negative, (REAL,)),
    Case("neg_operator", lambda x: -x, np.negative, (REAL,)),
    Case("exp", ms.exp, np.exp, (REAL,)),
    Case("log", ms.log, np.log, (POSITIVE,)),
    Case("sqrt", ms.sqrt, np.sqrt, (POSITIVE,)),
    Case("abs", ms.abs, np.abs, (Arg("real", avoid=(0.0,)),)),
    Case("tanh", ms.tanh, np.tanh, (REAL,)),
    Case("sigmoid", ms.sigmoid, _sigmoid, (Arg((-20.0, 20.0)),)),
    Case("relu", ms.relu, lambda x: np.maximum(x, 0), (Arg("real", avoid=(0.0,)),)),
    Case("clip", lambda x: ms.clip(x, -1.0, 2.0), lambda x: np.clip(x, -1, 2), (Arg("real", avoid=(-1.0, 2.0)),)),
    Case("clamp_min_only", lambda x: ms.clamp(x, min=0.5), lambda x: np.maximum(x, 0.5), (Arg("real", avoid=(0.5,)),)),
    Case("clip_max_only", lambda x: x.clip(max=-0.5), lambda x: np.minimum(x, -0.5), (Arg("real", avoid=(-0.5,)),)),
    Case("pow_integer_exponent", lambda x: x**3, lambda x: x**3, (REAL,)),
    Case("pow_square_of_negative", lambda x: ms.pow(x, 2.0), np.square, (REAL,)),
    Case("pow_fractional_exponent", lambda x: x**0.5, np.sqrt, (POSITIVE,)),
    Case("pow_negative_exponent", lambda x: x**-2.0, lambda x: x**-2.0, (NONZERO,)),
    Case("rpow_scalar_base", lambda x: 2.0**x, lambda x: 2.0**x, (REAL,)),
    Case("add_scalar", lambda x: 1.5 + x, lambda x: 1.5 + x, (REAL,)),
    Case("sub_scalar", lambda x: 2.0 - x, lambda x: 2.0 - x, (REAL,)),
    Case("mul_scalar", lambda x: x * -3.0, lambda x: x * -3.0, (REAL,)),
    Case("div_by_scalar", lambda x: x / 4.0, lambda x: x / 4.0, (REAL,)),
    Case("rdiv_scalar", lambda x: 1.0 / x, np.reciprocal, (NONZERO,)),
    Case("add", ms.add, np.add, (REAL, REAL)),
    Case("add_operator", lambda a, b: a + b, np.add, (REAL, REAL)),
    Case("sub", ms.sub, np.subtract, (REAL, REAL)),
    Case("mul", ms.mul, np.multiply, (REAL, REAL)),
    Case("mul_same_tensor_twice", lambda a, b: a * a + b, lambda a, b: a * a + b, (REAL, REAL)),
    Case("div", ms.div, np.divide, (REAL, NONZERO)),
    Case("pow", ms.pow, np.power, (POSITIVE, Arg((-2.0, 2.0)))),
]
IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    inputs = data.draw(case_inputs(case))
    out = case.op(*[ms.Tensor(x) for x in inputs])
    expected = case.reference(*inputs)
    assert out.dtype == np.float64
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_float32_stays_float32(case, data):
    inputs = data.draw(case_inputs(case, np.float32))
    tensors = [ms.Tensor(x, requires_grad=True) for x in inputs]
    out = case.op(*tensors)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, case.reference(*[x.astype(np.float64) for x in inputs]), rtol=2e-6, atol=1e-6)
    out.backward(np.ones(out.shape, np.float32))
    assert all(t.grad is None or t.grad.dtype == np.float32 for t in tensors)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_gradient_matches_finite_differences(case, data):
    check_gradients(case.op, *data.draw(case_inputs(case)))


# -- kinks: the subgradient convention, pinned (PyTorch's) --------------------------------------------
@pytest.mark.parametrize(
    "op, x, expected_grad",
    [
        (ms.relu, [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
        (ms.abs, [-1.0, 0.0, 2.0], [-1.0, 0.0, 1.0]),
        # clamp passes the gradient where min <= x <= max, bounds included
        (lambda x: ms.clip(x, -1.0, 2.0), [-3.0, -1.0, 0.0, 2.0, 3.0], [0.0, 1.0, 1.0, 1.0, 0.0]),
        # min > max: the value is max everywhere and no point is inside, so the gradient is 0 (PyTorch's)
        (lambda x: ms.clip(x, 2.0, 1.0), [0.0, 1.0, 1.5, 2.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0]),
        (lambda x: x**2.0, [0.0], [0.0]),
        (lambda x: x**0.0, [0.0, -2.0, 3.0], [0.0, 0.0, 0.0]),  # d/dx x**0 is 0 everywhere, 0 included
    ],
    ids=["relu", "abs", "clip", "clip_min_above_max", "square_at_0", "pow0_at_0"],
)
def test_gradient_at_kinks(op, x, expected_grad):
    t = ms.Tensor(np.array(x), requires_grad=True)
    op(t).backward(np.ones(len(x)))
    np.testing.assert_array_equal(t.grad, expected_grad)


def test_pow_exponent_gradient_at_zero_and_negative_base_like_pytorch():
    """d(a**b)/db = a**b log(a): 0 at a = 0 (for b > 0), NaN for a negative base (log undefined)."""
    a = ms.Tensor(np.array([0.0, -2.0, 2.0]))
    b = ms.Tensor(np.array([2.0, 2.0, 3.0]), requires_grad=True)
    (a**b).backward(np.ones(3))
    assert b.grad[0] == 0.0
    assert np.isnan(b.grad[1])
    assert b.grad[2] == pytest.approx(8 * np.log(2.0), rel=1e-15)


def test_pow_gradients_at_base_zero_follow_pytorch():
    """At a = 0 the exponent's gradient a**b log(a) is 0 for every b >= 0, exponent 0 included (PyTorch masks
    it there, so 0**0 = 1 does not give 1 * log(0) = -inf); for b < 0 it is -inf. The base's: 0 where b = 0."""
    a = ms.Tensor(np.zeros(4), requires_grad=True)
    b = ms.Tensor(np.array([0.0, 0.5, 2.0, -1.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (a**b).backward(np.ones(4))
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, 0.0, -np.inf])
    np.testing.assert_array_equal(a.grad, [0.0, np.inf, 0.0, -np.inf])


SPECIAL_POINTS = [-np.inf, -2.0, -1.0, -0.0, 0.0, 1e-300, 0.5, 2.0, np.inf, np.nan]
SPECIAL = {  # microseq op, the same in PyTorch (by name of a torch function, or a lambda of torch tensors)
    "relu": (ms.relu, lambda torch, x: torch.relu(x)),
    "abs": (ms.abs, lambda torch, x: torch.abs(x)),
    "clip": (lambda x: ms.clip(x, -1.0, 2.0), lambda torch, x: torch.clamp(x, -1.0, 2.0)),
    "clip_min_only": (lambda x: ms.clip(x, min=0.0), lambda torch, x: torch.clamp(x, min=0.0)),
    "clip_min_above_max": (lambda x: ms.clip(x, 1.0, -1.0), lambda torch, x: torch.clamp(x, 1.0, -1.0)),
    "sqrt": (ms.sqrt, lambda torch, x: torch.sqrt(x)),
    "log": (ms.log, lambda torch, x: torch.log(x)),
    "exp": (ms.exp, lambda torch, x: torch.exp(x)),
    "tanh": (ms.tanh, lambda torch, x: torch.tanh(x)),
    "sigmoid": (ms.sigmoid, lambda torch, x: torch.sigmoid(x)),
    "square": (lambda x: x**2.0, lambda torch, x: x**2.0),
    "pow_zero": (lambda x: x**0.0, lambda torch, x: x**0.0),
    "rpow": (lambda x: 2.0**x, lambda torch, x: 2.0**x),
    "reciprocal": (lambda x: 1.0 / x, lambda torch, x: 1.0 / x),
    "neg": (ms.neg, lambda torch, x: -x),
}


@pytest.mark.parametrize("name", SPECIAL)
def test_values_and_gradients_at_special_points_match_pytorch(name):
    """0 (both signs), a tiny value, kinks, infinities and NaN: PyTorch's values and subgradients."""
    torch = pytest.importorskip("torch")
    op, torch_op = SPECIAL[name]
    upstream = np.arange(1.0, len(SPECIAL_POINTS) + 1)
    x = ms.Tensor(np.array(SPECIAL_POINTS), requires_grad=True)
    with np.errstate(all="ignore"):
        y = op(x)
        y.backward(upstream)
    t = torch.tensor(SPECIAL_POINTS, dtype=torch.float64, requires_grad=True)
    z = torch_op(torch, t)
    z.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.data, z.detach().numpy(), rtol=1e-15, atol=0, equal_nan=True)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-15, atol=0, equal_nan=True)


# -- where / masked_fill ----------------------------------------------------------------------------
@given(data=st.data())
def test_where_forward_and_gradient(data):
    cond_shape, a_shape, b_shape = data.draw(broadcastable_shapes(3, max_dims=3, max_side=3)).input_shapes
    cond = data.draw(arrays(cond_shape, bool))
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    np.testing.assert_array_equal(ms.where(cond, ms.Tensor(a), ms.Tensor(b)).data, np.where(cond, a, b))
    check_gradients(lambda a, b: ms.where(ms.Tensor(cond), a, b), a, b)


@st.composite
def shape_and_mask_shape(draw):
    """A shape and a (possibly smaller) shape that broadcasts to it exactly."""
    shape = draw(shapes(max_dims=3, max_side=3))
    dropped = draw(st.integers(0, len(shape)))
    kept = shape[dropped:]
    return shape, tuple(draw(st.sampled_from([n, 1])) for n in kept)


@given(shapes=shape_and_mask_shape(), data=st.data())
def test_masked_fill_forward_and_gradient(shapes, data):
    shape, mask_shape = shapes
    x, mask = data.draw(arrays(shape)), data.draw(arrays(mask_shape, bool))
    out = ms.masked_fill(ms.Tensor(x), mask, -7.5)
    np.testing.assert_array_equal(out.data, np.where(mask, -7.5, x))
    assert out.shape == x.shape
    check_gradients(lambda x: x.masked_fill(mask, -1e9), x)


# -- astype and comparisons -------------------------------------------------------------------------
@given(x=arrays(shapes(max_dims=3, max_side=4)), data=st.data())
def test_astype_forward_and_gradient_is_cast_back(x, data):
    g = data.draw(arrays(x.shape, np.float32))
    t = ms.Tensor(x, requires_grad=True)
    y = t.astype(np.float32)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, x.astype(np.float32))
    y.backward(g)
    assert t.grad.dtype == np.float64
    np.testing.assert_array_equal(t.grad, g.astype(np.float64))
    check_gradients(lambda x: ms.astype(x, np.float64) * 2.0, x)


def test_astype_to_integer_leaves_the_tape():
    x = ms.Tensor(np.array([1.7, -2.2]), requires_grad=True)
    i = x.astype(np.int64)
    np.testing.assert_array_equal(i.data, [1, -2])
    assert not i.requires_grad and i.is_leaf


@pytest.mark.parametrize(
    "op, reference",
    [(ms.lt, np.less), (ms.le, np.less_equal), (ms.gt, np.greater), (ms.ge, np.greater_equal),
     (ms.eq, np.equal), (ms.ne, np.not_equal)],
    ids=["lt", "le", "gt", "ge", "eq", "ne"],
)
@given(data=st.data())
def test_comparisons_are_boolean_and_not_recorded(op, reference, data):
    a_shape, b_shape = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3)).input_shapes
    a, b = data.draw(arrays(a_shape, domain=(-1, 1))), data.draw(arrays(b_shape, domain=(-1, 1)))
    out = op(ms.Tensor(a, requires_grad=True), ms.Tensor(b))
    assert out.dtype == np.bool_ and not out.requires_grad
    np.testing.assert_array_equal(out.data, reference(a, b))
