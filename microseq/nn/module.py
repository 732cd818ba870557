"""``Module``: a container of parameters and sub-modules, named the way PyTorch names them.

Parameters and sub-modules are found by attribute: assigning a :class:`Parameter` or a :class:`Module` to
an attribute registers it, in assignment order. Buffers (state that is saved but not trained, such as batch
norm's running statistics) are registered with :meth:`Module.register_buffer`. ``state_dict`` keys are the
dotted attribute paths (``encoder.rnn.weight_ih_l0``, ``bn.running_mean``), so weights move between microseq
and PyTorch by name.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

import numpy as np

from .._checks import check_float_dtype
from ..tensor import Tensor, array_of

__all__ = ["Parameter", "Module", "Sequential", "ModuleList"]


class Parameter(Tensor):
    """A tensor that a :class:`Module` owns and an optimizer updates (``requires_grad`` by default)."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model.

    Subclasses assign parameters and sub-modules as attributes in ``__init__`` (after calling
    ``super().__init__()``) and define ``forward``. Calling the module calls ``forward``.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration by attribute -----------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if name in self._buffers:  # a registered buffer stays one when reassigned (as in PyTorch)
            self._buffers[name] = value
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, value: Parameter | None) -> None:
        """Register ``value`` under ``name`` (None removes it, e.g. a disabled bias)."""
        if value is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, value)

    def register_buffer(self, name: str, value: Tensor | None) -> None:
        """Register ``value`` as a buffer: saved in ``state_dict`` and converted by ``astype``, never trained (no
        gradient, not in ``parameters()``). None registers an absent buffer (``track_running_stats=False``)."""
        if value is not None and (not isinstance(value, Tensor) or isinstance(value, Parameter)):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor (not a Parameter) or None, "
                            f"got {type(value).__name__}")
        self._buffers[name] = value
        object.__setattr__(self, name, value)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """``(dotted_name, buffer)`` pairs of this module and its sub-modules (absent ones skipped)."""
        for module_name, module in self.named_modules(prefix):
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    # -- traversal ------------------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def children(self) -> Iterator["Module"]:
        yield from self._modules.values()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted_name, parameter)`` pairs in registration order; a shared parameter appears once."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, parameter in module._parameters.items():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self) -> Iterator[Parameter]:
        for _, parameter in self.named_parameters():
            yield parameter

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # -- training state --------------------------------------------------------------------------------
    def zero_grad(self) -> None:
        """Clear the gradient of every parameter."""
        for parameter in self.parameters():
            parameter.grad = None

    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active) for this module and all sub-modules."""
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: dropout off."""
        return self.train(False)

    def astype(self, dtype) -> "Module":
        """Convert every parameter to ``dtype`` (float32 or float64) in place (e.g. ``np.float64`` for gradient
        checks)."""
        dtype = check_float_dtype(f"{type(self).__name__}.astype", dtype)
        for parameter in self.parameters():
            parameter.data = parameter.data.astype(dtype)
            parameter.grad = None
        for _, buffer in self.named_buffers():  # floating buffers only: a counter stays an integer
            if buffer.dtype.kind == "f":
                buffer.data = buffer.data.astype(dtype)
        return self

    def double(self) -> "Module":
        return self.astype(np.float64)

    def float(self) -> "Module":
        return self.astype(np.float32)

    # -- state dict ------------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Every parameter's and buffer's array by dotted name (PyTorch's names, layouts and order: each module's
        parameters, then its buffers, then its sub-modules); arrays are copies."""
        parameters = dict(self.named_parameters())
        state = OrderedDict()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            state.update((prefix + name, parameters[prefix + name].data.copy())
                         for name in module._parameters if prefix + name in parameters)
            state.update((prefix + name, b.data.copy()) for name, b in module._buffers.items() if b is not None)
        return state

    def load_state_dict(self, state: dict, strict: bool = True) -> tuple[list[str], list[str]]:
        """Copy arrays into the parameters with the same names.

        Every problem is reported at once: missing and unexpected names (when ``strict``), and shape or
        dtype mismatches (always). Nothing is changed unless everything fits.

        Returns
        -------
        (missing, unexpected) : lists of names
        """
        own = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        missing = [name for name in [*own, *buffers] if name not in state]
        unexpected = [name for name in state if name not in own and name not in buffers]
        problems = []
        if strict:
            problems += [f"missing: {name}" for name in missing]
            problems += [f"unexpected: {name}" for name in unexpected]
        for name, parameter in own.items():
            if name not in state:
                continue
            value = array_of(state[name])
            if value.shape != parameter.shape:
                problems.append(f"{name}: shape {value.shape} in the state, {parameter.shape} in the model")
            elif value.dtype.kind != "f":
                problems.append(f"{name}: dtype {value.dtype} is not floating point")
        for name, buffer in buffers.items():  # as the parameters, except that an integer buffer stays an integer
            value = array_of(state[name]) if name in state else None
            if value is not None and (value.shape != buffer.shape or (value.dtype.kind == "f") != (buffer.dtype.kind == "f")):
                problems.append(f"{name}: shape {value.shape} and dtype {value.dtype} in the state, "
                                f"{buffer.shape} and {buffer.dtype} in the model")
        if problems:
            raise ValueError(f"load_state_dict ({type(self).__name__}): " + "; ".join(problems))
        for name, parameter in own.items():
            if name in state:
                parameter.data = np.array(array_of(state[name]), dtype=parameter.dtype, copy=True)
                parameter._version.value += 1
        for name, buffer in buffers.items():
            if name in state:
                buffer.data = np.array(array_of(state[name]), dtype=buffer.dtype, copy=True)
                buffer._version.value += 1
        return missing, unexpected

    # -- calling ----------------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """What goes between the parentheses of this module's ``repr`` line."""
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"


class _NumberedModules(Module):
    """Sub-modules named ``0``, ``1``, ... that index, iterate and count like a list."""

    def _append(self, module: Module) -> None:
        setattr(self, str(len(self._modules)), module)

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class Sequential(_NumberedModules):
    """Modules applied one after the other; sub-modules are named ``0``, ``1``, ..."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for module in modules:
            self._append(module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_NumberedModules):
    """A list of modules whose parameters are registered (named ``0``, ``1``, ...)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for module in modules:
            self._append(module)

    def append(self, module: Module) -> "ModuleList":
        self._append(module)
        return self
