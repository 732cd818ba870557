"""Variable lengths: a padded batch gives what each sequence gives alone, and padding never leaks.

Runs on the public API, once per backend.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq.kernels as K

from .cases import CELLS, TOLERANCE, budget, make_problem, problems, run_backward, run_forward, using_backend

BACKENDS = pytest.mark.parametrize("backend", ["numba", "numpy"])
TOL = TOLERANCE[np.float64]


def poison_padding(problem):
    """Fill padded steps of x and of d_out with NaN: nothing may read them."""
    for b in range(problem.x.shape[1]):
        L = problem.real_steps(b)
        problem.x[L:, b] = np.nan
        if problem.grads[0] is not None:
            problem.grads[0][L:, b] = np.nan


def check_padded_batch(problem):
    poison_padding(problem)
    outputs, saved = run_forward(problem, K)
    dx, *d_states, dw_ih, dw_hh, db_ih, db_hh = run_backward(problem, K, saved)
    d_params = (dw_ih, dw_hh, db_ih, db_hh)
    param_sums = [None if g is None else np.zeros_like(g) for g in d_params]
    for b in range(problem.x.shape[1]):
        L = problem.real_steps(b)
        single = problem.sequence(b)
        (out_b, *finals_b), saved_b = run_forward(single, K)
        dx_b, *d_states_b, dw_ih_b, dw_hh_b, db_ih_b, db_hh_b = run_backward(single, K, saved_b)
        np.testing.assert_allclose(outputs[0][:L, b:b + 1], out_b, **TOL)
        assert np.all(outputs[0][L:, b] == 0), "out at padded steps must be exactly 0"
        for final, final_b in zip(outputs[1:], finals_b):
            np.testing.assert_allclose(final[b:b + 1], final_b, **TOL)
        np.testing.assert_allclose(dx[:L, b:b + 1], dx_b, **TOL)
        assert np.all(dx[L:, b] == 0), "dx at padded steps must be exactly 0"
        for d_state, d_state_b in zip(d_states, d_states_b):
            np.testing.assert_allclose(d_state[b:b + 1], d_state_b, **TOL)
        for total, g in zip(param_sums, (dw_ih_b, dw_hh_b, db_ih_b, db_hh_b)):
            if total is not None:
                total += g
    for name, g, total in zip(("dw_ih", "dw_hh", "db_ih", "db_hh"), d_params, param_sums):
        assert (g is None) == (total is None), name
        if g is not None:
            np.testing.assert_allclose(g, total, err_msg=name, **TOL)


@BACKENDS
@pytest.mark.parametrize("cell", CELLS)
@budget()
@given(data=st.data())
def test_padded_batch_equals_each_sequence_alone(backend, cell, data):
    with using_backend(backend):
        check_padded_batch(data.draw(problems(cell, max_T=6, ragged=True)))


@BACKENDS
@pytest.mark.parametrize("cell", CELLS)
def test_reverse_direction_starts_at_each_sequences_last_real_step(backend, cell):
    """PyTorch's bidirectional layout: out[0] of the reverse pass is its final state for every sequence,
    and out[L_b - 1] of sequence b is one step from h0 (it equals a one-step run on x[L_b - 1])."""
    problem = make_problem(cell, np.random.default_rng(7), T=5, B=3, I=2, H=3, reverse=True)
    problem.lengths[:] = [5, 2, 1]
    with using_backend(backend):
        (out, h_n, *_), _ = run_forward(problem, K)
        np.testing.assert_allclose(out[0], h_n, **TOL)
        for b, L in enumerate(problem.lengths):
            (out_1, *_), _ = run_forward(problem.sequence(b, steps=slice(L - 1, L)), K)
            np.testing.assert_allclose(out[L - 1, b:b + 1], out_1[0], **TOL)
