"""Functional transforms: ``grad``, ``value_and_grad``, ``vjp``, ``jacobian``, ``hessian``, ``hvp``.

In the style of HIPS autograd, JAX and ``torch.func``: a transform takes a function and returns a new function
that computes derivatives, so derivatives are written the way they are written on paper::

    d2f = ms.grad(ms.grad(f))          # f''
    H = ms.hessian(f)(x)               # the matrix of second derivatives
    Hv = ms.hvp(f, x, v)               # H @ v without forming H

Each transform runs ``f`` on the tape and asks :func:`microseq.autograd.grad` for the vector-Jacobian product.
They compose because a transform records its own backward pass (``create_graph=True``) whenever something
outside it could differentiate the result again: an outer transform, or a loss that uses the gradient of a
model's parameters (a gradient penalty).

Conventions, the same for every transform:

- **Arrays in, arrays out.** A result taken with respect to an argument comes back as a NumPy array when that
  argument was given as a NumPy array or a Python float, and as a :class:`~microseq.Tensor` when it was given
  as a Tensor. A value (``value_and_grad``, ``vjp``) is a Tensor if any differentiated argument was a Tensor,
  else an array. Gradients have their argument's shape and dtype (a Python float counts as float64).
- **Tensors with history.** A Tensor result has history (can be differentiated again, by ``backward`` or by
  an outer transform) exactly when recording is on and it depends on a tensor requiring grad outside the
  transform: an argument that requires grad, or a parameter ``f`` closes over. Under ``no_grad`` nothing is
  recorded beyond what the transform itself needs.
- **No side effects.** No transform sets ``.grad`` on anything.
- **Zeros, not errors, for independence.** If the output does not depend on an argument (or is a constant,
  e.g. the derivative of a linear function differentiated again), its derivative is zeros of the argument's
  shape, as in JAX and ``torch.func``.
- ``argnums`` is an int (one result) or a tuple of ints (a tuple of results, in that order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import autograd
from .autograd import enable_grad, is_grad_enabled, tape_of
from .ops import reshape, stack
from .tensor import Tensor, record

__all__ = ["grad", "hessian", "hvp", "jacobian", "value_and_grad", "vjp"]


# --------------------------------------------------------------------------------------------------
# Arguments in, results out
# --------------------------------------------------------------------------------------------------
def _positions(argnums, count: int, transform: str) -> tuple[int, ...]:
    """``argnums`` as a tuple of non-negative positions, checked against the ``count`` arguments given."""
    items = argnums if isinstance(argnums, tuple) else (argnums,)
    if not items or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items):
        raise TypeError(f"{transform}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    positions = []
    for i in items:
        if not -count <= i < count:
            raise ValueError(
                f"{transform}: argnums={argnums!r} is out of range for a function called with {count} "
                f"positional argument{'s' if count != 1 else ''}"
            )
        positions.append(int(i) % count)
    if len(set(positions)) != len(positions):
        raise ValueError(f"{transform}: argnums={argnums!r} names an argument twice")
    return tuple(positions)


def _alias(x: Tensor) -> Tensor:
    """The same values as a new node on the tape (an identity op).

    Differentiating with respect to the alias, not ``x`` itself, keeps nested transforms apart: in
    ``grad(lambda x: x * grad(lambda y: x * y)(x))`` the inner derivative is ``x``, not ``2 x``, because the
    inner transform only sees paths through its own alias (the "perturbation confusion" of nested AD).
    """
    return record("alias", x.data, (x,), lambda g, _x, _y: (g,), view_of=x)


def _variable(value, position: int, transform: str, recording: bool) -> Tensor:
    """A tensor that stands for argument ``position`` and that the transform differentiates with respect to."""
    if isinstance(value, Tensor):
        if value.dtype.kind != "f":
            raise TypeError(f"{transform}: argument {position} has dtype {value.dtype}; only floating-point "
                            "arguments can be differentiated")
        return _alias(value) if (value.requires_grad and recording) else value.detach().requires_grad_()
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise TypeError(f"{transform}: argument {position} has dtype {array.dtype}; only floating-point "
                        "arguments can be differentiated (give a float array)")
    return Tensor(array, requires_grad=True)


def _output(value, transform: str) -> Tensor:
    """``f``'s result as a Tensor; an array or a number is a constant (it depends on nothing)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic, int, float)):
        return Tensor(np.asarray(value))
    raise TypeError(f"{transform}: f must return a Tensor, got {type(value).__name__}")


def _as_given(value: Tensor, as_tensor: bool):
    """``value`` as a Tensor, or as a writable NumPy array that owns its memory."""
    if as_tensor:
        return value
    array = np.asarray(value.data)  # a 0-d result of a NumPy reduction may be a scalar, not an array
    return array if array.flags.writeable and array.base is None else array.copy()


def _reaches_outside(outputs: Sequence[Tensor], variables: Sequence[Tensor]) -> bool:
    """Whether ``outputs`` depend on a tensor requiring grad other than the transform's own ``variables``."""
    own = {id(v) for v in variables}
    for out in outputs:
        for node in tape_of(out):
            if any(t.requires_grad and t.is_leaf and id(t) not in own for t in node.inputs or ()):  # () if freed
                return True
    return False


class _Call:
    """One call of a transformed function: the variables that stand for the differentiated arguments, and
    ``f``'s outputs computed from them on the tape."""

    def __init__(self, f: Callable, args: tuple, positions: tuple[int, ...], transform: str) -> None:
        self.recording = is_grad_enabled()
        self.given_tensors = [isinstance(args[i], Tensor) for i in positions]
        self.variables = [_variable(args[i], i, transform, self.recording) for i in positions]
        call_args = list(args)
        for i, variable in zip(positions, self.variables):
            call_args[i] = variable
        with enable_grad():
            self.result = f(*call_args)

    def create_graph(self, outputs: Sequence[Tensor], upstream: Sequence = ()) -> bool:
        """Record the backward pass when a Tensor result may be differentiated again from outside."""
        if not (self.recording and any(self.given_tensors)):
            return False
        upstream_has_history = any(isinstance(v, Tensor) and v.requires_grad for v in upstream)
        return upstream_has_history or _reaches_outside(outputs, self.variables)

    def derivatives(self, outputs: Sequence[Tensor], upstream: Sequence, create_graph: bool | None = None) -> list:
        """``sum_k upstream_k^T d outputs_k / d variable`` for every variable, as Tensors (zeros where unused).
        The graph is kept: ``jacobian`` and ``vjp_fn`` ask again."""
        if create_graph is None:
            create_graph = self.create_graph(outputs, upstream)
        grads = autograd.grad(outputs, self.variables, upstream, retain_graph=True, create_graph=create_graph)
        return list(grads)

    def results(self, derivatives: Sequence[Tensor]) -> list:
        return [_as_given(d, given) for d, given in zip(derivatives, self.given_tensors)]

    def value(self, value: Tensor, create_graph: bool):
        """``f``'s value: with its history when derivatives are recorded, else cut from the transform's own
        variables (nothing outside could differentiate it)."""
        return _as_given(value if create_graph else value.detach(), any(self.given_tensors))


def _one_or_tuple(items: Sequence, argnums):
    return tuple(items) if isinstance(argnums, tuple) else items[0]


def _name(f) -> str:
    return getattr(f, "__name__", type(f).__name__)


# --------------------------------------------------------------------------------------------------
# The transforms
# --------------------------------------------------------------------------------------------------
def value_and_grad(f: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """``f`` and its gradient together: ``value_and_grad(f)(*args) -> (f(*args), grad f(*args))``.

    Parameters
    ----------
    f : callable
        Returns a single value: a Tensor with one element (any shape, e.g. () or (1,)).
    argnums : int or tuple of int
        The arguments to differentiate with respect to; a tuple gives a tuple of gradients.

    Returns
    -------
    callable
        Taking ``f``'s arguments and returning ``(value, gradient)``. Arrays in, arrays out: see the module
        docstring (:mod:`microseq.func`).

    Raises
    ------
    RuntimeError
        ``f`` returned more than one element (use :func:`jacobian`).
    ValueError, TypeError
        ``argnums`` out of range or not ints; a differentiated argument is not floating-point.

    Examples
    --------
    >>> import numpy as np, microseq as ms
    >>> value, g = ms.value_and_grad(lambda x: (x * x).sum())(np.array([1.0, 2.0]))
    >>> float(value), g
    (5.0, array([2., 4.]))
    """

    def value_and_grad_f(*args):
        call = _Call(f, args, _positions(argnums, len(args), "grad"), "grad")
        out = _output(call.result, "grad")
        if out.size != 1:
            raise RuntimeError(
                f"grad: f must return a single value, got shape {out.shape}; use ms.jacobian for a non-scalar output"
            )
        create_graph = call.create_graph([out])
        derivatives = call.derivatives([out], [np.ones(out.shape, dtype=out.dtype)], create_graph)
        return call.value(out, create_graph), _one_or_tuple(call.results(derivatives), argnums)

    value_and_grad_f.__name__ = f"value_and_grad({_name(f)})"
    return value_and_grad_f


def grad(f: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The gradient of a function with a single-valued output: ``grad(f)(*args) = df/d args[argnums]``.

    Composes: ``grad(grad(f))`` is the second derivative of a function of one variable.

    Parameters
    ----------
    f : callable
        Returns a Tensor with one element.
    argnums : int or tuple of int
        The arguments to differentiate with respect to; a tuple gives a tuple of gradients.

    Returns
    -------
    callable
        ``f``'s arguments -> the gradient, of the argument's shape and dtype: a NumPy array for an array (or
        float) argument, a Tensor for a Tensor argument (see :mod:`microseq.func`). Zeros where ``f`` does not
        depend on the argument.

    Examples
    --------
    >>> import numpy as np, microseq as ms
    >>> ms.grad(lambda x: (x**3).sum())(np.array([1.0, 2.0]))          # 3 x^2
    array([ 3., 12.])
    >>> ms.grad(ms.grad(lambda x: x**3))(2.0)                         # 6 x
    array(12.)
    """
    value_and_grad_f = value_and_grad(f, argnums)

    def grad_f(*args):
        return value_and_grad_f(*args)[1]

    grad_f.__name__ = f"grad({_name(f)})"
    return grad_f


def vjp(f: Callable, *primals):
    """Run ``f(*primals)`` and return ``(output, vjp_fn)``; ``vjp_fn(cotangent)`` is ``cotangent^T J``.

    Parameters
    ----------
    f : callable
        Returns a Tensor, or a tuple of Tensors.
    *primals : Tensor or array
        Every argument is differentiated.

    Returns
    -------
    output
        ``f(*primals)``: a Tensor (or tuple of them) if any primal was a Tensor, else array(s).
    vjp_fn : callable
        ``vjp_fn(cotangent)`` with one cotangent of each output's shape (a tuple when ``f`` returns a tuple)
        returns a tuple with one gradient per primal: ``sum_k cotangent_k^T d output_k / d primal``. It may be
        called many times. A cotangent that is a Tensor requiring grad is differentiable too.

    Examples
    --------
    >>> import numpy as np, microseq as ms
    >>> out, vjp_fn = ms.vjp(lambda a, b: a * b, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    >>> vjp_fn(np.array([1.0, 10.0]))
    (array([ 3., 40.]), array([ 1., 20.]))
    """
    call = _Call(f, primals, tuple(range(len(primals))), "vjp")
    several = isinstance(call.result, (tuple, list))
    outputs = [_output(out, "vjp") for out in (call.result if several else (call.result,))]

    def vjp_fn(cotangents):
        cotangents = tuple(cotangents) if several else (cotangents,)
        if len(cotangents) != len(outputs):
            raise ValueError(f"vjp: f returned {len(outputs)} outputs, got {len(cotangents)} cotangents")
        upstream = []
        for k, (out, v) in enumerate(zip(outputs, cotangents)):
            if np.shape(v.data if isinstance(v, Tensor) else v) != out.shape:
                raise ValueError(f"vjp: cotangent {k} has shape {np.shape(v)}, expected output {k}'s {out.shape}")
            upstream.append(v if isinstance(v, Tensor) else np.asarray(v, dtype=out.dtype))
        return tuple(call.results(call.derivatives(outputs, upstream)))

    values = [call.value(out, call.create_graph(outputs)) for out in outputs]
    return (tuple(values) if several else values[0]), vjp_fn


def jacobian(f: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Jacobian of ``f`` by reverse mode: one vector-Jacobian product per output element.

    Parameters
    ----------
    f : callable
        Returns a Tensor of shape ``O`` (or a tuple of Tensors).
    argnums : int or tuple of int
        The arguments to differentiate with respect to.

    Returns
    -------
    callable
        ``f``'s arguments -> ``J`` of shape ``O + X`` (``X`` the argument's shape), ``J[o][x] = d f[o] / d x``.
        With a tuple ``argnums`` a tuple of those; when ``f`` returns a tuple, a tuple (one per output) of
        those. Arrays in, arrays out (see :mod:`microseq.func`).

    Notes
    -----
    Costs one backward pass per output element (the graph of ``f`` is recorded once and kept), so it suits
    small outputs; for a Hessian-vector product use :func:`hvp`, which never forms a matrix. It is not
    vectorised: a rule is written for one upstream gradient of its output's shape (``reshape``, ``sum``,
    ``transpose``, indexing and the broadcast reduction read that shape literally), so pushing all the rows
    through one backward pass, as ``torch.func.jacrev`` does with ``vmap``, would need every rule to accept a
    leading batch axis.

    Examples
    --------
    >>> import numpy as np, microseq as ms
    >>> ms.jacobian(lambda x: x * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """

    def jacobian_f(*args):
        call = _Call(f, args, _positions(argnums, len(args), "jacobian"), "jacobian")
        several = isinstance(call.result, (tuple, list))
        outputs = [_output(out, "jacobian") for out in (call.result if several else (call.result,))]
        per_output = [_one_or_tuple(call.results(_jacobian_of(call, out)), argnums) for out in outputs]
        return tuple(per_output) if several else per_output[0]

    jacobian_f.__name__ = f"jacobian({_name(f)})"
    return jacobian_f


def _jacobian_of(call: _Call, out: Tensor) -> list[Tensor]:
    """d out / d variable for each of ``call``'s variables, each of shape ``out.shape + variable.shape``."""
    variables = call.variables
    if out.size == 0 or not out.requires_grad:
        return [Tensor(np.zeros(out.shape + x.shape, dtype=x.dtype)) for x in variables]
    create_graph = call.create_graph([out])
    rows = []  # rows[k][i]: d out.flat[k] / d variables[i]
    for k in range(out.size):
        one_hot = np.zeros(out.size, dtype=out.dtype)
        one_hot[k] = 1
        rows.append(call.derivatives([out], [one_hot.reshape(out.shape)], create_graph))
    return [reshape(stack([row[i] for row in rows]), out.shape + x.shape) for i, x in enumerate(variables)]


def hessian(f: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The matrix of second derivatives of a single-valued ``f``: ``jacobian(grad(f, argnums), argnums)``.

    Returns
    -------
    callable
        ``f``'s arguments -> ``H`` of shape ``X + X`` for an int ``argnums``; for a tuple, a tuple of tuples
        with ``H[i][j] = d^2 f / d args[i] d args[j]`` of shape ``X_i + X_j``.

    Examples
    --------
    >>> import numpy as np, microseq as ms
    >>> A = np.array([[2.0, 1.0], [0.0, 4.0]])
    >>> ms.hessian(lambda x: 0.5 * (x @ ms.Tensor(A) @ x))(np.array([1.0, -1.0]))   # (A + A^T) / 2
    array([[2. , 0.5],
           [0.5, 4. ]])
    """
    hessian_f = jacobian(grad(f, argnums), argnums)
    hessian_f.__name__ = f"hessian({_name(f)})"
    return hessian_f


def hvp(f: Callable, x, v):
    """The Hessian-vector product ``H(x) v`` of a single-valued ``f`` of one argument, without forming ``H``.

    Computed as the gradient of the directional derivative: ``d/dx <grad f(x), v>`` (two backward passes,
    the cost of a few evaluations of ``f``, whatever the size of ``x``).

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a Tensor with one element.
    x : Tensor or array
        The point.
    v : Tensor or array
        The direction, of ``x``'s shape.

    Returns
    -------
    Tensor or numpy.ndarray
        ``H v`` of ``x``'s shape; an array when ``x`` is an array (see :mod:`microseq.func`).

    Examples
    --------
    >>> import numpy as np, microseq as ms
    >>> ms.hvp(lambda x: (x**3).sum(), np.array([1.0, 2.0]), np.array([1.0, 1.0]))   # 6 x * v
    array([ 6., 12.])
    """
    shape_x = x.shape if isinstance(x, Tensor) else np.shape(x)
    shape_v = v.shape if isinstance(v, Tensor) else np.shape(v)
    if shape_x != shape_v:
        raise ValueError(f"hvp: v has shape {shape_v}, expected x's shape {shape_x}")
    grad_f = grad(f)
    return grad(lambda x: (grad_f(x) * v).sum())(x)
