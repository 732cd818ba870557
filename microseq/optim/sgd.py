"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay (``torch.optim.SGD``)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._checks import non_negative
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, exactly PyTorch's rule.

    For each parameter ``p`` with gradient ``g``::

        g <- -g                                  if maximize
        g <- g + weight_decay * p                if weight_decay != 0
        if momentum != 0:
            b <- g                               at this parameter's first step (no dampening)
            b <- momentum * b + (1 - dampening) * g    afterwards
            g <- g + momentum * b                if nesterov
            g <- b                               otherwise
        p <- p - lr * g

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr : float
        Learning rate (default 1e-3, as PyTorch).
    momentum, dampening, weight_decay : float
    nesterov : bool
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    maximize : bool
        Ascend the objective instead.

    State per parameter: ``momentum_buffer`` (when momentum is used).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        non_negative("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: Nesterov momentum needs momentum > 0 and dampening == 0, got momentum={momentum}, "
                f"dampening={dampening}"
            )
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        momentum = group["momentum"]
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = np.array(grad, dtype=param.dtype)  # 0-d stays an array
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param.add_(-group["lr"] * grad)
