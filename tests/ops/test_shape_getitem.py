"""getitem with every index form NumPy accepts: its gradient equals the gradient of the same positions read
through one flat integer array (so positions read twice get their gradients added), and values and gradients
match PyTorch's, whose layout (ints before arrays) getitem follows."""

import numpy as np
import pytest

import microseq as ms

SHAPE = (3, 4, 5)
MASK_2D = np.arange(12).reshape(3, 4) % 3 == 0
MASK_3D = np.arange(60).reshape(SHAPE) % 7 == 1
INDEXES = {
    "tuple_with_repeats": (slice(None), (1, 1)),
    "list": [0, 0, 2],
    "nested_list": [[0, 1], [1, 1]],
    "list_of_bools": [True, False, True],
    "bool_mask_first_axis": np.array([True, False, True]),
    "bool_mask_two_axes": MASK_2D,
    "bool_mask_all_axes": MASK_3D,
    "bool_mask_after_slice": (slice(None), np.array([False, True, True, False])),
    "ellipsis_list": (Ellipsis, [1, 1, -1]),
    "none_int_slice_list": (None, 1, slice(None), [0, 0]),
    "negative_int_and_step": (-1, slice(None, None, 2)),
    "negative_steps": (slice(None, None, -1), slice(3, 0, -2)),
    "arrays_in_two_axes_apart": ([0, 2, 0], slice(None), [1, 1, 4]),
    "arrays_broadcast": ([[0], [2]], [1, 3]),
    "negative_arrays": ([-1, -1], [-4, 0]),
    "tensor": ms.tensor([2, 2, 0]),
    "tensor_in_tuple": (slice(None), ms.tensor([3, 3])),
    "int_slice_list": (0, slice(None), [0, 1]),  # PyTorch: (4, 2); NumPy: (2, 4)
    "int_list_adjacent": (1, [0, 0], slice(None)),
    "list_then_int": (slice(None), [1, 1], 0),
    "int_mask": (2, np.array([True, False, False, True])),
    "empty_list": [],
    "scalar_true": True,
    "ellipsis_none": (Ellipsis, None),
    "slices_and_nested_list": (slice(1, 3), [[0, 3], [3, 0]], slice(None, None, 2)),
    "ints_only": (1, -2, 3),
}
NOT_IN_PYTORCH = {"negative_steps"}  # torch has no negative slice steps


def _values_and_gradient(x: np.ndarray, read, g: np.ndarray):
    t = ms.Tensor(x.copy(), requires_grad=True)
    y = read(t)
    y.backward(g)
    return y.data, t.grad


@pytest.mark.parametrize("name", INDEXES)
def test_gradient_equals_that_of_the_same_positions_as_one_integer_array(name):
    index = INDEXES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE)
    positions = ms.Tensor(np.arange(x.size).reshape(SHAPE))[index].data  # which element each output reads
    g = rng.standard_normal(positions.shape)
    values, grad = _values_and_gradient(x, lambda t: t[index], g)
    flat_values, flat_grad = _values_and_gradient(x, lambda t: t.reshape(-1)[positions.astype(np.int64)], g)
    np.testing.assert_array_equal(values, flat_values)
    np.testing.assert_allclose(grad, flat_grad, rtol=1e-15)
    expected = np.zeros(x.size)
    np.add.at(expected, positions.reshape(-1), g.reshape(-1))
    np.testing.assert_allclose(grad, expected.reshape(SHAPE), rtol=1e-15)  # repeated reads add up


def _torch_index(torch, index):
    """The same index for torch: arrays, Tensors, lists and inner tuples as torch tensors (torch reads a
    nested list as a tuple, a deprecated form; NumPy and microseq read it as an array)."""

    def part(p):
        if isinstance(p, (ms.Tensor, np.ndarray, list, tuple)):
            array = np.asarray(getattr(p, "data", p))
            return torch.tensor(array.astype(np.int64) if array.size == 0 else array)
        return p

    return tuple(part(p) for p in index) if isinstance(index, tuple) else part(index)


@pytest.mark.parametrize("name", sorted(set(INDEXES) - NOT_IN_PYTORCH))
def test_values_shapes_and_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch")
    index = INDEXES[name]
    x = np.random.default_rng(1).standard_normal(SHAPE)
    t = torch.tensor(x, requires_grad=True)
    expected = t[_torch_index(torch, index)]
    g = np.random.default_rng(2).standard_normal(tuple(expected.shape))
    expected.backward(torch.tensor(g))
    values, grad = _values_and_gradient(x, lambda v: v[index], g)
    assert values.shape == tuple(expected.shape)
    np.testing.assert_array_equal(values, expected.detach().numpy())
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-15)


def test_a_tuple_with_repeated_entries_gives_gradient_2():
    x = ms.Tensor(np.zeros((2, 3)), requires_grad=True)
    x[:, (1, 1)].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 2, 0], [0, 2, 0]])


def test_mixed_int_and_array_index_has_pytorchs_shape():
    a = ms.Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = a[0, :, [0, 1]]
    assert y.shape == (3, 2)  # NumPy would give (2, 3)
    np.testing.assert_array_equal(y.data, a.data[0][:, [0, 1]])
    y.backward(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(a.grad[0, :, :2], np.arange(6.0).reshape(3, 2))
    assert a.grad[1].sum() == 0 and a.grad[0, :, 2:].sum() == 0


def test_basic_indexing_is_a_view_and_advanced_indexing_a_copy():
    x = ms.Tensor(np.arange(6.0).reshape(2, 3))
    assert np.shares_memory(x[0, 1:].data, x.data)
    assert not np.shares_memory(x[:, (1, 1)].data, x.data)


def test_out_of_range_and_bad_indexes_raise_index_error_naming_the_shape():
    x = ms.Tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"getitem: .*\(tensor of shape \(2, 3\)\)"):
        x[:, [0, 3]]
    with pytest.raises(IndexError, match=r"getitem: .*\(tensor of shape \(2, 3\)\)"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match=r"getitem: .*\(tensor of shape \(2, 3\)\)"):
        x[np.array([True, False, True])]


@pytest.mark.parametrize("index", [None, 0, -1, slice(1, None), Ellipsis, (None,), (None, 0), (Ellipsis, None)])
def test_a_basic_index_alone_or_in_a_tuple_gives_numpys_shape_and_gradient(index):
    """The fast path for ints, slices, None and Ellipsis: ``x[None]`` once came back without its new axis."""
    data = np.arange(12.0).reshape(3, 4)
    x = ms.tensor(data, requires_grad=True)
    y = x[index]
    assert y.shape == data[index].shape
    np.testing.assert_array_equal(y.numpy(), data[index])
    y.backward(np.ones(y.shape))
    expected = np.zeros_like(data)
    expected[index] += 1
    np.testing.assert_array_equal(x.grad, expected)
