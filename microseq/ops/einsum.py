"""``einsum``: Einstein summation with a gradient for any subscripts.

The gradient with respect to one operand is itself an einsum: the upstream gradient (with the output's
subscripts) times every other operand, summed to that operand's subscripts. For ``'ij,jk->ik'`` it is
``'ik,jk->ij'`` for the first operand, the familiar ``g @ B.T``. Because the rule is an einsum, it is
differentiable again. Three cases need more than that, and each is handled by one more constant operand:

- a letter repeated inside an operand (``'ii->i'``, ``'ii'``: a diagonal) is renamed in the gradient and tied
  to its first occurrence by an identity matrix, which puts the gradient on the diagonal;
- a letter only that operand has (``'ij->i'``: summed away) is given by a vector of ones, which copies the
  gradient along it;
- ``...`` is written out as letters first, right-aligned as broadcasting is; an operand's size-1 axis that
  broadcasts against a longer one gets a letter of its own, so that its gradient is summed over the copies.
"""

from __future__ import annotations

import string

import numpy as np

from .._checks import ShapeError
from ..tensor import Tensor, as_tensor, implements, record

__all__ = ["einsum"]


def _error(equation: str, why: str, kind: type = ValueError) -> ValueError:
    return kind(f"einsum: {why} in {equation!r}")


def _expand_subscripts(equation: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """The equation with ``...`` written out and the output made explicit: (input terms, output term)."""
    text = equation.replace(" ", "")
    lhs, arrow, output = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise _error(equation, f"{len(terms)} operand subscripts for {len(shapes)} operands")
    for term in terms + ([output] if arrow else []):
        letters = term.replace("...", "")
        if term.count("...") > 1 or not set(letters) <= set(string.ascii_letters):
            raise _error(equation, f"subscripts {term!r} may only hold letters and one '...'")
    free = iter(c for c in string.ascii_letters if c not in text)
    covered = []
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        if ("..." not in term and named != len(shape)) or named > len(shape):
            raise _error(equation, f"subscripts {term!r} do not fit an operand of shape {shape}", ShapeError)
        covered.append(len(shape) - named if "..." in term else 0)
    width = max(covered, default=0)
    shared = [next(free) for _ in range(width)]
    ellipses = [
        shape[term.index("...") : term.index("...") + k] if k else () for term, shape, k in zip(terms, shapes, covered)
    ]
    sizes = [1] * width  # the broadcast size of each ellipsis axis (right-aligned)
    for dims in ellipses:
        for j, n in enumerate(dims, start=width - len(dims)):
            if n != 1:
                if sizes[j] not in (1, n):
                    raise _error(equation, f"the '...' axes of shapes {shapes} do not broadcast", ShapeError)
                sizes[j] = n
    expanded = []
    for term, dims in zip(terms, ellipses):
        letters = "".join(
            next(free) if n == 1 and sizes[j] != 1 else shared[j] for j, n in enumerate(dims, start=width - len(dims))
        )
        expanded.append(term.replace("...", letters))
    any_ellipsis = any("..." in t for t in terms)
    if arrow:
        if output.count("...") > 0 and not any_ellipsis:
            raise _error(equation, "'...' in the output but in no operand")
        output = output.replace("...", "".join(shared))
    else:
        named = "".join(t.replace("...", "") for t in terms)
        output = "".join(shared) + "".join(sorted(c for c in set(named) if named.count(c) == 1))
    if len(set(output)) != len(output):
        raise _error(equation, f"output subscripts {output!r} repeat a letter")
    return expanded, output


@implements(np.einsum)
def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as ``torch.einsum`` / ``np.einsum``: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``.

    Supports repeated letters in an operand (``'ii->i'`` the diagonal, ``'ii'`` the trace), ``...`` for
    broadcast axes, and the implicit output (the letters that occur once, in alphabetical order, after the
    ``...`` axes). The operands may also be given as one list, as PyTorch allows. The gradient with respect to
    each operand is an einsum too (see the module's docstring), so second derivatives work.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = tuple(as_tensor(t) for t in operands)
    inputs, output = _expand_subscripts(equation, [t.shape for t in tensors])
    sizes: dict[str, int] = {}
    for term, t in zip(inputs, tensors):
        for letter, n in zip(term, t.shape):
            if sizes.setdefault(letter, n) != n:
                raise _error(equation, f"letter {letter!r} stands for sizes {sizes[letter]} and {n}", ShapeError)
    for letter in output:
        if letter not in sizes:
            raise _error(equation, f"output letter {letter!r} is in no operand")
    explicit = ",".join(inputs) + "->" + output
    y = np.einsum(explicit, *[t.data for t in tensors], optimize=len(tensors) > 2)
    wanted = [t.requires_grad for t in tensors]

    def backward(g, *values):
        operand_values = values[:-1]
        return tuple(
            _operand_gradient(k, g, operand_values, inputs, output, sizes) if wanted[k] else None
            for k in range(len(operand_values))
        )

    return record("einsum", np.asarray(y), tensors, backward)



def _operand_gradient(k: int, g, values, inputs: list[str], output: str, sizes: dict):
    """The gradient of operand ``k``: an einsum of the upstream gradient and the other operands."""
    unused = iter(c for c in string.ascii_letters if c not in sizes and c not in output)
    terms, arrays = [output], [g]
    for j, (term, value) in enumerate(zip(inputs, values)):
        if j != k:
            terms.append(term)
            arrays.append(value)
    target = ""
    for letter in inputs[k]:
        if letter in target:  # a repeated letter: a new one, tied to the first by the identity
            renamed = next(unused)
            terms.append(letter + renamed)
            arrays.append(np.eye(sizes[letter], dtype=g.dtype))
            letter = renamed
        target += letter
    present = set("".join(terms))
    for letter in dict.fromkeys(target):
        if letter not in present:  # summed away in the forward: copy the gradient along it
            terms.append(letter)
            arrays.append(np.ones(sizes[letter], dtype=g.dtype))
    return np.einsum(",".join(terms) + "->" + target, *arrays)  # on Tensors: this op, recorded
