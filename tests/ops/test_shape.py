"""Ops that move values: reshape, transpose, squeeze, indexing, concatenate, stack, split, chunk."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microseq as ms
from microseq.testing import arrays, check_gradients, shapes

SMALL = dict(max_dims=3, max_side=4)


@st.composite
def same_size_shape(draw, size: int):
    """A shape with ``size`` elements (one entry may be -1), for reshape."""
    ndim = draw(st.integers(1, 3))
    dims, remaining = [], size
    for _ in range(ndim - 1):
        divisors = [d for d in range(1, 5) if remaining % d == 0] if remaining else [0, 1, 2]
        dims.append(draw(st.sampled_from(divisors)))
        remaining = remaining // dims[-1] if dims[-1] else remaining
    dims.append(remaining if 0 not in dims else draw(st.integers(0, 3)))
    if size and draw(st.booleans()):
        dims[draw(st.integers(0, ndim - 1))] = -1
    return tuple(dims)


@given(data=st.data())
def test_reshape(data):
    x = data.draw(arrays(shapes(**SMALL)))
    new_shape = data.draw(same_size_shape(x.size))
    np.testing.assert_array_equal(ms.reshape(ms.Tensor(x), new_shape).data, x.reshape(new_shape))
    np.testing.assert_array_equal(ms.Tensor(x).reshape(*new_shape).data, x.reshape(new_shape))
    check_gradients(lambda x: x.reshape(new_shape), x)


@given(data=st.data())
def test_transpose_permute_swapaxes(data):
    x = data.draw(arrays(shapes(**SMALL)))
    axes = tuple(data.draw(st.permutations(range(x.ndim))))
    np.testing.assert_array_equal(ms.Tensor(x).permute(*axes).data, x.transpose(axes))
    np.testing.assert_array_equal(ms.Tensor(x).T.data, x.T)
    check_gradients(lambda x: ms.transpose(x, axes), x)
    if x.ndim:
        i, j = data.draw(st.integers(-x.ndim, x.ndim - 1)), data.draw(st.integers(-x.ndim, x.ndim - 1))
        np.testing.assert_array_equal(ms.swapaxes(ms.Tensor(x), i, j).data, np.swapaxes(x, i, j))
        check_gradients(lambda x: x.swapaxes(i, j), x)


@given(data=st.data())
def test_squeeze_unsqueeze(data):
    x = data.draw(arrays(shapes(max_dims=3, max_side=2)))
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    np.testing.assert_array_equal(ms.unsqueeze(ms.Tensor(x), axis).data, np.expand_dims(x, axis))
    check_gradients(lambda x: x.unsqueeze(axis), x)
    np.testing.assert_array_equal(ms.squeeze(ms.Tensor(x)).data, np.squeeze(x))
    ones = tuple(i for i, n in enumerate(x.shape) if n == 1)
    check_gradients(lambda x: x.squeeze(ones or None), x)


# -- indexing -----------------------------------------------------------------------------------------
@given(data=st.data())
def test_basic_indexing(data):
    x = data.draw(arrays(shapes(min_dims=1, **SMALL)))
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True))
    np.testing.assert_array_equal(ms.Tensor(x)[index].data, x[index])
    check_gradients(lambda x: x[index], x)


@given(data=st.data())
def test_integer_array_indexing_accumulates_repeats(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)))
    index = data.draw(hnp.integer_array_indices(x.shape, result_shape=shapes(min_dims=1, max_dims=2, max_side=5)))
    np.testing.assert_array_equal(ms.Tensor(x)[index].data, x[index])
    check_gradients(lambda x: x[index], x)


@given(data=st.data())
def test_mixed_and_boolean_indexing(data):
    x = data.draw(arrays(shapes(min_dims=2, max_dims=3, min_side=1, max_side=4)))
    rows = data.draw(arrays((data.draw(st.integers(0, 5)),), np.int64, (-x.shape[1], x.shape[1] - 1)))
    mask = data.draw(arrays(x.shape[:2], bool))
    for index in [(slice(None), rows), (Ellipsis, slice(1, None)), mask, ms.Tensor(mask)]:
        expected = x[index.data if isinstance(index, ms.Tensor) else index]
        np.testing.assert_array_equal(ms.Tensor(x)[index].data, expected)
        check_gradients(lambda x: x[index], x)


def test_repeated_index_gradient_is_summed_like_an_embedding_lookup():
    table = ms.Tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    tokens = np.array([[1, 3, 1], [1, 0, 3]])
    rows = table[tokens]  # (2, 3, 2)
    rows.backward(np.ones((2, 3, 2)))
    np.testing.assert_array_equal(table.grad, [[1, 1], [3, 3], [0, 0], [2, 2]])


@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]))
def test_gathered_rows_scatter_back_with_the_bits_of_numpy_add_at(data, dtype):
    """The compiled row scatter (an embedding's gradient) adds in NumPy's order: equal bit for bit."""
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=0, max_side=5).filter(lambda s: s[0] > 0))
    index = data.draw(arrays((data.draw(st.integers(1, 12)),), np.int64, (-shape[0], shape[0] - 1)))
    values = data.draw(arrays((len(index), *shape[1:]), dtype))
    expected = np.zeros(shape, dtype)
    np.add.at(expected, index, values)
    np.testing.assert_array_equal(ms.ops.shape.index_put(values, index, shape), expected, strict=True)


def test_a_row_scatter_out_of_range_is_numpys_index_error():
    with pytest.raises(IndexError):
        ms.ops.shape.index_put(np.ones((2, 3)), np.array([0, 4]), (4, 3))
    with pytest.raises(IndexError):
        ms.ops.shape.index_put(np.ones((1, 3)), np.array([-5]), (4, 3))


# -- joining and splitting ------------------------------------------------------------------------------
@given(data=st.data())
def test_concatenate(data):
    base = data.draw(shapes(min_dims=1, max_dims=3, max_side=3))
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    count = data.draw(st.integers(1, 3))
    pieces = []
    for _ in range(count):
        shape = list(base)
        shape[axis] = data.draw(st.integers(0, 3))
        pieces.append(data.draw(arrays(tuple(shape))))
    np.testing.assert_array_equal(ms.cat([ms.Tensor(p) for p in pieces], axis=axis).data, np.concatenate(pieces, axis))
    check_gradients(lambda *ts: ms.concatenate(ts, axis=axis), *pieces)


@given(data=st.data())
def test_stack(data):
    shape = data.draw(shapes(**SMALL))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    pieces = [data.draw(arrays(shape)) for _ in range(data.draw(st.integers(1, 3)))]
    np.testing.assert_array_equal(ms.stack([ms.Tensor(p) for p in pieces], axis=axis).data, np.stack(pieces, axis))
    check_gradients(lambda *ts: ms.stack(ts, axis=axis), *pieces)


def _torch_split_sizes(length: int, size: int) -> list[int]:
    """torch.split's pieces for an int size: full pieces, then the remainder; an empty axis gives [0]."""
    return [size] * (length // size) + [length % size] * (length % size > 0) or [0]


def _torch_chunk_sizes(length: int, chunks: int) -> list[int]:
    """torch.chunk's pieces: ceil(length / chunks) each, the last smaller; an empty axis gives chunks x [0]."""
    if length == 0:
        return [0] * chunks
    return _torch_split_sizes(length, math.ceil(length / chunks))


@given(data=st.data())
def test_split_and_chunk(data):
    x = data.draw(arrays(shapes(min_dims=1, **SMALL)))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    length = x.shape[axis]
    how = data.draw(st.sampled_from(["size", "sections", "chunk"]))
    if how == "size":
        size = data.draw(st.integers(1, 4))
        op, sizes = (lambda x: ms.split(x, size, axis)), _torch_split_sizes(length, size)
    elif how == "sections":
        cuts = sorted(data.draw(st.lists(st.integers(0, length), max_size=3)))
        sizes = list(np.diff([0, *cuts, length]))
        op = lambda x: x.split(sizes, axis=axis)  # noqa: E731
    else:
        chunks = data.draw(st.integers(1, 4))
        op, sizes = (lambda x: ms.chunk(x, chunks, axis)), _torch_chunk_sizes(length, chunks)
    pieces = op(ms.Tensor(x))
    assert [p.shape[axis] for p in pieces] == sizes
    np.testing.assert_array_equal(np.concatenate([p.data for p in pieces], axis), x)
    check_gradients(lambda x: tuple(op(x)), x)


def test_split_gradient_with_unused_pieces():
    x = ms.Tensor(np.arange(6.0), requires_grad=True)
    first, _, last = ms.split(x, 2)
    (first * 2 + last).sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 2, 0, 0, 1, 1])


@pytest.mark.parametrize("axis", [0, 2, -1, (0, 1), (0, 2)])
def test_squeeze_leaves_an_axis_whose_size_is_not_1(axis):
    """As PyTorch: ``squeeze(d)`` drops ``d`` only if it has size 1, and is otherwise the tensor unchanged."""
    x = ms.randn(2, 1, 3, requires_grad=True)
    y = x.squeeze(axis)
    axes = axis if isinstance(axis, tuple) else (axis,)
    expected = tuple(n for i, n in enumerate(x.shape) if not (n == 1 and i in {a % 3 for a in axes}))
    assert y.shape == expected
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 1, 3)))
    torch = pytest.importorskip("torch")
    assert tuple(torch.zeros(2, 1, 3).squeeze(axis).shape) == expected
