"""The tape: how operations are recorded and how backward replays them.

Every differentiable operation that runs while gradients are enabled appends one :class:`Node` to the tape.
A node remembers the op's name, its input tensors and a ``backward`` closure that maps the gradient of the
op's output to the gradients of its inputs (a vector-Jacobian product). Nodes are numbered in the order they
run, so the tape is a Wengert list: reading it backwards visits every op after all the ops that consumed its
output, which is exactly the order reverse-mode differentiation needs.

``backward`` therefore does three things, none of them recursive:

1. collect the nodes that the output depends on (an iterative walk over the inputs);
2. replay them in reverse tape order, adding up the gradient arriving at each tensor from all its consumers
   (a tensor used twice receives two gradient contributions: that is why gradients *accumulate*);
3. free each node's saved arrays as soon as it has run, unless ``retain_graph=True``.

Broadcasting is undone in exactly one place (:func:`unbroadcast`), and every gradient is checked against the
shape of the input it belongs to before it is stored.

Higher-order gradients. A rule is written once in the NumPy API (``lambda g, _x, y: (g * y,)``). A first-order
backward calls it with ndarrays: nothing is recorded and nothing is slower. ``backward(create_graph=True)``
calls the same rule with Tensors (``g``, the node's input tensors, and its output as a tensor of the same
node) under grad mode; ``*`` and ``np.exp`` on Tensors are microseq ops (``Tensor.__array_ufunc__``), so
the rule records the backward pass on the tape, and the gradients it returns have a history that
``backward`` or :func:`grad` can differentiate again.
"""

from __future__ import annotations

import itertools
import threading
from operator import attrgetter
from contextlib import ContextDecorator

import numpy as np

__all__ = [
    "Node",
    "VersionCounter",
    "backward",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "tape_of",
    "unbroadcast",
]


# --------------------------------------------------------------------------------------------------
# Grad mode
# --------------------------------------------------------------------------------------------------
class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether operations are currently being recorded on the tape."""
    return _grad_mode.enabled


class set_grad_enabled(ContextDecorator):
    """Turn recording on or off inside a ``with`` block or a decorated function; nests and restores.

    Examples
    --------
    >>> with set_grad_enabled(False):
    ...     pass
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self):
        self._previous.append(_grad_mode.enabled)
        _grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc) -> None:
        _grad_mode.enabled = self._previous.pop()


class no_grad(set_grad_enabled):
    """Record nothing: for evaluation, sampling and optimizer updates. Works as decorator too."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record again inside a ``no_grad`` region."""

    def __init__(self) -> None:
        super().__init__(True)


# --------------------------------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------------------------------
class VersionCounter:
    """Counts in-place modifications of a tensor's array (shared by a tensor and its views)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


_next_seq = itertools.count().__next__
_data_of = attrgetter("data")
_reads_of_code: dict = {}


def _reads(rule) -> tuple:
    """Which of the values after ``g`` ``rule`` reads: a tuple of flags, one per named parameter (False for a
    name starting with ``_``) and a last one for the rest (``*args``; False for ``*_``). Worked out once per
    rule's code object, and only when asked (printing the tape, checking an in-place change), never while
    recording. A callable that is not a Python function is taken to read every value."""
    code = getattr(rule, "__code__", None)
    if code is None:
        return (True,)
    reads = _reads_of_code.get(code)
    if reads is None:
        names = code.co_varnames[1 : code.co_argcount]
        rest = code.co_varnames[code.co_argcount + code.co_kwonlyargcount] if code.co_flags & 0x04 else "_"
        reads = tuple(not name.startswith("_") for name in names + (rest,))  # 0x04: CO_VARARGS
        _reads_of_code[code] = reads
    return reads


class Node:
    """One entry of the tape: an op that ran, its inputs, and how to send gradients back to them.

    Attributes
    ----------
    op : str
        Name of the operation, e.g. ``"matmul"``.
    inputs : tuple of Tensor
        The tensors the op read.
    backward : callable
        The op's vector-Jacobian product, ``backward(g, *inputs, out) -> tuple`` with one gradient (or None)
        per input: ``g`` is the gradient of the output, ``inputs`` and ``out`` are the op's input and output
        values. A parameter whose name starts with ``_`` is one the rule does not read, and a rule that reads
        none of them takes ``(g, *_)``. Anything else the rule needs (masks, indices, axes) it closes over, as
        constants. Arrays in a first-order backward; Tensors with ``create_graph=True``.
    saved : tuple
        The values passed after ``g``: the inputs' arrays and the output's array. Holding them costs no memory
        (the input tensors hold the same arrays); which ones the rule reads, shown as saved in the printed
        tape, is worked out from its parameter names only when asked (:meth:`saved_arrays`).
    seq : int
        Position on the tape; later ops have larger numbers.
    out_shape : tuple
        Shape of the op's output, for the printed tape.
    reduces_broadcast : bool
        True for ops that broadcast their inputs; their input gradients are summed back to the input shapes.
    """

    __slots__ = (
        "op",
        "inputs",
        "backward",
        "seq",
        "versions",
        "out_shape",
        "reduces_broadcast",
        "retained_output",
        "mutated_after_save",
        "saved",
    )

    def __init__(self, op, inputs, backward, out, reduces_broadcast) -> None:
        self.op = op
        self.inputs = inputs
        self.backward = backward
        # Most ops have one or two inputs; spelling those cases out costs ~40 ns instead of ~150 ns per tuple
        # or list built by iterating (measured on the record of one small op, which a model does thousands of times).
        if len(inputs) == 2:
            a, b = inputs
            self.saved = (a.data, b.data, out)
            self.versions = [a._version.value, b._version.value]
        elif len(inputs) == 1:
            (a,) = inputs
            self.saved = (a.data, out)
            self.versions = [a._version.value]
        else:
            self.saved = (*map(_data_of, inputs), out)
            self.versions = [t._version.value for t in inputs]
        self.seq = _next_seq()
        self.out_shape = out.shape
        self.reduces_broadcast = reduces_broadcast
        self.retained_output = None
        self.mutated_after_save = None

    def __call__(self, g) -> tuple:
        """The input gradients for the output gradient ``g``: the rule run on the values it saved (first
        order, arrays), as ``backward`` does for each node (like calling a PyTorch ``grad_fn``)."""
        return self.backward(g, *self.saved)

    # -- what the op saved --------------------------------------------------------------------------
    def saved_arrays(self) -> list[np.ndarray]:
        """The arrays held by this node's backward closure (what the op saved for backward)."""
        closure = getattr(self.backward, "__closure__", None) or ()
        seen, arrays = set(), []
        if self.saved:
            reads = _reads(self.backward)
            flags, rest = reads[:-1], reads[-1]
            for i, value in enumerate(self.saved):
                if (flags[i] if i < len(flags) else rest) and id(value) not in seen:
                    seen.add(id(value))
                    arrays.append(value)
        for cell in closure:
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            for item in value if isinstance(value, tuple) else (value,):  # a tuple: e.g. a fused kernel's saved
                if isinstance(item, (np.ndarray, np.generic)) and id(item) not in seen:
                    seen.add(id(item))
                    arrays.append(item)
        return arrays

    def saved_bytes(self) -> int:
        return sum(a.nbytes for a in self.saved_arrays())

    def saves(self, array: np.ndarray) -> bool:
        return any(a is array for a in self.saved_arrays())

    def _check_not_modified(self) -> None:
        """Raise if an array this node saved was changed in place after the op ran."""
        if self.mutated_after_save is not None:
            raise RuntimeError(self.mutated_after_save)
        for position, (tensor, version) in enumerate(zip(self.inputs, self.versions)):
            if tensor._version.value != version and self.saves(tensor.data):
                raise RuntimeError(
                    f"{self.op}: input {position} (shape {tensor.shape}) was modified in place after it was "
                    f"saved for backward (version {version} -> {tensor._version.value}); the gradient would "
                    "be wrong. Compute with a copy, or do the in-place change after backward."
                )

    def __repr__(self) -> str:
        shapes = ", ".join(str(t.shape) for t in self.inputs) if self.inputs is not None else "freed"
        return f"Node(#{self.seq} {self.op}({shapes}) -> {self.out_shape})"


# --------------------------------------------------------------------------------------------------
# Backward
# --------------------------------------------------------------------------------------------------
def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` over the axes that broadcasting stretched, so that it gets ``shape`` back.

    Broadcasting copies an input along new leading axes and along axes of size 1; the gradient of a copy is
    the sum of the gradients of the copies. ``grad`` is an ndarray, or a Tensor in a ``create_graph`` backward
    (whose ``sum`` and ``reshape`` are then recorded).
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"gradient of shape {grad.shape} cannot be reduced to input shape {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)


def _fit_gradient(node: Node, position: int, grad, tensor):
    """Bring an input gradient to its input's shape and dtype, or fail loudly naming the op."""
    if not hasattr(grad, "requires_grad"):  # a Tensor (create_graph) stays one; anything else becomes an array
        grad = np.asarray(grad)
    if grad.shape != tensor.data.shape:
        if node.reduces_broadcast:
            grad = unbroadcast(grad, tensor.shape)
        if grad.shape != tensor.shape:
            raise RuntimeError(
                f"{node.op}: backward produced a gradient of shape {grad.shape} for input {position}, "
                f"which has shape {tensor.shape}"
            )
    if grad.dtype != tensor.dtype:
        grad = grad.astype(tensor.dtype)
    return grad


_by_seq = attrgetter("seq")


def _nodes_to_replay(stack: list) -> list[Node]:
    """Every node the nodes in ``stack`` depend on (themselves included), latest first: the tape read backwards.
    ``stack`` is a new list of nodes, used up by the walk."""
    found = set(stack)
    while stack:
        node = stack.pop()
        if node.inputs is None:  # freed by an earlier backward; reported when replayed
            continue
        for tensor in node.inputs:
            parent = tensor._node
            if parent is not None and parent not in found:
                found.add(parent)
                stack.append(parent)
    return sorted(found, key=_by_seq, reverse=True)


def _accumulate_into_grad(tensor, grad) -> None:
    """Add to ``tensor.grad``; the first contribution is copied (``astype`` copies) so that no two gradients
    share memory. A Tensor gradient (create_graph) keeps its history: the copy and the sum are recorded."""
    if tensor.grad is None:
        tensor.grad = grad.astype(tensor.dtype)
    else:
        tensor.grad = tensor.grad + grad


def _upstream(caller: str, output, grad, create_graph: bool):
    """The gradient that starts a backward pass from ``output``: 1 for a single element, else ``grad``
    checked against the output's shape; an array, or a Tensor when ``create_graph`` (a Tensor given as
    ``grad`` then keeps its history)."""
    data = output.data
    if type(grad) is np.ndarray and grad.dtype is data.dtype and grad.shape == data.shape and not create_graph:
        return grad  # the common case, kept fast
    if grad is None:
        if data.size != 1:
            raise RuntimeError(
                f"{caller}: output has shape {data.shape}; pass grad= of that shape for a non-scalar output"
            )
        grad = np.ones(data.shape, dtype=data.dtype)
    elif not (create_graph and hasattr(grad, "requires_grad")):
        if type(grad) is not np.ndarray:
            grad = getattr(grad, "data", grad)  # a Tensor's array (an ndarray's .data would be its raw buffer)
        if not (type(grad) is np.ndarray and grad.dtype == data.dtype):
            grad = np.asarray(grad, dtype=data.dtype)
    if grad.shape != data.shape:
        raise RuntimeError(f"{caller}: grad has shape {grad.shape}, expected the output's {data.shape}")
    if not create_graph:
        return grad
    from .tensor import Tensor

    return grad if isinstance(grad, Tensor) else Tensor(grad)


def _rule_on_tensors(node: Node, g) -> tuple:
    """Run ``node``'s rule on Tensors (create_graph): ``g``, the node's input tensors and its output as a
    tensor of the same node, so that every op of the rule is recorded. Gradients come back as Tensors."""
    from .tensor import Tensor

    out = Tensor(np.asarray(node.saved[-1]))  # (np.asarray: a NumPy scalar keeps its dtype)
    out.requires_grad, out._node = True, node
    grads = node.backward(g, *node.inputs, out)
    return tuple(v if v is None or isinstance(v, Tensor) else Tensor(np.asarray(v)) for v in grads)


def _check_signature(node: Node, error: TypeError) -> None:
    """Name the op whose rule takes ``g`` alone (Python's own message names neither the op nor the fix)."""
    code = getattr(node.backward, "__code__", None)
    if code is not None and code.co_argcount == 1 and not code.co_flags & 0x04:  # 0x04: CO_VARARGS
        raise TypeError(
            f"{node.op}: its backward rule takes g alone, but a rule is called as rule(g, *input_values, out); "
            "write one that reads none of those values as `lambda g, *_: ...`"
        ) from error


def _replay(nodes, pending: dict, on_leaf, create_graph: bool, retain_graph: bool, captured=None) -> None:
    """Run the rules of ``nodes`` (latest first) from the output gradients in ``pending`` (node -> gradient).

    Each gradient that reaches a leaf goes to ``on_leaf(tensor, grad)``. ``captured`` (node -> None), given
    by :func:`grad`, receives the total gradient of those nodes' outputs; without it, outputs marked by
    ``retain_grad()`` accumulate theirs into ``.grad``.
    """
    if create_graph and not _grad_mode.enabled:
        with enable_grad():
            return _replay(nodes, pending, on_leaf, create_graph, retain_graph, captured)
    for node in nodes:
        grad_out = pending.pop(node, None)
        if grad_out is None:
            continue
        if node.backward is None:
            raise RuntimeError(
                f"backward: the graph through '{node.op}' was already freed by an earlier backward; "
                "call backward(retain_graph=True) the first time to go through it twice"
            )
        if node.mutated_after_save is not None:
            raise RuntimeError(node.mutated_after_save)
        for tensor, version in zip(node.inputs, node.versions):  # (inline, not a method: ~0.1 us less per node)
            if tensor._version.value != version:
                node._check_not_modified()  # an input changed in place since the op ran: is it one the rule reads?
                break
        if captured is None:
            if node.retained_output is not None:
                _accumulate_into_grad(node.retained_output, grad_out)
        elif node in captured:
            captured[node] = grad_out
        try:
            if create_graph:
                input_grads = _rule_on_tensors(node, grad_out)
            else:  # ((g,) + saved builds one tuple, where (g, *saved) grows a list and copies it: ~20 ns per node)
                input_grads = node.backward(*((grad_out,) + node.saved))
        except TypeError as error:
            _check_signature(node, error)
            raise
        for position, (tensor, input_grad) in enumerate(zip(node.inputs, input_grads)):
            if input_grad is None or not tensor.requires_grad:
                continue
            data = tensor.data
            if not (type(input_grad) is np.ndarray and input_grad.shape == data.shape and input_grad.dtype is data.dtype):
                input_grad = _fit_gradient(node, position, input_grad, tensor)
            parent = tensor._node
            if parent is None:
                on_leaf(tensor, input_grad)
            else:
                previous = pending.get(parent)
                pending[parent] = input_grad if previous is None else previous + input_grad
        if not retain_graph:
            node.backward = None
            node.inputs = None
            node.saved = None
            node.retained_output = None


def backward(root, grad=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Parameters
    ----------
    root : Tensor
        The output to differentiate. A tensor with more than one element needs an explicit ``grad``.
    grad : array_like or Tensor, optional
        The upstream gradient, of ``root``'s shape (defaults to 1 for a single-element output).
    retain_graph : bool, optional
        Keep the saved arrays so that backward can run through this graph again. Defaults to ``create_graph``.
    create_graph : bool
        Record the backward pass itself: ``leaf.grad`` becomes a Tensor with a history, which can be
        differentiated again (higher-order derivatives). Without it ``leaf.grad`` is a plain ndarray.
    """
    if not root.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad and has no recorded history")
    grad = _upstream("backward", root, grad, create_graph)
    node = root._node
    if node is None:  # a leaf: its gradient is the upstream gradient itself
        _accumulate_into_grad(root, grad)
        return
    retain = create_graph if retain_graph is None else retain_graph
    _replay(_nodes_to_replay([node]), {node: grad}, _accumulate_into_grad, create_graph, retain)


def _as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = True) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, returned instead of stored in ``.grad``.

    As ``torch.autograd.grad``, except that an input the outputs do not depend on gets zeros of its shape (as
    in ``torch.func`` and JAX), and an output without history (a constant) contributes nothing.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
        Differentiated together: their vector-Jacobian products add up.
    inputs : Tensor or sequence of Tensor
        Tensors that require grad: leaves or intermediate results.
    grad_outputs : array_like, Tensor or a sequence of them, optional
        The upstream gradient of each output (1 for a single-element output when omitted).
    retain_graph : bool, optional
        Keep the graph for another backward. Defaults to ``create_graph``.
    create_graph : bool
        Record the computation of the gradients, so that they can be differentiated again.
    allow_unused : bool
        False: an input the outputs do not depend on is an error instead of zeros.

    Returns
    -------
    tuple of Tensor
        One gradient per input, of its shape and dtype: with a history when ``create_graph``, constants
        otherwise. No ``.grad`` is read or written.

    Examples
    --------
    >>> import microseq as ms
    >>> x = ms.tensor([1.0, 2.0], requires_grad=True)
    >>> (g,) = ms.autograd.grad((x * x * x).sum(), x, create_graph=True)  # 3 x^2
    >>> ms.autograd.grad(g.sum(), x)[0]  # 6 x
    tensor([ 6., 12.])
    """
    from .tensor import Tensor

    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    grad_outputs = (None,) * len(outputs) if grad_outputs is None else _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, tensor in enumerate(inputs):
        if not isinstance(tensor, Tensor) or not tensor.requires_grad:
            raise RuntimeError(f"grad: input {i} is not a tensor that requires grad")
    leaf_grads = {id(t): None for t in inputs if t._node is None}
    captured = {t._node: None for t in inputs if t._node is not None}

    def on_leaf(tensor, g) -> None:
        key = id(tensor)
        if key in leaf_grads:
            previous = leaf_grads[key]
            leaf_grads[key] = g if previous is None else previous + g

    pending = {}
    for k, (output, g) in enumerate(zip(outputs, grad_outputs)):
        if not output.requires_grad:
            if not allow_unused:
                raise RuntimeError(f"grad: output {k} does not require grad and has no recorded history")
            continue
        g = _upstream("grad", output, g, create_graph)
        if output._node is None:
            on_leaf(output, g)
        else:
            previous = pending.get(output._node)
            pending[output._node] = g if previous is None else previous + g
    nodes = _nodes_leading_to(_nodes_to_replay(list(pending)), set(leaf_grads), set(captured))
    _replay(nodes, pending, on_leaf, create_graph, create_graph if retain_graph is None else retain_graph, captured)

    results = []
    for i, tensor in enumerate(inputs):
        g = leaf_grads[id(tensor)] if tensor._node is None else captured[tensor._node]
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad: input {i} (shape {tensor.shape}) was not used to compute the outputs")
            g = np.zeros(tensor.shape, dtype=tensor.dtype)
        g = g.astype(tensor.dtype)  # a copy: no two results share memory with each other or grad_outputs
        results.append(g if isinstance(g, Tensor) else Tensor(np.asarray(g)))
    return tuple(results)


def _nodes_leading_to(nodes: list, leaf_ids: set, target_nodes: set) -> list:
    """The ``nodes`` (latest first) that lie on a path to a target leaf or to a target node's output, and the
    target nodes themselves: only those need to run for :func:`grad`."""
    needed = set()
    for node in reversed(nodes):  # oldest first: every input's node has been decided already
        if node.inputs is None or any(
            id(t) in leaf_ids or t._node in target_nodes or t._node in needed for t in node.inputs
        ):
            needed.add(node)  # (a freed node is kept: replaying it reports that it was freed)
    return [node for node in nodes if node in needed or node in target_nodes]


# --------------------------------------------------------------------------------------------------
# Printing the tape
# --------------------------------------------------------------------------------------------------
class Tape(list):
    """The recorded ops behind a tensor, in execution order; prints as a table."""

    def __str__(self) -> str:
        rows = [("#", "op", "inputs", "output", "saved")]
        for node in self:
            inputs = ", ".join(str(t.shape) for t in node.inputs) if node.inputs is not None else "(freed)"
            rows.append((str(node.seq), node.op, inputs, str(node.out_shape), _format_bytes(node.saved_bytes())))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        total = sum(node.saved_bytes() for node in self)
        lines.append(f"{len(self)} ops, {_format_bytes(total)} saved for backward")
        return "\n".join(lines)


def _format_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def tape_of(tensor) -> Tape:
    """The ops recorded to compute ``tensor``, oldest first (empty for a leaf).

    Examples
    --------
    >>> import microseq as ms
    >>> x = ms.tensor([1.0, 2.0], requires_grad=True)
    >>> print(ms.tape_of((x * x).sum()))  # doctest: +SKIP
    """
    if tensor._node is None:
        return Tape()
    return Tape(reversed(_nodes_to_replay([tensor._node])))
