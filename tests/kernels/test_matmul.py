"""matmul and the compiled matmul_into equal np.dot on both sides of the measured crossover."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq.kernels as K
from microseq.kernels import gemm

from .cases import TOLERANCE, budget

DTYPES = [np.float32, np.float64]
sizes = st.one_of(st.integers(1, 4), st.integers(5, 80))


@pytest.mark.parametrize("dtype", DTYPES)
@budget()
@given(m=sizes, k=sizes, n=sizes, seed=st.integers(0, 2**32 - 1))
def test_matmul_equals_np_dot(dtype, m, k, n, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    result = K.matmul(a, b)
    assert result.shape == (m, n) and result.dtype == dtype
    np.testing.assert_allclose(result, np.dot(a, b), **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, k, n, loop", [(2, 64, 64, True), (3, 100, 50, True), (4, 64, 64, False),
                                           (1, 64, 64, False), (2, 8, 8, False)])
def test_matmul_takes_the_measured_branch_from_python(dtype, m, k, n, loop):
    a, b = np.ones((m, k), dtype), np.ones((k, n), dtype)
    assert gemm.loop_wins_python(a, b) == loop
    np.testing.assert_array_equal(K.matmul(a, b), np.full((m, n), k, dtype))


def test_matmul_loop_is_only_used_on_c_contiguous_operands():
    a, b = np.ones((2, 64)), np.ones((64, 64))
    assert gemm.loop_wins_python(a, b)
    assert not gemm.loop_wins_python(a, np.asfortranarray(b))
    np.testing.assert_allclose(K.matmul(a, np.asfortranarray(b)), a @ b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("accumulate", [False, True])
@budget(0.5)
@given(m=sizes, k=sizes, n=sizes, seed=st.integers(0, 2**32 - 1))
def test_loop_matmul_into_equals_np_dot(dtype, accumulate, m, k, n, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    out = rng.standard_normal((m, n)).astype(dtype)
    expected = out + a @ b if accumulate else a @ b
    gemm.loop_matmul_into(a, b, out, accumulate)
    np.testing.assert_allclose(out, expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("B, H, G, compiled", [(1, 512, 4, True), (4, 512, 4, True), (32, 32, 4, True),
                                               (16, 64, 4, False), (32, 128, 4, False)])
def test_recurrence_crossover(B, H, G, compiled):
    assert gemm.compiled_recurrence_wins(B, H, G) == compiled


def test_matmul_on_the_numpy_backend():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    previous = K.set_backend("numpy")
    try:
        np.testing.assert_array_equal(K.matmul(a, b), a @ b)
    finally:
        K.set_backend(previous)
