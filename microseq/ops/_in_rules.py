"""Calling a microseq op from inside a backward rule, so that the rule stays differentiable.

A backward rule receives ndarrays in a first-order backward and Tensors when the backward pass is itself being
recorded (``create_graph=True``). NumPy ufuncs and the NumPy functions registered with ``@implements``
(``np.flip``, ``np.cumsum``, ``np.einsum``, ...) follow their arguments by themselves. An op that has no NumPy
function, because NumPy does it in place (``np.add.at`` for a scatter-add) or not at all (``gather``), is called
through :func:`follows_args`: on ndarrays it computes the value and returns an ndarray (nothing is recorded),
and as soon as one argument is a Tensor it is the op itself, recorded on the tape with its own rule.
"""

from __future__ import annotations

import functools

from ..autograd import no_grad
from ..tensor import Tensor


def follows_args(op):
    """``op`` as a function that returns an ndarray for ndarray arguments and a recorded Tensor otherwise.

    >>> import numpy as np
    >>> from microseq.ops.indexing import index_select
    >>> follows_args(index_select)(np.arange(3.0), 0, [2, 2])
    array([2., 2.])
    """

    @functools.wraps(op)
    def call(*args, **kwargs):
        if any(isinstance(a, Tensor) for a in args):
            return op(*args, **kwargs)
        with no_grad():
            return op(*args, **kwargs).data

    return call
