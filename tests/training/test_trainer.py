"""The training loop: bit-exact resume after Ctrl-C, determinism, the NaN guard, run-directory checkpoints."""

import io
import json
import math
import os
import shutil
import re
import signal
import warnings

import numpy as np
import pytest

from microseq.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from microseq.training import ConfigError, Trainer, TrainingError, make_config, resume, train
from microseq.training.checkpoints import RunCheckpoints, read_training_checkpoint
from microseq.training.metrics import read_metrics
from microseq.training.trainer import read_run_config

TINY = {
    # carried hidden state, truncation inside the batch (bptt < seq_len), dropout, default constant lr
    "charlm": dict(corpus_chars=20_000, hidden_size=12, embedding_size=6, batch_size=3, seq_len=16, bptt=5,
                   dropout=0.1, sample_length=0),
    # shuffled padded batches, bidirectional tagger, dropout, warm-up then cosine schedule
    "postag": dict(train_size=60, eval_size=30, hidden_size=6, embedding_size=5, batch_size=7, dropout=0.2,
                   schedule="cosine", warmup_steps=3),
    # seq2seq: fresh pairs each step, scheduled sampling (coins drawn per token), dropout, the best weights kept
    "reverse": dict(hidden_size=6, embedding_size=4, batch_size=4, eval_size=6, test_size=6, dropout=0.1,
                    teacher_forcing_decay="linear", teacher_forcing_floor=0.5, teacher_forcing_k=10, beam_width=2),
}
COMMON = dict(max_steps=12, eval_interval=5, checkpoint_interval=4, progress="off")


def quiet():
    return io.StringIO()


def parameters(checkpoint_path):
    return load_checkpoint(checkpoint_path, restore_rng=False)["model_state"]


def interrupt_at(trainer, step):
    """Send this process a real SIGINT while ``step`` runs (the trainer's handler then stops after it)."""
    original = trainer.task.train_step

    def train_step(model):
        result = original(model)
        if trainer.step + 1 == step:
            os.kill(os.getpid(), signal.SIGINT)
        return result

    trainer.task.train_step = train_step


@pytest.mark.parametrize("task", sorted(TINY))
def test_interrupted_then_resumed_run_equals_uninterrupted(task, tmp_path):
    config = make_config(task, **TINY[task], **COMMON)
    whole = train(config, run_dir=str(tmp_path / "whole"), out=quiet())
    handler_before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs in a background job

    printed = quiet()
    trainer = Trainer(make_config(task, **TINY[task], **COMMON), str(tmp_path / "split"), out=printed)
    interrupt_at(trainer, 7)
    stopped = trainer.run()
    assert (stopped.stopped, stopped.step) == ("interrupted", 7)
    assert "final validation (step 5, the last evaluation before the interrupt at step 7):" in printed.getvalue()
    assert stopped.checkpoint.endswith("step-00000007.safetensors") and os.path.isfile(stopped.checkpoint)
    assert signal.getsignal(signal.SIGINT) is handler_before  # handler given back

    resumed = resume(str(tmp_path / "split"), out=quiet())
    assert resumed.step == whole.step == 12
    a, b = parameters(whole.checkpoint), parameters(resumed.checkpoint)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert resumed.evaluation == whole.evaluation and resumed.test == whole.test
    # the other saved arrays too: the carried state of charlm, the best weights of a run that keeps them
    a, b = (load_checkpoint(run.checkpoint, restore_rng=False)["arrays"] for run in (whole, resumed))
    assert a.keys() == b.keys() and all(np.array_equal(a[name], b[name]) for name in a)

    # the metrics file reads as one run: each step once, the same losses and gradient norms
    def train_records(run):
        return [(r["step"], r["loss"], r["grad_norm"], r["lr"]) for r in read_metrics(str(tmp_path / run / "metrics.jsonl"))
                if r["kind"] == "train"]

    assert train_records("split") == train_records("whole")
    assert [r[0] for r in train_records("whole")] == list(range(1, 13))


def scripted_scores(trainer, by_step):
    """Make the trainer's task report ``by_step[step]`` as its validation mse (and loss)."""
    trainer.task.evaluate = lambda model, split="valid": {"loss": by_step[trainer.step], "mse": by_step[trainer.step]}


def test_keep_best_ends_with_the_best_weights_and_saves_them(tmp_path):
    config = make_config("adding", seq_len=6, hidden_size=4, batch_size=4, eval_size=10, max_steps=12, eval_interval=5,
                         checkpoint_interval=5, keep_checkpoints=5, keep_best=True, progress="off")
    printed = quiet()
    trainer = Trainer(config, str(tmp_path / "r"), out=printed)
    scripted_scores(trainer, {5: 0.2, 10: 0.3, 12: 0.25})
    result = trainer.run()
    assert "kept the weights of step 5, the best validation mse (0.2000)" in printed.getvalue()
    assert result.evaluation["mse"] == 0.2 and result.step == 12
    at_5, final = parameters(str(tmp_path / "r" / "checkpoints" / "step-00000005.safetensors")), parameters(result.checkpoint)
    assert all(np.array_equal(at_5[name], final[name]) for name in at_5)
    assert read_training_checkpoint(result.checkpoint).best["step"] == 5


def test_target_score_stops_the_run_once_reached(tmp_path):
    config = make_config("adding", seq_len=6, hidden_size=4, batch_size=4, eval_size=10, max_steps=20, eval_interval=5,
                         target_score=0.25, progress="off")
    printed = quiet()
    trainer = Trainer(config, str(tmp_path / "r"), out=printed)
    scripted_scores(trainer, {5: 0.3, 10: 0.25, 15: 0.1})
    result = trainer.run()
    assert (result.stopped, result.step) == ("target_score", 10)
    assert "reached the target mse 0.25 at step 10" in printed.getvalue()


def test_the_same_run_twice_gives_the_same_numbers(tmp_path):
    settings = dict(TINY["charlm"], **COMMON)
    first = train(make_config("charlm", **settings), run_dir=str(tmp_path / "a"), out=quiet())
    second = train(make_config("charlm", **settings), run_dir=str(tmp_path / "b"), out=quiet())
    assert first.evaluation == second.evaluation and first.baselines == second.baselines

    def numbers(run):
        return [{k: v for k, v in r.items() if k not in ("time", "tokens_per_s")}
                for r in read_metrics(str(tmp_path / run / "metrics.jsonl"))]

    assert numbers("a") == numbers("b")
    a, b = parameters(first.checkpoint), parameters(second.checkpoint)
    assert all(np.array_equal(a[name], b[name]) for name in a)


def test_grad_norm_before_clipping_is_in_the_metrics(tmp_path):
    result = train(make_config("adding", seq_len=8, hidden_size=4, batch_size=4, max_steps=3, clip=1e-3,
                               progress="off"), run_dir=str(tmp_path / "r"), out=quiet())
    records = [r for r in read_metrics(str(tmp_path / "r" / "metrics.jsonl")) if r["kind"] == "train"]
    assert len(records) == 3 and result.stopped == "max_steps"
    assert all(r["grad_norm"] > 1e-3 for r in records)  # the norm reported is the one before clipping


def test_a_nan_loss_stops_before_the_update_and_names_step_and_last_checkpoint(tmp_path):
    config = make_config("adding", seq_len=8, hidden_size=4, batch_size=4, max_steps=20, checkpoint_interval=2,
                         progress="off")
    trainer = Trainer(config, str(tmp_path / "r"), out=quiet())
    original = trainer.task.train_step

    def train_step(model):
        loss, tokens = original(model)
        return (math.nan if trainer.step == 4 else loss), tokens

    trainer.task.train_step = train_step
    before = {n: p.data.copy() for n, p in trainer.model.named_parameters()}
    with pytest.raises(TrainingError) as error:
        trainer.run()
    message = str(error.value)
    last = str(tmp_path / "r" / "checkpoints" / "step-00000004.safetensors")
    assert "loss became nan at step 5" in message and last in message and "\n" not in message
    state = parameters(last)
    assert all(np.isfinite(v).all() for v in state.values())
    # the failed step changed nothing: the parameters are those of step 4
    assert all(np.array_equal(p.data, state[n]) for n, p in trainer.model.named_parameters())
    assert any(not np.array_equal(before[n], state[n]) for n in before)


def test_an_exploding_run_stops_with_the_message_and_no_numpy_warnings(tmp_path):
    """A real divergence (no clipping, a huge learning rate), not a simulated one. The overflow on the way
    to inf is what the NaN guard reports: NumPy's RuntimeWarnings must not repeat it on the terminal."""
    config = make_config("adding", cell="rnn", nonlinearity="relu", seq_len=30, hidden_size=16, batch_size=8,
                         optimizer="sgd", lr=1e6, clip=0, max_steps=50, progress="off")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TrainingError, match=r"became (nan|inf) at step \d+; .*no checkpoint was saved yet"):
            train(config, run_dir=str(tmp_path / "r"), out=quiet())
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert np.geterr()["over"] == "warn"  # only the training step was silenced, not NumPy for good


@pytest.mark.parametrize("nats, shown", [(650.0, "perplexity: 1.96e+282"), (800.0, "perplexity: inf")])
def test_a_diverged_run_prints_a_short_perplexity_and_says_it_diverged(tmp_path, capsys, nats, shown):
    from microseq.training.tasks import CharLMTask

    out = quiet()
    trainer = Trainer(make_config("charlm", **TINY["charlm"], **dict(COMMON, max_steps=2)), str(tmp_path / "r"), out=out)
    trainer.task.evaluate = lambda model, split="valid": CharLMTask._scores(nats)
    trainer.run()
    text = out.getvalue()
    assert shown in text and max(len(digits) for digits in re.findall(r"\d+", text)) < 20  # not 283 digits
    err = capsys.readouterr().err
    assert "warning: the validation loss" in err and "the run diverged" in err and err.count("\n") == 1


def test_time_budget_stops_and_checkpoints(tmp_path):
    result = train(make_config("adding", seq_len=8, hidden_size=4, batch_size=4, max_steps=10**6, time_budget=0.2,
                               progress="off"), run_dir=str(tmp_path / "r"), out=quiet())
    assert result.stopped == "time_budget" and 0 < result.step < 10**6
    assert RunCheckpoints(str(tmp_path / "r")).latest() == (result.step, result.checkpoint)


def test_resume_keeps_the_run_settings(tmp_path):
    run = str(tmp_path / "r")
    train(make_config("postag", **TINY["postag"], **dict(COMMON, max_steps=4)), run_dir=run, out=quiet())
    with pytest.raises(ConfigError, match="cannot change hidden_size"):
        resume(run, hidden_size=99, out=quiet())
    with pytest.raises(ConfigError, match="cosine"):
        resume(run, max_steps=8, out=quiet())  # the schedule was laid out for 4 steps
    with pytest.raises(ConfigError, match="already reached step 4"):
        resume(run, out=quiet())


def test_resume_refuses_a_checkpoint_of_another_run_and_changes_nothing(tmp_path):
    small, big = str(tmp_path / "small"), str(tmp_path / "big")
    settings = dict(seq_len=8, batch_size=4, progress="off", max_steps=3, checkpoint_interval=1, keep_checkpoints=5)
    train(make_config("adding", hidden_size=4, **settings), run_dir=small, out=quiet())
    train(make_config("adding", hidden_size=6, **dict(settings, max_steps=2)), run_dir=big, out=quiet())
    # a later checkpoint from the other run lands in this run's directory
    shutil.copy(RunCheckpoints(small).latest()[1], RunCheckpoints(big).path_for(3))
    snapshot = {p: open(os.path.join(big, p), "rb").read() for p in ("config.json", "metrics.jsonl")}
    with pytest.raises(CheckpointError, match="belongs to another run .*hidden_size 4 there, 6 here"):
        resume(big, max_steps=5, out=quiet())
    assert snapshot == {p: open(os.path.join(big, p), "rb").read() for p in snapshot}


def test_run_checkpoints_name_by_step_find_the_latest_and_prune(tmp_path):
    runs = RunCheckpoints(str(tmp_path), keep=2)
    assert runs.latest() is None and runs.all() == []
    for step in (5, 100, 20):
        open(runs.path_for(step), "wb").close()
    open(os.path.join(runs.directory, ".step-00000999.safetensors.123.tmp"), "wb").close()  # a crashed write
    assert runs.latest() == (100, os.path.join(str(tmp_path), "checkpoints", "step-00000100.safetensors"))
    assert [step for step, _ in runs.all()] == [5, 20, 100]
    assert runs.prune() == [runs.path_for(5)]
    assert [step for step, _ in runs.all()] == [20, 100]
    with pytest.raises(ValueError, match="keep"):
        RunCheckpoints(str(tmp_path), keep=0)


def test_a_plain_checkpoint_is_not_a_training_checkpoint(tmp_path):
    from microseq import nn

    path = tmp_path / "plain.safetensors"
    save_checkpoint(path, nn.Linear(2, 3))
    with pytest.raises(CheckpointError, match="not the checkpoint of a microseq training run"):
        read_training_checkpoint(str(path))


def test_training_checkpoint_holds_what_rebuilding_needs(tmp_path):
    result = train(make_config("charlm", **TINY["charlm"], **dict(COMMON, max_steps=2)), run_dir=str(tmp_path / "r"),
                   out=quiet())
    checkpoint = read_training_checkpoint(result.checkpoint)
    assert checkpoint.step == 2 and checkpoint.model_name == "CharLM"
    assert checkpoint.config == make_config("charlm", **TINY["charlm"], **dict(COMMON, max_steps=2)).to_dict()
    assert set(checkpoint.arrays) == {"carried_state.0", "carried_state.1"}  # the LSTM's (h, c)
    assert checkpoint.arrays["carried_state.0"].shape == (1, 3, 12)
    assert json.loads(open(tmp_path / "r" / "config.json").read()) == checkpoint.config


def test_blas_threads_are_set_for_the_run_and_restored(tmp_path, monkeypatch):
    from microseq import _threads as threads
    from microseq.training import trainer

    if threads.get_blas_threads() is None:
        pytest.skip("NumPy does not use a bundled OpenBLAS here")
    original_threads = threads.get_blas_threads()
    seen = []
    original = trainer.Trainer.save
    monkeypatch.setattr(trainer.Trainer, "save", lambda self: seen.append(threads.get_blas_threads()) or original(self))
    threads.set_blas_threads(2)  # not the run's count, so that "restored" differs from "never changed"
    try:
        train(make_config("adding", seq_len=8, hidden_size=4, batch_size=4, max_steps=2, threads=1, progress="off"),
              run_dir=str(tmp_path / "r"), out=quiet())
        assert seen == [1] and threads.get_blas_threads() == 2
    finally:
        threads.set_blas_threads(original_threads)


def test_a_run_config_written_under_an_old_option_name_still_reads(tmp_path):
    stored = make_config("adding", cell="gru").to_dict()
    stored["model"] = stored.pop("cell")  # how runs before the rename stored it
    (tmp_path / "config.json").write_text(json.dumps(stored), encoding="utf-8")
    assert read_run_config(str(tmp_path)).cell == "gru"
