"""Scripted training: tasks, models, truncated BPTT, the training loop with checkpoints and resume.

>>> from microseq.training import make_config, train
>>> result = train(make_config("adding", seq_len=20, hidden_size=16, max_steps=5, progress="off"),
...                run_dir="runs/doc")  # doctest: +SKIP

The ``microseq train`` command (:mod:`microseq.cli`) is a front end to :func:`train` and :func:`resume`;
:func:`fit` trains a model of your own with the same loop (:mod:`.custom`).
Modules: :mod:`.config` (every option), :mod:`.tasks`, :mod:`.seq2seq_task` (reverse, sort, dates),
:mod:`.teacher_forcing` (scheduled sampling), :mod:`.models`, :mod:`.tbptt`, :mod:`.trainer`,
:mod:`.checkpoints` (a run directory's checkpoint files), :mod:`.rundir` (claiming and locking it),
:mod:`.memory` (the up-front memory estimate), :mod:`.custom`, :mod:`.metrics`, :mod:`.progress`,
:mod:`.sampling`, :mod:`.plot`.
"""

from .config import ConfigError, TrainConfig, make_config
from .trainer import Trainer, TrainingError, TrainResult, resume, train
from .custom import fit

__all__ = ["ConfigError", "TrainConfig", "TrainResult", "Trainer", "TrainingError", "fit", "make_config", "resume",
           "train"]
