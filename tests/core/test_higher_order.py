"""Higher-order gradients: ``backward(create_graph=True)`` and ``microseq.autograd.grad`` record the backward
pass, so that gradients can be differentiated again; without ``create_graph`` nothing changes."""

import numpy as np
import pytest

import microseq as ms


def leaf(*values):
    return ms.Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def second_derivative(f, x):
    """d/dx of sum(df/dx), elementwise f: the diagonal of the Hessian, through backward(create_graph=True)."""
    f(x).sum().backward(create_graph=True)
    first = x.grad
    x.grad = None
    first.sum().backward()
    return first, x.grad


# -- closed forms --------------------------------------------------------------------------------------------
def test_second_derivative_of_exp_is_exp():
    x = leaf(-1.0, 0.0, 0.5, 2.0)
    first, second = second_derivative(ms.exp, x)
    np.testing.assert_allclose(first.data, np.exp(x.data), rtol=1e-14)
    np.testing.assert_allclose(second, np.exp(x.data), rtol=1e-14)


def test_second_derivative_of_a_cube_is_6x():
    x = leaf(-2.0, 0.0, 0.5, 3.0)
    first, second = second_derivative(lambda t: t * t * t, x)
    np.testing.assert_allclose(first.data, 3 * x.data**2, rtol=1e-14)
    np.testing.assert_allclose(second, 6 * x.data, rtol=1e-14)


def test_third_derivative_of_exp_of_2x():
    x = leaf(-0.5, 0.25, 1.0)
    (g1,) = ms.autograd.grad(ms.exp(x * 2.0).sum(), x, create_graph=True)
    (g2,) = ms.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = ms.autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.data, 8 * np.exp(2 * x.data), rtol=1e-14)


# -- what create_graph does and does not change --------------------------------------------------------------
def test_without_create_graph_grad_is_a_plain_array_and_nothing_is_recorded():
    x = leaf(1.0, 2.0)
    (x * ms.exp(x)).sum().backward()
    assert type(x.grad) is np.ndarray
    np.testing.assert_allclose(x.grad, np.exp(x.data) * (1 + x.data))


def test_with_create_graph_grad_is_a_tensor_with_history_and_the_graph_is_retained():
    x = leaf(1.0, 2.0)
    y = (x * ms.exp(x)).sum()
    y.backward(create_graph=True)
    assert isinstance(x.grad, ms.Tensor) and x.grad.requires_grad and x.grad._node is not None
    first = x.grad.data.copy()
    y.backward()  # retain_graph defaulted to create_graph: the graph is still there; gradients add up
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_create_graph_with_retain_graph_false_frees_the_graph():
    x = leaf(1.0, 2.0)
    y = ms.exp(x).sum()
    y.backward(create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()


def test_broadcast_gradients_are_summed_back_with_history():
    x = ms.Tensor(np.array([[1.0], [2.0]]), requires_grad=True)  # (2, 1) against (2, 3)
    w = ms.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (gx, gw) = ms.autograd.grad((x * x * w).sum(), (x, w), create_graph=True)
    np.testing.assert_allclose(gx.data, 2 * x.data * w.data.sum(axis=1, keepdims=True))
    (h,) = ms.autograd.grad(gx.sum(), w)  # d/dw of sum(2 x w) = 2 x, broadcast to w
    np.testing.assert_allclose(h.data, np.broadcast_to(2 * x.data, (2, 3)))


# -- microseq.autograd.grad ----------------------------------------------------------------------------------
def test_grad_returns_gradients_and_never_touches_dot_grad():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    gx, gw = ms.autograd.grad((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.data, w.data)
    np.testing.assert_array_equal(gw.data, x.data)
    assert x.grad is None and w.grad is None
    assert isinstance(gx, ms.Tensor) and not gx.requires_grad


def test_grad_of_an_unused_input_is_zeros_and_an_error_when_not_allowed():
    x, unused = leaf(1.0, 2.0), leaf(5.0, 6.0, 7.0)
    gx, gu = ms.autograd.grad((x * x).sum(), (x, unused), retain_graph=True)
    np.testing.assert_array_equal(gu.data, np.zeros(3))
    with pytest.raises(RuntimeError, match="input 1 .* was not used"):
        ms.autograd.grad((x * x).sum(), (x, unused), allow_unused=False)


def test_grad_of_an_identically_zero_second_derivative_is_zeros():
    x = leaf(1.0, 2.0)
    (g,) = ms.autograd.grad((x * 3.0).sum(), x, create_graph=True)  # a constant: no history
    (h,) = ms.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.data, [0.0, 0.0])


def test_grad_with_respect_to_an_intermediate_and_with_grad_outputs():
    x = leaf(1.0, 2.0)
    h = ms.exp(x)
    y = h * h
    (gh,) = ms.autograd.grad(y, h, grad_outputs=np.array([1.0, 10.0]))
    np.testing.assert_allclose(gh.data, [2 * np.e, 20 * np.exp(2)])


def test_grad_rejects_an_input_that_does_not_require_grad():
    x = leaf(1.0)
    with pytest.raises(RuntimeError, match="input 1 is not a tensor that requires grad"):
        ms.autograd.grad(x * 2.0, (x, ms.tensor([1.0])))


# -- NumPy on Tensors ----------------------------------------------------------------------------------------
def test_numpy_ufuncs_and_functions_on_tensors_run_microseq_ops():
    x = leaf(0.5, -1.0, 2.0)
    a = np.array([1.0, 2.0, 3.0])
    for result, expected in [
        (a + x, a + x.data), (a * x, a * x.data), (a - x, a - x.data), (a / x, a / x.data),
        (np.exp(x), np.exp(x.data)), (np.tanh(x), np.tanh(x.data)), (np.abs(x), np.abs(x.data)),
        (np.where(x.data > 0, x, 0.0), np.where(x.data > 0, x.data, 0.0)),
        (np.sum(x * x, axis=0, keepdims=True), np.sum(x.data**2, axis=0, keepdims=True)),
        (np.broadcast_to(x, (2, 3)), np.broadcast_to(x.data, (2, 3))),
        (np.concatenate([x, a]), np.concatenate([x.data, a])),
    ]:
        assert isinstance(result, ms.Tensor) and result.requires_grad
        np.testing.assert_array_equal(result.data, expected)
    assert isinstance(a < x, ms.Tensor)
    np.testing.assert_array_equal((a < x).data, a < x.data)
    assert np.shape(x) == (3,) and np.ndim(x) == 1 and np.size(x) == 3


def test_numpy_ops_microseq_does_not_have_raise_type_error():
    x = leaf(0.5, 1.0)
    with pytest.raises(TypeError):
        np.add.at(x, [0], 1.0)
    with pytest.raises(TypeError):
        np.fft.fft(x)
    with pytest.raises(TypeError):
        np.add(x, x, out=np.empty(2))
