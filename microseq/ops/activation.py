"""Activation functions, with PyTorch's arguments, values and gradients at the kinks.

An activation that is exactly a composition of existing ops, special points included, is written as one
(``softsign``, ``mish``, ``relu6``); the others are primitives whose rule ``rule(g, x, y)`` uses only
arithmetic, NumPy ufuncs and ``np.where`` on its arguments, so that it differentiates again (see
:mod:`microseq.autograd`).

At a kink the derivative is PyTorch's one-sided choice, stated in each docstring: ``leaky_relu'(0)`` is the
negative slope, ``hardtanh'`` is 0 at both bounds, ``hardsigmoid'`` 0 at +-3, ``elu'(0)`` is alpha. The same
conditions decide at NaN and +-inf, so those match PyTorch too (``elu'(NaN) = 1``, ``hardswish'(-inf) = 0``).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, as_tensor, record
from ._util import check_float
from .elementwise import _stable_sigmoid, abs, div, mul, sigmoid_of, tanh
from .math import erf_of

__all__ = [
    "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "logsigmoid", "hardtanh", "relu6",
    "hardsigmoid", "hardswish", "softsign", "mish",
]

# SELU's constants (Klambauer et al. 2017), to PyTorch's digits.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_HALF = np.sqrt(0.5)
_INV_SQRT_2PI = 1 / np.sqrt(2 * np.pi)
_SQRT_2_OVER_PI = np.sqrt(2 / np.pi)
_GELU_CUBIC = 0.044715


def _float_input(op: str, a) -> Tensor:
    a = as_tensor(a)
    check_float(op, a)
    return a


def leaky_relu(a, negative_slope: float = 0.01) -> Tensor:
    """``a`` where a > 0, else ``negative_slope * a``.  dy/da = 1 where a > 0, else the slope (at 0 too)."""
    a = _float_input("leaky_relu", a)
    x = a.data
    y = np.where(x > 0, x, x * x.dtype.type(negative_slope))
    return record("leaky_relu", y, (a,), lambda g, x, _y: (np.where(x > 0, g, g * negative_slope),))


def elu(a, alpha: float = 1.0) -> Tensor:
    """``a`` where a > 0, else ``alpha (exp(a) - 1)``.  dy/da = ``y + alpha`` where a <= 0 (alpha at 0), else 1."""
    a = _float_input("elu", a)
    x = a.data
    y = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return record("elu", y, (a,), lambda g, x, y: (np.where(x <= 0, g * (y + alpha), g),))


def selu(a) -> Tensor:
    """``scale * elu(a, alpha)`` with Klambauer et al.'s constants (self-normalising).

    dy/da = ``y + scale * alpha`` where a <= 0, else scale.
    """
    a = _float_input("selu", a)
    x = a.data
    y = SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))
    scaled_alpha = SELU_SCALE * SELU_ALPHA
    rule = lambda g, x, y: (np.where(x <= 0, g * (y + scaled_alpha), g * SELU_SCALE),)  # noqa: E731
    return record("selu", y.astype(x.dtype, copy=False), (a,), rule)


def _normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, on arrays or Tensors."""
    return 0.5 * (1 + erf_of(x * _SQRT_HALF))


def _gelu_tanh_inner(x):
    return np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))


def gelu(a, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``a Phi(a)``, Phi the standard normal CDF (Hendrycks and Gimpel 2016).

    ``approximate="none"``: exact, with ``erf``; dy/da = Phi(a) + a phi(a), phi the normal density.
    ``approximate="tanh"``: ``a (1 + t) / 2`` with ``t = tanh(sqrt(2/pi) (a + 0.044715 a**3))``;
    dy/da = (1 + t) / 2 + a (1 - t**2) sqrt(2/pi) (1 + 3 * 0.044715 a**2) / 2.
    """
    a = _float_input("gelu", a)
    x = a.data
    if approximate == "none":
        y = x * _normal_cdf(x)
        rule = lambda g, x, _y: (g * (_normal_cdf(x) + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)),)  # noqa: E731
    elif approximate == "tanh":
        y = 0.5 * x * (1 + _gelu_tanh_inner(x))

        def rule(g, x, _y):
            t = _gelu_tanh_inner(x)
            slope = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * slope),)

    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return record("gelu", y.astype(x.dtype, copy=False), (a,), rule)


def silu(a) -> Tensor:
    """``a sigmoid(a)`` (also called swish).  dy/da = s (1 + a (1 - s)), s = sigmoid(a)."""
    a = _float_input("silu", a)
    x = a.data

    def rule(g, x, _y):
        s = sigmoid_of(x)
        return (g * s * (1 + x * (1 - s)),)

    return record("silu", x * _stable_sigmoid(x), (a,), rule)


def softplus(a, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta a)) / beta``, smooth relu; ``a`` itself where ``beta a > threshold`` (as PyTorch).

    dy/da = sigmoid(beta a), and 1 above the threshold.
    """
    a = _float_input("softplus", a)
    x = a.data
    linear = x * beta > threshold
    y = np.where(linear, x, np.logaddexp(0, x * beta) / beta).astype(x.dtype, copy=False)
    return record("softplus", y, (a,), lambda g, x, _y: (np.where(linear, g, g * sigmoid_of(x * beta)),))


def logsigmoid(a) -> Tensor:
    """``log(sigmoid(a)) = -softplus(-a)``, without overflow.  dy/da = sigmoid(-a)."""
    a = _float_input("logsigmoid", a)
    x = a.data
    y = (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)
    return record("logsigmoid", y, (a,), lambda g, x, _y: (g * sigmoid_of(-x),))


def hardtanh(a, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``a`` clipped to [min_val, max_val].  dy/da = 0 at and beyond the bounds, else 1 (PyTorch's).

    (``clamp`` differs at the bounds: it passes the gradient there.)
    """
    a = _float_input("hardtanh", a)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) is larger than max_val ({max_val})")
    x = a.data
    passes = ~((x <= min_val) | (x >= max_val))
    return record("hardtanh", np.clip(x, min_val, max_val), (a,), lambda g, _x, _y: (g * passes,))


def relu6(a) -> Tensor:
    """``min(max(a, 0), 6)``: ``hardtanh(a, 0, 6)``, so the gradient is 0 at 0 and at 6 (as PyTorch)."""
    return hardtanh(a, 0.0, 6.0)


def hardsigmoid(a) -> Tensor:
    """``min(max(a + 3, 0), 6) / 6``.  dy/da = 1/6 strictly between -3 and 3, else 0 (at +-3 too)."""
    a = _float_input("hardsigmoid", a)
    x = a.data
    inside = (x > -3) & (x < 3)
    y = np.clip(x + 3, 0, 6) / x.dtype.type(6)
    return record("hardsigmoid", y, (a,), lambda g, _x, _y: (g * inside / 6,))


def hardswish(a) -> Tensor:
    """``a min(max(a + 3, 0), 6) / 6`` (Howard et al. 2019).  dy/da = 0 up to -3, a/3 + 1/2 below 3, 1 from 3 on:
    0 at -3 and 1 at 3 (as the product rule on ``a hardsigmoid(a)`` would give), 1 at NaN, 0 at -inf (which
    the product would make NaN), as PyTorch."""
    a = _float_input("hardswish", a)
    x = a.data
    y = x * np.clip(x + 3, 0, 6) / x.dtype.type(6)
    return record("hardswish", y, (a,), lambda g, x, _y: (np.where(x <= -3, 0, np.where(x < 3, g * (x / 3 + 0.5), g)),))


def softsign(a) -> Tensor:
    """``a / (1 + |a|)``.  dy/da = 1 / (1 + |a|)**2."""
    a = _float_input("softsign", a)
    return div(a, 1 + abs(a))


def mish(a) -> Tensor:
    """``a tanh(softplus(a))`` (Misra 2019).  dy/da = tanh(sp) + a sigmoid(a) (1 - tanh(sp)**2)."""
    a = _float_input("mish", a)
    return mul(a, tanh(softplus(a)))
