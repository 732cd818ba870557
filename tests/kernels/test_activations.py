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
