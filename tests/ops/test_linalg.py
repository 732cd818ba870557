"""matmul: matrices, batches that broadcast, and the vector cases (NumPy's rules)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.testing import arrays, broadcastable_shapes, check_gradients


@given(data=st.data())
def test_matmul_forward_and_gradient(data):
    # "(n?,k),(k,m?)->(n?,m?)": batch axes broadcast (size 0 and 1 included), n and m may be absent (vectors)
    a_shape, b_shape = data.draw(
        broadcastable_shapes(2, signature=np.matmul.signature, max_dims=2, max_side=3)
    ).input_shapes
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    out = ms.matmul(ms.Tensor(a), ms.Tensor(b))
    expected = np.matmul(a, b)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    check_gradients(lambda a, b: a @ b, a, b)


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((4, 2, 3), (3,)), ((3,), (4, 3, 2)),
     ((2, 1, 2, 3), (5, 3, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 3))],
)
def test_matmul_named_cases(a_shape, b_shape):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    np.testing.assert_allclose(ms.matmul(a, b).data, np.matmul(a, b), rtol=1e-12, atol=1e-14)
    check_gradients(ms.matmul, a, b)


def test_matmul_with_a_constant_operand_and_reflected_operator():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 2))
    x = rng.standard_normal((4, 3))
    check_gradients(lambda x: x @ ms.Tensor(w), x)
    check_gradients(lambda w: x @ w, w)  # ndarray @ Tensor uses Tensor.__rmatmul__
