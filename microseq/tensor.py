"""``Tensor``: a NumPy array that remembers how it was computed.

A tensor holds its values in ``data`` (a plain ``numpy.ndarray``). If it ``requires_grad``, operations on it
are recorded on the tape (see :mod:`microseq.autograd`) and ``backward()`` fills ``grad`` with the gradient of
an output with respect to it. Leaves (tensors made by the user, like parameters) keep their gradient; the
intermediate results of ops only pass it on, unless ``retain_grad()`` was called on them.
"""

from __future__ import annotations

import reprlib

import numpy as np

from . import autograd
from ._checks import check_broadcasts_to
from .autograd import Node, VersionCounter, _grad_mode

__all__ = [
    "Tensor", "tensor", "as_tensor", "record", "implements", "zeros", "ones", "randn", "rand", "arange", "full",
]

DEFAULT_FLOAT = np.float32

# NumPy ufunc or function -> the microseq op that does the same on Tensors (filled by ``@implements``).
_NUMPY_EQUIVALENTS: dict = {}
# NumPy functions that only read a Tensor's shape: they keep working as they did before ``__array_function__``.
_SHAPE_QUERIES = (np.shape, np.ndim, np.size)


def implements(*numpy_functions):
    """Register the decorated microseq op as what these NumPy ufuncs or functions do when given a Tensor.

    Then ``np.exp(t)`` is ``ms.exp(t)`` and ``np.where(c, t, 0)`` is ``ms.where(c, t, 0)``: a backward rule
    written in the NumPy API runs on arrays in a first-order backward and records itself on Tensors in a
    ``create_graph`` backward. (NumPy's protocols: NEP 13 for ufuncs, NEP 18 for functions.)

    Examples
    --------
    >>> @implements(np.exp)  # doctest: +SKIP
    ... def exp(a): ...
    """

    def register(op):
        for function in numpy_functions:
            _NUMPY_EQUIVALENTS[function] = op
        return op

    return register


def _to_array(data, dtype=None) -> np.ndarray:
    """Array for ``data``: NumPy arrays and scalars keep their dtype; Python floats become float32, ints int64.

    (A NumPy scalar is what an op on 0-d arrays returns: ``np.float64`` must stay float64.) Only real numbers
    (bool, int, float) are accepted: strings, None, dicts, complex numbers and object arrays are refused here,
    before NumPy could turn them into something that fails far from the cause.
    """
    if isinstance(data, Tensor):
        data = data.data
    array = data if isinstance(data, np.ndarray) else np.asarray(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor: expected real numbers (bool, int or float), got {type(data).__name__} "
                        f"{reprlib.repr(data)} (NumPy dtype {array.dtype})")
    if dtype is not None:
        if np.dtype(dtype).kind not in "biuf":
            raise TypeError(f"Tensor: dtype must be a bool, int or float type, got {np.dtype(dtype)}")
        return array if array.dtype == dtype else array.astype(dtype)
    from_python = not isinstance(data, (np.ndarray, np.generic))
    return array.astype(DEFAULT_FLOAT) if from_python and array.dtype == np.float64 else array


class Tensor:
    """An array with an optional gradient and a place on the tape.

    Parameters
    ----------
    data : array_like
        The values. A NumPy array is wrapped without copying (use :func:`tensor` for a copy).
    requires_grad : bool
        Record ops on this tensor so that ``backward`` can compute its gradient. Floating dtypes only.
    dtype : numpy dtype, optional
        Convert ``data`` to this dtype. Default: the array's own dtype; float32 for Python floats.

    Attributes
    ----------
    data : numpy.ndarray
    grad : numpy.ndarray, Tensor or None
        Accumulated gradient, of ``data``'s shape and dtype: an ndarray, or a Tensor with a history after
        ``backward(create_graph=True)``. ``zero_grad()`` or ``grad = None`` clears it.
    """

    __slots__ = ("data", "requires_grad", "grad", "_node", "_version", "_base", "__weakref__")

    def __init__(self, data, requires_grad: bool = False, dtype=None) -> None:
        self.data = _to_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"Tensor: only floating-point tensors can require grad, got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._node = None
        self._version = VersionCounter()
        self._base = None

    # -- basic properties -----------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert to a number, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, threshold=50, prefix="tensor(")
        extras = [] if self.dtype == DEFAULT_FLOAT else [f"dtype={self.dtype}"]
        if self._node is not None:
            extras.append(f"grad_fn={self._node.op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    __hash__ = object.__hash__

    # -- NumPy on Tensors: ufuncs and functions run the matching microseq op ------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(t)``, ``ndarray * t``: the registered microseq op (see :func:`implements`), so the result
        is a Tensor and is recorded. NotImplemented (NumPy then raises TypeError) for other ufuncs, for
        methods such as ``reduce`` or ``at``, and for ``out=`` (a Tensor is not written into by NumPy)."""
        op = _NUMPY_EQUIVALENTS.get(ufunc)
        if op is None or method != "__call__" or kwargs:
            return NotImplemented
        return op(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        """``np.sum(t, axis=0)``, ``np.where(c, t, 0)``, ``np.concatenate([t, u])``: the registered microseq op;
        ``np.shape``/``ndim``/``size`` as before; NotImplemented (a TypeError) for any other function."""
        op = _NUMPY_EQUIVALENTS.get(func)
        if op is not None:
            return op(*args, **kwargs)
        if func in _SHAPE_QUERIES:
            return func._implementation(*args, **kwargs)
        return NotImplemented

    # -- autograd -------------------------------------------------------------------------------
    #: ``t.backward(grad=None, retain_graph=None, create_graph=False)`` accumulates the gradient of ``t`` into
    #: ``.grad`` of every leaf it depends on: :func:`microseq.autograd.backward` with ``t`` as the root (the
    #: function itself rather than a method that calls it: one Python call less per backward).
    backward = autograd.backward

    def detach(self) -> "Tensor":
        """The same values, cut from the tape (shares memory, like PyTorch)."""
        out = Tensor(self.data)
        out._version = self._version
        return out

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"requires_grad_: dtype {self.dtype} cannot require grad")
        self.requires_grad = requires_grad
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def retain_grad(self) -> "Tensor":
        """Keep the gradient of this intermediate result in ``.grad`` at the next backward."""
        if self._node is not None:
            self._node.retained_output = self
        return self

    # -- in-place modification (never recorded; bumps the version counter) ------------------------
    def _begin_in_place(self, op: str) -> None:
        if self.requires_grad and _grad_mode.enabled:
            raise RuntimeError(
                f"{op}: in-place change of a tensor that requires grad while recording; "
                "wrap it in microseq.no_grad() (as optimizers do) or work on a copy"
            )
        tensor = self
        while tensor is not None:  # a view shares its base's memory: warn the base's producer too
            node = tensor._node
            if node is not None and node.backward is not None and node.saves(tensor.data):
                node.mutated_after_save = (
                    f"{node.op}: its output (shape {tensor.shape}) was modified in place by {op} after it was "
                    "saved for backward; the gradient would be wrong"
                )
            tensor = tensor._base
        self._version.value += 1

    def _in_place(self, op: str, ufunc, other) -> "Tensor":
        self._begin_in_place(op)
        ufunc(self.data, _in_place_operand(other), out=self.data, casting="same_kind")
        return self

    def add_(self, other) -> "Tensor":
        return self._in_place("add_", np.add, other)

    def sub_(self, other) -> "Tensor":
        return self._in_place("sub_", np.subtract, other)

    def mul_(self, other) -> "Tensor":
        return self._in_place("mul_", np.multiply, other)

    def div_(self, other) -> "Tensor":
        return self._in_place("div_", np.divide, other)

    def copy_(self, other) -> "Tensor":
        source = _in_place_operand(other)
        check_broadcasts_to("copy_", "source", np.shape(source), self.shape)
        self._begin_in_place("copy_")
        np.copyto(self.data, source, casting="same_kind")
        return self

    def fill_(self, value) -> "Tensor":
        self._begin_in_place("fill_")
        self.data.fill(value)
        return self

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def __setitem__(self, index, value) -> None:
        self._begin_in_place("__setitem__")
        self.data[_unwrap_index(index)] = _in_place_operand(value)

    # -- operators (the ops themselves live in microseq.ops) --------------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    def __rpow__(self, base):
        return _ops.pow(base, self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __abs__(self):
        return _ops.abs(self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __and__(self, other):
        return _ops.bitwise_and(self, other)

    def __rand__(self, other):
        return _ops.bitwise_and(other, self)

    def __or__(self, other):
        return _ops.bitwise_or(self, other)

    def __ror__(self, other):
        return _ops.bitwise_or(other, self)

    def __invert__(self):
        return _ops.bitwise_not(self)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    # -- methods that mirror the functional ops ----------------------------------------------------
    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def abs(self):
        return _ops.abs(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    # element-wise mathematics (microseq.ops.math)
    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def tan(self):
        return _ops.tan(self)

    def asin(self):
        return _ops.asin(self)

    def acos(self):
        return _ops.acos(self)

    def atan(self):
        return _ops.atan(self)

    def sinh(self):
        return _ops.sinh(self)

    def cosh(self):
        return _ops.cosh(self)

    def asinh(self):
        return _ops.asinh(self)

    def acosh(self):
        return _ops.acosh(self)

    def atanh(self):
        return _ops.atanh(self)

    def log2(self):
        return _ops.log2(self)

    def log10(self):
        return _ops.log10(self)

    def log1p(self):
        return _ops.log1p(self)

    def expm1(self):
        return _ops.expm1(self)

    def exp2(self):
        return _ops.exp2(self)

    def rsqrt(self):
        return _ops.rsqrt(self)

    def square(self):
        return _ops.square(self)

    def reciprocal(self):
        return _ops.reciprocal(self)

    def erf(self):
        return _ops.erf(self)

    def sign(self):
        return _ops.sign(self)

    def floor(self):
        return _ops.floor(self)

    def ceil(self):
        return _ops.ceil(self)

    def trunc(self):
        return _ops.trunc(self)

    def isnan(self):
        return _ops.isnan(self)

    def isinf(self):
        return _ops.isinf(self)

    def isfinite(self):
        return _ops.isfinite(self)

    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh

    def round(self, decimals=0):
        return _ops.round(self, decimals)

    def atan2(self, other):
        return _ops.atan2(self, other)

    arctan2 = atan2

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    def logaddexp(self, other):
        return _ops.logaddexp(self, other)

    def xlogy(self, other):
        return _ops.xlogy(self, other)

    def lerp(self, end, weight):
        return _ops.lerp(self, end, weight)

    def floor_divide(self, other):
        return _ops.floor_divide(self, other)

    def remainder(self, other):
        return _ops.remainder(self, other)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ops.isclose(self, other, rtol, atol, equal_nan)

    def clip(self, min=None, max=None):
        return _ops.clip(self, min, max)

    clamp = clip

    def sum(self, axis=None, keepdims=False, dtype=None):
        return _ops.sum(self, axis, keepdims, dtype)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        """Values over ``axis``, or PyTorch's ``(values, indices)`` with ``dim=``: see :func:`microseq.max`."""
        return _ops.max(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        return _ops.min(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _ops.argmin(self, dim, keepdim)

    def logsumexp(self, axis=None, keepdims=False):
        return _ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis=-1):
        return _ops.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return _ops.log_softmax(self, axis)

    def reshape(self, *shape):
        return _ops.reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def transpose(self, *axes):
        return _ops.transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else (axes or None))

    def permute(self, *axes):
        return _ops.transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes)

    def swapaxes(self, axis1: int, axis2: int):
        return _ops.swapaxes(self, axis1, axis2)

    @property
    def T(self):
        return _ops.transpose(self, None)

    def unsqueeze(self, axis: int):
        return _ops.unsqueeze(self, axis)

    def squeeze(self, axis=None):
        return _ops.squeeze(self, axis)

    def split(self, split_size_or_sections, axis=0):
        return _ops.split(self, split_size_or_sections, axis)

    def chunk(self, chunks: int, axis=0):
        return _ops.chunk(self, chunks, axis)

    def masked_fill(self, mask, value):
        return _ops.masked_fill(self, mask, value)

    def astype(self, dtype):
        return _ops.astype(self, dtype)

    def float(self):
        return _ops.astype(self, np.float32)

    def double(self):
        return _ops.astype(self, np.float64)

    # -- layout, statistics and indexing methods (PyTorch's names and arguments: dim, keepdim) -------
    def expand(self, *sizes):
        return _ops.expand(self, *sizes)

    def expand_as(self, other):
        return _ops.broadcast_to(self, other.shape)

    def broadcast_to(self, shape):
        return _ops.broadcast_to(self, shape)

    def flip(self, *dims):
        return _ops.flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)

    def roll(self, shifts, dims=None):
        return _ops.roll(self, shifts, dims)

    def repeat(self, *sizes):
        return _ops.repeat(self, *sizes)

    def tile(self, *dims):
        return _ops.tile(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)

    def repeat_interleave(self, repeats, dim=None):
        return _ops.repeat_interleave(self, repeats, dim)

    def tril(self, diagonal=0):
        return _ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _ops.triu(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return _ops.diagonal(self, offset, dim1, dim2)

    def unflatten(self, dim, sizes):
        return _ops.unflatten(self, dim, sizes)

    def movedim(self, source, destination):
        return _ops.movedim(self, source, destination)

    def narrow(self, dim, start, length):
        return _ops.narrow(self, dim, start, length)

    def prod(self, dim=None, keepdim=False, dtype=None):
        return _ops.prod(self, dim, keepdim, dtype)

    def cumsum(self, dim, dtype=None):
        return _ops.cumsum(self, dim, dtype)

    def cumprod(self, dim, dtype=None):
        return _ops.cumprod(self, dim, dtype)

    def var(self, dim=None, *, correction=1, keepdim=False):
        return _ops.var(self, dim, correction=correction, keepdim=keepdim)

    def std(self, dim=None, *, correction=1, keepdim=False):
        return _ops.std(self, dim, correction=correction, keepdim=keepdim)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _ops.norm(self, p, dim, keepdim, dtype)

    def amax(self, dim=(), keepdim=False):
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return _ops.amin(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _ops.any(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return _ops.all(self, dim, keepdim)

    def gather(self, dim, index):
        return _ops.gather(self, dim, index)

    def scatter(self, dim, index, src=None, value=None):
        return _ops.scatter(self, dim, index, src, value)

    def scatter_add(self, dim, index, src):
        return _ops.scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        return _ops.index_select(self, dim, index)

    def index_add(self, dim, index, source, alpha=1):
        return _ops.index_add(self, dim, index, source, alpha)

    def take_along_dim(self, indices, dim=None):
        return _ops.take_along_dim(self, indices, dim)

    def sort(self, dim=-1, descending=False, stable=False):
        return _ops.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _ops.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _ops.topk(self, k, dim, largest, sorted)


def _in_place_operand(value):
    """The right-hand side of an in-place op: the destination's dtype decides the precision, so a Python
    number or list is not first rounded to float32 (as ``_to_array`` would) when written into float64."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (bool, int, float)):
        return value  # NumPy 2 takes a Python number in the array's dtype (as PyTorch does)
    return np.asarray(value)


def _unwrap_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def constant(data: np.ndarray) -> Tensor:
    """A tensor that requires no grad around ``data``, an ndarray of a real dtype taken as it is: what an op
    makes of a Python number next to a tensor, without the checks of ``Tensor(data)`` (0.41 instead of 0.67 us,
    for ops such as ``1 - z`` that a recurrent cell runs at every step)."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out.requires_grad = False
    out.grad = None
    out._node = None
    out._version = VersionCounter()
    out._base = None
    return out


def record(op: str, data: np.ndarray, inputs: tuple, backward, reduces_broadcast: bool = False, view_of=None) -> Tensor:
    """Wrap an op's result in a Tensor and, if any input needs a gradient, put the op on the tape.

    Parameters
    ----------
    op : str
        The op's name, shown in errors and in the printed tape.
    data : numpy.ndarray
        The op's result.
    inputs : tuple of Tensor
        The op's tensor inputs, in the order ``backward`` returns their gradients.
    backward : callable
        ``backward(g, *input_values, out) -> tuple`` of gradients (None where an input gets none); a rule that
        reads none of the values takes ``(g, *_)``. Written in the NumPy API on its arguments (arrays in a
        first-order backward, Tensors under ``create_graph``), closing over constants only; see
        :class:`microseq.autograd.Node`.
    reduces_broadcast : bool
        The op broadcasts its inputs: sum their gradients back to their shapes.
    view_of : Tensor, optional
        The result shares memory with this input: they share the version counter too.
    """
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out._base = view_of
    out._version = view_of._version if view_of is not None else VersionCounter()
    if _grad_mode.enabled:
        for t in inputs:
            if t.requires_grad:
                out.requires_grad = True
                out._node = Node(op, inputs, backward, data, reduces_broadcast)
                return out
    out.requires_grad = False
    out._node = None
    return out


# -- constructors -------------------------------------------------------------------------------------
def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become float32 unless ``dtype`` says)."""
    return Tensor(np.array(_to_array(data, dtype), copy=True), requires_grad=requires_grad)


def as_tensor(value, dtype=None) -> Tensor:
    """``value`` itself if it is a Tensor, else a constant tensor wrapping it (no copy for arrays)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(value, dtype=dtype)


def array_of(value) -> np.ndarray:
    """The array behind a Tensor, or ``value`` as an array (targets, masks, weights, lengths, indices given
    either way); never recorded on the tape.

    ``getattr(value, "data", value)`` would be wrong here: an ndarray's ``.data`` is its raw memory buffer.
    """
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def zeros(*shape, dtype=DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def full(shape, value, dtype=DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return Tensor(np.full(_shape((shape,)), value, dtype=dtype), requires_grad=requires_grad)


def arange(*args, dtype=None) -> Tensor:
    return Tensor(np.arange(*args, dtype=dtype))


def randn(*shape, dtype=DEFAULT_FLOAT, requires_grad: bool = False, generator=None) -> Tensor:
    from .random import default_generator

    rng = generator or default_generator()
    return Tensor(rng.standard_normal(_shape(shape)).astype(dtype), requires_grad=requires_grad)


def rand(*shape, dtype=DEFAULT_FLOAT, requires_grad: bool = False, generator=None) -> Tensor:
    from .random import default_generator

    rng = generator or default_generator()
    return Tensor(rng.random(_shape(shape)).astype(dtype), requires_grad=requires_grad)


def _shape(shape: tuple) -> tuple:
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        return tuple(shape[0])
    return tuple(shape)


from . import ops as _ops  # noqa: E402  (the ops need Tensor, so they are imported last)
