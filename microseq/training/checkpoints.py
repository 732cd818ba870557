"""The checkpoint files of a run directory: named by step, the latest found, old ones pruned.

The files themselves are :mod:`microseq.checkpoint` files (one safetensors file each: parameters under
PyTorch's names, optimizer and scheduler state, the global random state, JSON metadata, SHA-256); this
module only decides where they go::

    RUN_DIR/checkpoints/step-00000500.safetensors
    RUN_DIR/checkpoints/step-00001000.safetensors

The step is in the name, zero-padded so that names sort like steps, and the latest checkpoint is simply
the one with the largest step (no pointer file that a crash could leave stale). Files that are not named
like a checkpoint (e.g. the temporary file of an interrupted atomic write) are ignored.

A training checkpoint's JSON metadata holds, besides the step: ``config = {"train": <TrainConfig as a dict>,
"model": {"name", "config"}}`` (enough to rebuild the model; the config's ``task`` says which task it
belongs to) and ``extra = {"task_metadata", "task_state", "best"}`` (the vocabulary; the data stream's
position; the step and scores of the best weights so far, with ``--keep-best``); the language model's
carried hidden state and the best weights are stored as arrays. :func:`read_training_checkpoint` reads them back.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..checkpoint import CheckpointError, load_checkpoint
from .config import renamed

__all__ = ["RunCheckpoints", "CHECKPOINT_DIR", "TrainingCheckpoint", "training_metadata", "read_training_checkpoint"]

CHECKPOINT_DIR = "checkpoints"
_NAME = re.compile(r"^step-(\d+)\.safetensors$")


class RunCheckpoints:
    """The checkpoints of the run in ``run_dir``, keeping the ``keep`` latest when pruned.

    Parameters
    ----------
    run_dir : str
    keep : int
        How many checkpoints :meth:`prune` leaves (the ones with the largest steps).

    >>> RunCheckpoints("runs/charlm-1").path_for(500)
    'runs/charlm-1/checkpoints/step-00000500.safetensors'
    """

    def __init__(self, run_dir: str, keep: int = 3) -> None:
        if keep < 1:
            raise ValueError(f"RunCheckpoints: keep must be at least 1, got {keep}")
        self.run_dir, self.keep = run_dir, keep
        self.directory = os.path.join(run_dir, CHECKPOINT_DIR)

    def path_for(self, step: int) -> str:
        """Where the checkpoint of ``step`` goes (its directory is created)."""
        os.makedirs(self.directory, exist_ok=True)
        return os.path.join(self.directory, f"step-{step:08d}.safetensors")

    def all(self) -> list[tuple[int, str]]:
        """Every checkpoint as (step, path), by increasing step."""
        try:
            names = os.listdir(self.directory)
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = [(int(m.group(1)), os.path.join(self.directory, name)) for name in names if (m := _NAME.match(name))]
        return sorted(found)

    def latest(self) -> tuple[int, str] | None:
        """(step, path) of the checkpoint with the largest step, or None if there is none."""
        found = self.all()
        return found[-1] if found else None

    def prune(self) -> list[str]:
        """Delete all but the ``keep`` latest checkpoints; return the deleted paths."""
        old = [path for _, path in self.all()[: -self.keep]]
        for path in old:
            os.remove(path)
        return old


@dataclass
class TrainingCheckpoint:
    """What a training run stores in a checkpoint besides the arrays restored by ``load_checkpoint``.

    Attributes
    ----------
    path : str
    step : int
    config : dict
        The run's :class:`~microseq.training.config.TrainConfig` as a dict.
    model_name, model_config :
        What :func:`~microseq.training.models.build_model` needs to rebuild the model.
    task_metadata : dict
        What the task needs to rebuild its data exactly (e.g. the vocabulary).
    task_state : dict
        The position of the training data stream (JSON part).
    arrays : dict of str to ndarray
        Array-valued task state (the language model's carried hidden state), and the best weights so far
        (``best.<parameter name>``) of a run that keeps them.
    best : dict or None
        ``{"step", "scores"}`` of those best weights.
    """

    path: str
    step: int
    config: dict
    model_name: str
    model_config: dict
    task_metadata: dict
    task_state: dict
    arrays: dict
    best: dict | None = None


def training_metadata(config: dict, model_name: str, model_config: dict, task_metadata: dict,
                      task_state: dict, best: dict | None = None) -> dict:
    """The ``config`` and ``extra`` arguments of ``save_checkpoint`` for a training checkpoint."""
    return {"config": {"train": config, "model": {"name": model_name, "config": model_config}},
            "extra": {"task_metadata": task_metadata, "task_state": task_state, "best": best}}


def read_training_checkpoint(path: str) -> TrainingCheckpoint:
    """Read and verify (SHA-256) a checkpoint written by a training run, without restoring anything.

    Raises
    ------
    microseq.checkpoint.CheckpointError
        The file is damaged, or is not the checkpoint of a ``microseq train`` run.
    FileNotFoundError
    """
    info = load_checkpoint(path, restore_rng=False)
    config, extra = info["config"], info["extra"]
    try:
        model = config["model"]
        # earlier versions named the recurrent cell "model" in the run's config and "kind" in the model's
        model_config = {("cell" if name == "kind" else name): value for name, value in model["config"].items()}
        return TrainingCheckpoint(str(path), int(info["step"]), renamed(config["train"]), str(model["name"]),
                                  model_config, dict(extra["task_metadata"]), dict(extra["task_state"]),
                                  info["arrays"], extra.get("best"))
    except (KeyError, TypeError, ValueError):
        raise CheckpointError(f"{path} is not the checkpoint of a microseq training run "
                              "(no training config and task state in it)") from None
