"""Type promotion follows PyTorch (``torch.result_type``), not NumPy.

Python numbers are "weak": they never widen a tensor (``float32 * 2.5`` is float32) and bring the default
dtype of their kind only when they are of a higher kind (``int32 * 2.5`` is float32). Tensors of different
kinds take the higher kind's dtype (``float32 / int32`` is float32, where NumPy says float64); within a kind
the wider dtype wins (``float32 + float64`` is float64); ``/`` is always floating point.
"""

import itertools

import numpy as np
import pytest

import microseq as ms

DTYPES = [np.bool_, np.uint8, np.int8, np.int32, np.int64, np.float32, np.float64]
SCALARS = [True, 2, 2.5]

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "floor_divide": lambda a, b: a // b,
    "remainder": lambda a, b: a % b,
    "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b,
}


def _values(dtype, ndim=1):
    values = np.array([1, 2, 3]) if ndim else np.array(2)
    return np.ones_like(values, dtype=dtype) if dtype == np.bool_ else values.astype(dtype)


@pytest.mark.parametrize(
    "x, y, op, expected",
    [
        (np.float32, np.int32, "div", np.float32),  # NumPy: float64
        (np.float32, np.int64, "mul", np.float32),  # NumPy: float64
        (np.int32, np.int32, "div", np.float32),  # NumPy: float64
        (np.int8, np.int8, "add", np.int8),
        (np.int32, np.int64, "add", np.int64),
        (np.float32, np.float64, "sub", np.float64),
        (np.bool_, np.int32, "add", np.int32),
        (np.uint8, np.int8, "add", np.int16),
        (np.int32, np.float32, "pow", np.float32),
        (np.int64, np.float32, "remainder", np.float32),
    ],
)
def test_tensor_pairs_promote_as_pytorch(x, y, op, expected):
    out = BINARY[op](ms.tensor(_values(x)), ms.tensor(_values(y)))
    assert out.dtype == expected


@pytest.mark.parametrize(
    "dtype, scalar, expected",
    [
        (np.float32, 2.5, np.float32),
        (np.float64, 2.5, np.float64),
        (np.int32, 2.5, np.float32),  # the default float, not float64
        (np.int8, 2, np.int8),  # a Python int does not widen int8
        (np.uint8, 2, np.uint8),
        (np.bool_, 2, np.int64),
        (np.bool_, True, np.bool_),
        (np.float16, 2, np.float16),
    ],
)
def test_python_numbers_are_weak(dtype, scalar, expected):
    x = ms.tensor(_values(dtype))
    assert (x * scalar).dtype == expected
    assert (scalar * x).dtype == expected


def test_a_zero_dim_tensor_does_not_widen_a_tensor_of_its_kind():
    x = ms.ones(3)
    assert (x * ms.tensor(np.float64(2.0))).dtype == np.float32
    assert (ms.tensor(_values(np.int32)) * ms.tensor(np.float64(2.0))).dtype == np.float64


def test_maximum_and_where_promote():
    f, i = ms.ones(3), ms.tensor(_values(np.int64))
    assert ms.maximum(f, i).dtype == np.float32
    assert ms.minimum(i, ms.tensor(_values(np.int32))).dtype == np.int64
    assert ms.where(np.array([True, False, True]), i, 0.5).dtype == np.float32
    assert ms.where(np.array([True, False, True]), f, ms.ones(3, dtype=np.float64)).dtype == np.float64


def test_comparison_is_made_in_the_promoted_dtype():
    i = ms.tensor(np.array([2, 3], dtype=np.int32))
    np.testing.assert_array_equal((i < 2.5).data, [True, False])  # not 2.5 truncated to 2


def test_mixed_float_gradient_comes_back_in_each_inputs_dtype():
    x = ms.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    w = ms.tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = x * w
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.data, [3.0, 4.0])


def test_int_division_and_powers():
    i = ms.tensor(np.array([1, 2, 4], dtype=np.int32))
    np.testing.assert_allclose((i / 2).data, [0.5, 1.0, 2.0])
    assert (i**2).dtype == np.int32 and (i**0.5).dtype == np.float32
    with pytest.raises(RuntimeError, match=r"^pow: integers cannot be raised to negative powers"):
        i**-2
    assert (ms.tensor(np.array([1.0, 2.0], dtype=np.float32)) ** -2).dtype == np.float32


# -- parity with PyTorch over a grid of dtype pairs --------------------------------------------------------
def _torch_or_none(fn):
    try:
        return fn()
    except (RuntimeError, TypeError):  # PyTorch refuses the pair (bool - bool, int ** negative...)
        return None


@pytest.mark.parametrize("op", list(BINARY) + ["maximum", "where"])
def test_result_dtypes_match_pytorch(op):
    torch = pytest.importorskip("torch")
    cond = np.array([True, False, True])

    def apply(lib, a, b):
        if op == "maximum":
            return lib.maximum(a, b)
        if op == "where":
            return lib.where(lib.tensor(cond) if lib is torch else cond, a, b)
        return BINARY[op](a, b)

    mismatches = []
    for (x, y), (nx, ny) in itertools.product(itertools.product(DTYPES, repeat=2), [(1, 1), (1, 0), (0, 1)]):
        a, b = _values(x, nx), _values(y, ny)
        expected = _torch_or_none(lambda: apply(torch, torch.from_numpy(a), torch.from_numpy(b)))
        if expected is None:
            continue
        got = apply(ms, ms.tensor(a), ms.tensor(b))
        if str(got.dtype) != str(expected.dtype).removeprefix("torch."):
            mismatches.append((np.dtype(x).name, nx, np.dtype(y).name, ny, got.dtype, expected.dtype))
            continue
        np.testing.assert_allclose(got.data.astype(np.float64), expected.double().numpy(), rtol=1e-6)
    if op not in ("maximum",):  # torch.maximum takes no Python number
        for x, s in itertools.product(DTYPES, SCALARS):
            for a, b in ((_values(x), s), (s, _values(x))):
                t = lambda v: torch.from_numpy(v) if isinstance(v, np.ndarray) else v  # noqa: E731
                m = lambda v: ms.tensor(v) if isinstance(v, np.ndarray) else v  # noqa: E731
                expected = _torch_or_none(lambda: apply(torch, t(a), t(b)))
                if expected is None:
                    continue
                got = apply(ms, m(a), m(b))
                if str(got.dtype) != str(expected.dtype).removeprefix("torch."):
                    mismatches.append((repr(a), repr(b), got.dtype, expected.dtype))
    assert not mismatches, mismatches
