"""Teacher forcing and scheduled sampling: the probability, at each training step, that a decoder reads the
true previous symbol rather than its own prediction (Bengio et al., 2015).

A run sets it with ``--teacher-forcing RATIO`` and, to let it decay, ``--teacher-forcing-decay`` (linear,
exponential, inverse_sigmoid) with ``--teacher-forcing-floor`` and ``--teacher-forcing-k``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["TeacherForcingSchedule"]


@dataclass
class TeacherForcingSchedule:
    """The teacher forcing ratio at each training step: scheduled sampling (Bengio et al., 2015).

    Parameters
    ----------
    kind : "constant", "linear", "exponential" or "inverse_sigmoid"
        - constant: ``ratio``;
        - linear: from ``ratio`` down to ``floor`` in ``k`` steps, then ``floor``;
        - exponential: ``ratio * k ** step`` (k < 1), at least ``floor``;
        - inverse_sigmoid: ``ratio * k / (k + exp(step / k))`` (k >= 1), at least ``floor``.
    ratio : float in [0, 1]
        The starting ratio (1 = always the truth).
    floor : float in [0, 1]
        The lowest ratio the decay reaches.
    k : float
        The speed of the decay (see ``kind``).
    """

    kind: str = "constant"
    ratio: float = 1.0
    floor: float = 0.0
    k: float = 1000.0

    KINDS = ("constant", "linear", "exponential", "inverse_sigmoid")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"TeacherForcingSchedule: kind must be one of {self.KINDS}, got {self.kind!r}")
        if not (0.0 <= self.floor <= self.ratio <= 1.0):
            raise ValueError(f"TeacherForcingSchedule: need 0 <= floor <= ratio <= 1, got floor {self.floor}, ratio {self.ratio}")
        if self.kind == "exponential" and not 0.0 < self.k < 1.0:
            raise ValueError(f"TeacherForcingSchedule: exponential decay needs 0 < k < 1, got {self.k}")
        if self.kind in ("linear", "inverse_sigmoid") and self.k < 1.0:
            raise ValueError(f"TeacherForcingSchedule: {self.kind} decay needs k >= 1, got {self.k}")

    def __call__(self, step: int) -> float:
        if self.kind == "constant":
            return self.ratio
        if self.kind == "linear":
            value = self.ratio - (self.ratio - self.floor) * step / self.k
        elif self.kind == "exponential":
            value = self.ratio * self.k**step
        else:
            value = self.ratio * self.k / (self.k + math.exp(min(step / self.k, 700.0)))
        return max(self.floor, value)
