"""A bidirectional fused layer runs its two directions at the same time when two threads are allowed, with the
same results bit for bit as one after the other, and as two one-direction nodes (``fused_directions``)."""

import threading

import numpy as np
import pytest

import microseq as ms
from microseq._threads import run_concurrently
from microseq.nn.fused import fused_directions
from microseq._threads import get_blas_threads, set_blas_threads

from .recurrent_cases import Case, run


def _idents_and_blas_threads():
    return threading.get_ident(), get_blas_threads()


def test_two_tasks_run_on_two_threads_with_one_blas_thread_each(two_blas_threads):
    first, second = run_concurrently([_idents_and_blas_threads, _idents_and_blas_threads])
    assert first[0] == threading.get_ident() != second[0]
    assert first[1] == second[1] == 1
    assert get_blas_threads() == 2


def test_a_budget_of_one_thread_runs_them_in_turn(two_blas_threads):
    set_blas_threads(1)
    first, second = run_concurrently([_idents_and_blas_threads, _idents_and_blas_threads])
    assert first[0] == second[0] == threading.get_ident()


def test_an_error_in_the_worker_is_raised_after_both_finished(two_blas_threads):
    done = []

    def fails():
        raise ValueError("from the worker")

    with pytest.raises(ValueError, match="from the worker"):
        run_concurrently([lambda: done.append(1), fails])
    assert done == [1] and get_blas_threads() == 2


# The compiled time loop (tiny products) and the interpreter-driven one with BLAS (B*H*G*H > 2**17).
SIZES = [dict(steps=5, batch=3, input_size=2, hidden_size=3), dict(steps=4, batch=8, input_size=5, hidden_size=96)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sizes", SIZES, ids=["compiled loop", "BLAS per step"])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("lengths", [None, "ragged"])
def test_concurrent_directions_equal_the_serial_ones_bit_for_bit(two_blas_threads, kind, sizes, dtype, lengths):
    case = Case(kind, num_layers=2, bidirectional=True, **sizes)
    if lengths == "ragged":
        case = case.with_(lengths=tuple(max(1, case.steps - b) for b in range(case.batch)))
    x = case.input().astype(dtype)
    states = [s.astype(dtype) for s in case.initial_states()]
    upstream = [u.astype(dtype) for u in case.upstream()]
    concurrent = run(case.layer().astype(dtype), x, states, case.lengths, upstream)
    set_blas_threads(1)
    serial = run(case.layer().astype(dtype), x, states, case.lengths, upstream)
    assert concurrent.keys() == serial.keys()
    for name in serial:
        assert serial[name].dtype == dtype
        np.testing.assert_array_equal(concurrent[name], serial[name], err_msg=f"{case}: {name}")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_one_node_for_both_directions_equals_one_node_per_direction(two_blas_threads, kind):
    case = Case(kind, bidirectional=True, steps=6, batch=4, input_size=3, hidden_size=5, lengths=(6, 2, 5, 1))
    layer = case.layer()
    states = [tuple(ms.Tensor(s[d]) for s in case.initial_states()) for d in range(2)]
    directions = [(states[d], layer.weights(0, d), d == 1) for d in range(2)]
    options = {"nonlinearity": "tanh"} if kind == "RNN" else {}
    results = {}
    for how in ("together", "apart"):
        layer.zero_grad()
        x = ms.Tensor(case.input(), requires_grad=True)
        if how == "together":
            per_direction = fused_directions(layer.kernel, x, directions, np.array(case.lengths), **options)
        else:
            per_direction = [fused_directions(layer.kernel, x, [d], np.array(case.lengths), **options)[0]
                             for d in directions]
        outputs = [o for direction in per_direction for o in direction]
        sum((o * (k + 1.5)).sum() for k, o in enumerate(outputs)).backward()
        results[how] = [o.data for o in outputs] + [x.grad] + [p.grad for p in layer.parameters()]
    for together, apart in zip(results["together"], results["apart"]):
        np.testing.assert_array_equal(together, apart)
