"""How much memory a run will need, estimated before anything is allocated, against what the machine has.

A recurrent layer of cell ``rnn``, ``gru`` or ``lstm`` has ``G = 1, 3, 4`` gates; one layer and direction
with input size ``I`` and hidden size ``H`` holds ``G·H·(I + H + 2)`` parameters (two weight matrices, two
biases). Training keeps, besides the parameters, their gradients and the optimizer's state (Adam: two
moments), and for the backward pass the activations of every time step: about ``B·T·L·D·H·(G + 2)`` numbers
for batch ``B``, ``T`` steps, ``L`` layers, ``D`` directions (the gates, the cell and hidden states). The
estimate is rough (within a small factor) and only meant to refuse, in one line and before a 149 GiB
allocation, a run that cannot fit: it is compared with the machine's physical memory (or the cgroup limit
of a container, if lower).
"""

from __future__ import annotations

import os

from .config import ConfigError

__all__ = ["GATES", "training_bytes", "recurrent_parameters", "total_memory", "check_memory"]

GATES = {"rnn": 1, "gru": 3, "lstm": 4}
#: tensors of optimizer state per parameter
OPTIMIZER_STATE = {"sgd": 1, "adam": 2, "adamw": 2, "adagrad": 1, "rmsprop": 2}
GIB = 2**30


def recurrent_parameters(cell: str, input_size: int, hidden_size: int, layers: int, directions: int) -> int:
    """Parameters of a stack of ``layers`` recurrent layers (each reading the previous one's ``D·H`` outputs)."""
    total, size = 0, input_size
    for _ in range(layers):
        total += directions * GATES[cell] * hidden_size * (size + hidden_size + 2)
        size = directions * hidden_size
    return total


def training_bytes(config, model_config: dict, steps: int | None = None) -> dict:
    """Estimated bytes of a training run: ``{"parameters", "gradients and optimizer", "activations"}``.

    Parameters
    ----------
    config : TrainConfig
    model_config : dict
        The task's model config (``vocab_size`` or ``input_size``, ``num_classes``).
    steps : int, optional
        Time steps of one batch (default ``config.seq_len``).
    """
    itemsize = 8 if config.dtype == "float64" else 4
    D, H, G = 2 if config.bidirectional else 1, config.hidden_size, GATES[config.cell]
    vocab = model_config.get("vocab_size", 0)
    inputs = config.embedding_size if vocab else model_config.get("input_size", 1)
    classes = model_config.get("num_classes") or vocab or 1
    parameters = (vocab * inputs + recurrent_parameters(config.cell, inputs, H, config.layers, D)
                  + (D * H + 1) * classes)
    T = steps or config.seq_len
    activations = config.batch_size * T * (config.layers * D * H * (G + 2) + inputs + classes)
    return {"parameters": parameters * itemsize,
            "gradients and optimizer": parameters * itemsize * (1 + OPTIMIZER_STATE[config.optimizer]),
            "activations": activations * itemsize}


def total_memory() -> int | None:
    """Bytes of memory this process can have: physical memory, or a lower cgroup limit; None if unknown."""
    found = []
    try:
        found.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(limit, encoding="ascii") as f:
                found.append(int(f.read().strip()))
        except (OSError, ValueError):  # missing, or "max"
            continue
    found = [n for n in found if n > 0]
    return min(found) if found else None


def check_memory(config, estimate: dict, available: int | None = None) -> None:
    """Raise ConfigError if ``estimate`` (from :func:`training_bytes`) is more memory than the machine has."""
    available = total_memory() if available is None else available
    needed = sum(estimate.values())
    if available is not None and needed > available:
        parts = ", ".join(f"{name} {size / GIB:.1f}" for name, size in estimate.items())
        raise ConfigError(f"--hidden-size {config.hidden_size} (with --layers {config.layers}, --batch-size "
                          f"{config.batch_size}) needs about {needed / GIB:.1f} GiB ({parts} GiB) but this "
                          f"machine has {available / GIB:.1f} GiB; choose smaller sizes")
