"""Adam and AdamW (``torch.optim.Adam``, ``torch.optim.AdamW``), with AMSGrad."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from ._checks import in_unit_interval, non_negative
from .optimizer import Optimizer, lerp_

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam, exactly PyTorch's rule (``decoupled_weight_decay=True`` is AdamW).

    For each parameter ``p`` with gradient ``g``, its step count ``t`` (1 at the first step), first and
    second moments ``m``, ``v`` (zeros at first)::

        g <- -g                                      if maximize
        if weight_decay != 0:
            p <- p * (1 - lr * weight_decay)         if decoupled_weight_decay (AdamW)
            g <- g + weight_decay * p                otherwise (L2 penalty in the gradient)
        m <- m + (1 - beta1) * (g - m)               (torch.lerp)
        v <- beta2 * v + (1 - beta2) * g * g
        v_max <- max(v_max, v)                       if amsgrad; then v_max replaces v below
        denom <- sqrt(v) / sqrt(1 - beta2**t) + eps
        p <- p - (lr / (1 - beta1**t)) * m / denom

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr : float
    betas : (float, float)
        Decay rates of the moment estimates.
    eps : float
        Added to the denominator.
    weight_decay : float
    amsgrad : bool
        Use the running maximum of ``v`` (AMSGrad).
    maximize : bool
    decoupled_weight_decay : bool
        Decay the weights directly (AdamW) instead of adding ``weight_decay * p`` to the gradient.

    State per parameter: ``step`` (int), ``exp_avg``, ``exp_avg_sq``, and ``max_exp_avg_sq`` with amsgrad.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        name = type(self).__name__
        non_negative(name, lr=lr, eps=eps, weight_decay=weight_decay)
        in_unit_interval(name, "beta1", betas[0])
        in_unit_interval(name, "beta2", betas[1])
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_avg_sq"] = np.zeros_like(param.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param.data)
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        step = state["step"]
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad + weight_decay * param.data
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, grad, 1 - beta1)
        # below, in place on two temporaries, the formulas' operations in their order (the same bits):
        # v = beta2 v + ((1 - beta2) g) g;  update = (-step_size m) / (sqrt(v) / sqrt(1 - beta2^t) + eps)
        square = np.multiply(grad, 1 - beta2, out=np.empty_like(grad))  # an array, also for 0-d
        square *= grad
        exp_avg_sq *= beta2
        exp_avg_sq += square
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = math.sqrt(1 - beta2**step)
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            second_moment = state["max_exp_avg_sq"]
        else:
            second_moment = exp_avg_sq
        denom = np.sqrt(second_moment, out=square if square.dtype == second_moment.dtype else None)
        denom /= bias_correction2_sqrt
        denom += group["eps"]
        update = np.multiply(exp_avg, -step_size, out=np.empty_like(exp_avg))
        update /= denom
        param.add_(update)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter), exactly ``torch.optim.AdamW``.

    The rule of :class:`Adam` with ``decoupled_weight_decay=True``: the weights shrink by
    ``p <- p * (1 - lr * weight_decay)`` before the moment update, and the gradient is left alone.
    ``weight_decay`` defaults to 1e-2, as in PyTorch.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True
        )
