"""microseq/tensor.py's own helpers and in-place methods (the ops on tensors are tested in tests/ops/)."""

import re

import numpy as np
import pytest

import microseq as ms
from microseq.tensor import array_of


def test_array_of_unwraps_a_tensor_and_converts_anything_else():
    x = np.arange(6.0).reshape(2, 3)
    assert np.shares_memory(array_of(ms.Tensor(x)), x)
    np.testing.assert_array_equal(array_of([[1, 2], [3, 4]]), np.array([[1, 2], [3, 4]]))
    assert array_of(x) is x  # an ndarray as it is, not its raw buffer (what getattr(x, "data", x) would give)


@pytest.mark.parametrize("source", [np.ones((3, 3)), np.ones((2, 4)), np.ones((1, 2, 3))])
def test_copy_from_a_source_that_does_not_fit_names_both_shapes(source):
    destination = ms.zeros(2, 3)
    message = f"copy_: source of shape {source.shape} does not broadcast to (2, 3)"
    with pytest.raises(ValueError, match=re.escape(message)):
        destination.copy_(source)
    np.testing.assert_array_equal(destination.data, np.zeros((2, 3)))  # nothing written


def test_copy_broadcasts_a_source_that_fits():
    destination = ms.zeros(2, 3)
    destination.copy_(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(destination.data, [[1, 2, 3], [1, 2, 3]])
