"""The training loop: steps, evaluation, metrics, checkpoints, resume, Ctrl-C, NaN guard, time budget.

One step:

1. the task runs forward and backward on its next batch (truncated BPTT for the language model);
2. the loss is checked: NaN or Inf stops the run *before* the update, naming the step and the last good
   checkpoint (the parameters stay finite);
3. the gradients are clipped to ``clip`` in norm (the norm before clipping goes to the metrics, so
   explosions show), and the optimizer and the learning-rate schedule step.

Every ``eval_interval`` steps the model is evaluated (with ``keep_best`` its weights are kept when they score
best so far, and the run ends with them; with ``target_score`` the run stops once the score is reached);
every ``checkpoint_interval`` steps, at the end, on Ctrl-C (SIGINT) and on SIGTERM a checkpoint is written.
A checkpoint holds everything the next steps depend on: parameters, optimizer and schedule state, the global
random state (dropout), the data stream's position and random state, the language model's carried hidden
state, and the best weights kept so far. So ``resume`` continues bit for bit: an
interrupted and resumed run ends with the same parameters as an uninterrupted one.

Before anything is created the whole run is checked and built (options, data, the checkpoint to resume, a
memory estimate of the model); only then is the run directory claimed and locked for the run's life
(:mod:`~microseq.training.rundir`). Overflow inside a step is expected when a run diverges and shows as the
non-finite loss the guard reports, so NumPy's overflow warnings are silenced for the step and the
evaluation only. At the end the run prints where its files went and the commands to try next.

While it trains, NumPy's BLAS runs on ``config.threads`` threads (default 1, see
:mod:`microseq._threads`); the number is restored afterwards.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import optim
from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .._threads import blas_threads
from ..random import manual_seed
from .checkpoints import RunCheckpoints, read_training_checkpoint, training_metadata
from .config import CUSTOM_TASK, FIELDS, RESUMABLE_OVERRIDES, ConfigError, TrainConfig, renamed
from .memory import check_memory
from .metrics import MetricsLog
from .progress import Progress, format_duration
from .rundir import RunDirectory
from .tasks import Task, make_task

__all__ = ["Trainer", "TrainResult", "TrainingError", "train", "resume", "make_optimizer", "make_scheduler", "format_score",
           "read_run_config"]


#: A validation loss above this many times the baseline's means the run diverged (a warning says so).
DIVERGED_FACTOR = 10
#: The prefix of the best weights' arrays in a checkpoint (``keep_best``).
BEST = "best."
#: Where the run checks the result itself (a non-finite loss or gradient norm stops it, a huge validation loss
#: is warned about), NumPy's overflow warnings would only repeat that, from deep inside, on the terminal.
def _expected_overflow() -> np.errstate:
    return np.errstate(over="ignore", invalid="ignore")


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. a NaN loss); the message says where and what is left."""


@dataclass
class TrainResult:
    """What a finished (or stopped) run reached.

    ``stopped`` is ``"max_steps"``, ``"time_budget"``, ``"target_score"`` or ``"interrupted"``; ``evaluation``
    holds the last validation scores (with ``keep_best``, those of the weights kept), ``test`` the scores on
    the held-out test set at the end (tasks that have one, runs that were not interrupted), ``sample`` the
    text generated at the end (charlm).
    """

    run_dir: str
    step: int
    stopped: str
    evaluation: dict
    baselines: dict
    checkpoint: str
    seconds: float
    sample: str | None = None
    test: dict = field(default_factory=dict)


# -- building the optimisation pieces ---------------------------------------------------------------------
def make_optimizer(config: TrainConfig, parameters) -> optim.Optimizer:
    """The optimizer named by ``config.optimizer`` with the config's lr, momentum and weight decay."""
    params, lr, wd = list(parameters), config.lr, config.weight_decay
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    if config.optimizer == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    if config.optimizer == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=wd)
    if config.optimizer == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=wd)
    if config.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    raise ConfigError(f"unknown optimizer {config.optimizer!r}")


def _constant(step: int) -> float:
    return 1.0


def make_scheduler(config: TrainConfig, optimizer: optim.Optimizer):
    """Linear warm-up over ``warmup_steps``, then the ``schedule`` (stepped once per optimizer step).

    ``cosine`` decays to 0 at ``max_steps``, ``step`` multiplies by ``lr_gamma`` every ``lr_step_size`` steps,
    ``exponential`` by ``lr_gamma`` every 1000 steps (smoothly).
    """
    lr_scheduler = optim.lr_scheduler
    warmup = config.warmup_steps
    if config.schedule == "cosine":
        main = lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, config.max_steps - warmup))
    elif config.schedule == "step":
        main = lr_scheduler.StepLR(optimizer, step_size=config.lr_step_size, gamma=config.lr_gamma)
    elif config.schedule == "exponential":
        main = lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_gamma ** (1 / 1000))
    else:
        main = lr_scheduler.LambdaLR(optimizer, _constant)
    if not warmup:
        return main
    ramp = lr_scheduler.LinearLR(optimizer, start_factor=1.0 / (warmup + 1), end_factor=1.0, total_iters=warmup)
    return lr_scheduler.SequentialLR(optimizer, [ramp, main], milestones=[warmup])


# -- run directories ---------------------------------------------------------------------------------------------
def _write_json(path: str, value) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def read_run_config(run_dir: str) -> TrainConfig:
    """The config stored in a run directory."""
    path = os.path.join(run_dir, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            stored = json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{run_dir} is not a run directory (no config.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConfigError(f"{path} is damaged (not JSON)") from None
    try:
        return TrainConfig(**renamed(stored)).validate()
    except TypeError as error:
        raise ConfigError(f"{path} does not hold a microseq training config ({error})") from None


def _check_same_run(config: TrainConfig, checkpoint) -> None:
    """Raise CheckpointError if ``checkpoint`` was written by a run with other (non-resumable) settings."""
    saved = checkpoint.config
    differences = [name for name, value in config.to_dict().items()
                   if name not in RESUMABLE_OVERRIDES and name != "out" and name in saved and saved[name] != value]
    unknown = sorted(set(saved) - set(config.to_dict()))
    if differences or unknown:
        what = ", ".join(f"{n} {saved[n]!r} there, {getattr(config, n)!r} here" for n in differences[:3])
        raise CheckpointError(f"{checkpoint.path} belongs to another run ({what or 'unknown settings ' + ', '.join(unknown)})")


# -- the loop ---------------------------------------------------------------------------------------------
class Trainer:
    """Runs one training run in ``run_dir``; see the module docstring.

    Parameters
    ----------
    config : TrainConfig
    run_dir : str, optional
        Where ``config.json``, ``metrics.jsonl`` and ``checkpoints/`` go: a new directory, or one that holds
        no run (default ``config.out``, else the first free ``runs/TASK-N``); with ``resume_from``, the run's
        own directory. It is claimed and locked (:mod:`~microseq.training.rundir`) only after everything
        else is checked and built, and given back when :meth:`run` ends.
    resume_from : str, optional
        A checkpoint of this run to continue from.
    out : file
        Where results are printed (progress goes to stderr).
    task_factory : callable, optional
        ``(config, checkpoint metadata or None) -> Task``; default :func:`~microseq.training.tasks.make_task`
        (:func:`~microseq.training.custom.fit` passes a user's model in through it).

    Raises
    ------
    ConfigError
        The run directory holds another run, is in use by a live run, or cannot be made; the model would
        not fit in memory.
    CheckpointError
        ``resume_from`` is damaged or belongs to another run.
    """

    def __init__(self, config: TrainConfig, run_dir: str | None = None, resume_from: str | None = None, out=None,
                 task_factory: Callable[[TrainConfig, dict | None], Task] = make_task) -> None:
        self.config, self.out = config, out or sys.stdout
        checkpoint = read_training_checkpoint(resume_from) if resume_from else None
        if checkpoint is not None:
            _check_same_run(config, checkpoint)
        manual_seed(config.seed)
        self.task: Task = task_factory(config, checkpoint.task_metadata if checkpoint else None)
        if self.task.model_config():  # a model the task builds from the config (not a user's own)
            check_memory(config, self.task.estimated_bytes())
        self.model = self.task.build_model()
        self.optimizer = make_optimizer(config, self.model.parameters())
        self.scheduler = make_scheduler(config, self.optimizer)
        self.step = 0
        self.best: dict | None = None  # keep_best: {"step", "scores", "weights"} of the best evaluation so far
        if checkpoint is not None:
            self._restore(checkpoint)
        # everything is checked: only now is the run directory claimed (and locked) and written to
        if checkpoint is not None:
            self.directory = RunDirectory.existing(run_dir or os.path.dirname(os.path.dirname(resume_from)))
        else:
            self.directory = RunDirectory.new(run_dir or config.out, config.task)
        self.run_dir = self.directory.path
        try:
            self.checkpoints = RunCheckpoints(self.run_dir, config.keep_checkpoints)
            latest = self.checkpoints.latest()
            if checkpoint is not None and (latest is None or latest[0] != checkpoint.step):
                raise ConfigError(f"{self.run_dir} changed while this run was starting (its latest checkpoint is "
                                  f"now {latest and latest[1]}); resume it again")
            self.directory.clean_temporaries(self.checkpoints.directory)
            # reads (and refuses a damaged file) before anything is written
            self.metrics = MetricsLog(os.path.join(self.run_dir, "metrics.jsonl"),
                                      resume_step=self.step if checkpoint else None)
            _write_json(os.path.join(self.run_dir, "config.json"), config.to_dict())
        except BaseException:
            self.directory.release(discard=True)
            raise
        self._stop_signal = None

    # -- checkpoints ---------------------------------------------------------------------------------------
    def save(self) -> str:
        """Write a checkpoint of the current step (and prune old ones); return its path."""
        task_state, task_arrays = self.task.state_dict()
        best = None
        if self.best is not None:
            best = {"step": self.best["step"], "scores": self.best["scores"]}
            task_arrays = {**task_arrays, **{BEST + name: value for name, value in self.best["weights"].items()}}
        meta = training_metadata(self.config.to_dict(), self.task.model_name, self.task.model_config(),
                                 self.task.metadata(), task_state, best)
        path = self.checkpoints.path_for(self.step)
        save_checkpoint(path, self.model, self.optimizer, self.scheduler, step=self.step, arrays=task_arrays,
                        rng_state=True, **meta)
        self.checkpoints.prune()
        return path

    def _restore(self, checkpoint) -> None:
        if checkpoint.model_name != self.task.model_name:
            raise CheckpointError(f"{checkpoint.path} holds a {checkpoint.model_name} model; this run trains a "
                                  f"{self.task.model_name}")
        # parameters, optimizer and schedule state, and the global random state (dropout masks)
        load_checkpoint(checkpoint.path, self.model, self.optimizer, self.scheduler, restore_rng=True)
        self.task.load_state_dict(checkpoint.task_state, checkpoint.arrays)
        self.step = checkpoint.step
        if checkpoint.best is not None:
            weights = {name[len(BEST):]: value for name, value in checkpoint.arrays.items() if name.startswith(BEST)}
            self.best = {**checkpoint.best, "weights": weights}

    # -- signals --------------------------------------------------------------------------------------------
    def _request_stop(self, signum, frame) -> None:
        self._stop_signal = signal.Signals(signum).name
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)

    def _install_handlers(self) -> dict:
        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[signum] = signal.signal(signum, self._request_stop)
            except ValueError:  # not the main thread: signals stay as they are
                break
        return previous

    # -- evaluation and reporting -------------------------------------------------------------------------------
    def _format_scores(self, scores: dict) -> str:
        return ", ".join(f"{k} {format_score(k, v)}" for k, v in scores.items())

    def evaluate(self, progress: Progress) -> dict:
        with _expected_overflow():  # a diverging model's scores come out as inf (reported, and warned about)
            scores = self.task.evaluate(self.model, "valid")
        self.metrics.log("eval", step=self.step, split="valid", **scores)
        progress.write(f"step {self.step}: validation {self._format_scores(scores)}", file=self.out)
        if self.config.keep_best and (self.best is None
                                      or self._at_least(scores, self.best["scores"][self.task.metric])):
            self.best = {"step": self.step, "scores": scores, "weights": self.model.state_dict()}
        return scores

    def _at_least(self, scores: dict, score: float) -> bool:
        """Whether ``scores`` reach ``score`` in the task's metric (ties count: the later weights trained longer)."""
        value = scores[self.task.metric]
        return value >= score if self.task.maximize else value <= score

    def _restore_best(self) -> tuple[dict, int]:
        """Go back to the best weights kept; return their scores and step."""
        self.model.load_state_dict(self.best["weights"])
        print(f"kept the weights of step {self.best['step']}, the best validation {self.task.metric} "
              f"({format_score(self.task.metric, self.best['scores'][self.task.metric])})", file=self.out)
        return self.best["scores"], self.best["step"]

    # -- running -------------------------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        """Train to ``max_steps`` (or the time budget, or a signal); the run directory's lock is then given back."""
        try:
            return self._run()
        finally:
            self.directory.release()

    def _run(self) -> TrainResult:
        config = self.config
        baselines = self.task.baselines()
        self.metrics.log("start", step=self.step, task=config.task, metric=self.task.metric, baselines=baselines,
                         clip=config.clip, parameters=self.model.num_parameters())
        print(f"{self.task.describe()}", file=self.out)
        print(f"model: {self.task.describe_model()}, {self.model.num_parameters():,} parameters; "
              f"{self.task.describe_optimisation()}; run directory {self.run_dir}", file=self.out)
        if baselines:
            print(f"baseline: {self._format_scores(baselines)}", file=self.out)
        if self.step:
            print(f"resuming at step {self.step}", file=self.out)
        progress = Progress(config.max_steps, self.step, config.time_budget, config.progress, config.log_interval)
        previous_handlers = self._install_handlers()
        started = time.perf_counter()
        try:
            with blas_threads(config.threads):
                stopped, scores, last_eval_step, test, path = self._steps(progress, started)
        finally:
            progress.close()
            self.metrics.close()
            for signum, handler in previous_handlers.items():
                signal.signal(signum, handler)
        seconds = time.perf_counter() - started
        return self._finish(stopped, scores, last_eval_step, test, baselines, path, seconds)

    def _steps(self, progress: Progress, started: float) -> tuple:
        """The steps up to the end of the run, the evaluations and the last checkpoint; returns how the run
        stopped, the last validation scores and their step, the test scores and the last checkpoint's path."""
        config = self.config
        stopped, scores, test, last_eval_step = "max_steps", None, None, None
        while self.step < config.max_steps:
            step_started = time.perf_counter()
            self.optimizer.zero_grad()
            with _expected_overflow():  # overflow shows as a non-finite loss or norm: refused just below
                loss, tokens = self.task.train_step(self.model)
                grad_norm = float(optim.clip_grad_norm_(self.model.parameters(), config.clip or math.inf))
            self._check_finite(loss, grad_norm)
            lr = self.optimizer.param_groups[0]["lr"]
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            speed = tokens / max(time.perf_counter() - step_started, 1e-9)
            self.metrics.log("train", step=self.step, loss=loss, grad_norm=grad_norm, lr=lr, tokens=tokens,
                             tokens_per_s=round(speed, 1), time=round(time.perf_counter() - started, 3))
            progress.update(self.step, loss, speed)
            if self.step % config.eval_interval == 0 and self.task.has_validation:
                scores, last_eval_step = self.evaluate(progress), self.step
                if config.target_score is not None and self._at_least(scores, config.target_score):
                    stopped = "target_score"
                    break
            if self._stop_signal:
                stopped = "interrupted"
                break
            if config.time_budget is not None and time.perf_counter() - started >= config.time_budget:
                stopped = "time_budget"
                break
            if self.step % config.checkpoint_interval == 0 and self.step < config.max_steps:
                self.save()
        if last_eval_step != self.step and stopped != "interrupted" and self.task.has_validation:
            scores, last_eval_step = self.evaluate(progress), self.step
        if stopped != "interrupted" and self.best is not None and self.best["step"] != self.step:
            scores, last_eval_step = self._restore_best()
        if stopped != "interrupted" and self.task.has_test_set:
            with _expected_overflow():
                test = self.task.evaluate(self.model, "test")
            self.metrics.log("eval", step=self.step, split="test", **test)
        path = self.save()
        return stopped, scores, last_eval_step, test, path

    def _check_finite(self, loss: float, grad_norm: float) -> None:
        if math.isfinite(loss) and math.isfinite(grad_norm):
            return
        what = f"loss became {loss}" if not math.isfinite(loss) else f"gradient norm became {grad_norm}"
        last = self.checkpoints.latest()
        where = (f"last good checkpoint: {last[1]} (step {last[0]})" if last else "no checkpoint was saved yet")
        raise TrainingError(f"{what} at step {self.step + 1}; training stopped before the update, {where}; "
                            "try a lower --lr or --clip")

    def _finish(self, stopped: str, scores, eval_step, test, baselines: dict, path: str,
                seconds: float) -> TrainResult:
        note = {"max_steps": "finished", "time_budget": "time budget reached",
                "target_score": f"reached the target {self.task.metric} {self.config.target_score}",
                "interrupted": f"interrupted by {self._stop_signal}"}[stopped]
        print(f"{note} at step {self.step} after {format_duration(seconds)}; checkpoint {path}", file=self.out)
        sample = None
        if scores is not None:
            when = f"step {eval_step}" + (f", the last evaluation before the interrupt at step {self.step}"
                                          if stopped == "interrupted" and eval_step != self.step else "")
            width = max(12, *map(len, scores))
            lines = [f"{key:>{width}}: {format_score(key, value)}"
                     + (f"   (baseline {format_score(key, baselines[key])})" if key in baselines else "")
                     for key, value in scores.items()]
            print(f"final validation ({when}):\n" + "\n".join(lines), file=self.out)
            self._warn_if_diverged(scores, baselines)
        if test is not None:
            print("test: " + self._format_scores(test), file=self.out)
        files = {"checkpoint": path, "metrics": os.path.join(self.run_dir, "metrics.jsonl"),
                 "config": os.path.join(self.run_dir, "config.json")}
        if self.config.task == "charlm" and self.config.sample_length and stopped != "interrupted":
            from .sampling import sample_text

            sample = sample_text(self.model, self.task.vocab, self.config.sample_length,
                                 temperature=self.config.temperature, rng=np.random.default_rng(self.config.seed))
            files["sample"] = os.path.join(self.run_dir, "sample.txt")
            with open(files["sample"], "w", encoding="utf-8") as f:
                f.write(sample)
            print(f"sample (temperature {self.config.temperature:g}):\n{'-' * 60}\n{sample}\n{'-' * 60}", file=self.out)
        if stopped != "interrupted":
            files.update(self.task.write_results(self.model, self.run_dir))
        self._print_where_everything_went(files, stopped)
        return TrainResult(self.run_dir, self.step, stopped, scores or {}, baselines, path, seconds, sample, test or {})

    def _warn_if_diverged(self, scores: dict, baselines: dict) -> None:
        loss, baseline = scores.get("loss"), baselines.get("loss")
        if loss is not None and baseline is not None and not loss <= DIVERGED_FACTOR * baseline:
            print(f"warning: the validation loss {format_score('loss', loss)} is more than {DIVERGED_FACTOR} times "
                  f"the baseline's ({format_score('loss', baseline)}): the run diverged; try a lower --lr or a "
                  "smaller --clip", file=sys.stderr)

    def _print_where_everything_went(self, files: dict, stopped: str) -> None:
        """The files of the run, and the commands to try next (the CLI's tasks; a fit() run has its own model)."""
        run = self.run_dir
        print(f"files in {run}:", file=self.out)
        for name, where in files.items():
            print(f"  {name:<11}{where}", file=self.out)
        steps = self.config.max_steps if stopped == "interrupted" else 2 * self.config.max_steps
        more = "" if stopped == "interrupted" else f" --max-steps {steps}"
        what = "continue training" if stopped == "interrupted" else "train further"
        plot = (f"microseq plot {run}", f"draw the loss curves to {os.path.join(run, 'curves.png')}")
        if self.config.task == CUSTOM_TASK:
            more = "" if stopped == "interrupted" else f", max_steps={steps}"
            commands = [(f"fit(model, loss_fn, data, resume={run!r}{more})", f"{what} (Python)"), plot]
        else:
            commands = [(f"microseq train --resume {run}{more}", what), plot,
                        (f"microseq eval {run}", "score the latest checkpoint again")]
            if not self.task.trains_further:  # counted in one pass: no more steps to take
                commands = commands[1:]
        if stopped != "interrupted" and self.config.schedule == "cosine":
            commands = commands[1:]  # its learning rate has decayed to 0: no training further
        commands += self.task.next_commands(run)
        print("next:", file=self.out)
        width = max(len(command) for command, _ in commands)
        for command, what in commands:
            print(f"  {command:<{width}}   {what}", file=self.out)


def format_score(name: str, value: float) -> str:
    """A score for people: 4 decimals (perplexity 2), or 3 significant digits (``inf``) beyond a million."""
    if not abs(value) < 1e6:
        return f"{value:.3g}"
    return f"{value:.{2 if name == 'perplexity' else 4}f}"


# -- entry points --------------------------------------------------------------------------------------------------
def train(config: TrainConfig | None = None, run_dir: str | None = None, out=None, **settings) -> TrainResult:
    """Train a new run; ``config`` or keyword settings (``train(task="adding", max_steps=500)``).

    >>> result = train(task="adding", seq_len=20, hidden_size=16, max_steps=5, progress="off")  # doctest: +SKIP
    """
    from .config import make_config

    if config is None:
        config = make_config(**settings)
    elif settings:
        raise TypeError("train: pass either a config or keyword settings, not both")
    return Trainer(config, run_dir, out=out).run()


def resume(run_dir: str, out=None, task_factory: Callable[[TrainConfig, dict | None], Task] = make_task,
           **overrides) -> TrainResult:
    """Continue the run in ``run_dir`` from its latest checkpoint, in ``run_dir``.

    Only the options in :data:`~microseq.training.config.RESUMABLE_OVERRIDES` (how long to train, how often
    to evaluate and save, display) may change; anything else would make it a different run. Everything
    (settings, checkpoint, data) is checked before the run directory is locked and written to; a run
    directory that a live run holds is refused.
    """
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise ConfigError(f"resume: unknown setting {unknown[0]!r}")
    config = read_run_config(run_dir)
    if config.task == CUSTOM_TASK and task_factory is make_task:
        raise ConfigError(f"{run_dir} trained a model of your own: resume it from Python with "
                          f"microseq.training.fit(model, loss_fn, data, resume={run_dir!r})")
    if config.schedule == "cosine" and overrides.get("max_steps", config.max_steps) != config.max_steps:
        raise ConfigError(f"cannot change max_steps when resuming a run with --schedule cosine (its learning rate "
                          f"decays to 0 at step {config.max_steps})")
    for name, value in overrides.items():
        if name not in RESUMABLE_OVERRIDES:
            if getattr(config, name, value) != value:
                raise ConfigError(f"cannot change {name} when resuming (the run has {getattr(config, name)!r}); "
                                  f"only {', '.join(sorted(RESUMABLE_OVERRIDES))} may change")
            continue
        setattr(config, name, value)
    config.validate()
    latest = RunCheckpoints(run_dir, config.keep_checkpoints).latest()
    if latest is None:
        raise ConfigError(f"{run_dir} has no checkpoint to resume from")
    step, path = latest
    if step >= config.max_steps:
        raise ConfigError(f"{run_dir} already reached step {step} of max_steps {config.max_steps}; "
                          "resume with a larger --max-steps")
    return Trainer(config, run_dir, resume_from=path, out=out, task_factory=task_factory).run()
