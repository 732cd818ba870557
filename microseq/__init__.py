"""microseq: a minimal, readable, fast autograd engine for sequence models.

>>> import microseq as ms
>>> x = ms.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
array([2., 4., 6.], dtype=float32)
"""

from . import ops
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled, tape_of
from .gradcheck import GradcheckError, gradcheck
from .ops import *  # noqa: F403  (the primitive ops, as functions: ms.tanh(x), ms.matmul(a, b), ...)
from .random import default_generator, get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor, arange, as_tensor, full, ones, rand, randn, tensor, zeros

import numpy as _np

float32, float64, int64 = _np.float32, _np.float64, _np.int64
__version__ = "0.1.0"
