"""Higher-order gradients: ``backward(create_graph=True)`` and ``microseq.autograd.grad`` record the backward
pass, so that gradients can be differentiated again; without ``create_graph`` nothing changes.

Every primitive's second derivative is checked against finite differences of its first derivative, with random
upstream gradients at both levels (:func:`assert_second_derivatives`, a local check until ``ms.gradgradcheck``
lands)."""

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
import microseq.nn as nn
import microseq.nn.functional as F
from microseq import optim
from microseq.seq2seq.attention import masked_softmax
from microseq.testing import arrays, axes, broadcastable_shapes, shapes

from .test_elementwise import CASES, IDS, case_inputs
from .test_losses import IGNORE, broadcasting_to, classification
from .test_reductions import REDUCTIONS, SOFTMAXES


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


# -- second derivatives of every primitive against finite differences ----------------------------------------
def assert_second_derivatives(fn, *arrays, eps=1e-6, atol=1e-6, rtol=1e-4, seed=0):
    """Check the second-order products of ``fn`` at ``arrays`` (float64) against finite differences.

    With random ``v`` (upstream of ``fn``'s output) and ``u_i`` (one per input), let
    ``S(x, v) = sum_i <u_i, d<v, fn(x)>/dx_i>``. Its gradient through ``create_graph`` must equal
    - along a random direction ``w`` of the inputs: the central difference of ``S``, where ``S`` is computed
      with plain first-order gradients only (so create_graph is checked against the first-order engine);
    - with respect to ``v`` (an upstream gradient that is a Tensor with history): ``J u``, the central
      difference of ``fn`` along ``u``.
    """
    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    xs = [ms.Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*xs)
    v = np.asarray(rng.standard_normal(out.shape))  # (an array also for shape (): numbers would become float32)
    us = [np.asarray(rng.standard_normal(a.shape)) for a in arrays]
    ws = [np.asarray(rng.standard_normal(a.shape)) for a in arrays]

    def first_order_s(step: float) -> float:
        ts = [ms.Tensor(np.asarray(a + step * w), requires_grad=True) for a, w in zip(arrays, ws)]
        gs = ms.autograd.grad(fn(*ts), ts, grad_outputs=v)
        assert all(type(g.data) is np.ndarray and g._node is None for g in gs)  # nothing was recorded
        return sum(float(np.sum(g.data * u)) for g, u in zip(gs, us))

    def along_u(step: float) -> np.ndarray:
        return fn(*[ms.Tensor(np.asarray(a + step * u)) for a, u in zip(arrays, us)]).data

    vt = ms.Tensor(v.copy(), requires_grad=True)
    gs = ms.autograd.grad(out, xs, grad_outputs=vt, create_graph=True)
    for g, a in zip(gs, arrays):
        assert g.shape == a.shape and g.dtype == np.float64
    s = sum(((g * u).sum() for g, u in zip(gs, us)), ms.Tensor(np.float64(0.0)))
    *hessian_u, j_u = ms.autograd.grad(s, [*xs, vt]) if s.requires_grad else [ms.zeros(t.shape) for t in [*xs, vt]]

    analytic = sum(float(np.sum(h.data * w)) for h, w in zip(hessian_u, ws))
    numeric = (first_order_s(eps) - first_order_s(-eps)) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, atol=atol, rtol=rtol, err_msg="second derivative, along w")
    numeric_j_u = (along_u(eps) - along_u(-eps)) / (2 * eps)
    np.testing.assert_allclose(j_u.data, numeric_j_u, atol=atol, rtol=rtol, err_msg="d/d(upstream gradient)")


def squared(op):
    """``op(x) * op(x)``: a linear op's second derivative is 0; squaring its output runs its rule, and the
    rule of its rule, with Tensors."""
    return lambda *xs: op(*xs) * op(*xs)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_elementwise_second_derivatives(case, data):
    inputs = data.draw(case_inputs(case))
    if case.name == "pow":  # at exponent 0, dy/da is 0 by PyTorch's convention (a where), not differentiated in b:
        inputs[1] = np.where(inputs[1] == 0, 0.5, inputs[1])  # pinned against PyTorch below
    assert_second_derivatives(case.op, *inputs)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # logsumexp of an empty axis: -inf
@given(data=st.data(), keepdims=st.booleans())
def test_reduction_second_derivatives(name, data, keepdims):
    op = REDUCTIONS[name][0]
    extremum = name in ("max", "min")
    shape = data.draw(shapes(max_dims=3, max_side=3, min_side=1 if extremum else 0))
    x = data.draw(arrays(shape, distinct=extremum))
    axis = data.draw(axes(shape))
    assert_second_derivatives(squared(lambda x: op(x, axis=axis, keepdims=keepdims)), x)


@pytest.mark.parametrize("name", SOFTMAXES)
@given(data=st.data())
def test_softmax_family_second_derivatives(name, data):
    op = SOFTMAXES[name][0]
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert_second_derivatives(lambda x: op(x, axis=axis), data.draw(arrays(shape)))


@given(data=st.data())
def test_matmul_second_derivatives(data):
    a_shape, b_shape = data.draw(broadcastable_shapes(2, signature=np.matmul.signature, max_dims=2, max_side=3)).input_shapes
    assert_second_derivatives(squared(ms.matmul), data.draw(arrays(a_shape)), data.draw(arrays(b_shape)))


SHAPE_OPS = {
    "reshape": lambda x: x.reshape(-1),
    "transpose": lambda x: x.transpose(),
    "swapaxes": lambda x: x.swapaxes(0, -1),
    "moveaxis": lambda x: ms.ops.shape.moveaxis(x, 0, -1),
    "unsqueeze_squeeze": lambda x: ms.squeeze(ms.unsqueeze(x, 1), 1),
    "broadcast_to": lambda x: ms.ops.shape.broadcast_to(x, (2, *x.shape)),
    "getitem_basic": lambda x: x[1:, ::2],
    "getitem_repeated_ints": lambda x: x[[0, 0, 1], (1, 1, 0)],
    "getitem_mask": lambda x: x[np.arange(x.size).reshape(x.shape) % 3 == 0],
    "getitem_mixed": lambda x: x[0, :, [0, 0]],
    "index_put": lambda x: ms.ops.shape.index_put(x, (slice(None), [1, 1]), (x.shape[0], 3, x.shape[2])),
    "concatenate": lambda x: ms.concatenate([x, x * x], axis=1),
    "stack": lambda x: ms.stack([x, x * x], axis=-1),
    "split": lambda x: ms.split(x, 1, axis=1)[-1],
    "chunk": lambda x: ms.chunk(x, 2, axis=0)[0],
}


@pytest.mark.parametrize("name", SHAPE_OPS)
@given(x=arrays(st.tuples(st.integers(2, 3), st.integers(2, 3), st.integers(2, 3))))
def test_shape_op_second_derivatives(name, x):
    if name == "index_put":
        x = x[:, :2]
    assert_second_derivatives(squared(SHAPE_OPS[name]), x)


@given(classification())
def test_cross_entropy_and_nll_second_derivatives(case):
    scores, target, weight, reduction = case
    options = dict(weight=weight, ignore_index=IGNORE, reduction=reduction)
    assert_second_derivatives(lambda x: ms.cross_entropy(x, target, **options), scores)
    assert_second_derivatives(squared(lambda x: ms.nll_loss(x, target, **options)), scores)


@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_mse_and_binary_cross_entropy_second_derivatives(data, reduction):
    shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=3, min_side=1))
    z, y, t = data.draw(arrays(shape)), data.draw(arrays(shape)), data.draw(arrays(shape, domain="unit"))
    options = dict(weight=data.draw(broadcasting_to(shape)), pos_weight=data.draw(broadcasting_to(shape)))
    assert_second_derivatives(lambda a, b: ms.mse_loss(a, b, reduction=reduction), z, y)
    assert_second_derivatives(lambda a: ms.binary_cross_entropy_with_logits(a, t, reduction=reduction, **options), z)


@given(x=arrays(shapes(min_dims=1, max_dims=2, max_side=3)), p=st.sampled_from([0.0, 0.5, 1.0]))
def test_dropout_second_derivatives(x, p):
    assert_second_derivatives(squared(lambda x: ms.dropout(x, p, generator=np.random.default_rng(0))), x)


def test_composed_ops_second_derivatives():
    rng = np.random.default_rng(1)
    table, index = rng.standard_normal((4, 3)), np.array([[0, 3, 3], [1, 0, 2]])
    assert_second_derivatives(squared(lambda w: F.embedding(index, w)), table)  # (padding_idx: a frozen row,
    w = ms.Tensor(table, requires_grad=True)  # so no finite difference to match) the padding row gets nothing:
    (g,) = ms.autograd.grad((F.embedding(index, w, padding_idx=3) ** 2).sum(), w, create_graph=True)
    (h,) = ms.autograd.grad((g * g).sum(), w)
    np.testing.assert_array_equal(g.data[3], 0.0)
    np.testing.assert_array_equal(h.data[3], 0.0)
    np.testing.assert_allclose(h.data[:3], 8 * np.array([2, 1, 1])[:, None] ** 2 * table[:3], rtol=1e-13)
    mask = np.array([[True, False, True], [False, False, False]])  # a fully masked row included
    assert_second_derivatives(lambda s: masked_softmax(s, mask, axis=-1), rng.standard_normal((2, 3)))


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_recurrent_cells_second_derivatives(cell):
    """Composed of primitives, a cell has second derivatives for free (input and state, weights fixed)."""
    rng = np.random.default_rng(4)
    layer = getattr(nn, cell)(3, 4, dtype=np.float64)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    if cell == "LSTMCell":
        c = rng.standard_normal((2, 4))
        assert_second_derivatives(lambda x, h, c: ms.concatenate(layer(x, (h, c)), axis=1), x, h, c)
    else:
        assert_second_derivatives(layer, x, h)


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
def test_an_attention_step_has_second_derivatives(kind):
    from microseq.seq2seq.attention import AdditiveAttention, LuongAttention

    rng = np.random.default_rng(5)
    attention = AdditiveAttention(4, 4, 3, dtype=np.float64) if kind == "additive" else LuongAttention(4, 4, kind, dtype=np.float64)
    query, keys = rng.standard_normal((2, 4)), rng.standard_normal((2, 3, 4))
    mask = np.array([[True, True, False], [True, True, True]])
    assert_second_derivatives(lambda q, k: attention(q, k, mask)[0], query, keys)


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


# -- closed forms ------------------------------------------------------------------------------------------
def test_closed_form_second_derivatives_of_tanh_sigmoid_and_cube():
    x = leaf(-3.0, -0.5, 0.0, 0.7, 4.0)
    t, s = np.tanh(x.data), 1 / (1 + np.exp(-x.data))
    for op, expected in [
        (ms.tanh, -2 * t * (1 - t**2)),
        (ms.sigmoid, s * (1 - s) * (1 - 2 * s)),
        (lambda v: v**3, 6 * x.data),
        (lambda v: v * v * v, 6 * x.data),
    ]:
        x.grad = None
        _, second = second_derivative(op, x)
        np.testing.assert_allclose(second, expected, rtol=1e-12, atol=1e-15)


def test_hessian_of_a_quadratic_form_is_the_symmetric_part_of_its_matrix():
    rng = np.random.default_rng(2)
    a, x = rng.standard_normal((3, 3)), leaf(*rng.standard_normal(3))
    (g,) = ms.autograd.grad(0.5 * (x @ (ms.Tensor(a) @ x)), x, create_graph=True)
    rows = [ms.autograd.grad(g[i], x, retain_graph=True)[0].data for i in range(3)]
    np.testing.assert_allclose(np.stack(rows), (a + a.T) / 2, rtol=1e-13)


def test_a_gradient_penalty_trains():
    """Minimise (f(x) - target)^2 + |df/dx|^2 for f(x) = w . tanh(x) over w: the penalty's gradient flows
    through the input gradient (create_graph) and the loss goes down."""
    rng = np.random.default_rng(3)
    w = ms.Tensor(rng.standard_normal(4), requires_grad=True)
    x = ms.Tensor(rng.standard_normal(4), requires_grad=True)

    def loss():
        f = (w * ms.tanh(x)).sum()
        (dfdx,) = ms.autograd.grad(f, x, create_graph=True)
        return (f - 1.0) ** 2 + (dfdx * dfdx).sum()

    first = loss().item()
    for _ in range(100):
        w.grad = None
        loss().backward()
        with ms.no_grad():
            w.data -= 0.05 * w.grad
    assert loss().item() < 0.5 * first


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
