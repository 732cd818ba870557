"""The numba gate nonlinearities: accurate to a few ulp and finite-valued for any finite input."""

import numpy as np
import pytest

from microseq.kernels import activations, reference


def apply(fn, a):
    return np.array([fn(v) for v in a], dtype=a.dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_and_sigmoid_are_accurate_and_saturate(dtype):
    a = np.concatenate([np.linspace(-30, 30, 4001), np.logspace(-30, 2, 300), -np.logspace(-30, 2, 300),
                        [0.0, 0.625, -0.625, 1e30, -1e30]]).astype(dtype)
    exact = a.astype(np.float64)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(apply(activations.tanh, a), np.tanh(exact), rtol=3 * eps, atol=0)
    tiny = np.finfo(dtype).tiny  # below it float32 results are subnormal and lose digits
    np.testing.assert_allclose(apply(activations.sigmoid, a), reference.sigmoid(exact), rtol=4 * eps, atol=tiny)
    assert activations.tanh(dtype(np.inf)) == 1 and activations.tanh(dtype(-np.inf)) == -1
    assert activations.sigmoid(dtype(np.inf)) == 1 and activations.sigmoid(dtype(-np.inf)) == 0
    assert np.isnan(activations.tanh(dtype(np.nan))) and np.isnan(activations.sigmoid(dtype(np.nan)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_of_nonpositive_arguments_is_accurate_down_to_the_smallest_subnormal(dtype):
    from numba import njit

    @njit
    def exp_all(a, out):  # compiled, as the kernels call it (the Python fallback is math.exp)
        for k in range(a.size):
            out[k] = activations.exp_nonpositive(a[k])

    info = np.finfo(dtype)
    lowest = np.log(float(info.smallest_subnormal)) - 1  # every result below this rounds to 0
    a = -np.concatenate([np.linspace(0, -lowest, 20001), np.logspace(-30, 3, 500), [np.inf]]).astype(dtype)
    out = np.empty_like(a)
    exp_all(a, out)
    exact = np.exp(a.astype(np.longdouble))
    normal = exact >= info.tiny
    ulps = np.abs(out[normal] - exact[normal]) / np.spacing(exact[normal].astype(dtype))
    assert ulps.max() <= 1.7  # Cephes: ~0.9 ulp in float32, ~1.6 in float64 (libm: 0.5)
    subnormal_error = np.abs(out[~normal] - exact[~normal]).astype(np.float64)
    assert subnormal_error.max() <= float(info.smallest_subnormal)  # at most one subnormal step off
    assert out[-1] == 0 and out[0] == 1
    nan = np.array([np.nan], dtype)
    exp_all(nan, nan)
    assert np.isnan(nan[0])
