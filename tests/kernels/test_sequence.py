"""parameter_grads: every branch (one stacked GEMM, two GEMMs, separate gate gradients) equals the formulas."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq.kernels.sequence import parameter_grads

from .cases import TOLERANCE, budget


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shared", [True, False])
@budget(0.5)
@given(T=st.integers(1, 5), B=st.integers(1, 4), I=st.integers(1, 12), H=st.integers(1, 6),
       G=st.sampled_from([1, 3, 4]), has_bias=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_parameter_grads_match_the_formulas(dtype, shared, T, B, I, H, G, has_bias, seed):
    """With one gate gradient (RNN, LSTM) and G*H > I + H + 1 the stacked GEMM runs, else two GEMMs."""
    rng = np.random.default_rng(seed)
    gx = rng.standard_normal((T, B, G * H)).astype(dtype)
    gh = gx if shared else rng.standard_normal((T, B, G * H)).astype(dtype)
    x, h_prev = rng.standard_normal((T, B, I)).astype(dtype), rng.standard_normal((T, B, H)).astype(dtype)
    w_ih = rng.standard_normal((G * H, I)).astype(dtype)
    dx, dw_ih, dw_hh, db_ih, db_hh = parameter_grads(gx, gh, x, h_prev, w_ih, has_bias)
    flat = lambda a: a.reshape(T * B, -1)  # noqa: E731
    expected = [gx @ w_ih, flat(gx).T @ flat(x), flat(gh).T @ flat(h_prev)]
    for got, want in zip((dx, dw_ih, dw_hh), expected):
        assert got.dtype == dtype and got.flags.c_contiguous
        np.testing.assert_allclose(got, want, **TOLERANCE[dtype])
    if not has_bias:
        assert db_ih is None and db_hh is None
        return
    np.testing.assert_allclose(db_ih, flat(gx).sum(axis=0), **TOLERANCE[dtype])
    np.testing.assert_allclose(db_hh, flat(gh).sum(axis=0), **TOLERANCE[dtype])
    assert not np.shares_memory(db_ih, db_hh)
