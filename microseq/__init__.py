"""microseq: a minimal, readable, fast autograd engine for sequence models.

>>> import microseq as ms
>>> x = ms.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
array([2., 4., 6.], dtype=float32)

The subpackages (``ms.nn``, ``ms.optim``, ``ms.data``, ...) load on first use, as ``torch.nn`` does after
``import torch``, so that ``import microseq`` stays quick: ``ms.nn.LSTM(...)`` needs no import of its own.
"""

from . import ops
from ._checks import ShapeError
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled, tape_of
from .func import grad, hessian, hvp, jacobian, value_and_grad, vjp
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops import *  # noqa: F403  (the primitive ops, as functions: ms.tanh(x), ms.matmul(a, b), ...)
from .random import default_generator, get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor, arange, as_tensor, full, ones, rand, randn, tensor, zeros

import numpy as _np

float32, float64, int64 = _np.float32, _np.float64, _np.int64
__version__ = "0.1.0"

#: Subpackages imported on first access (``ms.nn``), not by ``import microseq``.
_LAZY_SUBMODULES = frozenset(
    {"bench", "checkpoint", "cli", "data", "kernels", "nn", "optim", "seq2seq", "testing", "training"}
)


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")  # also binds it here: no second call
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_SUBMODULES)
