"""The fused numba kernels compute what the step-by-step NumPy reference computes, forward and backward."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq.kernels import reference

from .cases import CELLS, FAST, assert_close, budget, grad_names, problems, run_backward, run_forward

def check_against_reference(problem, dtype):
    fast_out, fast_saved = run_forward(problem, FAST[problem.cell])
    ref_out, ref_saved = run_forward(problem, reference)
    assert_close(fast_out, ref_out, dtype, names=("out", "h_n", "c_n"))
    assert_close(run_backward(problem, FAST[problem.cell], fast_saved),
                 run_backward(problem, reference, ref_saved), dtype, names=grad_names(problem.cell))


@pytest.mark.parametrize("cell", CELLS)
@budget()
@given(data=st.data())
def test_fused_matches_reference_float64(cell, data):
    check_against_reference(data.draw(problems(cell)), np.float64)


@pytest.mark.parametrize("cell", CELLS)
@budget(0.5)
@given(data=st.data())
def test_fused_matches_reference_float32(cell, data):
    check_against_reference(data.draw(problems(cell, dtype=np.float32)), np.float32)


@pytest.mark.parametrize("cell", CELLS)
@budget(0.5)
@given(data=st.data())
def test_saved_is_the_same_for_both_backends(cell, data):
    """Either backend's backward accepts the other's ``saved``: the tuples hold the same arrays."""
    problem = data.draw(problems(cell))
    _, fast_saved = run_forward(problem, FAST[cell])
    _, ref_saved = run_forward(problem, reference)
    assert type(fast_saved) is type(ref_saved)
    for name, a, b in zip(type(fast_saved)._fields, fast_saved, ref_saved):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
        else:
            assert a == b, name
    assert_close(run_backward(problem, FAST[cell], ref_saved), run_backward(problem, reference, fast_saved),
                 np.float64, names=grad_names(cell))
