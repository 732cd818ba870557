"""Train your own model with the loop of ``microseq train``: :func:`fit`, a Keras-``fit``-style front end.

``fit(model, loss_fn, data)`` runs the :class:`~microseq.training.trainer.Trainer` with your model in place
of a built-in task's: the same progress bar, gradient clipping, NaN guard, learning-rate schedules,
``metrics.jsonl`` (so ``microseq plot RUN`` draws its curves), checkpoints, Ctrl-C handling and bit-exact
resume (``fit(..., resume=RUN_DIR)``). It does so through :class:`CustomTask`, a
:class:`~microseq.training.tasks.Task` adapter around your model, loss and data; there is no second loop.

>>> import numpy as np
>>> from microseq import nn, ops
>>> from microseq.training import fit
>>> model = nn.Linear(3, 1)
>>> def batch(rng):                                   # drawn from the run's own generator: resumable
...     x = rng.standard_normal((16, 3)).astype(np.float32)
...     return x, x.sum(axis=1, keepdims=True)
>>> result = fit(model, ops.mse_loss, batch, max_steps=200, lr=0.05, progress="off")  # doctest: +SKIP

Data, in one of two forms (both resume exactly, because the run owns the position and the random state):

- a function ``data(rng) -> (inputs, targets)`` that draws a fresh batch with the NumPy generator it is given
  (an endless stream, like the adding and copy tasks);
- a sequence of ``(inputs, targets)`` batches (a list), read in epochs, shuffled every epoch unless
  ``shuffle=False``.

A one-shot iterator (a generator) is refused: it cannot be rewound to where a resumed run must continue.
``inputs`` may be a tuple, which is unpacked into the call: ``model(*inputs)`` (e.g. ``(x, lengths)``).
``loss_fn(outputs, targets)`` returns a scalar Tensor. Validation (``valid``, a sequence of batches) reports
the mean loss, weighted by the number of target elements of each batch.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..nn.functional import array_of
from .config import CUSTOM_TASK, FIELDS, ConfigError, TrainConfig, coerce
from .tasks import Task
from .trainer import TrainResult, Trainer, resume as resume_run

__all__ = ["fit", "CustomTask", "FIT_SETTINGS"]

#: The TrainConfig settings that mean something for a model of your own (the rest size the built-in models).
FIT_SETTINGS = ("optimizer", "lr", "momentum", "weight_decay", "schedule", "warmup_steps", "lr_gamma", "lr_step_size",
                "clip", "seed", "max_steps", "time_budget", "eval_interval", "checkpoint_interval",
                "keep_checkpoints", "log_interval", "progress", "threads", "keep_best", "target_score")


def _count(targets) -> int:
    """Target elements of a batch (what the progress line's speed counts)."""
    return int(np.size(array_of(targets)))


class CustomTask(Task):
    """A :class:`~microseq.training.tasks.Task` made of a user's model, loss function and data (see the module
    docstring for the forms ``data`` and ``valid`` may take)."""

    name = CUSTOM_TASK
    metric = "loss"
    has_test_set = False

    def __init__(self, config: TrainConfig, metadata: dict | None, model, loss_fn, data, valid=None,
                 shuffle: bool = True) -> None:
        super().__init__(config, metadata)
        if not callable(loss_fn):
            raise TypeError(f"fit: loss_fn must be a function (outputs, targets) -> loss, got {type(loss_fn).__name__}")
        if not callable(data) and not hasattr(data, "__getitem__"):
            raise TypeError(f"fit: data must be a function rng -> (inputs, targets) or a sequence (list) of batches, "
                            f"got {type(data).__name__}; a one-shot iterator cannot be rewound for an exact resume")
        if not callable(data) and len(data) == 0:
            raise ValueError("fit: data holds no batch")
        if valid is not None and (callable(valid) or not hasattr(valid, "__getitem__")):
            raise TypeError(f"fit: valid must be a sequence (list) of batches, got {type(valid).__name__}")
        self._model, self.loss_fn, self.data, self.valid, self.shuffle = model, loss_fn, data, valid, shuffle
        self.model_name = type(model).__name__
        self.has_validation = bool(valid)
        self._train_rng = self.rng(1)
        self._order, self._position = None, 0  # epoch order of a sequence of batches, and where in it

    # -- model ----------------------------------------------------------------------------------------------
    def model_config(self) -> dict:
        return {}  # your model rebuilds itself: a checkpoint holds only its parameters

    def build_model(self):
        return self._model

    def describe_model(self) -> str:
        return self.model_name

    def describe(self) -> str:
        def batches(n: int) -> str:
            return f"{n} batch{'' if n == 1 else 'es'}"

        kind = "a batch function" if callable(self.data) else batches(len(self.data))
        return f"your model {self.model_name} on {kind}" + (f"; validation: {batches(len(self.valid))}" if self.valid else "")

    # -- training -------------------------------------------------------------------------------------------------
    def _next_batch(self):
        if callable(self.data):
            return self.data(self._train_rng)
        if self._order is None or self._position == len(self._order):
            n = len(self.data)
            self._order = [int(i) for i in (self._train_rng.permutation(n) if self.shuffle else range(n))]
            self._position = 0
        self._position += 1
        return self.data[self._order[self._position - 1]]

    def _loss(self, model, batch):
        inputs, targets = batch
        outputs = model(*inputs) if isinstance(inputs, tuple) else model(inputs)
        return self.loss_fn(outputs, targets), _count(targets)

    def train_step(self, model) -> tuple[float, int]:
        loss, count = self._loss(model, self._next_batch())
        loss.backward()
        return float(loss.item()), count

    @no_grad()
    def evaluate(self, model, split: str = "valid") -> dict:
        was_training = model.training
        model.eval()
        total, count = 0.0, 0
        for batch in self.valid:
            loss, n = self._loss(model, batch)
            total, count = total + float(loss.item()) * n, count + n
        model.train(was_training)
        return {"loss": total / max(count, 1)}

    # -- resuming ------------------------------------------------------------------------------------------------
    def state_dict(self) -> tuple[dict, dict]:
        return {"rng": self._train_rng.bit_generator.state, "order": self._order, "position": self._position}, {}

    def load_state_dict(self, state: dict, arrays: dict) -> None:
        self._train_rng.bit_generator.state = state["rng"]
        self._order, self._position = state["order"], state["position"]


def fit(model, loss_fn, data, *, valid=None, shuffle: bool = True, run_dir: str | None = None,
        resume: str | None = None, out=None, **settings) -> TrainResult:
    """Train ``model`` on ``data`` with ``loss_fn``, as ``microseq train`` trains its tasks.

    Parameters
    ----------
    model : Module
        Your model, built (and seeded: ``microseq.manual_seed``) by you. ``model(inputs)`` returns outputs.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` -> scalar Tensor (e.g. ``microseq.ops.cross_entropy``).
    data : callable or sequence
        ``data(rng) -> (inputs, targets)``, or a list of ``(inputs, targets)`` batches.
    valid : sequence, optional
        Validation batches: the mean loss on them every ``eval_interval`` steps and at the end.
    shuffle : bool
        Shuffle a list of batches every epoch (with the run's generator, seeded by ``seed``).
    run_dir : str, optional
        Where the run goes (default ``runs/custom-N``); refused if it holds a run or a live run holds it.
    resume : str, optional
        A run directory of this model to continue from its latest checkpoint, bit for bit (give the same
        ``model`` class, ``loss_fn`` and ``data``); ``settings`` may then only change how long it trains and
        how it reports (:data:`~microseq.training.config.RESUMABLE_OVERRIDES`).
    out : file, optional
        Where results are printed (default stdout; progress goes to stderr).
    **settings
        Any of :data:`FIT_SETTINGS` (``lr``, ``optimizer``, ``max_steps``, ``clip``, ``schedule``,
        ``checkpoint_interval``, ``progress``, ...), with ``microseq train``'s defaults.

    Returns
    -------
    TrainResult
        ``run_dir``, ``step``, ``stopped``, ``evaluation`` (the last validation loss), ``checkpoint``...

    Raises
    ------
    ConfigError
        A setting that does not exist, does not apply to your own model, or has a bad value.
    """
    for name in settings:
        if name not in FIELDS:
            raise ConfigError(f"fit: unknown setting {name!r}; it takes {', '.join(FIT_SETTINGS)}")
        if name not in FIT_SETTINGS:
            raise ConfigError(f"fit: {name} sizes the models of microseq train's tasks, not yours; it takes "
                              f"{', '.join(FIT_SETTINGS)}")

    def task_factory(config: TrainConfig, metadata: dict | None) -> CustomTask:
        return CustomTask(config, metadata, model, loss_fn, data, valid, shuffle)

    if resume is not None:
        if run_dir is not None:
            raise ConfigError("fit: give run_dir or resume, not both (a resumed run goes on in its own directory)")
        return resume_run(resume, out=out, task_factory=task_factory, **settings)
    values = {name: coerce(name, value, "fit") for name, value in settings.items()}
    config = TrainConfig(task=CUSTOM_TASK, **values).validate()
    return Trainer(config, run_dir, out=out, task_factory=task_factory).run()
