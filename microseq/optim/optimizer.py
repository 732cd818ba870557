"""``Optimizer``: parameter groups, per-parameter state, and state dicts in PyTorch's layout.

A subclass only writes :meth:`Optimizer._update`, the rule for one parameter. The base class walks the
parameter groups, skips parameters without a gradient, and runs every update under ``no_grad``. Updates
change ``param.data`` in place through the Tensor in-place API, which bumps the version counter: a graph
recorded before the step that saved a parameter refuses to run backward afterwards.

``state_dict()`` is PyTorch's nested dict, JSON-friendly apart from the state arrays::

    {"state": {0: {"step": 3, "exp_avg": array, ...}, ...},          # keyed by parameter index
     "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1, 2]}, ...]}

Parameter indices count through the groups in order, so a state dict fits any optimizer built over the
same parameters in the same order (a checkpoint stores exactly this).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from ..autograd import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "lerp_"]


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start += weight * (end - start)`` in place, rounded like ``torch.lerp``.

    PyTorch switches formulas at ``|weight| = 0.5`` for accuracy: ``start + w (end - start)`` below,
    ``end - (end - start)(1 - w)`` from 0.5 on.
    """
    step = np.subtract(end, start)  # the one temporary (the same operations as the formulas, in place)
    if abs(weight) < 0.5:
        step *= weight
        start += step
    else:
        step *= 1 - weight
        np.subtract(end, step, out=start, casting="unsafe")


class Optimizer:
    """Base class: updates parameters from their ``.grad`` with per-group hyperparameters.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The parameters, or parameter groups ``{"params": [...], "lr": ..., ...}``; a group's missing
        hyperparameters come from ``defaults``.
    defaults : dict
        The optimizer's hyperparameters (its constructor arguments).

    Attributes
    ----------
    param_groups : list of dict
        Each with ``"params"`` (a list of tensors) and its hyperparameters; edit ``group["lr"]`` to change
        the learning rate (schedulers do).
    state : dict
        Per-parameter state (moment estimates, step counts), keyed by the parameter tensor.
    """

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict] = {}
        self.param_groups: list[dict] = []
        groups = list(params) if not isinstance(params, Tensor) else [params]
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (defaults fill the missing ones)."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group is a dict with a 'params' entry, got {group!r}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, got a {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"{name}: can only optimize floating-point tensors, got dtype {p.dtype}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf tensor (the result of an op)")
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            raise ValueError(f"{name}: a parameter appears twice in one parameter group")
        if any(id(p) in ids for other in self.param_groups for p in other["params"]):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        new_group = {key: value for key, value in group.items() if key != "params"}
        for key, value in self.defaults.items():
            new_group.setdefault(key, value)
        new_group["params"] = params
        self.param_groups.append(new_group)

    # -- the update ------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: ``None`` (default, as PyTorch) or zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self, closure: Callable[[], object] | None = None):
        """Update every parameter that has a gradient, once.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss (called with gradients enabled, before the update).

        Returns
        -------
        The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.shape != p.shape:
                        raise ValueError(
                            f"{type(self).__name__}: gradient of shape {p.grad.shape} for a parameter of shape "
                            f"{p.shape}"
                        )
                    state = self.state.get(p, {})
                    grad = p.grad.data if isinstance(p.grad, Tensor) else p.grad  # a Tensor after create_graph
                    self._update(p, grad, state, group)
                    if state:  # plain SGD keeps none, as in PyTorch
                        self.state[p] = state
        return loss

    def _update(self, param: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        """Apply the update rule to one parameter (``state`` starts empty; fill it on the first call)."""
        raise NotImplementedError

    # -- state dicts ----------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {name: value}}, "param_groups": [...]}`` (PyTorch's layout; arrays copied)."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {key: (v.copy() if isinstance(v, np.ndarray) else v) for key, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def check_state_dict(self, state_dict: dict) -> list[str]:
        """Every reason :meth:`load_state_dict` would refuse ``state_dict``, as messages (empty if it fits)."""
        try:
            saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            return ["not an optimizer state dict (needs 'state' and 'param_groups')"]
        if len(saved_groups) != len(self.param_groups):
            return [f"{len(saved_groups)} parameter groups in the state, {len(self.param_groups)} in the optimizer"]
        problems = []
        params = []
        for i, (saved, own) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                problems.append(
                    f"parameter group {i}: {len(saved['params'])} parameters in the state, "
                    f"{len(own['params'])} in the optimizer"
                )
            params += own["params"]
        if problems:
            return problems
        for key, entries in saved_state.items():
            position = int(key)
            if not 0 <= position < len(params):
                problems.append(f"state of parameter {position}: there are only {len(params)} parameters")
                continue
            for name, value in entries.items():
                if isinstance(value, np.ndarray) and value.shape != params[position].shape:
                    problems.append(
                        f"state of parameter {position}: '{name}' has shape {value.shape}, the parameter "
                        f"{params[position].shape}"
                    )
        return problems

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict` (arrays copied, cast to the
        parameters' dtypes). Keys of ``state`` may be ints or their strings (as after JSON)."""
        problems = self.check_state_dict(state_dict)
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems))
        params = [p for group in self.param_groups for p in group["params"]]
        new_groups = []
        for saved, own in zip(state_dict["param_groups"], self.param_groups):
            group = {key: copy.deepcopy(value) for key, value in saved.items() if key != "params"}
            group["params"] = own["params"]
            new_groups.append(group)
        self.param_groups = new_groups
        self.state = {}
        for key, entries in state_dict["state"].items():
            p = params[int(key)]
            self.state[p] = {
                name: (np.array(value, dtype=p.dtype, copy=True) if isinstance(value, np.ndarray) else value)
                for name, value in entries.items()
            }

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params"]
        return "\n".join(lines) + "\n)"

