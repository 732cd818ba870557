"""Structural properties of the tape: accumulation, retain_graph, no_grad, depth, linear time, in-place
detection, retain_grad and the printed tape."""

import gc
import sys

import numpy as np
import pytest

import microseq as ms
from microseq.tensor import record


def leaf(*values):
    return ms.Tensor(np.array(values, dtype=np.float64), requires_grad=True)


# -- gradients accumulate, and are cleared -----------------------------------------------------------------
def test_gradients_accumulate_across_backward_calls_and_zero_grad_clears():
    x = leaf(1.0, 2.0)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [2 + 3, 4 + 3])
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 3])
    x.grad = None
    x.sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1])


def test_a_tensor_used_twice_gets_both_contributions_and_gradients_never_share_memory():
    a, b = leaf(1.0, 2.0), leaf(3.0, 4.0)
    y = a + b  # add's backward hands the same array to both inputs
    z = y * a  # a is used twice
    z.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(a.grad, [1 * (1 + 1 + 3), 10 * (2 + 2 + 4)])
    np.testing.assert_array_equal(b.grad, [1, 20])
    assert not np.shares_memory(a.grad, b.grad)
    a.grad += 1  # writing into one gradient must not change the other
    np.testing.assert_array_equal(b.grad, [1, 20])


def test_backward_of_a_leaf_accumulates_the_upstream_gradient_as_a_copy():
    x = leaf(1.0, 2.0)
    g = np.array([5.0, 6.0])
    x.backward(g)
    np.testing.assert_array_equal(x.grad, g)
    assert not np.shares_memory(x.grad, g)


# -- retain_graph ---------------------------------------------------------------------------------------------
def test_second_backward_needs_retain_graph():
    x = leaf(1.0, 2.0)
    y = ms.tanh(x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()  # allowed: the graph was retained; gradients add up
    np.testing.assert_allclose(x.grad, 2 * first)
    with pytest.raises(RuntimeError, match="already freed by an earlier backward.*retain_graph=True"):
        y.backward()


def test_backward_through_a_freed_shared_subgraph_raises():
    x = leaf(1.0, 2.0)
    h = ms.exp(x)
    h.sum().backward()
    with pytest.raises(RuntimeError, match="the graph through 'exp' was already freed"):
        (h * 2).sum().backward()


# -- no_grad -------------------------------------------------------------------------------------------------
def test_no_grad_records_nothing_and_nests():
    x = leaf(1.0, 2.0)
    with ms.no_grad():
        y = ms.exp(x) * 2
        with ms.no_grad():
            assert not ms.is_grad_enabled()
        assert not ms.is_grad_enabled()  # the inner block restored the outer state, not "on"
        with ms.enable_grad():
            z = x * 2
        w = x + 1
    assert ms.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and len(ms.tape_of(y)) == 0
    assert not w.requires_grad
    assert z.requires_grad and [node.op for node in ms.tape_of(z)] == ["mul"]


def test_no_grad_as_decorator_and_restored_after_an_exception():
    @ms.no_grad()
    def evaluate(x):
        return ms.tanh(x).sum()

    x = leaf(1.0)
    assert not evaluate(x).requires_grad
    assert ms.is_grad_enabled()
    with pytest.raises(ZeroDivisionError):
        with ms.no_grad():
            1 / 0
    assert ms.is_grad_enabled()
    with ms.set_grad_enabled(False):
        assert not (x * 2).requires_grad


# -- depth and linear time ------------------------------------------------------------------------------------
def test_a_chain_of_100000_ops_backpropagates_and_is_freed_without_recursion():
    x = leaf(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward(np.ones(1), retain_graph=True)
    np.testing.assert_array_equal(x.grad, [1.0])
    del y  # dropping a deep graph must not recurse either
    gc.collect()


def _chain(n: int):
    x = leaf(*np.linspace(-1, 1, 4))
    y = x
    for _ in range(n):
        y = ms.tanh(y)
    return x, y


def _ladder(n: int):
    """Each step reads the two before it: naive recursive traversal would revisit exponentially often."""
    x = leaf(*np.linspace(-1, 1, 4))
    previous, y = x, ms.tanh(x)
    for _ in range(n):
        previous, y = y, ms.tanh(y + previous)
    return x, y


def _lines_executed(run) -> int:
    """How many lines of Python ``run()`` executes: a count of the interpreter's work that, unlike a
    stopwatch, does not depend on what else the machine is doing."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        count += event == "line"
        return tracer

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("build", [_chain, _ladder], ids=["chain", "ladder"])
def test_backward_work_grows_linearly_with_graph_size(build):
    def backward_work(n: int) -> int:
        _, y = build(n)
        return _lines_executed(lambda: y.backward(np.ones(4)))

    small, large = backward_work(1500), backward_work(6000)
    assert large / small < 4.5, f"4x the ops ran {large / small:.2f}x the lines of Python (quadratic would be ~16x)"


# -- in-place modification of saved arrays --------------------------------------------------------------
def test_in_place_change_of_a_saved_input_raises_at_backward():
    x, w = leaf(1.0, 2.0), ms.Tensor(np.array([3.0, 4.0]))
    y = x * w  # saves w for x's gradient
    w.add_(1.0)
    with pytest.raises(RuntimeError, match=r"mul: input 1 \(shape \(2,\)\) was modified in place"):
        y.sum().backward()


def test_in_place_change_through_a_view_raises_at_backward():
    x, w = leaf(1.0, 2.0, 3.0), ms.Tensor(np.array([3.0, 4.0, 5.0]))
    y = x * w
    view = w[1:]
    view.mul_(2.0)  # changes w's memory through a view
    with pytest.raises(RuntimeError, match="mul: input 1 .* modified in place"):
        y.sum().backward()


def test_in_place_change_of_a_saved_output_through_a_view_raises():
    x = leaf(1.0, 2.0)
    y = ms.exp(x)  # saves its output
    with ms.no_grad():
        y.reshape(2, 1).fill_(0.0)
    with pytest.raises(RuntimeError, match="exp: its output .* was modified in place by fill_"):
        y.sum().backward()


def test_in_place_change_of_an_array_that_was_not_saved_is_fine():
    x, b = leaf(1.0, 2.0), ms.Tensor(np.array([3.0, 4.0]))
    y = x + b  # add saves nothing
    b.add_(1.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_a_rule_counts_as_saved_only_the_values_it_names():
    x = ms.Tensor(np.ones(3), requires_grad=True)  # 24 bytes; each output below is 24 bytes too
    rules = {
        "nothing": (lambda g, *_: (g,), 0),
        "input": (lambda g, x, _y: (g * x,), 24),
        "output": (lambda g, _x, y: (g * y,), 24),
        "all": (lambda g, *values: (g * values[0],), 48),
    }
    for op, (rule, saved) in rules.items():
        y = record(op, x.data * 2, (x,), rule)
        assert y._node.saved_bytes() == saved, op
        y.backward(np.ones(3))


def test_a_rule_of_g_alone_is_refused_with_the_op_and_the_fix():
    x = leaf(1.0, 2.0)
    y = record("double", 2 * x.data, (x,), lambda g: (2 * g,))
    with pytest.raises(TypeError, match=r"double: its backward rule takes g alone.*lambda g, \*_"):
        y.sum().backward()


# -- retain_grad and the printed tape -------------------------------------------------------------------------
def test_retain_grad_keeps_the_gradient_of_an_intermediate():
    x = leaf(1.0, 2.0)
    h = x * 2
    h.retain_grad()
    other = x * 3
    (h * h + other).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)
    assert other.grad is None
    np.testing.assert_array_equal(x.grad, 2 * 2 * h.data + 3)


def test_the_tape_lists_ops_with_shapes_and_saved_bytes():
    x = ms.Tensor(np.ones((2, 3)), requires_grad=True)
    w = ms.Tensor(np.ones((3, 4)), requires_grad=True)
    loss = ms.tanh(x @ w).sum()
    tape = ms.tape_of(loss)
    assert [node.op for node in tape] == ["matmul", "tanh", "sum"]
    assert tape[0].saved_bytes() == (6 + 12) * 8  # matmul saves both operands
    assert tape[1].saved_bytes() == 8 * 8  # tanh saves its output
    text = str(tape)
    assert "matmul" in text and "(2, 3), (3, 4)" in text and "(2, 4)" in text
    assert "3 ops, 208 B saved for backward" in text
    loss.backward()
    assert "(freed)" in str(ms.tape_of(loss)) and "0 B saved" in str(ms.tape_of(loss))


def test_comparisons_detach_and_leaf_flags():
    x = leaf(1.0, -1.0)
    assert not (x > 0).requires_grad
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.data, x.data)
    assert x.is_leaf and not (x * 2).is_leaf
