"""Element-wise mathematics (microseq.ops.math): forward against NumPy/SciPy, gradient against finite
differences, special points pinned to PyTorch's convention, and parity with PyTorch.

The table drives the property tests; each row keeps its draws away from the points where the op jumps
(rounding at integers, ``//`` and ``%`` where the quotient is an integer), and those points are pinned by
the explicit examples below instead.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import special

import microseq as ms
from microseq.testing import (
    Arg, Case, case_inputs, check_case, check_case_against_torch, check_second_derivatives,
)

REAL, POSITIVE, NONZERO = Arg("real"), Arg("positive"), Arg("nonzero")
GRID = Arg("real", distinct=True)  # ties are exact, near-ties never happen
INTEGERS = tuple(float(k) for k in range(-3, 4))
MULTIPLES_OF_07 = tuple(0.7 * k for k in range(-5, 6))  # where a // 0.7 and a % 0.7 jump
DIVISORS_OF_25 = tuple(2.5 / k for k in range(1, 9))  # where 2.5 // b and 2.5 % b jump
HALVES = tuple(k + 0.5 for k in range(-4, 4))


def _lerp(start, end, weight):
    return np.where(np.abs(weight) < 0.5, start + weight * (end - start), end - (end - start) * (1 - weight))


def _floor_by(divisor):
    return lambda T, a: T.div(a, divisor, rounding_mode="floor")  # torch.floor_divide has no gradient


CASES = [
    Case("maximum", ms.maximum, np.maximum, (GRID, GRID), "maximum"),
    Case("minimum", ms.minimum, np.minimum, (GRID, GRID), "minimum"),
    Case("sign", ms.sign, np.sign, (Arg("real", avoid=(0.0,)),), "sign"),
    Case("floor", ms.floor, np.floor, (Arg("real", avoid=INTEGERS),), "floor"),
    Case("ceil", ms.ceil, np.ceil, (Arg("real", avoid=INTEGERS),), "ceil"),
    Case("round", ms.round, np.round, (Arg("real", avoid=HALVES),), "round"),
    Case("trunc", ms.trunc, np.trunc, (Arg("real", avoid=INTEGERS),), "trunc"),
    Case("floordiv", lambda a: a // 0.7, lambda a: a // 0.7, (Arg("real", avoid=MULTIPLES_OF_07),), _floor_by(0.7)),
    Case("floor_divide_by_tensor", lambda b: ms.floor_divide(2.5, b), lambda b: 2.5 // b,
         (Arg((0.3, 3.0), avoid=DIVISORS_OF_25),), lambda T, b: T.div(2.5, b, rounding_mode="floor")),
    Case("mod", lambda a: a % 0.7, lambda a: a % 0.7, (Arg("real", avoid=MULTIPLES_OF_07),),
         lambda T, a: a % 0.7),
    Case("remainder_negative_divisor", lambda a: ms.remainder(a, -0.7), lambda a: np.remainder(a, -0.7),
         (Arg("real", avoid=MULTIPLES_OF_07),), lambda T, a: T.remainder(a, -0.7)),
    Case("rmod_by_tensor", lambda b: 2.5 % b, lambda b: 2.5 % b, (Arg((0.3, 3.0), avoid=DIVISORS_OF_25),),
         lambda T, b: T.remainder(T.tensor(2.5, dtype=b.dtype), b)),
    Case("sin", ms.sin, np.sin, (REAL,), "sin"),
    Case("cos", ms.cos, np.cos, (REAL,), "cos"),
    Case("tan", ms.tan, np.tan, (Arg((-1.4, 1.4)),), "tan"),
    Case("asin", ms.asin, np.arcsin, (Arg((-0.95, 0.95)),), "asin"),
    Case("acos", ms.acos, np.arccos, (Arg((-0.95, 0.95)),), "acos"),
    Case("atan", ms.atan, np.arctan, (REAL,), "atan"),
    Case("atan2", ms.atan2, np.arctan2, (NONZERO, REAL), "atan2"),
    Case("sinh", ms.sinh, np.sinh, (REAL,), "sinh"),
    Case("cosh", ms.cosh, np.cosh, (REAL,), "cosh"),
    Case("asinh", ms.asinh, np.arcsinh, (REAL,), "asinh"),
    Case("acosh", ms.acosh, np.arccosh, (Arg((1.1, 4.0)),), "acosh"),
    Case("atanh", ms.atanh, np.arctanh, (Arg((-0.9, 0.9)),), "atanh"),
    Case("log2", ms.log2, np.log2, (POSITIVE,), "log2"),
    Case("log10", ms.log10, np.log10, (POSITIVE,), "log10"),
    Case("log1p", ms.log1p, np.log1p, (Arg((-0.9, 3.0)),), "log1p"),
    Case("expm1", ms.expm1, np.expm1, (REAL,), "expm1"),
    Case("exp2", ms.exp2, np.exp2, (REAL,), "exp2"),
    Case("rsqrt", ms.rsqrt, lambda x: 1 / np.sqrt(x), (POSITIVE,), "rsqrt"),
    Case("square", ms.square, np.square, (REAL,), "square"),
    Case("reciprocal", ms.reciprocal, np.reciprocal, (NONZERO,), "reciprocal"),
    Case("logaddexp", ms.logaddexp, np.logaddexp, (REAL, REAL), "logaddexp"),
    Case("xlogy", ms.xlogy, special.xlogy, (REAL, POSITIVE), "xlogy"),
    Case("lerp", ms.lerp, _lerp, (REAL, REAL, Arg((-1.0, 2.0))), "lerp"),
    Case("erf", ms.erf, special.erf, (REAL,), "erf"),
]
IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_forward_and_gradient(case, data):
    check_case(case, data.draw(case_inputs(case)))


# Second order: the rounding ops have a first derivative of 0 that depends on nothing (no second derivative
# to check); maximum and minimum have a jump of their first derivative at a tie, so ties are left out there.
STEPS = {"floor", "ceil", "round", "trunc", "floordiv", "floor_divide_by_tensor"}
SMOOTH = [c for c in CASES if c.name not in STEPS]


@pytest.mark.parametrize("case", SMOOTH, ids=[c.name for c in SMOOTH])
@given(data=st.data())
def test_second_derivatives(case, data):
    inputs = data.draw(case_inputs(case))
    if case.name in ("maximum", "minimum"):
        assume(np.all(np.subtract(*inputs) != 0))
    check_second_derivatives(case.op, *inputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
@settings(max_examples=10)  # parity on a few draws; the special points are pinned below
def test_matches_pytorch(case, dtype, data):
    pytest.importorskip("torch")
    check_case_against_torch(case, data.draw(case_inputs(case, dtype)))


# -- special points: values and gradients as PyTorch gives them ---------------------------------------------
INF, NAN = np.inf, np.nan
PI = np.pi
# (id, op, PyTorch's op, inputs, expected value, expected gradient of each input for an upstream gradient of 1)
SPECIAL = [
    ("maximum_ties_and_nan", ms.maximum, "maximum", ([1.0, 2.0, 3.0, NAN, 1.0], [1.0, 1.0, 4.0, 1.0, NAN]),
     [1.0, 2.0, 4.0, NAN, NAN], ([0.5, 1.0, 0.0, 1.0, 1.0], [0.5, 0.0, 1.0, 1.0, 1.0])),
    ("minimum_ties_and_nan", ms.minimum, "minimum", ([1.0, 2.0, 3.0, NAN], [1.0, 1.0, 4.0, 1.0]),
     [1.0, 1.0, 3.0, NAN], ([0.5, 0.0, 1.0, 1.0], [0.5, 1.0, 0.0, 1.0])),
    ("sign_at_0", ms.sign, "sign", ([0.0, -0.0, -2.0, 3.0],), [0.0, 0.0, -1.0, 1.0], ([0.0, 0.0, 0.0, 0.0],)),
    ("round_halves_to_even", ms.round, "round", ([0.5, 1.5, 2.5, -0.5, -1.5],), [0.0, 2.0, 2.0, -0.0, -2.0],
     ([0.0] * 5,)),
    ("floor_at_integers", ms.floor, "floor", ([-1.0, 0.0, 2.0],), [-1.0, 0.0, 2.0], ([0.0] * 3,)),
    ("ceil_at_integers", ms.ceil, "ceil", ([-1.0, 0.0, 2.0],), [-1.0, 0.0, 2.0], ([0.0] * 3,)),
    ("trunc_of_negatives", ms.trunc, "trunc", ([-1.5, 1.5],), [-1.0, 1.0], ([0.0] * 2,)),
    ("floor_divide_signs_and_zero", ms.floor_divide, lambda T, a, b: T.div(a, b, rounding_mode="floor"),
     ([5.0, -5.0, 5.0, -5.0, 1.0], [2.0, 2.0, -2.0, -2.0, 0.0]), [2.0, -3.0, -3.0, 2.0, INF],
     ([0.0] * 5, [0.0] * 5)),
    ("remainder_signs_and_zero", ms.remainder, "remainder", ([5.0, -5.0, 5.0, -5.0, 5.5], [2.0, 2.0, -2.0, -2.0, 0.0]),
     [1.0, 1.0, -1.0, -1.0, NAN], ([1.0] * 5, [-2.0, 3.0, 3.0, -2.0, -INF])),
    ("asin_at_pm1", ms.asin, "asin", ([1.0, -1.0, 0.0],), [PI / 2, -PI / 2, 0.0], ([INF, INF, 1.0],)),
    ("acos_at_pm1", ms.acos, "acos", ([1.0, -1.0, 0.0],), [0.0, PI, PI / 2], ([-INF, -INF, -1.0],)),
    ("asin_outside_domain", ms.asin, "asin", ([2.0],), [NAN], ([NAN],)),
    ("acosh_at_1", ms.acosh, "acosh", ([1.0],), [0.0], ([INF],)),
    ("atanh_at_pm1", ms.atanh, "atanh", ([1.0, -1.0],), [INF, -INF], ([INF, INF],)),
    ("atan2_at_origin", ms.atan2, "atan2", ([0.0, 0.0, 1.0], [0.0, -0.0, 0.0]), [0.0, PI, PI / 2],
     ([0.0, 0.0, 0.0], [0.0, 0.0, -1.0])),
    ("atan_at_infinity", ms.atan, "atan", ([INF, -INF],), [PI / 2, -PI / 2], ([0.0, 0.0],)),
    ("log1p_at_minus_1", ms.log1p, "log1p", ([-1.0, 0.0],), [-INF, 0.0], ([INF, 1.0],)),
    ("log2_at_0", ms.log2, "log2", ([0.0, 1.0],), [-INF, 0.0], ([INF, 1 / np.log(2)],)),
    ("log10_at_0", ms.log10, "log10", ([0.0, 10.0],), [-INF, 1.0], ([INF, 1 / (10 * np.log(10))],)),
    ("expm1_at_infinities", ms.expm1, "expm1", ([-INF, 0.0, INF],), [-1.0, 0.0, INF], ([0.0, 1.0, INF],)),
    ("exp2_at_infinities", ms.exp2, "exp2", ([-INF, 0.0],), [0.0, 1.0], ([0.0, np.log(2)],)),
    ("rsqrt_at_0", ms.rsqrt, "rsqrt", ([0.0, 4.0],), [INF, 0.5], ([-INF, -0.0625],)),
    ("reciprocal_at_0", ms.reciprocal, "reciprocal", ([0.0, 4.0],), [INF, 0.25], ([-INF, -0.0625],)),
    ("square_at_0", ms.square, "square", ([0.0, -3.0],), [0.0, 9.0], ([0.0, -6.0],)),
    ("sin_of_nan_and_inf", ms.sin, "sin", ([NAN, INF],), [NAN, NAN], ([NAN, NAN],)),
    ("logaddexp_at_infinities_and_ties", ms.logaddexp, "logaddexp",
     ([-INF, INF, 1.0, -INF], [-INF, INF, 1.0, 0.0]), [-INF, INF, 1.0 + np.log(2), 0.0],
     ([NAN, NAN, 0.5, 0.0], [NAN, NAN, 0.5, 1.0])),
    ("xlogy_at_0", ms.xlogy, "xlogy", ([0.0, 0.0, 2.0], [0.0, 3.0, 1.0]), [0.0, 0.0, 0.0],
     ([0.0, np.log(3.0), 0.0], [NAN, 0.0, 2.0])),
    ("lerp_at_ends", ms.lerp, "lerp", ([0.0, 1.0, 2.0], [1.0, 3.0, 4.0], [0.0, 1.0, 0.5]), [0.0, 3.0, 3.0],
     ([1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [1.0, 2.0, 2.0])),
    ("erf_at_0_and_infinities", ms.erf, "erf", ([0.0, INF, -INF],), [0.0, 1.0, -1.0], ([2 / np.sqrt(PI), 0.0, 0.0],)),
]
SPECIAL_IDS = [row[0] for row in SPECIAL]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns at the singular points PyTorch is silent at
@pytest.mark.parametrize("name, op, torch_op, inputs, value, grads", SPECIAL, ids=SPECIAL_IDS)
def test_special_points(name, op, torch_op, inputs, value, grads):
    tensors = [ms.Tensor(np.array(x), requires_grad=True) for x in inputs]
    out = op(*tensors)
    np.testing.assert_allclose(out.data, value, rtol=1e-15, atol=0)
    zeros = np.asarray(value) == 0
    np.testing.assert_array_equal(np.signbit(out.data[zeros]), np.signbit(np.asarray(value)[zeros]))  # -0.0 too
    out.backward(np.ones(out.shape))
    for t, expected in zip(tensors, grads):
        np.testing.assert_allclose(t.grad, expected, rtol=1e-15, atol=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, op, torch_op, inputs, value, grads", SPECIAL, ids=SPECIAL_IDS)
def test_special_points_match_pytorch(name, op, torch_op, inputs, value, grads):
    pytest.importorskip("torch")
    check_case_against_torch(Case(name, op, None, (), torch_op), [np.array(x) for x in inputs])


# -- dtypes, integers, errors ------------------------------------------------------------------------------
def test_integer_inputs_give_float32_like_pytorch():
    x = ms.tensor([1, 2, 3])
    for op in (ms.sin, ms.log2, ms.erf, ms.rsqrt, ms.asinh):
        assert op(x).dtype == np.float32
    assert ms.atan2(x, x).dtype == np.float32


def test_integer_rounding_and_division_stay_integer():
    a, b = ms.tensor([5, -5, 7]), ms.tensor([2, 2, -3])
    np.testing.assert_array_equal((a // b).data, [2, -3, -3])
    np.testing.assert_array_equal((a % b).data, [1, 1, -2])
    assert (a // b).dtype == np.int64 and ms.sign(a).dtype == np.int64 and ms.floor(a).dtype == np.int64


def test_reflected_operators():
    x = ms.tensor([2.0, -3.0], dtype=np.float64, requires_grad=True)
    np.testing.assert_array_equal((7.0 // x).data, [3.0, -3.0])
    np.testing.assert_array_equal((7.0 % x).data, [1.0, -2.0])
    (7.0 % x).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [-3.0, 3.0])  # -floor(7 / x)


def test_integer_division_by_zero_is_an_error_like_pytorch():
    with pytest.raises(ZeroDivisionError, match="floor_divide: integer division by zero"):
        ms.tensor([1, 2]) // ms.tensor([1, 0])
    with pytest.raises(ZeroDivisionError, match="remainder"):
        ms.tensor([1, 2]) % 0


@pytest.mark.parametrize("op", [ms.maximum, ms.atan2, ms.logaddexp, ms.remainder, ms.xlogy, ms.isclose])
def test_binary_ops_name_shapes_that_do_not_broadcast(op):
    with pytest.raises(ValueError, match=r"shapes \(2,\) and \(3,\) do not broadcast"):
        op(ms.ones(2), ms.ones(3))


def test_lerp_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match="lerp: shapes"):
        ms.lerp(ms.ones(2), ms.ones(2), ms.ones(3))


def test_tensor_methods_and_numpy_names():
    x = ms.tensor([0.25, -0.5], dtype=np.float64)
    for name in ("sin", "asin", "arcsin", "log1p", "erf", "sign", "floor", "square", "rsqrt", "isnan"):
        np.testing.assert_array_equal(getattr(x, name)().data, getattr(ms, name)(x).data)
    np.testing.assert_array_equal(x.atan2(x).data, ms.arctan2(x, x).data)
    np.testing.assert_array_equal(x.lerp(x * 2, 0.5).data, ms.lerp(x, x * 2, 0.5).data)
    np.testing.assert_array_equal(x.round(1).data, [0.2, -0.5])


# -- tests: boolean results, no gradient --------------------------------------------------------------------
def test_isnan_isinf_isfinite():
    x = ms.tensor([1.0, NAN, INF, -INF, 0.0], requires_grad=True)
    np.testing.assert_array_equal(ms.isnan(x).data, [False, True, False, False, False])
    np.testing.assert_array_equal(ms.isinf(x).data, [False, False, True, True, False])
    np.testing.assert_array_equal(ms.isfinite(x).data, [True, False, False, False, True])
    for out in (ms.isnan(x), x.isinf(), x.isfinite()):
        assert out.dtype == np.bool_ and not out.requires_grad


def test_isclose_like_pytorch():
    a = ms.tensor([1.0, NAN, 1.0, 100.0], dtype=np.float64)
    b = ms.tensor([1.0 + 1e-9, NAN, 1.1, 100.002], dtype=np.float64)
    np.testing.assert_array_equal(ms.isclose(a, b).data, [True, False, False, False])
    np.testing.assert_array_equal(a.isclose(b, equal_nan=True, rtol=1e-5).data, [True, True, False, False])
    np.testing.assert_array_equal(ms.isclose(a, b, rtol=1e-5, atol=1e-2).data, [True, False, False, True])
    assert not ms.isclose(ms.tensor([1.0], requires_grad=True), 1.0).requires_grad
