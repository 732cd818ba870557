"""``gradcheck``: compare backward with central finite differences, PyTorch's way.

For a function ``f`` of tensors and a random upstream gradient ``v`` (one per output), backward gives
``v^T J`` for every input. Finite differences estimate the same numbers one input element at a time:

    d/dx_i <v, f(x)>  ~  (<v, f(x + eps e_i)> - <v, f(x - eps e_i)>) / (2 eps)

and the check passes when ``|analytical - numerical| <= atol + rtol * |numerical|`` everywhere.

``gradgradcheck`` checks second derivatives the same way, as PyTorch's does: the function it checks is the
vector-Jacobian product itself, ``(x, v) -> v^T J(x)`` computed by ``autograd.grad(create_graph=True)``, whose
own backward (with a second random upstream gradient) is compared with finite differences of it.

For large inputs the *fast* mode checks one random direction ``u`` per input instead of every element:
``(<v, f(x + eps u)> - <v, f(x - eps u)>) / (2 eps)`` against ``<v^T J, u>``.

Using a random ``v`` (not ``f(x).sum()``) matters: a backward rule that mixes up output positions can still
give the right gradient of a sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import autograd
from .autograd import enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Backward and finite differences disagree (or the check could not be run)."""


def _as_outputs(result) -> tuple[Tensor, ...]:
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise GradcheckError(f"gradcheck: output {i} is a {type(out).__name__}, expected a Tensor")
    return tuple(outputs)


def _outputs(fn, inputs) -> list[np.ndarray]:
    """The values of ``fn(*inputs)`` in float64, computed without recording."""
    with no_grad():
        return [out.data.astype(np.float64) for out in _as_outputs(fn(*inputs))]


def _projected_difference(plus: list, minus: list, upstream) -> float:
    """``sum_k <v_k, f_k(x+) - f_k(x-)>``: the outputs are subtracted *before* the projection, so that large
    constant outputs (a mask filled with -1e9) cancel exactly instead of drowning the difference."""
    return float(sum(np.sum(v * (p - m)) for v, p, m in zip(upstream, plus, minus)))


def gradcheck(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast: bool | None = None,
    seed: int = 0,
    names: Sequence[str] | None = None,
    raise_exception: bool = True,
) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central finite differences.

    Parameters
    ----------
    fn : callable
        ``fn(*inputs)`` returns a Tensor or a tuple of Tensors.
    inputs : sequence of Tensor or array_like
        Tensors that require grad are checked; arrays are wrapped as float64 tensors that require grad.
        Checked inputs must be float64 (float32 finite differences are too noisy to judge).
    eps, atol, rtol : float
        Step and tolerances (PyTorch's defaults).
    fast : bool, optional
        Check one random direction per input instead of every element. Default: when an input has more
        than 1000 elements.
    seed : int
        Seed of the random upstream gradients and directions.
    names : sequence of str, optional
        Names of the inputs for the error message (default ``input 0``, ``input 1``, ...).
    raise_exception : bool
        Raise :class:`GradcheckError` on failure (default) or return False.

    Returns
    -------
    bool
        True when every checked gradient agrees.
    """
    tensors = _as_tensors(inputs)
    names = list(names) if names is not None else [f"input {i}" for i in range(len(tensors))]
    checked = [i for i, t in enumerate(tensors) if t.requires_grad]
    if not checked:
        raise GradcheckError("gradcheck: no input requires grad, nothing to check")
    for i in checked:
        if tensors[i].dtype != np.float64:
            raise GradcheckError(
                f"gradcheck: {names[i]} has dtype {tensors[i].dtype}; finite differences need float64 inputs"
            )
    rng = np.random.default_rng(seed)
    if fast is None:
        fast = any(tensors[i].size > 1000 for i in checked)

    # Analytical: one backward with random upstream gradients v.
    for i in checked:
        tensors[i].grad = None
    outputs = _as_outputs(fn(*tensors))
    upstream = [rng.standard_normal(out.shape) for out in outputs]
    differentiable = [(out, v) for out, v in zip(outputs, upstream) if out.requires_grad]
    if not differentiable:
        raise GradcheckError("gradcheck: no output depends on an input that requires grad")
    for k, (out, v) in enumerate(differentiable):
        out.backward(v.astype(out.dtype), retain_graph=k < len(differentiable) - 1)
    analytical = {i: (np.zeros(tensors[i].shape) if tensors[i].grad is None else tensors[i].grad.copy()) for i in checked}
    for i in checked:
        tensors[i].grad = None

    # Numerical: perturb the inputs in place (on a copy of each array, restored afterwards).
    failures = []
    for i in checked:
        original = tensors[i].data
        work = original.copy()
        tensors[i].data = work

        def at(delta: np.ndarray) -> list[np.ndarray]:
            work[...] = original + delta
            return _outputs(fn, tensors)

        def derivative(delta: np.ndarray) -> float:
            return _projected_difference(at(delta), at(-delta), upstream) / (2 * eps)

        try:
            if fast:
                u = rng.standard_normal(original.shape)
                u /= max(np.linalg.norm(u), 1e-300)
                numerical = np.array(derivative(eps * u))
                predicted = np.array(np.sum(analytical[i] * u))
                report = _compare(names[i] + " (along a random direction)", predicted, numerical, atol, rtol)
            else:
                numerical = np.zeros(original.shape)
                step = np.zeros(original.shape)
                for index in np.ndindex(original.shape):
                    step[index] = eps
                    numerical[index] = derivative(step)
                    step[index] = 0
                report = _compare(names[i], analytical[i], numerical, atol, rtol)
        finally:
            tensors[i].data = original
        if report:
            failures.append(report)

    if failures:
        if raise_exception:
            raise GradcheckError("gradcheck failed:\n" + "\n".join(failures))
        return False
    return True


def gradgradcheck(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Sequence,
    grad_outputs: Sequence | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast: bool | None = None,
    seed: int = 0,
    names: Sequence[str] | None = None,
    raise_exception: bool = True,
) -> bool:
    """Check the second derivatives of ``fn`` at ``inputs`` against finite differences of its first derivatives.

    With a random upstream gradient ``v`` per output (the first level), the first derivatives are the
    vector-Jacobian product ``G(x, v) = v^T J(x)``, one array per input, computed with
    ``autograd.grad(..., create_graph=True)`` so that it has a backward pass of its own. :func:`gradcheck` then
    checks ``G`` as a function of both ``x`` and ``v`` (with its own random upstream gradient ``u``, the second
    level): ``d<u, G>/dx`` is the second-order product of the backward rules' own backward rules, compared with
    central differences of ``G`` in ``x``; ``d<u, G>/dv = J u`` checks the backward pass is linear in ``v``.

    Parameters
    ----------
    fn, inputs, eps, atol, rtol, fast, seed, names, raise_exception
        As in :func:`gradcheck` (the same defaults: PyTorch's).
    grad_outputs : sequence of array_like, optional
        The first-level upstream gradients, one per output that requires grad. Default: standard normal,
        drawn with ``seed``.

    Returns
    -------
    bool
        True when every second derivative agrees.

    Raises
    ------
    GradcheckError
        Naming the input (``names[i]``, or ``upstream gradient of output k`` for ``v``) and the worst element.

    Examples
    --------
    >>> import numpy as np, microseq as ms
    >>> ms.gradgradcheck(lambda x, w: ms.tanh(x @ w), [np.ones((2, 3)), np.full((3, 1), 0.5)])
    True
    """
    tensors = _as_tensors(inputs)
    names = list(names) if names is not None else [f"input {i}" for i in range(len(tensors))]
    checked = [i for i, t in enumerate(tensors) if t.requires_grad]
    if not checked:
        raise GradcheckError("gradgradcheck: no input requires grad, nothing to check")
    with enable_grad():
        outputs = [out for out in _as_outputs(fn(*tensors)) if out.requires_grad]
    if not outputs:
        raise GradcheckError("gradgradcheck: no output depends on an input that requires grad")
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [rng.standard_normal(out.shape) for out in outputs]
    if len(grad_outputs) != len(outputs):
        count = f"{len(grad_outputs)} grad_outputs for {len(outputs)} differentiable outputs"
        raise GradcheckError(f"gradgradcheck: {count}")
    upstream = _as_tensors(grad_outputs)
    for k, (v, out) in enumerate(zip(upstream, outputs)):
        if v.shape != out.shape:
            raise GradcheckError(f"gradgradcheck: grad_outputs[{k}] has shape {v.shape}, output {k} has {out.shape}")

    def first_derivatives(*args):
        """``v^T J`` at the given inputs (``args``: the checked inputs, then the upstream gradients)."""
        full = list(tensors)
        for i, x in zip(checked, args):
            full[i] = x
        create_graph = is_grad_enabled()
        with enable_grad():
            outs = [out for out in _as_outputs(fn(*full)) if out.requires_grad]
            grads = autograd.grad(
                outs, [full[i] for i in checked], grad_outputs=list(args[len(checked) :]),
                create_graph=create_graph, allow_unused=True,
            )
        return grads  # Tensors, zeros for an input the outputs do not use

    names = [names[i] for i in checked] + [f"upstream gradient of output {k}" for k in range(len(upstream))]
    try:
        return gradcheck(
            first_derivatives, [tensors[i] for i in checked] + upstream, eps=eps, atol=atol, rtol=rtol, fast=fast,
            seed=seed + 1, names=names, raise_exception=raise_exception,
        )
    except GradcheckError as error:  # the same report, said of the second derivatives
        what = "gradgradcheck failed (second derivatives against finite differences of the first):"
        message = str(error).replace("gradcheck failed:", what, 1).replace("gradcheck:", "gradgradcheck:", 1)
        raise GradcheckError(message) from None


def _as_tensors(inputs) -> list[Tensor]:
    """Tensors as they are; anything else as a float64 tensor that requires grad."""
    return [x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=np.float64), requires_grad=True) for x in inputs]


def _compare(name: str, analytical: np.ndarray, numerical: np.ndarray, atol: float, rtol: float) -> str:
    """An empty string when close, else a description of the worst element."""
    error = np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))
    if not np.isfinite(analytical).all() or not np.isfinite(numerical).all():
        bad = np.unravel_index(np.argmax(~(np.isfinite(analytical) & np.isfinite(numerical))), analytical.shape)
    elif error.size == 0 or error.max() <= 0:
        return ""
    else:
        bad = np.unravel_index(np.argmax(error), error.shape)
    where = f" at index {tuple(int(i) for i in bad)}" if analytical.ndim else ""
    return (
        f"  {name}{where}: analytical {float(analytical[bad])!r}, numerical {float(numerical[bad])!r} "
        f"(|difference| {abs(analytical[bad] - numerical[bad]):.3g}, allowed {atol + rtol * abs(numerical[bad]):.3g}); "
        f"{int((error > 0).sum())} of {error.size} elements differ"
    )
