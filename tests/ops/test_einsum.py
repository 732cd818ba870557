"""einsum: forward against np.einsum, gradient against finite differences and parity with PyTorch, for
subscripts drawn from the common forms, repeated indices (diagonals, traces), '...' with broadcasting and the
implicit output."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.testing import arrays, broadcastable_shapes, check_against_torch, check_gradients, check_second_derivatives

FORMS = [
    "ij,jk->ik", "ij,jk", "bij,bjk->bik", "bij,bkj->bik", "i,i->", "i,i", "i,j->ij", "ij->ji", "ij->", "ij->j",
    "ij,ij->ij", "ijk,jl,k->il", "ii->i", "ii", "iij->j", "iji->ij", "ii,i->i", "ba", "Ab,bc", "i->", "ij,j->i",
    "...ij,...jk->...ik", "...i->...", "i...->...", "...,...->...", "b...,b...->...b", "...ii->...i", "...ij",
]


@st.composite
def einsum_inputs(draw, form):
    """Operands for ``form``: one size per letter (0 to 3), and broadcastable shapes for the '...' parts."""
    sizes = {c: draw(st.integers(0, 3)) for c in set(form) if c.isalpha()}
    terms = form.split("->")[0].split(",")
    ellipses = draw(broadcastable_shapes(len(terms), max_dims=2, max_side=3)).input_shapes
    shapes = []
    for term, ellipsis in zip(terms, ellipses):
        head, _, tail = term.partition("...")
        ellipsis = ellipsis if "..." in term else ()
        shapes.append(tuple(sizes[c] for c in head) + tuple(ellipsis) + tuple(sizes[c] for c in tail))
    return [draw(arrays(shape)) for shape in shapes]


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data())
def test_forward_matches_numpy(form, data):
    operands = data.draw(einsum_inputs(form))
    out = ms.einsum(form, *[ms.Tensor(x) for x in operands])
    expected = np.einsum(form, *operands)
    assert out.shape == expected.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data())
def test_gradient_matches_finite_differences(form, data):
    check_gradients(lambda *xs: ms.einsum(form, *xs), *data.draw(einsum_inputs(form)))


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data())
def test_matches_pytorch(form, data):
    torch = pytest.importorskip("torch")
    operands = data.draw(einsum_inputs(form))
    check_against_torch(lambda *xs: ms.einsum(form, *xs), lambda *xs: torch.einsum(form, *xs), *operands, rtol=1e-10)




@pytest.mark.parametrize("form", FORMS)
@given(data=st.data())
def test_second_derivatives(form, data):
    """The gradient of einsum is an einsum, so the second derivatives (products of two operands) come out of
    the same rule."""
    check_second_derivatives(lambda *xs: ms.einsum(form, *xs), *data.draw(einsum_inputs(form)))
def test_gradient_of_a_diagonal_lands_on_the_diagonal():
    x = ms.Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    ms.einsum("ii->i", x).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, np.diag([1.0, 2.0, 3.0]))
    x.grad = None
    ms.einsum("ii", x).backward()
    np.testing.assert_array_equal(x.grad, np.eye(3))


def test_size_one_axis_broadcast_by_ellipsis_gets_the_summed_gradient():
    a = ms.Tensor(np.ones((1, 2)), requires_grad=True)
    b = ms.Tensor(np.ones((4, 2)), requires_grad=True)
    ms.einsum("...i,...i->...", a, b).backward(np.arange(4.0))
    np.testing.assert_array_equal(a.grad, [[6.0, 6.0]])


def test_ellipsis_left_out_of_the_output_is_summed_like_pytorch():
    torch = pytest.importorskip("torch")
    x, y = np.arange(6.0).reshape(2, 3), np.arange(3.0)
    check_against_torch(lambda x, y: ms.einsum("b...,...->b", x, y), lambda x, y: torch.einsum("b...,...->b", x, y), x, y)


def test_operands_as_one_list_and_a_constant_operand():
    x = np.arange(6.0).reshape(2, 3)
    t = ms.Tensor(x, requires_grad=True)
    out = ms.einsum("ij,jk->ik", [t, x.T])
    np.testing.assert_array_equal(out.data, x @ x.T)
    out.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(t.grad, np.ones((2, 2)) @ x)


@pytest.mark.parametrize(
    "equation, shapes, message",
    [
        ("ij,jk->ik", [(2, 3), (4, 5)], "letter 'j' stands for sizes 3 and 4"),
        ("ij->ik", [(2, 3)], "output letter 'k' is in no operand"),
        ("ij->ii", [(2, 2)], "output subscripts 'ii' repeat a letter"),
        ("ijk", [(2, 3)], "subscripts 'ijk' do not fit an operand of shape"),
        ("ij,jk", [(2, 3)], "2 operand subscripts for 1 operands"),
        ("i1", [(2, 3)], "may only hold letters"),
        ("...i,...i", [(2, 3), (4, 3)], "the '...' axes of shapes [(2, 3), (4, 3)] do not broadcast"),
    ],
)
def test_bad_subscripts_say_what_is_wrong(equation, shapes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ms.einsum(equation, *[np.zeros(s) for s in shapes])


def test_numpy_einsum_on_tensors_is_the_recorded_op():
    x = np.arange(6.0).reshape(2, 3)
    out = np.einsum("ij,kj->ik", ms.Tensor(x, requires_grad=True), x)
    assert isinstance(out, ms.Tensor) and out.requires_grad
    np.testing.assert_array_equal(out.data, x @ x.T)
