"""``gradcheck``: compare backward with central finite differences, PyTorch's way.

For a function ``f`` of tensors and a random upstream gradient ``v`` (one per output), backward gives
``v^T J`` for every input. Finite differences estimate the same numbers one input element at a time:

    d/dx_i <v, f(x)>  ~  (<v, f(x + eps e_i)> - <v, f(x - eps e_i)>) / (2 eps)

and the check passes when ``|analytical - numerical| <= atol + rtol * |numerical|`` everywhere.

For large inputs the *fast* mode checks one random direction ``u`` per input instead of every element:
``(<v, f(x + eps u)> - <v, f(x - eps u)>) / (2 eps)`` against ``<v^T J, u>``.

Using a random ``v`` (not ``f(x).sum()``) matters: a backward rule that mixes up output positions can still
give the right gradient of a sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .autograd import no_grad
from .tensor import Tensor

__all__ = ["gradcheck", "GradcheckError"]


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
    tensors = [x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=np.float64), requires_grad=True) for x in inputs]
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
