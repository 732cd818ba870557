"""Element-wise mathematics beyond the arithmetic of :mod:`.elementwise`: trigonometric and hyperbolic
functions, logarithms and exponentials in other bases, rounding, ``maximum``/``minimum``, ``//`` and ``%``,
``erf``, and the tests ``isnan``/``isinf``/``isfinite``/``isclose``.

Each op computes its value with NumPy and states its derivative beside it, as a rule
``rule(g, *inputs, out)`` written only with arithmetic, NumPy ufuncs and ``np.where`` on its arguments, so
that the same rule differentiates again when the engine passes Tensors (see :mod:`microseq.autograd`).
Masks (where an input wins a tie, where a point is singular) are constants and may be closed over. Each op is
registered (``@implements``) as what its NumPy ufunc does on a Tensor, so that ``np.cos(x)`` in a rule is
``cos(x)`` when the engine differentiates the rule again (``erf_of`` plays that part for SciPy's ``erf``).

Conventions (PyTorch's):

- Integer inputs of the floating-point functions (``sin``, ``log2``, ``erf``...) are computed in float32.
- Outside a function's domain the value is NaN or +-inf, silently (``asin(2)`` is NaN, ``log1p(-1)`` -inf),
  and so is the derivative at a singular point (``asin'(1) = inf``).
- ``maximum``/``minimum`` give a tie half of the gradient each; a NaN operand gives both the whole gradient.
- Rounding (``floor``, ``ceil``, ``round``, ``trunc``, ``//``) has gradient 0 everywhere (``sign`` too, which
  lives in :mod:`.elementwise`).
- ``a // b`` rounds the quotient down and ``a % b`` takes the sign of ``b`` (Python's and PyTorch's
  convention, not C's); integer division by 0 is a ``ZeroDivisionError``.
"""

from __future__ import annotations

import numpy as np

from ..tensor import DEFAULT_FLOAT, Tensor, as_tensor, implements, record
from ._util import broadcast_error, pair

__all__ = [
    "maximum", "minimum", "floor", "ceil", "round", "trunc", "floor_divide", "remainder",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh",
    "log2", "log10", "log1p", "expm1", "exp2", "rsqrt", "square", "reciprocal", "logaddexp", "xlogy",
    "lerp", "erf", "isnan", "isinf", "isfinite", "isclose",
    "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh",
]

_LN2, _LN10 = np.log(2.0), np.log(10.0)
_TWO_OVER_SQRT_PI = 2 / np.sqrt(np.pi)


def _floating(a) -> Tensor:
    """``a`` as a tensor; integers and booleans become float32, PyTorch's default float."""
    a = as_tensor(a)
    return a if a.dtype.kind in "fc" else Tensor(a.data.astype(DEFAULT_FLOAT))


def _binary(op: str, ufunc, a, b):
    """Both operands as tensors and ``ufunc`` of their values, with a one-line error if they don't broadcast."""
    a, b = pair(a, b)
    try:
        with np.errstate(all="ignore"):
            return a, b, ufunc(a.data, b.data)
    except ValueError:
        raise broadcast_error(op, a, b) from None


def _unary(op: str, ufunc, a, rule) -> Tensor:
    """A float function of one tensor: NaN/inf outside its domain, silently."""
    a = _floating(a)
    with np.errstate(all="ignore"):
        y = ufunc(a.data)
    return record(op, y, (a,), rule)


def _zero_gradient(g, _x, _y):
    """The gradient of a step function: 0 everywhere (PyTorch gives zeros, not None)."""
    return (np.zeros(g.shape, g.dtype),)


# -- maximum, minimum ---------------------------------------------------------------------------------
def _extremum(op: str, ufunc, a, b) -> Tensor:
    a, b, y = _binary(op, ufunc, a, b)
    x, w = a.data, b.data
    tie = x == w
    a_loses, b_loses = (x < w, x > w) if ufunc is np.maximum else (x > w, x < w)

    def rule(g, _x, _w, _y):
        half = g * 0.5
        return np.where(tie, half, np.where(a_loses, 0, g)), np.where(tie, half, np.where(b_loses, 0, g))

    return record(op, y, (a, b), rule, reduces_broadcast=True)


@implements(np.maximum)
def maximum(a, b) -> Tensor:
    """Element-wise larger of ``a`` and ``b`` (NaN if either is NaN).

    dy/da = 1 where a > b, 0 where a < b, 1/2 at a tie (PyTorch's split); a NaN gives both inputs the gradient.
    """
    return _extremum("maximum", np.maximum, a, b)


@implements(np.minimum)
def minimum(a, b) -> Tensor:
    """Element-wise smaller of ``a`` and ``b``; gradient as :func:`maximum`, with the roles exchanged."""
    return _extremum("minimum", np.minimum, a, b)


# -- rounding: gradient 0 ---------------------------------------------------------------------------
def _step(op: str, ufunc, a) -> Tensor:
    a = as_tensor(a)
    return record(op, ufunc(a.data), (a,), _zero_gradient)


@implements(np.floor)
def floor(a) -> Tensor:
    """Largest integer <= a.  dy/da = 0."""
    return _step("floor", np.floor, a)


@implements(np.ceil)
def ceil(a) -> Tensor:
    """Smallest integer >= a.  dy/da = 0."""
    return _step("ceil", np.ceil, a)


@implements(np.trunc)
def trunc(a) -> Tensor:
    """Round towards 0.  dy/da = 0."""
    return _step("trunc", np.trunc, a)


@implements(np.round)
def round(a, decimals: int = 0) -> Tensor:
    """Round to ``decimals`` places, halves to even (``round(0.5) == 0``, ``round(1.5) == 2``).  dy/da = 0."""
    a = as_tensor(a)
    return record("round", np.round(a.data, decimals), (a,), _zero_gradient)


def _check_integer_division(op: str, a: Tensor, b: Tensor) -> None:
    if b.dtype.kind in "iub" and a.dtype.kind in "iub" and np.any(b.data == 0):
        raise ZeroDivisionError(f"{op}: integer division by zero")


@implements(np.floor_divide)
def floor_divide(a, b) -> Tensor:
    """``a // b``: the quotient rounded down (``-5 // 2 == -3``), as Python and PyTorch.  Gradient 0."""
    a, b = pair(a, b)
    _check_integer_division("floor_divide", a, b)
    a, b, y = _binary("floor_divide", np.floor_divide, a, b)
    rule = lambda g, _x, _w, _y: (np.zeros(g.shape, g.dtype), np.zeros(g.shape, g.dtype))  # noqa: E731
    return record("floor_divide", y, (a, b), rule, reduces_broadcast=True)


@implements(np.remainder)
def remainder(a, b) -> Tensor:
    """``a % b = a - b * floor(a / b)``, with the sign of ``b`` (``-5 % 2 == 1``), as Python and PyTorch.

    dy/da = 1, dy/db = -floor(a / b) (both as PyTorch; NaN remainder at b = 0).
    """
    a, b = pair(a, b)
    _check_integer_division("remainder", a, b)
    a, b, y = _binary("remainder", np.remainder, a, b)
    with np.errstate(all="ignore"):
        quotient = np.floor_divide(a.data, b.data)
    return record("remainder", y, (a, b), lambda g, _x, _w, _y: (g, -g * quotient), reduces_broadcast=True)


# -- trigonometric and hyperbolic ---------------------------------------------------------------------
@implements(np.sin)
def sin(a) -> Tensor:
    """``sin(a)``.  dy/da = cos(a)."""
    return _unary("sin", np.sin, a, lambda g, x, _y: (g * np.cos(x),))


@implements(np.cos)
def cos(a) -> Tensor:
    """``cos(a)``.  dy/da = -sin(a)."""
    return _unary("cos", np.cos, a, lambda g, x, _y: (-g * np.sin(x),))


@implements(np.tan)
def tan(a) -> Tensor:
    """``tan(a)``.  dy/da = 1 + y**2."""
    return _unary("tan", np.tan, a, lambda g, _x, y: (g * (1 + y * y),))


@implements(np.arcsin)
def asin(a) -> Tensor:
    """``arcsin(a)`` on [-1, 1].  dy/da = 1 / sqrt(1 - a**2) (inf at +-1)."""
    return _unary("asin", np.arcsin, a, lambda g, x, _y: (g / np.sqrt(1 - x * x),))


@implements(np.arccos)
def acos(a) -> Tensor:
    """``arccos(a)`` on [-1, 1].  dy/da = -1 / sqrt(1 - a**2) (-inf at +-1)."""
    return _unary("acos", np.arccos, a, lambda g, x, _y: (-g / np.sqrt(1 - x * x),))


@implements(np.arctan)
def atan(a) -> Tensor:
    """``arctan(a)``.  dy/da = 1 / (1 + a**2)."""
    return _unary("atan", np.arctan, a, lambda g, x, _y: (g / (1 + x * x),))


@implements(np.arctan2)
def atan2(a, b) -> Tensor:
    """The angle of the point (b, a): ``arctan(a / b)`` in the right quadrant, in [-pi, pi].

    dy/da = b / (a**2 + b**2), dy/db = -a / (a**2 + b**2); both 0 at the origin (as PyTorch).
    """
    a, b = pair(a, b, floating=True)
    a, b, y = _binary("atan2", np.arctan2, a, b)
    origin = (a.data == 0) & (b.data == 0)  # 1 is added to the radius there: 0 / 1 instead of 0 / 0

    def rule(g, x, w, _y):
        r2 = x * x + w * w + origin
        return g * w / r2, -g * x / r2

    return record("atan2", y, (a, b), rule, reduces_broadcast=True)


@implements(np.sinh)
def sinh(a) -> Tensor:
    """``sinh(a)``.  dy/da = cosh(a)."""
    return _unary("sinh", np.sinh, a, lambda g, x, _y: (g * np.cosh(x),))


@implements(np.cosh)
def cosh(a) -> Tensor:
    """``cosh(a)``.  dy/da = sinh(a)."""
    return _unary("cosh", np.cosh, a, lambda g, x, _y: (g * np.sinh(x),))


@implements(np.arcsinh)
def asinh(a) -> Tensor:
    """``arcsinh(a)``.  dy/da = 1 / sqrt(a**2 + 1)."""
    return _unary("asinh", np.arcsinh, a, lambda g, x, _y: (g / np.sqrt(x * x + 1),))


@implements(np.arccosh)
def acosh(a) -> Tensor:
    """``arccosh(a)`` on [1, inf).  dy/da = 1 / sqrt(a**2 - 1) (inf at 1)."""
    return _unary("acosh", np.arccosh, a, lambda g, x, _y: (g / np.sqrt(x * x - 1),))


@implements(np.arctanh)
def atanh(a) -> Tensor:
    """``arctanh(a)`` on [-1, 1].  dy/da = 1 / (1 - a**2) (inf at +-1)."""
    return _unary("atanh", np.arctanh, a, lambda g, x, _y: (g / (1 - x * x),))


# -- logarithms and exponentials ------------------------------------------------------------------------
@implements(np.log2)
def log2(a) -> Tensor:
    """Base-2 logarithm.  dy/da = 1 / (a ln 2)."""
    return _unary("log2", np.log2, a, lambda g, x, _y: (g / (x * _LN2),))


@implements(np.log10)
def log10(a) -> Tensor:
    """Base-10 logarithm.  dy/da = 1 / (a ln 10)."""
    return _unary("log10", np.log10, a, lambda g, x, _y: (g / (x * _LN10),))


@implements(np.log1p)
def log1p(a) -> Tensor:
    """``log(1 + a)``, accurate for small ``a`` (-inf at -1).  dy/da = 1 / (1 + a)."""
    return _unary("log1p", np.log1p, a, lambda g, x, _y: (g / (1 + x),))


@implements(np.expm1)
def expm1(a) -> Tensor:
    """``exp(a) - 1``, accurate for small ``a``.  dy/da = y + 1."""
    return _unary("expm1", np.expm1, a, lambda g, _x, y: (g * (y + 1),))


@implements(np.exp2)
def exp2(a) -> Tensor:
    """``2**a``.  dy/da = y ln 2."""
    return _unary("exp2", np.exp2, a, lambda g, _x, y: (g * y * _LN2,))


def rsqrt(a) -> Tensor:
    """``1 / sqrt(a)`` (inf at 0).  dy/da = -y**3 / 2."""
    return _unary("rsqrt", lambda x: 1 / np.sqrt(x), a, lambda g, _x, y: (-0.5 * g * y * y * y,))


@implements(np.square)
def square(a) -> Tensor:
    """``a * a``.  dy/da = 2 a."""
    a = as_tensor(a)
    return record("square", np.square(a.data), (a,), lambda g, x, _y: (2 * g * x,))


@implements(np.reciprocal)
def reciprocal(a) -> Tensor:
    """``1 / a`` (inf at 0).  dy/da = -y**2."""
    return _unary("reciprocal", np.reciprocal, a, lambda g, _x, y: (-g * y * y,))


@implements(np.logaddexp)
def logaddexp(a, b) -> Tensor:
    """``log(exp(a) + exp(b))`` without overflow.

    dy/da = 1 / (1 + exp(b - a)), dy/db = 1 / (1 + exp(a - b)): PyTorch's form, NaN where both are the same
    infinity.
    """
    a, b = pair(a, b, floating=True)
    a, b, y = _binary("logaddexp", np.logaddexp, a, b)
    rule = lambda g, x, w, _y: (g / (1 + np.exp(w - x)), g / (1 + np.exp(x - w)))  # noqa: E731
    return record("logaddexp", y, (a, b), rule, reduces_broadcast=True)


def xlogy(a, b) -> Tensor:
    """``a * log(b)``, and 0 wherever ``a == 0`` (also at b = 0), as PyTorch's ``xlogy``.

    dy/da = log(b), but 0 where a == 0 and b <= 0 (PyTorch's choice); dy/db = a / b (NaN at a = b = 0).
    """
    a, b = pair(a, b, floating=True)
    from scipy import special  # on first use: ``import microseq`` does not load SciPy

    a, b, y = _binary("xlogy", special.xlogy, a, b)
    no_log = (a.data == 0) & (b.data <= 0)

    def rule(g, x, w, _y):
        return np.where(no_log, 0, g * np.log(w)), g * x / w

    return record("xlogy", y, (a, b), rule, reduces_broadcast=True)


def lerp(start, end, weight) -> Tensor:
    """Linear interpolation ``start + weight (end - start)``, all three broadcasting.

    Computed as PyTorch does, from the nearer end (``end - (end - start)(1 - weight)`` when weight >= 1/2),
    so that ``weight = 1`` gives ``end`` exactly.  dy/dstart = 1 - weight, dy/dend = weight,
    dy/dweight = end - start.
    """
    start, end = pair(start, end)
    weight = as_tensor(weight) if isinstance(weight, Tensor) else Tensor(np.asarray(weight, dtype=start.dtype))
    x0, x1, w = start.data, end.data, weight.data
    try:
        near_end = np.abs(w) >= 0.5
        y = np.where(near_end, x1 - (x1 - x0) * (1 - w), x0 + w * (x1 - x0))
    except ValueError:
        raise broadcast_error("lerp", start, end, weight) from None
    rule = lambda g, s, e, w, _y: (g * (1 - w), g * w, g * (e - s))  # noqa: E731
    return record("lerp", y, (start, end, weight), rule, reduces_broadcast=True)


def erf(a) -> Tensor:
    """The error function ``2/sqrt(pi) int_0^a exp(-t**2) dt`` (SciPy's).  dy/da = 2/sqrt(pi) exp(-a**2)."""
    from scipy import special  # on first use: ``import microseq`` does not load SciPy

    return _unary("erf", special.erf, a, lambda g, x, _y: (g * _TWO_OVER_SQRT_PI * np.exp(-x * x),))


def erf_of(x):
    """``erf`` in the NumPy API, for backward rules: of an array an array (SciPy's), of a Tensor the recorded op
    (SciPy is not imported by ``import microseq``, so ``special.erf`` cannot be registered as a Tensor ufunc)."""
    if isinstance(x, Tensor):
        return erf(x)
    from scipy import special

    return special.erf(x)


# NumPy's names for the inverse functions (PyTorch has both).
arcsin, arccos, arctan, arctan2, arcsinh, arccosh, arctanh = asin, acos, atan, atan2, asinh, acosh, atanh



# -- tests: boolean results, no gradient ------------------------------------------------------------------
def _test(ufunc, a) -> Tensor:
    return Tensor(ufunc(as_tensor(a).data))


@implements(np.isnan)
def isnan(a) -> Tensor:
    """True where ``a`` is NaN (a boolean tensor, no gradient)."""
    return _test(np.isnan, a)


@implements(np.isinf)
def isinf(a) -> Tensor:
    """True where ``a`` is +inf or -inf."""
    return _test(np.isinf, a)


@implements(np.isfinite)
def isfinite(a) -> Tensor:
    """True where ``a`` is neither infinite nor NaN."""
    return _test(np.isfinite, a)


@implements(np.isclose)
def isclose(a, b, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """True where ``|a - b| <= atol + rtol |b|`` (PyTorch's and NumPy's test); NaNs are equal only with
    ``equal_nan``."""
    a, b = pair(a, b)
    try:
        return Tensor(np.isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise broadcast_error("isclose", a, b) from None
