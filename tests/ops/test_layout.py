"""Layout ops (expand, pad, flip, roll, repeat, tile, tril/triu, diagonal, flatten, movedim, narrow, ...):
forward against NumPy, gradient against finite differences, parity with PyTorch, the special points.

One table drives the three property tests: each case draws its arguments from the drawn shape.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.testing import arrays, check_against_torch, check_gradients, check_second_derivatives, shapes


@dataclass(frozen=True)
class Case:
    name: str
    op: Callable  # microseq: op(x, **params)
    reference: Callable  # NumPy: reference(x, **params)
    params: Callable  # shape -> strategy of a dict of params
    torch_op: Callable  # PyTorch: torch_op(x, **params)
    min_dims: int = 0
    min_side: int = 0  # PyTorch's reflect/replicate/circular pads need nonzero sizes


def no_params(shape):
    return st.just({})


@st.composite
def expand_sizes(draw, shape):
    lead = draw(st.lists(st.integers(0, 3), max_size=2))
    sizes = [draw(st.integers(0, 3)) if n == 1 else draw(st.sampled_from([n, -1])) for n in shape]
    return {"sizes": tuple(lead + sizes)}


@st.composite
def pad_widths(draw, shape, mode):
    """A pad tuple PyTorch also accepts: k padded dims of a (k+1)- or (k+2)-dim input in the non-constant
    modes, widths that fit each mode's limits."""
    ndim = len(shape)
    if mode == "constant":
        k = draw(st.integers(0, ndim))
    else:
        k = draw(st.sampled_from([k for k in (1, 2, 3) if ndim - 2 <= k <= ndim - 1]))
    widths = []
    for n in reversed(shape[ndim - k :]):  # last dim first
        limit = {"constant": 3, "reflect": n - 1, "replicate": 3, "circular": n}[mode]
        widths += [draw(st.integers(0, limit)), draw(st.integers(0, limit))]
    params = {"pad": tuple(widths), "mode": mode}
    if mode == "constant":
        params["value"] = draw(st.sampled_from([0.0, -1.5]))
    return params


def numpy_pad(x, pad, mode, value=0.0):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    names = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
    if mode == "constant":
        return np.pad(x, widths, constant_values=value) if x.ndim else x
    return np.pad(x, widths, mode=names[mode])


def torch_pad(x, pad, mode, value=None):
    import torch.nn.functional as F

    return F.pad(x, pad, mode=mode, value=value) if mode == "constant" else F.pad(x, pad, mode=mode)


@st.composite
def some_dims(draw, shape, min_size=1):
    dims = draw(st.lists(st.integers(0, len(shape) - 1), min_size=min_size, unique=True))
    return tuple(d - len(shape) if draw(st.booleans()) else d for d in dims)


@st.composite
def roll_params(draw, shape):
    if draw(st.booleans()):
        return {"shifts": draw(st.integers(-5, 5)), "dims": None}
    dims = draw(some_dims(shape))
    return {"shifts": tuple(draw(st.integers(-5, 5)) for _ in dims), "dims": dims}


@st.composite
def repeat_params(draw, shape):
    return {"sizes": tuple(draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape) + 2)))}


@st.composite
def repeat_interleave_params(draw, shape):
    dim = draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    n = int(np.prod(shape)) if dim is None else shape[dim]
    if draw(st.booleans()):
        return {"repeats": draw(st.integers(0, 3)), "dim": dim}
    repeats = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
    return {"repeats": repeats, "dim": dim}


@st.composite
def diagonal_params(draw, shape):
    dims = st.integers(-len(shape), len(shape) - 1)
    dim1, dim2 = draw(st.lists(dims, min_size=2, max_size=2, unique_by=lambda d: d % len(shape)))
    return {"offset": draw(st.integers(-3, 3)), "dim1": dim1, "dim2": dim2}


@st.composite
def flatten_params(draw, shape):
    ndim = max(len(shape), 1)
    start = draw(st.integers(0, ndim - 1))
    end = draw(st.integers(start, ndim - 1))
    return {"start_dim": start, "end_dim": end - ndim if draw(st.booleans()) else end}


@st.composite
def unflatten_params(draw, shape):
    dim = draw(st.integers(0, len(shape) - 1))
    n = shape[dim]
    if n == 0:
        sizes = draw(st.sampled_from([(0,), (0, 2), (2, 0)]))
    else:
        d = draw(st.sampled_from([k for k in range(1, n + 1) if n % k == 0]))
        sizes = draw(st.sampled_from([(d, n // d), (-1, n // d), (d, -1), (1, n, 1)]))
    return {"dim": dim, "sizes": sizes}


@st.composite
def movedim_params(draw, shape):
    source = draw(some_dims(shape))
    destination = draw(st.permutations(range(len(shape))))[: len(source)]
    return {"source": source, "destination": tuple(destination)}


@st.composite
def narrow_params(draw, shape):
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    start = draw(st.integers(0, n))
    length = draw(st.integers(0, n - start))
    return {"dim": dim, "start": start - n if start < n and draw(st.booleans()) else start, "length": length}


def numpy_narrow(x, dim, start, length):
    start = start % x.shape[dim] if start < 0 else start
    return np.take(x, np.arange(start, start + length), axis=dim)


def tri_params(shape):
    return st.fixed_dictionaries({"diagonal": st.integers(-3, 3)})


CASES = [
    Case("expand", lambda x, sizes: x.expand(*sizes), lambda x, sizes: np.broadcast_to(x, tuple(
        n if s == -1 else s for s, n in zip(sizes, (1,) * (len(sizes) - x.ndim) + x.shape))), expand_sizes,
        lambda x, sizes: x.expand(sizes)),
    Case("broadcast_to", lambda x, sizes: ms.broadcast_to(x, _target(x.shape, sizes)),
         lambda x, sizes: np.broadcast_to(x, _target(x.shape, sizes)), expand_sizes,
         lambda x, sizes: x.broadcast_to(_target(tuple(x.shape), sizes))),
    Case("pad_constant", ms.pad, numpy_pad, lambda s: pad_widths(s, "constant"), torch_pad),
    Case("pad_reflect", ms.pad, numpy_pad, lambda s: pad_widths(s, "reflect"), torch_pad, min_dims=2, min_side=1),
    Case("pad_replicate", ms.pad, numpy_pad, lambda s: pad_widths(s, "replicate"), torch_pad, min_dims=2, min_side=1),
    Case("pad_circular", ms.pad, numpy_pad, lambda s: pad_widths(s, "circular"), torch_pad, min_dims=2, min_side=1),
    Case("flip", lambda x, dims: x.flip(dims), lambda x, dims: np.flip(x, dims),
         lambda s: some_dims(s).map(lambda d: {"dims": d}), lambda x, dims: x.flip(dims), min_dims=1),
    Case("roll", ms.roll, lambda x, shifts, dims: np.roll(x, shifts, dims), roll_params,
         lambda x, shifts, dims: x.roll(shifts, dims), min_dims=1),
    Case("repeat", lambda x, sizes: x.repeat(*sizes), lambda x, sizes: np.tile(x, sizes), repeat_params,
         lambda x, sizes: x.repeat(sizes)),
    Case("tile", lambda x, sizes: ms.tile(x, sizes), lambda x, sizes: np.tile(x, sizes),
         lambda s: st.lists(st.integers(0, 3), max_size=len(s) + 1).map(lambda r: {"sizes": tuple(r)}),
         lambda x, sizes: x.tile(sizes)),
    Case("repeat_interleave", ms.repeat_interleave, lambda x, repeats, dim: np.repeat(x, repeats, axis=dim),
         repeat_interleave_params, lambda x, repeats, dim: x.repeat_interleave(_torch_repeats(repeats), dim), min_dims=1),
    Case("tril", ms.tril, lambda x, diagonal: np.tril(x, diagonal), tri_params,
         lambda x, diagonal: x.tril(diagonal), min_dims=2),
    Case("triu", lambda x, diagonal: x.triu(diagonal), lambda x, diagonal: np.triu(x, diagonal), tri_params,
         lambda x, diagonal: x.triu(diagonal), min_dims=2),
    Case("diagonal", ms.diagonal, lambda x, offset, dim1, dim2: np.diagonal(x, offset, dim1, dim2), diagonal_params,
         lambda x, offset, dim1, dim2: x.diagonal(offset, dim1, dim2), min_dims=2),
    Case("flatten", lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim),
         lambda x, start_dim, end_dim: _numpy_flatten(x, start_dim, end_dim), flatten_params,
         lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim)),
    Case("unflatten", ms.unflatten,
         lambda x, dim, sizes: _numpy_unflatten(x, dim, sizes), unflatten_params,
         lambda x, dim, sizes: x.unflatten(dim, sizes), min_dims=1),
    Case("movedim", ms.movedim, np.moveaxis, movedim_params,
         lambda x, source, destination: x.movedim(source, destination), min_dims=1),
    Case("narrow", ms.narrow, numpy_narrow, narrow_params,
         lambda x, dim, start, length: x.narrow(dim, start, length), min_dims=1),
]
IDS = [c.name for c in CASES]


def _target(shape, sizes):
    padded = (1,) * (len(sizes) - len(shape)) + tuple(shape)
    return tuple(n if s == -1 else s for s, n in zip(sizes, padded))


def _numpy_unflatten(x, dim, sizes):
    """NumPy's reshape with the -1 resolved first (NumPy cannot infer it when another axis has size 0)."""
    sizes = list(sizes)
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[dim] // -int(np.prod(sizes))
    return x.reshape(x.shape[:dim] + tuple(sizes) + x.shape[dim + 1 :])


def _numpy_flatten(x, start_dim, end_dim):
    if x.ndim == 0:
        return x.reshape(1)
    end = end_dim % x.ndim
    return x.reshape(x.shape[:start_dim] + (int(np.prod(x.shape[start_dim : end + 1])),) + x.shape[end + 1 :])


def _torch_repeats(repeats):
    import torch

    return torch.from_numpy(repeats) if isinstance(repeats, np.ndarray) else repeats


@st.composite
def case_inputs(draw, case: Case, dtype=np.float64):
    shape = draw(shapes(min_dims=case.min_dims, max_dims=max(case.min_dims, 3), min_side=case.min_side, max_side=4))
    return draw(arrays(shape, dtype)), draw(case.params(shape))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    x, params = data.draw(case_inputs(case))
    out = case.op(ms.Tensor(x), **params)
    expected = case.reference(x, **params)
    assert out.shape == expected.shape and out.dtype == np.float64
    np.testing.assert_array_equal(out.data, expected)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_gradient_matches_finite_differences(case, data):
    x, params = data.draw(case_inputs(case))
    check_gradients(lambda x: case.op(x, **params), x)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_matches_pytorch(case, data):
    pytest.importorskip("torch")
    x, params = data.draw(case_inputs(case))
    check_against_torch(lambda x: case.op(x, **params), lambda x: case.torch_op(x, **params), x)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_float32_stays_float32(case, data):
    x, params = data.draw(case_inputs(case, np.float32))
    t = ms.Tensor(x, requires_grad=True)
    out = case.op(t, **params)
    out.backward(np.ones(out.shape, np.float32))
    assert out.dtype == np.float32 and t.grad.dtype == np.float32




@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_second_derivatives(case, data):
    """The rules are linear in g and written with differentiable ops: gradgradcheck (zero second derivative,
    the right derivative with respect to the upstream gradient) and create_graph = plain backward."""
    x, params = data.draw(case_inputs(case))
    check_second_derivatives(lambda x: case.op(x, **params), x)

# -- special points --------------------------------------------------------------------------------------
def test_reflect_pad_at_its_limit_and_past_it():
    x = np.arange(1.0, 4.0).reshape(1, 3)
    out = ms.pad(ms.Tensor(x), (2, 2), mode="reflect")  # width 2 = size - 1: the largest reflect allows
    np.testing.assert_array_equal(out.data, [[3, 2, 1, 2, 3, 2, 1]])
    check_gradients(lambda x: ms.pad(x, (2, 2), mode="reflect"), x)
    with pytest.raises(ValueError, match=r"reflect padding of dimension 1 \(size 3\) by \(3, 0\) needs .* between 0 and 2"):
        ms.pad(ms.Tensor(x), (3, 0), mode="reflect")


def test_replicate_pad_of_one_element_sums_every_copy():
    x = ms.Tensor(np.array([[2.0]]), requires_grad=True)
    ms.pad(x, (3, 1, 2, 0), mode="replicate").backward(np.ones((3, 5)))
    assert x.grad[0, 0] == 15.0


def test_constant_pad_with_negative_widths_crops_like_pytorch():
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(3, 4)
    check_against_torch(lambda x: ms.pad(x, (-1, 2, 1, -2), value=5.0),
                        lambda x: torch.nn.functional.pad(x, (-1, 2, 1, -2), value=5.0), x)


def test_expand_an_empty_and_a_size_one_axis():
    x = ms.Tensor(np.array([[1.5]]), requires_grad=True)
    x.expand(2, 0, 3).backward(np.ones((2, 0, 3)))
    np.testing.assert_array_equal(x.grad, [[0.0]])
    check_gradients(lambda x: x.expand(4, -1, 3), np.array([[1.5]]))


@pytest.mark.parametrize("offset", [-4, -3, 3, 4])
def test_diagonal_beyond_the_matrix_is_empty(offset):
    x = np.arange(12.0).reshape(3, 4)
    out = ms.diagonal(ms.Tensor(x), offset)
    np.testing.assert_array_equal(out.data, np.diagonal(x, offset))
    check_gradients(lambda x: ms.diagonal(x, offset) * 2, x)


def test_repeated_flip_dims_and_bad_arguments_say_what_is_wrong():
    x = ms.Tensor(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="flip: repeated axis"):
        ms.flip(x, (0, -2))
    with pytest.raises(ValueError, match="repeat: 1 repeats"):
        x.repeat(2)
    with pytest.raises(ValueError, match="expand: -1 is not allowed"):
        x.expand(-1, 2, 3)
    with pytest.raises(ValueError, match="narrow: start 2 . length 2 exceeds"):
        x.narrow(1, 2, 2)
    with pytest.raises(ValueError, match="unflatten: sizes"):
        x.unflatten(1, (2, 2))
    with pytest.raises(ValueError, match="pad: mode must be"):
        ms.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="tril: needs a tensor with at least 2"):
        ms.tril(ms.Tensor(np.zeros(3)))


def test_methods_and_functional_forms_exist():
    from microseq.nn import functional as F

    x = ms.Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(F.pad(x, (1, 0)).data, ms.pad(x, (1, 0)).data)
    np.testing.assert_array_equal(x.tile((2,)).data, np.tile(x.data, 2))
    np.testing.assert_array_equal(x.expand_as(ms.zeros(4, 2, 3)).data, np.broadcast_to(x.data, (4, 2, 3)))


def test_numpy_flip_and_roll_on_tensors_are_the_recorded_ops():
    """What the rules rely on under create_graph: NumPy's own signatures (axis=None: every axis / flattened)."""
    x = np.arange(6.0).reshape(2, 3)
    t = ms.Tensor(x, requires_grad=True)
    for ours, reference in [(np.flip(t), np.flip(x)), (np.flip(t, 1), np.flip(x, 1)), (np.roll(t, 2), np.roll(x, 2)),
                            (np.roll(t, -1, axis=0), np.roll(x, -1, axis=0))]:
        assert isinstance(ours, ms.Tensor) and ours.requires_grad
        np.testing.assert_array_equal(ours.data, reference)
