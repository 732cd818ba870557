"""gradcheck, gradgradcheck, check_gradients and check_second_derivatives must catch wrong backward rules (a
checker that cannot fail is useless), and pass on right ones."""

import doctest
import sys

import numpy as np
import pytest

import microseq as ms
from microseq import autograd
from microseq.gradcheck import GradcheckError
from microseq.tensor import record
from microseq.testing import check_gradients, check_second_derivatives


def cube_with_wrong_rule(x):
    """x**3 with the derivative 2 x**2 instead of 3 x**2."""
    return record("cube", x.data**3, (x,), lambda g, x, _y: (g * 2 * x**2,))


def reverse_with_wrong_rule(x):
    """Reverses a vector but sends the gradient back un-reversed: right for .sum(), wrong for anything else."""
    return record("reverse", x.data[::-1].copy(), (x,), lambda g, *_: (g,))


def wrong_at_one_element(x):
    """2x, whose backward is off at element (1, 2) only."""

    def backward(g, *_):
        grad = 2 * g
        grad[1, 2] += 0.5
        return (grad,)

    return record("double", 2 * x.data, (x,), backward)


X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def test_gradcheck_passes_a_correct_op_in_both_modes():
    assert ms.gradcheck(lambda x: ms.tanh(x) * x, [X])
    assert ms.gradcheck(lambda x: ms.tanh(x) * x, [X], fast=True)


def test_gradcheck_names_the_input_the_worst_element_and_both_values():
    with pytest.raises(ms.GradcheckError) as info:
        ms.gradcheck(lambda a, b: wrong_at_one_element(a) + b, [X, X], names=["a", "b"])
    message = str(info.value)
    assert "a at index (1, 2): analytical" in message and "numerical" in message
    assert "1 of 6 elements differ" in message
    assert "b at" not in message  # b's gradient is right


def test_gradcheck_catches_a_wrong_derivative_in_both_modes():
    with pytest.raises(ms.GradcheckError, match="x at index"):
        ms.gradcheck(cube_with_wrong_rule, [X], names=["x"])
    with pytest.raises(ms.GradcheckError, match="x \\(along a random direction\\)"):
        ms.gradcheck(cube_with_wrong_rule, [X], names=["x"], fast=True)
    assert not ms.gradcheck(cube_with_wrong_rule, [X], raise_exception=False)


def test_random_upstream_gradient_catches_what_a_sum_would_miss():
    x = ms.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    reverse_with_wrong_rule(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1, 1])  # .sum() cannot tell
    with pytest.raises(ms.GradcheckError):
        ms.gradcheck(reverse_with_wrong_rule, [np.array([1.0, 2.0, 3.0])])


def test_gradcheck_fast_mode_is_the_default_for_large_inputs_and_agrees():
    x = np.random.default_rng(0).standard_normal((40, 30))
    assert ms.gradcheck(lambda x: ms.log_softmax(x, axis=1), [x])  # 1200 elements: fast mode
    with pytest.raises(ms.GradcheckError, match="along a random direction"):
        ms.gradcheck(cube_with_wrong_rule, [x])


def test_gradcheck_rejects_float32_and_inputs_without_grad():
    with pytest.raises(ms.GradcheckError, match="input 0 has dtype float32; finite differences need float64"):
        ms.gradcheck(ms.tanh, [ms.Tensor(X.astype(np.float32), requires_grad=True)])
    with pytest.raises(ms.GradcheckError, match="no input requires grad"):
        ms.gradcheck(ms.tanh, [ms.Tensor(X)])


def test_gradcheck_with_large_constant_outputs():
    """masked_fill(-1e9) puts huge constants in the output; they must cancel before the projection."""
    mask = np.array([[True, False, False], [False, False, True]])
    assert ms.gradcheck(lambda x: ms.masked_fill(x, mask, -1e9) * 3.0, [X])


def test_gradcheck_with_several_outputs():
    assert ms.gradcheck(lambda x: tuple(ms.split(ms.exp(x), [1, 2], axis=1)), [X])
    with pytest.raises(ms.GradcheckError):
        ms.gradcheck(lambda x: (ms.exp(x), cube_with_wrong_rule(x)), [X])


# -- check_gradients: the extra structural checks --------------------------------------------------------
def test_check_gradients_catches_an_op_that_mutates_its_input():
    def scale_in_place(x):
        x.data *= 2.0  # the kind of bug check_gradients exists for
        return x * 1.0

    with pytest.raises(ms.GradcheckError, match="forward modified x in place"):
        check_gradients(scale_in_place, X, names=["x"])


def test_check_gradients_catches_a_backward_that_mutates_an_input():
    def square_with_destructive_backward(x):
        data = x.data

        def backward(g, *_):
            data[...] = 0.0
            return (2 * g,)

        return record("square", data**2, (x,), backward)

    with pytest.raises(ms.GradcheckError, match="backward modified input 0 in place"):
        check_gradients(square_with_destructive_backward, X)


def test_check_gradients_catches_gradients_that_share_memory(monkeypatch):
    """Simulate an engine that stores the incoming gradient array itself instead of a copy."""

    def store_without_copy(tensor, grad):
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad

    monkeypatch.setattr(autograd, "_accumulate_into_grad", store_without_copy)
    with pytest.raises(ms.GradcheckError, match="the gradient of a shares memory with b"):
        check_gradients(lambda a, b: a + b, X, X.copy(), names=["a", "b"])


def test_check_gradients_passes_constants_through():
    target = np.array([2, 0])
    check_gradients(lambda x, t: ms.cross_entropy(x, t), X, target)
    check_gradients(lambda x, w: x * w, X, ms.Tensor(X))  # a tensor that does not require grad: a constant
    with pytest.raises(ms.GradcheckError, match="nothing to check"):
        check_gradients(ms.tanh, ms.Tensor(X))


# -- gradgradcheck itself ---------------------------------------------------------------------------
def cube_with_an_undifferentiable_rule(a):
    """``a**3`` whose backward rule is right (3 a^2 g) but reads ``a`` as a constant when it runs on Tensors:
    first derivatives are exact, second derivatives miss the 6 a term. What a rule closing over a saved
    array, or computing on ``.data``, does to ``create_graph=True``."""

    def rule(g, x, _y):
        x = x.detach() if isinstance(x, ms.Tensor) else x
        return (g * 3 * x * x,)

    return record("bad_cube", a.data**3, (a,), rule)


def test_gradgradcheck_passes_on_correct_rules():
    x, w = np.array([[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]]), np.array([[1.0], [-2.0], [0.5]])
    assert ms.gradgradcheck(lambda x, w: ms.tanh(x @ w), [x, w])
    assert ms.gradgradcheck(lambda x: (x**3, ms.exp(x).sum()), [x])  # two outputs, one a scalar
    assert ms.gradgradcheck(lambda x: x**3, [x], grad_outputs=[np.ones(x.shape)])


def test_gradgradcheck_fails_on_a_rule_that_is_right_only_at_first_order():
    x = np.array([0.5, -1.0, 2.0])
    assert ms.gradcheck(cube_with_an_undifferentiable_rule, [x])  # first order: right
    with pytest.raises(GradcheckError) as info:
        ms.gradgradcheck(cube_with_an_undifferentiable_rule, [x], names=["x"])
    message = str(info.value)
    assert message.startswith("gradgradcheck failed")
    assert "  x at index (2,): analytical" in message  # the worst element: 6 a v u is largest at a = 2
    assert not ms.gradgradcheck(cube_with_an_undifferentiable_rule, [x], raise_exception=False)
    with pytest.raises(GradcheckError, match="gradgradcheck failed"):
        check_second_derivatives(cube_with_an_undifferentiable_rule, x)


def test_gradgradcheck_checks_the_upstream_gradient_too():
    """d<u, v^T J>/dv = J u: a rule that reads the upstream gradient's values (``g.data``, as ``np.add.at``
    into a fresh array would) cuts ``v`` from the tape; first order cannot see it, the check through v does."""

    def rule(g, x, _y):
        g = ms.Tensor(g.data) if isinstance(g, ms.Tensor) else g
        return (g * 2 * x,)

    def square(a):
        return record("square_reading_g", a.data**2, (a,), rule)

    x = np.array([0.5, -1.0, 2.0])
    assert ms.gradcheck(square, [x])
    with pytest.raises(GradcheckError) as info:
        ms.gradgradcheck(square, [x], names=["x"])
    assert "upstream gradient of output 0 at index" in str(info.value)


def test_gradgradcheck_errors():
    with pytest.raises(GradcheckError, match="gradgradcheck: no input requires grad"):
        ms.gradgradcheck(ms.tanh, [ms.Tensor(np.ones(2))])
    with pytest.raises(GradcheckError, match=r"grad_outputs\[0\] has shape \(3,\), output 0 has \(2,\)"):
        ms.gradgradcheck(ms.tanh, [np.ones(2)], grad_outputs=[np.ones(3)])
    with pytest.raises(GradcheckError, match="gradgradcheck: .*has dtype float32"):
        ms.gradgradcheck(ms.tanh, [ms.Tensor(np.ones(2, np.float32), requires_grad=True)])


def test_check_second_derivatives_passes_constants_through():
    mask = np.array([True, False, True])
    check_second_derivatives(lambda x, m: ms.masked_fill(x * x, m, 0.0), np.array([1.0, 2.0, 3.0]), mask)


def test_check_second_derivatives_catches_a_rule_that_differs_on_tensors():
    """The rule must give the same first derivative on Tensors (create_graph) as on arrays."""

    def rule(g, x, _y):
        return (g * (3.0 if isinstance(x, ms.Tensor) else 2.0) * x,)

    def square(a):
        return record("square_twice", a.data**2, (a,), rule)

    with pytest.raises(GradcheckError, match="the gradient of x recorded with create_graph=True differs"):
        check_second_derivatives(square, np.array([0.5, -1.0]), names=["x"])


THIRD_ORDER = {  # scalar functions whose gradient (a function with history) gradgradcheck differentiates twice more
    "tanh": lambda x: ms.tanh(x).sum(),
    "softmax": lambda x: (ms.softmax(x, axis=-1) * np.array([1.0, -2.0, 0.5])).sum(),
    "getitem": lambda x: (x[:, np.array([0, 0, 2])] ** 3).sum(),
    "matmul": lambda x: ms.sigmoid(x @ np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]])).sum(),
}


@pytest.mark.parametrize("name", THIRD_ORDER)
def test_third_derivatives_by_composing_with_grad(name):
    """gradgradcheck of ``ms.grad(f)`` checks the third derivatives of ``f``: the transforms compose."""
    x = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]])
    assert ms.gradgradcheck(ms.grad(THIRD_ORDER[name]), [x])


def test_the_documented_examples_run():
    failures, tried = doctest.testmod(sys.modules["microseq.gradcheck"])  # ms.gradcheck is the function
    assert tried >= 1 and failures == 0
