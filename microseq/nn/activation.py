"""Activation modules with PyTorch's names and constructor arguments (``nn.GELU(approximate="tanh")``, ...).

Each stores its options as attributes of the same names as PyTorch's and applies the functional op from
:mod:`microseq.ops.activation`. ``inplace=True`` is accepted for compatibility; the result is computed out
of place (the same values, and the input is left unchanged).
"""

from __future__ import annotations

from .. import ops
from .module import Module

__all__ = [
    "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Softplus", "LogSigmoid",
    "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Softsign", "Mish",
]


class _Activation(Module):
    """Applies ``function(x, **options)``; subclasses set ``function`` and name their options."""

    function = None

    def __init__(self, inplace: bool = False, **options) -> None:
        super().__init__()
        self.inplace = inplace
        self._options = tuple(options)
        for name, value in options.items():
            setattr(self, name, value)

    def forward(self, x):
        return type(self).function(x, **{name: getattr(self, name) for name in self._options})

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self._options)


class ReLU(_Activation):
    """``max(x, 0)``, as ``torch.nn.ReLU``."""

    function = staticmethod(ops.relu)


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))``, as ``torch.nn.Sigmoid``."""

    function = staticmethod(ops.sigmoid)

    def __init__(self) -> None:
        super().__init__()


class Tanh(_Activation):
    """``tanh(x)``, as ``torch.nn.Tanh``."""

    function = staticmethod(ops.tanh)

    def __init__(self) -> None:
        super().__init__()


class LeakyReLU(_Activation):
    """``x`` if x > 0 else ``negative_slope * x``, as ``torch.nn.LeakyReLU``."""

    function = staticmethod(ops.leaky_relu)

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(inplace, negative_slope=negative_slope)


class ELU(_Activation):
    """``x`` if x > 0 else ``alpha (exp(x) - 1)``, as ``torch.nn.ELU``."""

    function = staticmethod(ops.elu)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace, alpha=alpha)


class SELU(_Activation):
    """Scaled ELU with the self-normalising constants, as ``torch.nn.SELU``."""

    function = staticmethod(ops.selu)


class GELU(_Activation):
    """``x Phi(x)``, exact (``approximate="none"``) or with tanh (``"tanh"``), as ``torch.nn.GELU``."""

    function = staticmethod(ops.gelu)

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        super().__init__(approximate=approximate)


class SiLU(_Activation):
    """``x sigmoid(x)``, as ``torch.nn.SiLU``."""

    function = staticmethod(ops.silu)


class Softplus(_Activation):
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold``, as ``torch.nn.Softplus``."""

    function = staticmethod(ops.softplus)

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)


class LogSigmoid(_Activation):
    """``log(sigmoid(x))``, as ``torch.nn.LogSigmoid``."""

    function = staticmethod(ops.logsigmoid)

    def __init__(self) -> None:
        super().__init__()


class Hardtanh(_Activation):
    """``x`` clipped to [min_val, max_val], as ``torch.nn.Hardtanh``."""

    function = staticmethod(ops.hardtanh)

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) is larger than max_val ({max_val})")
        super().__init__(inplace, min_val=min_val, max_val=max_val)


class ReLU6(_Activation):
    """``min(max(x, 0), 6)``, as ``torch.nn.ReLU6``."""

    function = staticmethod(ops.relu6)


class Hardsigmoid(_Activation):
    """``min(max(x + 3, 0), 6) / 6``, as ``torch.nn.Hardsigmoid``."""

    function = staticmethod(ops.hardsigmoid)


class Hardswish(_Activation):
    """``x hardsigmoid(x)``, as ``torch.nn.Hardswish``."""

    function = staticmethod(ops.hardswish)


class Softsign(_Activation):
    """``x / (1 + |x|)``, as ``torch.nn.Softsign``."""

    function = staticmethod(ops.softsign)

    def __init__(self) -> None:
        super().__init__()


class Mish(_Activation):
    """``x tanh(softplus(x))``, as ``torch.nn.Mish``."""

    function = staticmethod(ops.mish)
