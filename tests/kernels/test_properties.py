"""Contracts beyond the numbers: no mutation, no shared memory, dtypes kept, any memory layout accepted."""

import copy
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq.kernels as K

from .cases import CELLS, assert_close, budget, grad_names, make_problem, problems, run_backward, run_forward
from .cases import using_backend

BACKENDS = pytest.mark.parametrize("backend", ["numba", "numpy"])


def arrays_of(problem):
    return [a for a in (problem.x, *problem.states, problem.w_ih, problem.w_hh, problem.b_ih, problem.b_hh,
                        problem.lengths, *problem.grads) if a is not None]


@BACKENDS
@pytest.mark.parametrize("cell", CELLS)
@budget(0.5)
@given(data=st.data())
def test_inputs_and_saved_are_not_mutated_and_gradients_do_not_share_memory(backend, cell, data):
    problem = data.draw(problems(cell))
    before = copy.deepcopy(problem)
    with using_backend(backend):
        outputs, saved = run_forward(problem, K)
        saved_before = copy.deepcopy(saved)
        grads = run_backward(problem, K, saved)
        again = run_backward(problem, K, saved)
    for a, b in zip(arrays_of(problem), arrays_of(before)):
        np.testing.assert_array_equal(a, b)
    for name, a, b in zip(type(saved)._fields, saved, saved_before):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert_close(again, grads, np.float64, names=grad_names(cell))  # backward can run twice
    results = [a for a in outputs + grads if a is not None]
    for a, b in itertools.combinations(results, 2):
        assert not np.shares_memory(a, b)
    for a, b in itertools.product(results, arrays_of(problem)):
        assert not np.shares_memory(a, b)


@BACKENDS
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_and_gradients_keep_the_dtype(backend, cell, dtype):
    problem = make_problem(cell, np.random.default_rng(0), T=3, B=2, I=2, H=3, dtype=dtype)
    with using_backend(backend):
        outputs, saved = run_forward(problem, K)
        grads = run_backward(problem, K, saved)
    assert all(a.dtype == dtype for a in outputs + grads)


@pytest.mark.parametrize("cell", CELLS)
def test_any_memory_layout_and_lengths_as_a_list(cell):
    """Transposed weights, strided inputs and a Python list of lengths give the same results."""
    problem = make_problem(cell, np.random.default_rng(1), T=4, B=3, I=2, H=3)
    expected_out, saved = run_forward(problem, K)
    expected_grads = run_backward(problem, K, saved)
    strided = copy.deepcopy(problem)
    strided.x = np.asfortranarray(problem.x)
    strided.states = tuple(np.asfortranarray(s) for s in problem.states)
    strided.w_ih = np.asfortranarray(problem.w_ih)
    strided.w_hh = np.ascontiguousarray(problem.w_hh.T).T
    strided.b_ih = np.repeat(problem.b_ih, 2)[::2]
    strided.lengths = problem.lengths.tolist()
    strided.grads = tuple(np.asfortranarray(g) for g in problem.grads)
    outputs, saved = run_forward(strided, K)
    assert_close(outputs, expected_out, np.float64)
    assert_close(run_backward(strided, K, saved), expected_grads, np.float64, names=grad_names(cell))


def test_backend_switch_and_saved_across_backends():
    problem = make_problem("gru", np.random.default_rng(2), T=3, B=2, I=2, H=2)
    with using_backend("numpy"):
        assert K.get_backend() == "numpy"
        _, saved = run_forward(problem, K)
        expected = run_backward(problem, K, saved)
    with using_backend("numba"):
        assert_close(run_backward(problem, K, saved), expected, np.float64)


def test_compile_all_reports_seconds_per_kernel_and_dtype():
    seconds = K.compile_all(dtypes=(np.float64,))
    assert set(seconds) == {"rnn float64", "lstm float64", "gru float64", "matmul float64"}
    assert all(s >= 0 for s in seconds.values())
