"""Each backward (the NumPy reference's and the fused kernels') is the derivative of its own forward: central
finite differences in float64.

loss = sum(out * R1) + sum(h_n * R2) [+ sum(c_n * R3)], so the backward called with (R1, R2[, R3]) must
return d loss / d input for every input, element by element (tiny sizes keep this cheap).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq.kernels import reference

from .cases import CELLS, FAST, budget, grad_names, problems, run_backward, run_forward

EPS = 1e-6


def loss(problem, impl):
    outputs, _ = run_forward(problem, impl)
    return sum(np.sum(o * r) for o, r in zip(outputs, problem.grads))


def inputs(problem):
    """(name, array) of every differentiable input, in the order of the backward's results."""
    named = [("dx", problem.x)] + list(zip(grad_names(problem.cell)[1:], problem.states))
    named += [("dw_ih", problem.w_ih), ("dw_hh", problem.w_hh)]
    if problem.b_ih is not None:
        named += [("db_ih", problem.b_ih), ("db_hh", problem.b_hh)]
    return named


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("backend", ["reference", "fused"])
@budget(0.5)
@given(data=st.data())
def test_gradients_match_finite_differences(backend, cell, data):
    impl = reference if backend == "reference" else FAST[cell]
    problem = data.draw(problems(cell, max_T=3, max_B=2, max_I=2, max_H=3, grads=True))
    _, saved = run_forward(problem, impl)
    analytic = dict(zip(grad_names(cell), run_backward(problem, impl, saved)))
    for name, array in inputs(problem):
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            kept = array[index]
            array[index] = kept + EPS
            up = loss(problem, impl)
            array[index] = kept - EPS
            down = loss(problem, impl)
            array[index] = kept
            numeric[index] = (up - down) / (2 * EPS)
        np.testing.assert_allclose(analytic[name], numeric, rtol=1e-5, atol=1e-7, err_msg=name)
