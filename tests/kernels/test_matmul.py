"""matmul and the compiled matmul_into equal np.dot on both sides of the measured crossover."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq.kernels as K
from microseq.kernels import gemm, microkernel

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


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("accumulate", [False, True])
@budget(0.5)
@given(m=st.integers(0, 20), k=st.integers(0, 40), n=st.integers(1, 80), a_transposed=st.booleans(),
       b_transposed=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_packed_matmul_into_equals_np_dot(dtype, accumulate, m, k, n, a_transposed, b_transposed, seed):
    """Every tile height (8, 4, 2, 1 rows), full panels and leftover columns, a and b with either layout."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    if a_transposed:
        a = np.ascontiguousarray(a.T).T
    if b_transposed:
        b = np.ascontiguousarray(b.T).T
    out = rng.standard_normal((m, n)).astype(dtype)
    expected = out + a @ b if accumulate else a @ b
    gemm.packed_matmul_into(a, b, gemm.pack_panels(b), out, accumulate)
    np.testing.assert_allclose(out, expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("transposed", [False, True])
def test_pack_panels_layout(dtype, transposed):
    b = np.arange(3 * 70, dtype=dtype).reshape(3, 70)
    panels = gemm.pack_panels(np.ascontiguousarray(b.T).T if transposed else b)
    width = microkernel.PANEL_VECTORS * microkernel.VECTOR_BYTES // np.dtype(dtype).itemsize
    assert panels.shape == (70 // width, 3, width)
    for p in range(panels.shape[0]):
        np.testing.assert_array_equal(panels[p], b[:, p * width:(p + 1) * width])


def test_matmul_on_the_numpy_backend():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    previous = K.set_backend("numpy")
    try:
        np.testing.assert_array_equal(K.matmul(a, b), a @ b)
    finally:
        K.set_backend(previous)
