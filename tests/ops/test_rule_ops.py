"""The small ops that backward rules use so that they stay differentiable (each with its own rule): sign,
broadcast_to, moveaxis, expand_dims, index_put (the gradient of getitem), and & | ~ of boolean masks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.ops.shape import broadcast_to, expand_dims, index_put, moveaxis
from microseq.testing import arrays, broadcastable_shapes, check_gradients, shapes


# -- sign ------------------------------------------------------------------------------------------------
@given(x=arrays(shapes(max_dims=3, max_side=4), avoid=(0.0,)))
def test_sign_values_and_zero_gradient(x):
    np.testing.assert_array_equal(ms.sign(ms.Tensor(x)).data, np.sign(x))
    check_gradients(ms.sign, x)


def test_sign_at_its_special_points_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.array([-np.inf, -1.5, -0.0, 0.0, 2.0, np.inf, np.nan])
    t = ms.Tensor(x.copy(), requires_grad=True)
    out = ms.sign(t)
    out.backward(np.ones(x.shape))
    tt = torch.tensor(x, requires_grad=True)
    expected = torch.sign(tt)
    expected.backward(torch.ones(x.shape, dtype=torch.float64))
    np.testing.assert_array_equal(out.data, expected.detach().numpy())  # sign(0) and sign(NaN) are 0
    np.testing.assert_array_equal(t.grad, tt.grad.numpy())  # zeros, at 0 too
    assert out.dtype == np.float64 and ms.sign(ms.tensor([-2, 0, 3])).dtype == np.int64


def test_abs_gradient_is_the_sign_with_pytorchs_zero_at_0_and_nan():
    torch = pytest.importorskip("torch")
    x = np.array([-np.inf, -1.5, -0.0, 0.0, 2.0, np.inf, np.nan])
    t, tt = ms.Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    ms.abs(t).sum().backward()
    tt.abs().sum().backward()
    np.testing.assert_array_equal(t.grad, tt.grad.numpy())


# -- broadcast_to ----------------------------------------------------------------------------------------
@given(data=st.data())
def test_broadcast_to_values_and_gradient(data):
    shapes_, result = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    x = data.draw(arrays(shapes_[0]))
    out = broadcast_to(ms.Tensor(x), result)
    np.testing.assert_array_equal(out.data, np.broadcast_to(x, result))
    check_gradients(lambda t: broadcast_to(t, result), x)


def test_broadcast_to_matches_pytorch_and_rejects_a_shape_it_cannot_reach():
    torch = pytest.importorskip("torch")
    x = np.arange(3.0).reshape(3, 1)
    t, tt = ms.Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    g = np.arange(24.0).reshape(2, 3, 4)
    broadcast_to(t, (2, 3, 4)).backward(g)
    torch.broadcast_to(tt, (2, 3, 4)).backward(torch.tensor(g))
    np.testing.assert_array_equal(t.grad, tt.grad.numpy())
    with pytest.raises(ValueError, match=r"broadcast_to: a tensor of shape \(3, 1\) does not broadcast to \(2, 4\)"):
        broadcast_to(t, (2, 4))


# -- moveaxis, expand_dims -------------------------------------------------------------------------------
@given(data=st.data())
def test_moveaxis_values_and_gradient(data):
    shape = data.draw(shapes(min_dims=1, max_dims=4, max_side=3))
    ndim = len(shape)
    source = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim, unique_by=lambda i: i % ndim))
    destination = data.draw(
        st.lists(st.integers(-ndim, ndim - 1), min_size=len(source), max_size=len(source), unique_by=lambda i: i % ndim)
    )
    x = data.draw(arrays(shape))
    np.testing.assert_array_equal(moveaxis(ms.Tensor(x), source, destination).data, np.moveaxis(x, source, destination))
    check_gradients(lambda t: moveaxis(t, source, destination), x)


def test_moveaxis_matches_torch_movedim_and_checks_its_axes():
    torch = pytest.importorskip("torch")
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(moveaxis(ms.Tensor(x), (0, -1), (2, 0)).data, torch.movedim(torch.tensor(x), (0, -1), (2, 0)).numpy())
    with pytest.raises(IndexError, match="moveaxis: axis 3 is out of range"):
        moveaxis(ms.Tensor(x), 3, 0)
    with pytest.raises(ValueError, match="moveaxis: 2 source axes but 1 destinations"):
        moveaxis(ms.Tensor(x), (0, 1), 0)


@given(x=arrays(shapes(max_dims=3, max_side=3)), data=st.data())
def test_expand_dims_values_and_gradient(x, data):
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim) | st.just((0, -1)))
    np.testing.assert_array_equal(expand_dims(ms.Tensor(x), axis).data, np.expand_dims(x, axis))
    check_gradients(lambda t: expand_dims(t, axis), x)
    with pytest.raises(ValueError, match="expand_dims: .*out of bounds"):
        expand_dims(ms.Tensor(x), x.ndim + 2)


# -- index_put: the gradient of getitem ------------------------------------------------------------------
INDEXES = [(slice(None), [1, 1, 0]), [2, 2], (0, slice(None), [3, 3]), (Ellipsis, 1), np.array([True, False, True])]


@pytest.mark.parametrize("index", INDEXES, ids=range(len(INDEXES)))
@given(data=st.data())
def test_index_put_adds_values_where_getitem_reads_them(index, data):
    shape = (3, 2, 4)
    read_shape = ms.Tensor(np.zeros(shape))[index].shape
    values = data.draw(arrays(read_shape))
    positions = np.arange(np.prod(shape)).reshape(shape)
    expected = np.zeros(np.prod(shape))
    np.add.at(expected, ms.Tensor(positions)[index].data.reshape(-1), values.reshape(-1))
    plain = index_put(values, index, shape)  # arrays in, an array out: what a first-order rule gets
    assert type(plain) is np.ndarray
    np.testing.assert_array_equal(plain, expected.reshape(shape))
    np.testing.assert_array_equal(index_put(ms.Tensor(values), index, shape).data, plain)
    check_gradients(lambda v: index_put(v, index, shape), values)


# -- boolean masks -----------------------------------------------------------------------------------------
@given(a=arrays(shapes(max_dims=2, max_side=3).map(lambda s: s), dtype=bool), data=st.data())
def test_and_or_not_of_masks_and_integers_are_numpys(a, data):
    b = data.draw(arrays(a.shape, dtype=bool))
    ta, tb = ms.Tensor(a), ms.Tensor(b)
    for result, expected in [(ta & tb, a & b), (ta | tb, a | b), (~ta, ~a), (a & tb, a & b), (a | tb, a | b)]:
        assert isinstance(result, ms.Tensor) and not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)
    i, j = np.array([6, 3, -1]), np.array([3, 5, 2])
    np.testing.assert_array_equal((ms.Tensor(i) & ms.Tensor(j)).data, i & j)
    np.testing.assert_array_equal((~ms.Tensor(i)).data, ~i)
