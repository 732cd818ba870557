"""RMSprop, plain or centered, with momentum (``torch.optim.RMSprop``)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._checks import non_negative
from .optimizer import Optimizer, lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, exactly PyTorch's rule.

    For each parameter ``p`` with gradient ``g`` and running averages ``v`` of ``g*g`` and ``a`` of ``g``
    (zeros at first), and momentum buffer ``b`` (zeros at first)::

        g <- -g                                  if maximize
        g <- g + weight_decay * p                if weight_decay != 0
        v <- alpha * v + (1 - alpha) * g * g
        if centered:
            a <- a + (1 - alpha) * (g - a)       (torch.lerp)
            d <- sqrt(v - a * a) + eps
        else:
            d <- sqrt(v) + eps
        if momentum > 0:
            b <- momentum * b + g / d
            p <- p - lr * b
        else:
            p <- p - lr * g / d

    Note ``eps`` is added outside the square root (as PyTorch; Keras and TensorFlow differ).

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr : float
        Default 1e-2 (char-rnn used 2e-3).
    alpha : float
        Smoothing constant of the averages.
    eps, weight_decay, momentum : float
    centered : bool
        Normalise by an estimate of the gradient's variance instead of its second moment.
    maximize : bool

    State per parameter: ``step`` (int), ``square_avg``, ``momentum_buffer`` (momentum > 0), ``grad_avg``
    (centered).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        non_negative("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param.data)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(param.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param.data)
        alpha = group["alpha"]
        state["step"] += 1
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            lerp_(grad_avg, grad, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = np.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]
            buffer *= group["momentum"]
            buffer += grad / avg
            param.add_(-group["lr"] * buffer)
        else:
            param.add_(-group["lr"] * grad / avg)
