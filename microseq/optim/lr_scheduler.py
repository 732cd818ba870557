"""Learning-rate schedules: PyTorch's names and closed forms.

A scheduler sets ``group["lr"]`` of every parameter group of an optimizer from that group's ``base_lr``
(its ``lr`` when the first scheduler was attached, kept in ``group["initial_lr"]``) and the number of
``step()`` calls so far, ``last_epoch``. Creating a scheduler already applies epoch 0. Call
``scheduler.step()`` after ``optimizer.step()``, once per epoch or per batch as you choose.

Every schedule here is a closed form ``lr_t = f(base_lr, t)``. PyTorch computes most of them recursively
(``lr_t`` from ``lr_{t-1}``); the values agree up to float rounding (the tests compare with PyTorch within
1e-12). A closed form cannot drift and needs no more state than ``last_epoch``; the flip side is that two
schedulers attached to one optimizer do not compose (the last one to step wins). Chain schedules in time
with :class:`SequentialLR`; warm-up then cosine decay is :func:`warmup_cosine`.

=====================  =======================================================================
StepLR                 ``base_lr * gamma ** (t // step_size)``
ExponentialLR          ``base_lr * gamma ** t``
CosineAnnealingLR      ``eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``
LinearLR (warm-up)     ``base_lr * (start + (end - start) * min(t, total_iters) / total_iters)``
LambdaLR               ``base_lr * lr_lambda(t)``
SequentialLR           scheduler i at ``t - milestones[i-1]`` while ``milestones[i-1] <= t < milestones[i]``
=====================  =======================================================================
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence

from .optimizer import Optimizer

__all__ = [
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "LambdaLR",
    "SequentialLR",
    "warmup_cosine",
]


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and writes the closed-form rates into the optimizer.

    Parameters
    ----------
    optimizer : Optimizer
    last_epoch : int
        The epoch of the last step before this scheduler was created; -1 (default) starts afresh.
        Resuming needs ``group["initial_lr"]`` in every group (PyTorch's rule); prefer
        :meth:`load_state_dict`.

    Subclasses write :meth:`lr_at`.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"{type(self).__name__}: resuming at last_epoch={last_epoch} needs 'initial_lr' in parameter "
                    f"group {i}"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, epoch: int) -> list[float]:
        """The learning rate of every parameter group at ``epoch`` (the closed form)."""
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The learning rates at ``last_epoch``."""
        return self.lr_at(self.last_epoch)

    def step(self) -> None:
        """Advance one epoch and set every group's ``lr``."""
        self.last_epoch += 1
        self._last_lr = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimizer (and functions): JSON-friendly numbers and lists."""
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` (the optimizer's own ``lr`` comes from its state dict)."""
        self.__dict__.update({key: value for key, value in state_dict.items() if key != "optimizer"})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: ``base_lr * gamma ** (t // step_size)``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        return [base_lr * self.gamma ** (epoch // self.step_size) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``base_lr * gamma ** t``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        return [base_lr * self.gamma**epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``base_lr`` at t = 0 down to ``eta_min`` at t = ``T_max``.

    ``eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``; past ``T_max`` the cosine goes on
    (back up), as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        cosine = 1 + math.cos(math.pi * epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the rate by a factor going linearly from ``start_factor`` to ``end_factor`` in ``total_iters``.

    ``base_lr * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters)``: a linear
    warm-up with the defaults' shape (start low, end at 1). PyTorch's defaults: 1/3, 1.0, 5.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        if total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be >= 1, got {total_iters}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        progress = min(self.total_iters, epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base_lr * factor for base_lr in self.base_lrs]


class LambdaLR(LRScheduler):
    """``base_lr * lr_lambda(t)``, with one function for all groups or one per group.

    The functions are not part of :meth:`state_dict` (code is not data): recreate the scheduler with the
    same functions, then load its state.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        n_groups = len(optimizer.param_groups)
        if callable(lr_lambda):
            self.lr_lambdas = [lr_lambda] * n_groups
        elif len(lr_lambda) == n_groups:
            self.lr_lambdas = list(lr_lambda)
        else:
            raise ValueError(f"LambdaLR: expected {n_groups} lr_lambdas (one per group), got {len(lr_lambda)}")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        return [base_lr * fn(epoch) for base_lr, fn in zip(self.base_lrs, self.lr_lambdas)]


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after the other, switching at the ``milestones``.

    Scheduler ``i`` is in charge while ``milestones[i-1] <= t < milestones[i]`` and sees the epoch counted
    from its own start, ``t - milestones[i-1]`` (so each schedule starts from its beginning).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer every scheduler in ``schedulers`` was created with.
    schedulers : sequence of LRScheduler
    milestones : sequence of int
        ``len(schedulers) - 1`` increasing epochs.
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int], last_epoch: int = -1
    ) -> None:
        if not schedulers:
            raise ValueError("SequentialLR: needs at least one scheduler")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ValueError("SequentialLR: every scheduler must drive the optimizer given to SequentialLR")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: {len(schedulers)} schedulers need {len(schedulers) - 1} milestones, got "
                f"{len(milestones)}"
            )
        if list(milestones) != sorted(milestones):
            raise ValueError(f"SequentialLR: milestones must increase, got {list(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        super().__init__(optimizer, last_epoch)

    def _active(self, epoch: int) -> tuple[LRScheduler, int]:
        """The scheduler in charge at ``epoch`` and the epoch as it counts it."""
        index = bisect_right(self._milestones, epoch)
        start = self._milestones[index - 1] if index > 0 else 0
        return self._schedulers[index], epoch - start

    def lr_at(self, epoch: int) -> list[float]:
        scheduler, local_epoch = self._active(epoch)
        return scheduler.lr_at(local_epoch)

    def step(self) -> None:
        super().step()
        scheduler, local_epoch = self._active(self.last_epoch)
        scheduler.last_epoch, scheduler._last_lr = local_epoch, self.get_last_lr()

    def state_dict(self) -> dict:
        state = {key: value for key, value in super().state_dict().items() if key != "_schedulers"}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        for scheduler, scheduler_state in zip(self._schedulers, state.pop("_schedulers")):
            scheduler.load_state_dict(scheduler_state)
        super().load_state_dict(state)


def warmup_cosine(
    optimizer: Optimizer,
    warmup_steps: int,
    total_steps: int,
    eta_min: float = 0.0,
    start_factor: float | None = None,
) -> LRScheduler:
    """Linear warm-up for ``warmup_steps``, then cosine decay to ``eta_min`` at ``total_steps``.

    ``SequentialLR([LinearLR(start_factor, 1, warmup_steps), CosineAnnealingLR(total_steps - warmup_steps,
    eta_min)], milestones=[warmup_steps])``. With the default ``start_factor = 1 / (warmup_steps + 1)`` the
    rate is ``base_lr * (t + 1) / (warmup_steps + 1)`` during warm-up: never 0, and ``base_lr`` exactly at
    ``t = warmup_steps``, where the cosine starts. ``warmup_steps=0`` gives the cosine alone.
    """
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"warmup_cosine: need 0 <= warmup_steps < total_steps, got warmup_steps={warmup_steps}, "
            f"total_steps={total_steps}"
        )
    if warmup_steps == 0:
        return CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=eta_min)
    if start_factor is None:
        start_factor = 1.0 / (warmup_steps + 1)
    warmup = LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps)
    cosine = CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=eta_min)
    return SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])
