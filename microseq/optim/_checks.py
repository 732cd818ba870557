"""Hyperparameter validation shared by the optimizers (PyTorch's rules, messages naming the optimizer)."""

from __future__ import annotations


def non_negative(optimizer: str, **values: float) -> None:
    """Raise ValueError naming the first argument that is negative (or NaN)."""
    for name, value in values.items():
        if not value >= 0.0:
            raise ValueError(f"{optimizer}: invalid {name} {value!r} (must be >= 0)")


def in_unit_interval(optimizer: str, name: str, value: float) -> None:
    """Raise ValueError unless ``0 <= value < 1`` (betas)."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{optimizer}: invalid {name} {value!r} (must be in [0, 1))")
