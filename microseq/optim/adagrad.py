"""Adagrad (``torch.optim.Adagrad``)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._checks import non_negative
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, exactly PyTorch's rule.

    For each parameter ``p`` with gradient ``g``, its step count ``t`` (1 at the first step) and sum of
    squared gradients ``s`` (``initial_accumulator_value`` at first)::

        g <- -g                                  if maximize
        g <- g + weight_decay * p                if weight_decay != 0
        clr <- lr / (1 + (t - 1) * lr_decay)
        s <- s + g * g
        p <- p - clr * g / (sqrt(s) + eps)

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr : float
        Default 1e-2 (min-char-rnn used 0.1).
    lr_decay, weight_decay, initial_accumulator_value, eps : float
    maximize : bool

    State per parameter: ``step`` (int), ``sum``.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        non_negative(
            "Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
        )
        defaults = dict(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param.data, group["initial_accumulator_value"])
        state["step"] += 1
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        std = np.sqrt(state["sum"]) + group["eps"]
        param.add_(-clr * grad / std)
