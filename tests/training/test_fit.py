"""fit(): a model of your own trained by the Trainer, interrupted, resumed bit for bit."""

import io
import os
import signal

import numpy as np
import pytest

import microseq as ms
from microseq import nn
from microseq.checkpoint import load_checkpoint
from microseq.cli import main
from microseq.ops import mse_loss
from microseq.training import ConfigError, fit
from microseq.training.custom import CustomTask
from microseq.training.metrics import read_metrics


class TwoLayer(nn.Module):
    """A model microseq train knows nothing about; dropout makes resume depend on the global random state."""

    def __init__(self):
        super().__init__()
        self.hidden, self.drop, self.out = nn.Linear(3, 8), nn.Dropout(0.2), nn.Linear(8, 1)

    def forward(self, x):
        return self.out(self.drop(self.hidden(x).tanh()))


def make_model(seed=0):
    ms.manual_seed(seed)
    return TwoLayer()


def batches(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.standard_normal((6, 3)).astype(np.float32)
        out.append((x, x.sum(axis=1, keepdims=True) ** 2))
    return out


TRAIN, VALID = batches(5, 1), batches(2, 2)  # 5 batches: the 12 steps run through epochs with reshuffles
SETTINGS = dict(max_steps=12, eval_interval=5, checkpoint_interval=4, lr=0.01, progress="off")


def draw(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    return x, x[:, :1] - x[:, 1:2]


def train_records(run_dir):
    return [(r["step"], r["loss"], r["grad_norm"]) for r in read_metrics(os.path.join(run_dir, "metrics.jsonl"))
            if r["kind"] == "train"]


@pytest.mark.parametrize("data", [TRAIN, draw], ids=["list of batches", "batch function"])
def test_fit_interrupted_then_resumed_equals_uninterrupted(tmp_path, monkeypatch, data):
    whole = fit(make_model(), mse_loss, data, valid=VALID, run_dir=str(tmp_path / "whole"), out=io.StringIO(),
                **SETTINGS)
    assert whole.step == 12 and whole.stopped == "max_steps" and set(whole.evaluation) == {"loss"}

    original = CustomTask.train_step

    def interrupting(self, model):  # a real SIGINT while step 7 runs: the trainer saves and stops after it
        result = original(self, model)
        if self.interrupt_now():
            os.kill(os.getpid(), signal.SIGINT)
        return result

    calls = []
    monkeypatch.setattr(CustomTask, "interrupt_now", lambda self: calls.append(1) or len(calls) == 7, raising=False)
    monkeypatch.setattr(CustomTask, "train_step", interrupting)
    printed = io.StringIO()
    stopped = fit(make_model(), mse_loss, data, valid=VALID, run_dir=str(tmp_path / "split"), out=printed, **SETTINGS)
    assert (stopped.stopped, stopped.step) == ("interrupted", 7)
    assert f"fit(model, loss_fn, data, resume={str(tmp_path / 'split')!r})" in printed.getvalue()
    monkeypatch.setattr(CustomTask, "train_step", original)

    # a fresh model with other initial weights: everything comes from the checkpoint
    resumed = fit(make_model(seed=99), mse_loss, data, valid=VALID, resume=str(tmp_path / "split"), out=io.StringIO())
    assert resumed.step == 12 and resumed.evaluation == whole.evaluation
    a = load_checkpoint(whole.checkpoint, restore_rng=False)["model_state"]
    b = load_checkpoint(resumed.checkpoint, restore_rng=False)["model_state"]
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert train_records(str(tmp_path / "split")) == train_records(str(tmp_path / "whole"))


def test_fit_learns_and_says_where_everything_went(tmp_path):
    printed = io.StringIO()
    model = make_model()
    result = fit(model, mse_loss, draw, run_dir=str(tmp_path / "r"), out=printed, max_steps=150, lr=0.05,
                 progress="off")
    first, last = train_records(str(tmp_path / "r"))[0][1], train_records(str(tmp_path / "r"))[-1][1]
    assert last < first / 5  # y = x0 - x1 is learnable
    assert result.evaluation == {}  # no validation data: no validation
    text = printed.getvalue()
    assert "model: TwoLayer" in text and "checkpoint " in text and os.path.join(str(tmp_path / "r"), "metrics.jsonl") in text


def test_fit_refuses_what_it_cannot_use(tmp_path):
    model = make_model()
    with pytest.raises(ConfigError, match="fit: hidden_size sizes the models of microseq train's tasks, not yours"):
        fit(model, mse_loss, draw, hidden_size=4)
    with pytest.raises(ConfigError, match="fit: unknown setting 'learning_rate'"):
        fit(model, mse_loss, draw, learning_rate=0.1)
    with pytest.raises(TypeError, match="a one-shot iterator cannot be rewound"):
        fit(model, mse_loss, iter(TRAIN), run_dir=str(tmp_path / "r"))
    with pytest.raises(ConfigError, match="lr must be a positive number"):
        fit(model, mse_loss, draw, lr=-1.0, run_dir=str(tmp_path / "r"))
    assert not os.path.exists(tmp_path / "r")  # refused before anything was made


def test_the_command_line_points_a_fit_run_back_to_python(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fit(make_model(), mse_loss, draw, run_dir="r", out=io.StringIO(), max_steps=2, progress="off")
    assert main(["train", "--resume", "r", "--max-steps", "4"]) == 1
    err = capsys.readouterr().err
    assert err == ("microseq train: error: r trained a model of your own: resume it from Python with "
                   "microseq.training.fit(model, loss_fn, data, resume='r')\n")
    for command in ("eval", "sample"):
        assert main([command, "r"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "holds a model of your own (TwoLayer, trained with microseq.training.fit)" in err


def test_fit_keeps_the_best_weights_and_stops_at_a_target(tmp_path):
    """keep_best and target_score are options of every run, a model of your own's too."""
    kept = fit(make_model(), mse_loss, TRAIN, valid=VALID, run_dir=str(tmp_path / "best"), keep_best=True,
               **SETTINGS, out=io.StringIO())
    losses = [r["loss"] for r in read_metrics(str(tmp_path / "best" / "metrics.jsonl"))
              if r["kind"] == "eval" and r["split"] == "valid"]
    assert kept.evaluation["loss"] == min(losses)
    target = fit(make_model(), mse_loss, TRAIN, valid=VALID, run_dir=str(tmp_path / "target"),
                 target_score=1e9, **SETTINGS, out=io.StringIO())  # any loss reaches it at the first evaluation
    assert (target.stopped, target.step) == ("target_score", SETTINGS["eval_interval"])
