"""Element-wise ops. Each computes its value, then states its derivative in a line or two.

Binary ops broadcast like NumPy; their input gradients are summed back to the input shapes by the engine
(``reduces_broadcast=True``), so the rules below are written as if no broadcasting had happened.

Notation in the comments: ``g`` is the gradient of the loss with respect to the op's output ``y``.

Each rule is written in the NumPy API on its arguments ``(g, *inputs, y)``: arrays in a first-order backward,
Tensors in a ``create_graph`` backward, where the same line records itself and can be differentiated again.
"""

from __future__ import annotations

import numpy as np

from .._checks import ShapeError, check_broadcasts_to
from ..tensor import Tensor, array_of, as_tensor, implements, record
from ._util import broadcast_error, pair

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "sign", "tanh", "sigmoid", "relu",
    "clip", "where", "masked_fill", "lt", "le", "gt", "ge", "eq", "ne", "bitwise_and", "bitwise_or",
    "bitwise_not", "astype",
]


@implements(np.add)
def add(a, b) -> Tensor:
    """``a + b``.  dy/da = 1, dy/db = 1."""
    a, b = pair(a, b)
    try:
        y = a.data + b.data
    except ValueError:
        raise broadcast_error("add", a, b) from None
    return record("add", y, (a, b), lambda g, *_: (g, g), reduces_broadcast=True)


@implements(np.subtract)
def sub(a, b) -> Tensor:
    """``a - b``.  dy/da = 1, dy/db = -1."""
    a, b = pair(a, b)
    try:
        y = a.data - b.data
    except ValueError:
        raise broadcast_error("sub", a, b) from None
    return record("sub", y, (a, b), lambda g, *_: (g, -g), reduces_broadcast=True)


@implements(np.multiply)
def mul(a, b) -> Tensor:
    """``a * b``.  dy/da = b, dy/db = a."""
    a, b = pair(a, b)
    try:
        y = a.data * b.data
    except ValueError:
        raise broadcast_error("mul", a, b) from None
    return record("mul", y, (a, b), lambda g, x, w, _y: (g * w, g * x), reduces_broadcast=True)


@implements(np.true_divide)
def div(a, b) -> Tensor:
    """``a / b``, in floating point (``int / int`` is float32, as PyTorch).  dy/da = 1/b, dy/db = -a/b**2."""
    a, b = pair(a, b, floating=True)
    try:
        y = a.data / b.data
    except ValueError:
        raise broadcast_error("div", a, b) from None
    return record("div", y, (a, b), lambda g, _x, w, y: (g / w, -g * y / w), reduces_broadcast=True)


@implements(np.negative)
def neg(a) -> Tensor:
    """``-a``."""
    a = as_tensor(a)
    return record("neg", -a.data, (a,), lambda g, *_: (-g,))


@implements(np.power)
def pow(a, b) -> Tensor:
    """``a ** b``.  dy/da = b a**(b-1), dy/db = a**b log(a).

    As in PyTorch: dy/da is 0 where b == 0 (even at a == 0), dy/db is 0 at a == 0 for b >= 0 and NaN for a
    negative base (log(a) is undefined there).
    """
    a, b = pair(a, b)
    if a.dtype.kind in "iu" and np.any(b.data < 0):
        raise RuntimeError(f"pow: integers cannot be raised to negative powers (base dtype {a.dtype}); "
                           "use a float base")
    try:
        y = (a.data**b.data).astype(a.dtype, copy=False)  # bool ** bool is bool (NumPy says int8)
    except ValueError:
        raise broadcast_error("pow", a, b) from None

    # b a**(b-1) is 0 * inf or NaN where b == 0 and a is 0 or NaN; its value there is 0 (PyTorch's). Only those
    # points are masked: elsewhere b a**(b-1) is already 0 at b == 0, and stays differentiable in b.
    undefined = (b.data == 0) & ~(np.abs(a.data) > 0)

    def backward(g, x, p, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            ga = np.where(undefined, 0, g * p * x ** (p - 1)) if a.requires_grad else None
            gb = np.where((x == 0) & (p >= 0), 0, g * y * np.log(x)) if b.requires_grad else None
        return ga, gb

    return record("pow", y, (a, b), backward, reduces_broadcast=True)


@implements(np.exp)
def exp(a) -> Tensor:
    """``exp(a)``.  dy/da = y."""
    a = as_tensor(a)
    return record("exp", np.exp(a.data), (a,), lambda g, _x, y: (g * y,))


@implements(np.log)
def log(a) -> Tensor:
    """Natural logarithm.  dy/da = 1/a."""
    a = as_tensor(a)
    return record("log", np.log(a.data), (a,), lambda g, x, _y: (g / x,))


@implements(np.sqrt)
def sqrt(a) -> Tensor:
    """``sqrt(a)``.  dy/da = 1 / (2 y)."""
    a = as_tensor(a)
    return record("sqrt", np.sqrt(a.data), (a,), lambda g, _x, y: (g / (2 * y),))


@implements(np.absolute)
def abs(a) -> Tensor:
    """``|a|``.  dy/da = sign(a) (0 at 0 and at NaN, as in PyTorch)."""
    a = as_tensor(a)
    return record("abs", np.abs(a.data), (a,), lambda g, x, _y: (g * (x > 0) - g * (x < 0),))


@implements(np.sign)
def sign(a) -> Tensor:
    """-1, 0 or 1 as the sign of ``a``, and 0 for NaN (as ``torch.sign``).  dy/da = 0 everywhere, 0 included."""
    a = as_tensor(a)
    return record("sign", np.nan_to_num(np.sign(a.data), nan=0), (a,), lambda g, *_: (g * 0,))


@implements(np.tanh)
def tanh(a) -> Tensor:
    """``tanh(a)``.  dy/da = 1 - y**2."""
    a = as_tensor(a)
    return record("tanh", np.tanh(a.data), (a,), lambda g, _x, y: (g * (1 - y * y),))


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp is only ever taken of -|x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid(a) -> Tensor:
    """``1 / (1 + exp(-a))``, stable for large ``|a|``.  dy/da = y (1 - y)."""
    a = as_tensor(a)
    return record("sigmoid", _stable_sigmoid(a.data), (a,), lambda g, _x, y: (g * y * (1 - y),))


def sigmoid_of(x):
    """The sigmoid in the NumPy API, for backward rules: of an array an array (the stable formula), of a
    Tensor the recorded op (whose derivative ``y (1 - y)`` holds at 0, where the formula's ``|x|`` has a kink)."""
    return sigmoid(x) if isinstance(x, Tensor) else _stable_sigmoid(x)


def relu(a) -> Tensor:
    """``max(a, 0)``.  dy/da = 0 where a <= 0 (the kink included), else 1 (NaN passes ``g`` on), as in PyTorch."""
    a = as_tensor(a)
    return record("relu", np.maximum(a.data, 0), (a,), lambda g, x, _y: (np.where(x <= 0, 0, g),))


def clip(a, min=None, max=None) -> Tensor:
    """Clamp into ``[min, max]``: ``minimum(maximum(a, min), max)``, so ``max`` everywhere if min > max.

    dy/da = 1 where min <= a <= max (bounds included), else 0: everywhere 0 if min > max (PyTorch's ``clamp``).
    """
    a = as_tensor(a)
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    for bound in (min, max):
        if bound is not None and (isinstance(bound, Tensor) or np.ndim(bound) != 0):
            raise TypeError(f"clip: min and max must be numbers, got {type(bound).__name__} {bound!r}")
    x = a.data
    inside = np.ones(x.shape, dtype=bool)
    if min is not None:
        inside &= x >= min
    if max is not None:
        inside &= x <= max
    return record("clip", np.clip(x, min, max), (a,), lambda g, *_: (g * inside,))


def _as_mask(op: str, mask) -> np.ndarray:
    mask = array_of(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{op}: the condition must be a boolean array, got dtype {mask.dtype}")
    return mask


@implements(np.where)
def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (all three broadcast).  dy/da = cond, dy/db = not cond."""
    cond = _as_mask("where", condition)
    a, b = pair(a, b)
    try:
        y = np.where(cond, a.data, b.data)
    except ValueError:
        raise ShapeError(
            f"where: shapes {cond.shape} (condition), {a.shape} and {b.shape} do not broadcast"
        ) from None
    return record(
        "where", y, (a, b), lambda g, *_: (np.where(cond, g, 0), np.where(cond, 0, g)), reduces_broadcast=True
    )


def masked_fill(a, mask, value) -> Tensor:
    """``a`` with ``value`` wherever ``mask`` is True (mask broadcasts to ``a``'s shape)."""
    a = as_tensor(a)
    mask = _as_mask("masked_fill", mask)
    check_broadcasts_to("masked_fill", "mask", mask.shape, a.shape)
    return where(mask, np.asarray(value, dtype=a.dtype), a)


def astype(a, dtype) -> Tensor:
    """The same values in another dtype; the gradient is cast back. A non-float result has no gradient."""
    a = as_tensor(a)
    y = a.data.astype(dtype)
    if y.dtype.kind != "f":
        return Tensor(y)
    source = a.dtype
    return record("astype", y, (a,), lambda g, *_: (g.astype(source),))


def _comparison(name: str, ufunc, doc: str):
    """The no-gradient op ``name``: ``ufunc`` of two tensors (NumPy's broadcasting), as a new Tensor, with a
    one-line error when the shapes do not broadcast; registered as what ``ufunc`` does on Tensors."""

    def op(a, b) -> Tensor:
        a, b = pair(a, b)
        try:
            return Tensor(ufunc(a.data, b.data))
        except ValueError:
            raise broadcast_error(name, a, b) from None

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return implements(ufunc)(op)


lt = _comparison("lt", np.less, "``a < b`` as a boolean tensor (comparisons have no gradient).")
le = _comparison("le", np.less_equal, "``a <= b`` as a boolean tensor (no gradient).")
gt = _comparison("gt", np.greater, "``a > b`` as a boolean tensor (no gradient).")
ge = _comparison("ge", np.greater_equal, "``a >= b`` as a boolean tensor (no gradient).")
eq = _comparison("eq", np.equal, "``a == b`` as a boolean tensor (no gradient).")
ne = _comparison("ne", np.not_equal, "``a != b`` as a boolean tensor (no gradient).")
bitwise_and = _comparison(
    "bitwise_and", np.bitwise_and, "``a & b``: logical and of boolean tensors (bitwise for integers); no gradient."
)
bitwise_or = _comparison(
    "bitwise_or", np.bitwise_or, "``a | b``: logical or of boolean tensors (bitwise for integers); no gradient."
)


@implements(np.invert)
def bitwise_not(a) -> Tensor:
    """``~a``: logical not of a boolean tensor (bitwise for integers); no gradient."""
    return Tensor(np.invert(as_tensor(a).data))
