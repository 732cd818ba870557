"""Indexing along a dim (gather, scatter, scatter_add, index_select, index_add, take_along_dim), sorting
(sort, argsort, topk) and one_hot: forward against NumPy, gradient against finite differences, parity with
PyTorch; repeated indices, ties, empty axes and bad indices."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.testing import arrays, axes, check_against_torch, check_gradients, check_second_derivatives, shapes


@st.composite
def gather_inputs(draw, distinct_positions=False):
    """(x, dim, index): index has x's number of dims, is no larger outside ``dim`` and holds valid positions
    (with repeats, unless ``distinct_positions``: then no position is written twice, as scatter needs)."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    dim = draw(axes(shape, allow_none=False, allow_tuple=False))
    n = shape[dim]
    index_shape = tuple(
        draw(st.integers(0, n if distinct_positions else 4)) if d == dim % len(shape) else draw(st.integers(0, s))
        for d, s in enumerate(shape)
    )
    if n == 0:
        index_shape = tuple(0 if d == dim % len(shape) else s for d, s in enumerate(index_shape))
    if distinct_positions:
        keys = draw(arrays(tuple(n if d == dim % len(shape) else s for d, s in enumerate(index_shape)), distinct=True))
        index = np.take(np.argsort(keys, axis=dim), np.arange(index_shape[dim]), axis=dim)
    else:
        index = draw(arrays(index_shape, np.int64, domain=(0, max(n - 1, 0))))
    return draw(arrays(shape)), dim, index.astype(np.int64)


def _positions(index, dim):
    """The reference addressing of scatter: ``index`` on axis ``dim``, each other axis its own position."""
    where = list(np.indices(index.shape, sparse=True))
    where[dim % index.ndim] = index
    return tuple(where)


def _crop(x, index, dim):
    """``x`` cut to ``index``'s shape outside ``dim`` (what gather reads)."""
    return x[tuple(slice(None) if d == dim % x.ndim else slice(0, n) for d, n in enumerate(index.shape))]


@given(inputs=gather_inputs())
def test_gather(inputs):
    x, dim, index = inputs
    np.testing.assert_array_equal(ms.gather(x, dim, index).data, np.take_along_axis(_crop(x, index, dim), index, dim))
    check_gradients(lambda x: ms.gather(x, dim, index), x)


@given(inputs=gather_inputs(), data=st.data())
def test_scatter_add(inputs, data):
    x, dim, index = inputs
    src = data.draw(arrays(tuple(n + data.draw(st.integers(0, 1)) for n in index.shape)))  # src may be larger
    expected = x.copy()
    used = src[tuple(slice(0, n) for n in index.shape)]
    np.add.at(expected, _positions(index, dim), used)
    np.testing.assert_allclose(ms.scatter_add(x, dim, index, src).data, expected, rtol=1e-14)
    check_gradients(lambda x, src: x.scatter_add(dim, index, src), x, src)


@given(inputs=gather_inputs(distinct_positions=True), data=st.data())
def test_scatter(inputs, data):
    x, dim, index = inputs
    src = data.draw(arrays(index.shape))
    expected = x.copy()
    expected[_positions(index, dim)] = src
    np.testing.assert_array_equal(ms.scatter(x, dim, index, src).data, expected)
    check_gradients(lambda x, src: ms.scatter(x, dim, index, src), x, src)
    check_gradients(lambda x: x.scatter(dim, index, value=-2.0), x)


@given(inputs=gather_inputs(), data=st.data())
def test_gather_scatter_family_matches_pytorch(inputs, data):
    torch = pytest.importorskip("torch")
    x, dim, index = inputs
    ti = torch.from_numpy(index)
    src = data.draw(arrays(index.shape))
    check_against_torch(lambda x: ms.gather(x, dim, index), lambda x: torch.gather(x, dim, ti), x)
    check_against_torch(lambda x, s: ms.scatter_add(x, dim, index, s), lambda x, s: x.scatter_add(dim, ti, s), x, src)


@given(inputs=gather_inputs(distinct_positions=True), data=st.data())
def test_scatter_matches_pytorch(inputs, data):
    torch = pytest.importorskip("torch")
    x, dim, index = inputs
    ti = torch.from_numpy(index)
    src = data.draw(arrays(index.shape))
    check_against_torch(lambda x, s: ms.scatter(x, dim, index, s), lambda x, s: x.scatter(dim, ti, s), x, src)
    check_against_torch(lambda x: ms.scatter(x, dim, index, value=1.5), lambda x: x.scatter(dim, ti, 1.5), x)


@st.composite
def select_inputs(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    dim = draw(axes(shape, allow_none=False, allow_tuple=False))
    n = shape[dim]
    index = np.array(draw(st.lists(st.integers(0, n - 1), max_size=5)) if n else [], dtype=np.int64)
    return draw(arrays(shape)), dim, index


@given(inputs=select_inputs(), data=st.data())
def test_index_select_and_index_add(inputs, data):
    x, dim, index = inputs
    np.testing.assert_array_equal(ms.index_select(x, dim, index).data, np.take(x, index, axis=dim))
    check_gradients(lambda x: x.index_select(dim, index), x)
    source_shape = tuple(len(index) if d == dim % x.ndim else n for d, n in enumerate(x.shape))
    source = data.draw(arrays(source_shape))
    expected = x.copy()
    np.add.at(expected, (slice(None),) * (dim % x.ndim) + (index,), 2.5 * source)
    np.testing.assert_allclose(ms.index_add(x, dim, index, source, alpha=2.5).data, expected, rtol=1e-14)
    check_gradients(lambda x, s: x.index_add(dim, index, s, alpha=2.5), x, source)
    torch = pytest.importorskip("torch")
    ti = torch.from_numpy(index)
    check_against_torch(lambda x: ms.index_select(x, dim, index), lambda x: x.index_select(dim, ti), x)
    check_against_torch(lambda x, s: ms.index_add(x, dim, index, s, 2.5), lambda x, s: x.index_add(dim, ti, s, alpha=2.5), x, source)


@given(data=st.data())
def test_take_along_dim_broadcasts(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    dim = data.draw(axes(shape, allow_tuple=False))
    x = data.draw(arrays(shape))
    if dim is None:
        indices = data.draw(arrays((data.draw(st.integers(0, 4)),), np.int64, domain=(0, x.size - 1)))
        expected = np.take_along_axis(x.reshape(-1), indices, 0)
    else:
        index_shape = tuple(data.draw(st.integers(0, 4)) if d == dim % x.ndim else data.draw(st.sampled_from([1, n])) for d, n in enumerate(shape))
        indices = data.draw(arrays(index_shape, np.int64, domain=(0, shape[dim] - 1)))
        expected = np.take_along_axis(x, indices, dim)
    np.testing.assert_array_equal(ms.take_along_dim(x, indices, dim).data, expected)
    check_gradients(lambda x: x.take_along_dim(indices, dim), x)
    torch = pytest.importorskip("torch")
    check_against_torch(lambda x: ms.take_along_dim(x, indices, dim), lambda x: torch.take_along_dim(x, torch.from_numpy(indices), dim), x)


# -- sorting --------------------------------------------------------------------------------------------
@given(data=st.data(), descending=st.booleans())
def test_sort_and_argsort(data, descending):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    dim = data.draw(axes(shape, allow_none=False, allow_tuple=False))
    x = data.draw(arrays(shape, distinct=True))
    values, indices = ms.sort(x, dim, descending)
    expected = np.sort(x, axis=dim)
    np.testing.assert_array_equal(values.data, np.flip(expected, dim) if descending else expected)
    np.testing.assert_array_equal(np.take_along_axis(x, indices.data, dim), values.data)
    np.testing.assert_array_equal(ms.argsort(x, dim, descending).data, indices.data)
    check_gradients(lambda x: x.sort(dim, descending).values, x)
    torch = pytest.importorskip("torch")
    check_against_torch(lambda x: ms.sort(x, dim, descending), lambda x: torch.sort(x, dim, descending), x)


@given(data=st.data(), largest=st.booleans())
def test_topk(data, largest):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    dim = data.draw(axes(shape, allow_none=False, allow_tuple=False))
    k = data.draw(st.integers(0, shape[dim]))
    x = data.draw(arrays(shape, distinct=True))
    check_gradients(lambda x: x.topk(k, dim, largest).values, x)
    torch = pytest.importorskip("torch")
    check_against_torch(lambda x: ms.topk(x, k, dim, largest), lambda x: torch.topk(x, k, dim, largest), x)


def test_ties_in_sort_and_topk_keep_input_order_like_stable_pytorch():
    torch = pytest.importorskip("torch")
    x = np.array([[2.0, 1.0, 2.0, 1.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    for descending in (False, True):
        check_against_torch(lambda x: ms.sort(x, -1, descending), lambda x: torch.sort(x, dim=-1, descending=descending, stable=True), x)
    values, indices = ms.topk(x, 3)
    np.testing.assert_array_equal(indices.data, [[4, 0, 2], [0, 1, 2]])
    t = ms.Tensor(x, requires_grad=True)
    ms.sort(t, descending=True).values.backward(np.arange(10.0).reshape(2, 5))
    np.testing.assert_array_equal(t.grad, [[1, 3, 2, 4, 0], [5, 6, 7, 8, 9]])  # each element: its sorted slot's


def test_sort_puts_nan_last_ascending_and_first_descending():
    torch = pytest.importorskip("torch")
    x = np.array([1.0, np.nan, -2.0, np.inf])
    for descending in (False, True):
        check_against_torch(lambda x: ms.sort(x, descending=descending), lambda x: torch.sort(x, descending=descending, stable=True), x)


def test_empty_axes():
    x = ms.Tensor(np.zeros((2, 0)), requires_grad=True)
    assert ms.sort(x, 1).values.shape == (2, 0)
    assert ms.topk(x, 0).values.shape == (2, 0)
    assert ms.gather(x, 1, np.zeros((2, 0), np.int64)).shape == (2, 0)
    assert ms.index_select(x, 1, np.array([], np.int64)).shape == (2, 0)




# -- second order ---------------------------------------------------------------------------------------
@given(inputs=gather_inputs(), data=st.data())
def test_second_derivatives_through_the_gather_scatter_pairs(inputs, data):
    """gather's rule is a scatter_add and scatter_add's a gather (index_select / index_add likewise): each
    rule records the other op, so the backward pass is differentiable (here inside a nonlinear function)."""
    x, dim, index = inputs
    src = data.draw(arrays(index.shape))
    check_second_derivatives(lambda x: ms.tanh(ms.gather(x, dim, index)) * ms.gather(x, dim, index), x)
    check_second_derivatives(lambda x, s: ms.scatter_add(x, dim, index, s) ** 2, x, src)
    vector = np.ravel(index)[:3] % max(x.shape[dim], 1) if x.shape[dim] else np.array([], np.int64)
    check_second_derivatives(lambda x: ms.index_select(x, dim, vector) ** 3, x)


@given(inputs=gather_inputs(distinct_positions=True), data=st.data())
def test_second_derivatives_of_scatter_index_add_and_take_along_dim(inputs, data):
    x, dim, index = inputs
    src = data.draw(arrays(index.shape))
    check_second_derivatives(lambda x, s: ms.scatter(x, dim, index, s) ** 2, x, src)
    vector = np.arange(x.shape[dim])[::-1].copy()
    source = data.draw(arrays(x.shape))
    check_second_derivatives(lambda x, s: x.index_add(dim, vector, s, alpha=0.5) ** 3, x, source)
    order = np.argsort(x, axis=dim)
    check_second_derivatives(lambda x: ms.take_along_dim(x, order, dim) ** 2, x)


@given(data=st.data())
def test_second_derivatives_of_sort_and_topk(data):
    shape = data.draw(shapes(min_dims=1, max_dims=2, min_side=1, max_side=4))
    x = data.draw(arrays(shape, distinct=True))
    check_second_derivatives(lambda x: x.sort(-1).values ** 2, x)
    check_second_derivatives(lambda x: ms.exp(x.topk(1, 0).values), x)
# -- one_hot --------------------------------------------------------------------------------------------
@given(data=st.data())
def test_one_hot_matches_pytorch(data):
    torch = pytest.importorskip("torch")
    shape = data.draw(shapes(max_dims=3, max_side=4))
    classes = data.draw(st.integers(1, 5))
    index = data.draw(arrays(shape, np.int64, domain=(0, classes - 1)))
    from microseq.nn import functional as F

    got, want = F.one_hot(index, classes), torch.nn.functional.one_hot(torch.from_numpy(index), classes).numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.data, want)
    if index.size:
        np.testing.assert_array_equal(ms.one_hot(index).data, torch.nn.functional.one_hot(torch.from_numpy(index)).numpy())


# -- bad input ------------------------------------------------------------------------------------------
def test_bad_indices_say_what_is_wrong():
    x = ms.Tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="gather: index 3 is out of bounds for dimension 1 with size 3"):
        ms.gather(x, 1, np.array([[3]]))
    with pytest.raises(IndexError, match="gather: index -1 is out of bounds"):
        ms.gather(x, 1, np.array([[-1]]))
    with pytest.raises(ValueError, match="gather: index of shape .3, 1. must have 2 dimensions and be no larger"):
        ms.gather(x, 1, np.zeros((3, 1), np.int64))
    with pytest.raises(TypeError, match="gather: index must be an integer tensor, got dtype float64"):
        ms.gather(x, 1, np.zeros((1, 1)))
    with pytest.raises(ValueError, match="scatter_add: src of shape .1,. must have 2 dimensions"):
        ms.scatter_add(x, 0, np.zeros((1, 1), np.int64), np.zeros(1))
    with pytest.raises(ValueError, match="scatter: give exactly one of src"):
        ms.scatter(x, 0, np.zeros((1, 1), np.int64))
    with pytest.raises(ValueError, match="index_add: source has shape .2, 2., expected .2, 1."):
        ms.index_add(x, 1, np.array([0]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="topk: k=4 is out of range for dimension -1 of size 3"):
        ms.topk(x, 4)
    with pytest.raises(ValueError, match="one_hot: class 3 is out of range for num_classes=3"):
        ms.one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="one_hot: class values must be non-negative"):
        ms.one_hot(np.array([-1]))
    with pytest.raises(ValueError, match="one_hot: cannot infer the number of classes from an empty tensor"):
        ms.one_hot(np.array([], np.int64))
