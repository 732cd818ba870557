"""Safe checkpoints: one safetensors file with the parameters under PyTorch's names and JSON metadata.

Layout of a checkpoint file (a plain safetensors file)
------------------------------------------------------
Tensors:

- the model's parameters under their ``state_dict`` names (``encoder.weight_ih_l0``, ``fc.bias``, ...);
- the optimizer's state arrays as ``optimizer.state.<i>.<name>`` (``optimizer.state.0.exp_avg``), ``i``
  being the parameter's index in the optimizer's ``state_dict``;
- user arrays as ``arrays.<name>``.

Header metadata (string to string; every value is JSON): ``format`` (``"microseq.checkpoint"``),
``format_version``, ``model`` (class and parameter names), ``optimizer`` (class, hyperparameters per group,
scalar state such as step counts), ``scheduler`` (class and state), ``step``, ``config``, ``vocab``,
``extra``, ``rng_state`` (:func:`microseq.get_rng_state`), and ``sha256``: a digest of all other metadata
and of every tensor's name, dtype, shape and bytes, so that any flipped byte is caught at load.

Reading it elsewhere: ``safetensors.numpy.load_file(path)`` (or ``safetensors.torch.load_file``) gives the
parameters under PyTorch's names; drop the keys starting with ``optimizer.`` and ``arrays.`` (a checkpoint
saved with only a model has none) and ``torch_model.load_state_dict(...)`` takes the rest.

Guarantees
----------
- Writes are atomic: the file is written to a temporary file in the same directory, flushed and fsynced,
  then renamed over the target. A crash at any point leaves either the old checkpoint or the new one.
- Loading never unpickles (safetensors holds only raw arrays; metadata is JSON).
- Loading checks names, shapes and dtypes of everything against the model, optimizer and scheduler given,
  and reports every mismatch at once in one :class:`CheckpointError`, before changing anything.
- A truncated, corrupted or tampered file is a :class:`CheckpointError` naming the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .random import get_rng_state, set_rng_state

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "FORMAT", "FORMAT_VERSION", "write_atomically"]

FORMAT = "microseq.checkpoint"
FORMAT_VERSION = 1
OPTIMIZER_PREFIX = "optimizer.state."
ARRAYS_PREFIX = "arrays."
_JSON_KEYS = ("model", "optimizer", "scheduler", "step", "config", "vocab", "extra", "rng_state")
_CHUNK = 1 << 20


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read, or does not fit the model/optimizer/scheduler given."""


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------
def save_checkpoint(
    path,
    model=None,
    optimizer=None,
    scheduler=None,
    *,
    step: int | None = None,
    config=None,
    vocab=None,
    extra=None,
    arrays: dict | None = None,
    rng_state: bool = True,
) -> Path:
    """Write a checkpoint atomically (see the module docstring for the layout).

    Parameters
    ----------
    path : str or os.PathLike
        The file to (over)write; its directory must exist.
    model : Module, optional
        Its parameters are saved under their ``state_dict`` names.
    optimizer : Optimizer, optional
        Hyperparameters and state (moments, step counts) of every parameter group.
    scheduler : LRScheduler, optional
    step : int, optional
        The training step this checkpoint was taken at.
    config : JSON-serialisable, optional
        What it takes to rebuild the model (sizes, layer types...).
    vocab : JSON-serialisable or an object with ``to_dict()``, optional
        The vocabulary, e.g. a list of symbols or a :class:`microseq.data.Vocab`.
    extra : JSON-serialisable, optional
        Anything else small (metrics, data-stream position...).
    arrays : dict of str to numpy.ndarray, optional
        Anything else array-valued (e.g. a carried hidden state), stored as tensors ``arrays.<name>``.
    rng_state : bool
        Store the state of microseq's global random generator, so that a resumed run draws the same
        dropout masks and samples.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    tensors: dict[str, np.ndarray] = OrderedDict()
    meta: dict[str, object] = {key: None for key in _JSON_KEYS}
    if model is not None:
        state = model.state_dict()
        clashes = [name for name in state if name.startswith((OPTIMIZER_PREFIX, ARRAYS_PREFIX))]
        if clashes:
            raise CheckpointError(
                f"save_checkpoint({path}): parameter names {clashes} clash with the reserved prefixes "
                f"'{OPTIMIZER_PREFIX}' and '{ARRAYS_PREFIX}'"
            )
        tensors.update((name, _contiguous(value)) for name, value in state.items())
        meta["model"] = {"class": type(model).__name__, "parameters": list(state)}
    if optimizer is not None:
        meta["optimizer"] = _pack_optimizer(optimizer.state_dict(), tensors)
        meta["optimizer"]["class"] = type(optimizer).__name__
    if scheduler is not None:
        meta["scheduler"] = {"class": type(scheduler).__name__, "state": scheduler.state_dict()}
    for name, value in (arrays or {}).items():
        tensors[ARRAYS_PREFIX + name] = _contiguous(value)
    meta["step"], meta["config"], meta["extra"] = step, config, extra
    meta["vocab"] = vocab.to_dict() if hasattr(vocab, "to_dict") else vocab
    meta["rng_state"] = get_rng_state() if rng_state else None

    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION)}
    for key, value in meta.items():
        try:
            metadata[key] = json.dumps(value, default=_json_scalar)
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"save_checkpoint({path}): {key} is not JSON-serialisable: {error}") from None
    metadata["sha256"] = _digest(metadata, tensors)

    from safetensors.numpy import save  # lazily: `import microseq` stays light

    write_atomically(path, save(tensors, metadata=metadata))
    return path


def _contiguous(array) -> np.ndarray:
    """``array`` in C order, 0-d arrays kept 0-d (``np.ascontiguousarray`` would make them 1-d)."""
    array = np.asarray(array)
    return array if array.flags.c_contiguous else array.copy(order="C")


def _json_scalar(value):
    """NumPy scalars in configs and hyperparameters, as Python numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON-serialisable")


def _pack_optimizer(state_dict: dict, tensors: dict) -> dict:
    """Split an optimizer state dict: arrays into ``tensors``, everything else into a JSON-able dict."""
    scalars, array_names = {}, {}
    for index, entries in state_dict["state"].items():
        scalars[str(index)] = {k: v for k, v in entries.items() if not isinstance(v, np.ndarray)}
        array_names[str(index)] = [k for k, v in entries.items() if isinstance(v, np.ndarray)]
        for name in array_names[str(index)]:
            tensors[f"{OPTIMIZER_PREFIX}{index}.{name}"] = _contiguous(entries[name])
    return {"param_groups": state_dict["param_groups"], "state": scalars, "arrays": array_names}


def _digest(metadata: dict, tensors: dict) -> str:
    """SHA-256 of the metadata (but ``sha256``) and of every tensor's name, dtype, shape and bytes."""
    hasher = hashlib.sha256()
    for key in sorted(metadata):
        if key != "sha256":
            hasher.update(json.dumps([key, metadata[key]]).encode())
    for name in sorted(tensors):
        array = _contiguous(tensors[name])
        hasher.update(json.dumps([name, array.dtype.name, list(array.shape)]).encode())
        hasher.update(array.tobytes())
    return hasher.hexdigest()


def _write_all(file, data: bytes) -> None:
    """Write ``data`` in chunks (a seam for the tests' simulated crash)."""
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        file.write(view[start : start + _CHUNK])


def write_atomically(path: Path, data: bytes) -> None:
    """Write a temporary file next to ``path``, fsync it, rename it over ``path``, fsync the directory."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    try:
        with os.fdopen(descriptor, "wb") as file:
            _write_all(file, data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------
def load_checkpoint(
    path,
    model=None,
    optimizer=None,
    scheduler=None,
    *,
    strict: bool = True,
    restore_rng: bool = True,
) -> dict:
    """Read a checkpoint, check it against what is given, and restore it into them.

    Nothing is changed unless everything fits: all problems (missing or unexpected parameter names with
    ``strict``, shape and dtype mismatches, optimizer or scheduler of another kind or size) are reported
    together in one :class:`CheckpointError`.

    A plain safetensors file without microseq metadata (e.g. ``safetensors.torch.save_file(
    torch_model.state_dict(), path)``) loads too: all its tensors are taken as parameters.

    Parameters
    ----------
    path : str or os.PathLike
    model : Module, optional
        Receives the parameters (same names, shapes and dtypes required).
    optimizer : Optimizer, optional
        Receives hyperparameters and state; built over the model's parameters in the same order.
    scheduler : LRScheduler, optional
    strict : bool
        Require the file's parameter names and the model's to be the same set. With ``strict=False``
        parameters present in both are loaded and the others are listed in the result.
    restore_rng : bool
        Restore microseq's global random generator from the checkpoint (when it holds one).

    Returns
    -------
    dict
        ``step``, ``config``, ``vocab``, ``extra``, ``rng_state``, ``format_version`` (None for a plain
        safetensors file), ``model_class``, ``optimizer_class``, ``scheduler_class``, ``model_state``
        (parameter name to array, as read), ``arrays`` (the user arrays), ``missing`` and ``unexpected``
        (parameter names absent from the file / from the model).

    Raises
    ------
    CheckpointError
        The file is truncated, corrupted, tampered with, or does not fit the objects given.
    FileNotFoundError
    """
    path = Path(path)
    metadata, tensors = _read(path)
    if not metadata or not (metadata.keys() & {"format", "sha256"}):  # a plain safetensors file
        meta = {key: None for key in _JSON_KEYS}
        meta["model"] = {"parameters": list(tensors)}
        format_version = None
    else:
        meta, format_version = _verified_metadata(path, metadata, tensors)

    parameter_names = meta["model"]["parameters"] if meta["model"] else []
    model_state = OrderedDict((name, tensors[name]) for name in parameter_names)
    user_arrays = {k[len(ARRAYS_PREFIX) :]: v for k, v in tensors.items() if k.startswith(ARRAYS_PREFIX)}
    problems: list[str] = []
    missing: list[str] = []
    unexpected: list[str] = []
    if model is not None:
        missing, unexpected = _check_model(model, model_state, strict, problems)
    optimizer_state = None
    if optimizer is not None:
        optimizer_state = _unpack_optimizer(meta["optimizer"], tensors, optimizer, problems)
    if scheduler is not None:
        _check_scheduler(meta["scheduler"], scheduler, problems)
    if problems:
        raise CheckpointError(
            f"checkpoint {path} does not fit ({len(problems)} problem{'s' if len(problems) > 1 else ''}):\n  - "
            + "\n  - ".join(problems)
        )

    if model is not None:
        model.load_state_dict(model_state, strict=strict)
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    if scheduler is not None:
        scheduler.load_state_dict(meta["scheduler"]["state"])
    if restore_rng and meta["rng_state"] is not None:
        set_rng_state(meta["rng_state"])
    return {
        "step": meta["step"],
        "config": meta["config"],
        "vocab": meta["vocab"],
        "extra": meta["extra"],
        "rng_state": meta["rng_state"],
        "format_version": format_version,
        "model_class": (meta["model"] or {}).get("class"),
        "optimizer_class": (meta["optimizer"] or {}).get("class"),
        "scheduler_class": (meta["scheduler"] or {}).get("class"),
        "model_state": model_state,
        "arrays": user_arrays,
        "missing": missing,
        "unexpected": unexpected,
    }


def _read(path: Path) -> tuple[dict, dict]:
    """Header metadata and all tensors of a safetensors file; any malformation becomes a CheckpointError."""
    from safetensors import safe_open  # lazily: `import microseq` stays light

    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        with safe_open(str(path), framework="numpy") as file:
            metadata = file.metadata() or {}
            tensors = {name: file.get_tensor(name) for name in file.keys()}
    except Exception as error:  # safetensors raises its own error types and, for bad headers, others
        raise CheckpointError(
            f"checkpoint {path} is not a readable safetensors file (truncated or corrupted?): "
            f"{type(error).__name__}: {error}"
        ) from None
    return metadata, tensors


def _verified_metadata(path: Path, metadata: dict, tensors: dict) -> tuple[dict, int]:
    """The decoded JSON metadata, after checking format, version and the SHA-256 digest."""
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path}: unknown format {metadata.get('format')!r}, expected {FORMAT!r}")
    expected = metadata.get("sha256")
    if expected != _digest(metadata, tensors):
        raise CheckpointError(
            f"checkpoint {path} is corrupted or was modified after it was written: its SHA-256 digest does not "
            "match its contents"
        )
    try:
        format_version = int(metadata["format_version"])
        meta = {key: json.loads(metadata[key]) for key in _JSON_KEYS}
    except (KeyError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path}: malformed metadata ({type(error).__name__}: {error})") from None
    if format_version > FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {format_version}; this microseq reads up to {FORMAT_VERSION}"
        )
    return meta, format_version


def _check_model(model, model_state: dict, strict: bool, problems: list[str]) -> tuple[list[str], list[str]]:
    """Append every name/shape/dtype problem; return the (missing, unexpected) names."""
    own = {**dict(model.named_parameters()), **dict(model.named_buffers())}  # buffers: running statistics
    missing = [name for name in own if name not in model_state]
    unexpected = [name for name in model_state if name not in own]
    if strict:
        problems += [f"parameter {name}: in the model, not in the checkpoint" for name in missing]
        problems += [f"parameter {name}: in the checkpoint, not in the model" for name in unexpected]
    for name, parameter in own.items():
        if name not in model_state:
            continue
        saved = model_state[name]
        if saved.shape != parameter.shape:
            problems.append(f"parameter {name}: shape {saved.shape} in the checkpoint, {parameter.shape} in the model")
        if saved.dtype != parameter.dtype:
            problems.append(
                f"parameter {name}: dtype {saved.dtype} in the checkpoint, {parameter.dtype} in the model "
                "(convert the model with .astype() first)"
            )
    return missing, unexpected


def _unpack_optimizer(saved: dict | None, tensors: dict, optimizer, problems: list[str]) -> dict | None:
    """Rebuild the optimizer's state dict from metadata and tensors, appending any problem."""
    if saved is None:
        problems.append("optimizer: the checkpoint holds no optimizer state")
        return None
    if saved["class"] != type(optimizer).__name__:
        problems.append(
            f"optimizer: the checkpoint holds {saved['class']} state, the optimizer is {type(optimizer).__name__}"
        )
        return None
    state = {}
    for index, scalars in saved["state"].items():
        entries = dict(scalars)
        for name in saved["arrays"][index]:
            entries[name] = tensors[f"{OPTIMIZER_PREFIX}{index}.{name}"]
        state[int(index)] = entries
    state_dict = {"state": state, "param_groups": saved["param_groups"]}
    problems += [f"optimizer: {problem}" for problem in optimizer.check_state_dict(state_dict)]
    return state_dict


def _check_scheduler(saved: dict | None, scheduler, problems: list[str]) -> None:
    if saved is None:
        problems.append("scheduler: the checkpoint holds no scheduler state")
    elif saved["class"] != type(scheduler).__name__:
        problems.append(
            f"scheduler: the checkpoint holds {saved['class']} state, the scheduler is {type(scheduler).__name__}"
        )
    elif len(saved["state"].get("base_lrs", [])) != len(scheduler.optimizer.param_groups):
        problems.append(
            f"scheduler: {len(saved['state'].get('base_lrs', []))} parameter groups in the checkpoint, "
            f"{len(scheduler.optimizer.param_groups)} in the scheduler's optimizer"
        )
