"""Higher-order gradients: ``backward(create_graph=True)`` and ``microseq.autograd.grad`` record the backward
pass, so that gradients can be differentiated again; without ``create_graph`` nothing changes.

This file holds the engine's own promises (what is recorded, returned, retained and freed), closed forms through
``backward(create_graph=True)`` and second derivatives at special points. Every primitive's second derivative
against finite differences of its first derivative is in tests/ops/test_second_derivatives.py; Hessians and a gradient penalty
through the functional transforms are in test_func.py."""

import gc
import weakref

import numpy as np
import pytest

import microseq as ms
import microseq.nn as nn
from microseq import optim


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


def test_grad_of_several_outputs_adds_their_products_and_handles_repeats_and_leaves():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    v = np.array([10.0, 20.0])
    gx, gw, gx_again = ms.autograd.grad([(x * w).sum(), x * x, w], [x, w, x], grad_outputs=[None, v, v])
    np.testing.assert_array_equal(gx.data, w.data + 2 * x.data * v)
    np.testing.assert_array_equal(gw.data, x.data + v)  # w itself is an output: its upstream comes straight in
    np.testing.assert_array_equal(gx_again.data, gx.data)
    assert not np.shares_memory(gx.data, gx_again.data) and not np.shares_memory(gw.data, v)
    with pytest.raises(ValueError, match="grad: 1 grad_outputs for 2 outputs"):
        ms.autograd.grad([x.sum(), w.sum()], x, grad_outputs=[None])


def test_grad_of_an_output_without_history_is_zeros_or_an_error_when_not_allowed():
    x = leaf(1.0, 2.0)
    constant = ms.tensor(3.0, dtype=np.float64)
    np.testing.assert_array_equal(ms.autograd.grad(constant, x)[0].data, [0.0, 0.0])
    with pytest.raises(RuntimeError, match="grad: output 0 does not require grad"):
        ms.autograd.grad(constant, x, allow_unused=False)


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


# -- special points, written out ---------------------------------------------------------------------------
def test_second_derivatives_at_kinks_follow_the_first_derivative_convention():
    x = leaf(-1.0, 0.0, 2.0)
    for op in (ms.relu, ms.abs, lambda t: ms.clip(t, 0.0, 1.0), ms.sign):
        (g,) = ms.autograd.grad((op(x) * 3.0).sum(), x, create_graph=True)
        (h,) = ms.autograd.grad(g.sum(), x)  # piecewise linear: 0 everywhere, the kink included
        np.testing.assert_array_equal(h.data, [0.0, 0.0, 0.0])
    (g,) = ms.autograd.grad(ms.sign(x).sum(), x)
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 0.0])


def test_max_with_ties_has_a_linear_gradient_so_a_zero_second_derivative():
    x = leaf(1.0, 3.0, 3.0)
    (g,) = ms.autograd.grad(ms.max(x) * ms.max(x), x, create_graph=True)
    np.testing.assert_allclose(g.data, [0.0, 3.0, 3.0])  # 2 max * (shared equally)
    (h,) = ms.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, [0.0, 1.0, 1.0])  # d/dx of 2 max(x): the tie shares it again


def test_pow_second_derivatives_at_base_zero_follow_pytorch():
    torch = pytest.importorskip("torch")
    base, exponent = np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.0, 0.0])
    a, b = ms.Tensor(base.copy(), requires_grad=True), ms.Tensor(exponent.copy(), requires_grad=True)
    ta, tb = torch.tensor(base, requires_grad=True), torch.tensor(exponent, requires_grad=True)
    ga, gb = ms.autograd.grad((a**b).sum(), (a, b), create_graph=True)
    tga, tgb = torch.autograd.grad((ta**tb).sum(), (ta, tb), create_graph=True)
    np.testing.assert_array_equal(ga.data, tga.detach().numpy())
    np.testing.assert_array_equal(gb.data, tgb.detach().numpy())
    h = ms.autograd.grad((ga * ga).sum(), (a, b))
    th = torch.autograd.grad((tga * tga).sum(), (ta, tb))
    for mine, theirs in zip(h, th):
        np.testing.assert_array_equal(mine.data, theirs.numpy())


# -- the engine's promises ---------------------------------------------------------------------------------
def test_a_fused_recurrent_node_refuses_double_backward_and_says_to_use_fused_false():
    x = ms.Tensor(np.random.default_rng(0).standard_normal((3, 2, 4)).astype(np.float32), requires_grad=True)
    for layer in (nn.RNN(4, 5), nn.LSTM(4, 5), nn.GRU(4, 5)):
        out = layer(x)[0]
        with pytest.raises(RuntimeError, match="no second derivative; build the layer with fused=False"):
            ms.autograd.grad((out * out).sum(), x, create_graph=True)
        layer.fused = False
        out = layer(x)[0]
        (g,) = ms.autograd.grad((out * out).sum(), x, create_graph=True)
        assert ms.autograd.grad(g.sum(), x)[0].shape == x.shape


def test_saved_values_are_freed_after_a_backward_without_retain_graph():
    x = leaf(0.5, 1.0, 2.0)
    h = ms.tanh(x)
    saved = weakref.ref(h.data)
    out = (h * h).sum()
    nodes = list(ms.tape_of(out))
    del h
    out.backward()
    gc.collect()
    assert all(node.saved is None and node.inputs is None for node in nodes)
    assert saved() is None

    # create_graph keeps the graph (retain_graph defaults to it); the second, plain backward frees it all
    h = ms.tanh(x)
    saved = weakref.ref(h.data)
    out = (h * h).sum()
    del h
    (g,) = ms.autograd.grad(out, x, create_graph=True)
    assert saved() is not None
    nodes = list(ms.tape_of(g))
    ms.autograd.grad(g.sum(), x)
    del out, g
    gc.collect()
    assert all(node.saved is None for node in nodes)
    assert saved() is None


def test_an_optimizer_steps_on_the_values_of_a_gradient_that_has_history():
    w = leaf(1.0, -2.0)
    (w * w * w).sum().backward(create_graph=True)  # .grad = 3 w^2, a Tensor
    optim.SGD([w], lr=0.1).step()
    np.testing.assert_allclose(w.data, [1.0 - 0.3, -2.0 - 1.2])
