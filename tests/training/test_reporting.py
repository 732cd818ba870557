"""Config handling, the metrics file, progress display, sampling probabilities and the curves plot."""

import io
import json

import numpy as np
import pytest

from microseq.training.config import (
    FIELDS, RESUMABLE_OVERRIDES, TASK_DEFAULTS, TASKS, ConfigError, TrainConfig, load_toml, make_config,
)
from microseq.training.metrics import MetricsLog, read_metrics
from microseq.training.plot import plot_run, smooth
from microseq.training.progress import Progress, format_count, format_duration
from microseq.training.sampling import next_token_probabilities

# -- config ------------------------------------------------------------------------------------------------------


def test_task_defaults_name_real_fields_and_validate():
    for task, defaults in TASK_DEFAULTS.items():
        assert task in TASKS and set(defaults) <= set(FIELDS)
        make_config(task)
    assert RESUMABLE_OVERRIDES <= set(FIELDS)


def test_settings_override_task_defaults():
    config = make_config("adding", hidden_size=7, lr=1)
    assert (config.hidden_size, config.seq_len, config.lr) == (7, 100, 1.0)
    assert isinstance(config.lr, float)


@pytest.mark.parametrize("settings, message", [
    ({"hiden_size": 3}, "unknown key 'hiden_size' (did you mean 'hidden_size'?)"),
    ({"layers": 0}, "layers must be at least 1"),
    ({"layers": 1.5}, "layers must be an int"),
    ({"cell": "lstmm"}, "cell must be one of rnn, lstm, gru"),
    ({"dropout": 1.0}, "dropout must be in [0, 1)"),
    ({"bptt": 500}, "bptt must be between 1 and seq_len (100)"),
    ({"bidirectional": True}, "charlm cannot be bidirectional"),
    ({"lr": float("nan")}, "lr must be a positive number"),
    ({"seed": -1}, "seed must not be negative; got -1"),
    ({"train_size": 10}, "--train-size is for the sentiment, postag tasks, not charlm"),
])
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ConfigError) as error:
        make_config("charlm", **settings)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_unknown_task():
    with pytest.raises(ConfigError, match="unknown task 'nope'; choose from charlm, adding"):
        make_config("nope")


def test_load_toml(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('task = "adding"\nhidden-size = 16\nlr = 0.01\nbidirectional = true\n')
    assert load_toml(str(path)) == {"task": "adding", "hidden_size": 16, "lr": 0.01, "bidirectional": True}
    path.write_text("hiden_size = 3\n")
    with pytest.raises(ConfigError, match=r"run.toml: unknown key 'hiden_size' \(did you mean 'hidden_size'\?\)"):
        load_toml(str(path))
    path.write_text("hidden_size = 'big'\n")
    with pytest.raises(ConfigError, match="hidden_size must be an int; got 'big'"):
        load_toml(str(path))
    path.write_text("hidden_size = \n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_toml(str(path))
    with pytest.raises(ConfigError, match="config file not found"):
        load_toml(str(tmp_path / "missing.toml"))


def test_config_round_trips_through_a_dict():
    config = make_config("postag", seed=3)
    assert TrainConfig(**config.to_dict()) == config


# -- metrics -----------------------------------------------------------------------------------------------------


def test_metrics_log_appends_and_truncates_on_resume(tmp_path):
    path = str(tmp_path / "metrics.jsonl")
    with MetricsLog(path) as log:
        log.log("start", step=0, baselines={"loss": 1.0})
        for step in range(1, 6):
            log.log("train", step=step, loss=np.float32(1.0 / step), grad_norm=float("inf"))
    records = read_metrics(path)
    assert [r["kind"] for r in records] == ["start"] + ["train"] * 5
    assert records[2]["loss"] == pytest.approx(0.5) and records[2]["grad_norm"] == "inf"
    with open(path, "a") as f:
        f.write('{"kind": "train", "st')  # a line cut short by a crash
    assert len(read_metrics(path)) == 6
    with MetricsLog(path, resume_step=3) as log:
        log.log("start", step=3)
    assert [r.get("step") for r in read_metrics(path)] == [0, 1, 2, 3, 3]
    for line in open(path):
        json.loads(line)


# -- progress ----------------------------------------------------------------------------------------------------


def test_formatting():
    assert format_duration(75.2) == "1:15" and format_duration(3725) == "1:02:05"
    assert format_count(12345) == "12.3k" and format_count(2.5e6) == "2.5M" and format_count(12) == "12"


def test_progress_lines_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress(total_steps=10, mode="auto", log_interval=5, stream=stream)
    for step in range(1, 11):
        progress.update(step, loss=2.0, tokens_per_s=1500)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("step 5/10: smoothed loss 2.0000, 1.5k tok/s, ETA ")


def test_progress_bar_shows_loss_speed_and_eta():
    stream = io.StringIO()
    progress = Progress(total_steps=4, start_step=1, mode="bar", stream=stream)
    progress.update(2, loss=1.5, tokens_per_s=2000)
    progress._bar.refresh()
    progress.close()
    text = stream.getvalue()
    assert "2/4" in text and "smoothed loss 1.5000" in text and "2.0k tok/s" in text and "ETA" in text


def test_eta_respects_the_time_budget():
    progress = Progress(total_steps=10**9, time_budget=60, mode="off")
    progress.started -= 1.0
    assert 58 < progress.eta(step=10) <= 59.01


# -- sampling probabilities ------------------------------------------------------------------------------------


def test_next_token_probabilities():
    logits = np.array([1.0, 3.0, 2.0, -1.0])
    p = next_token_probabilities(logits)
    np.testing.assert_allclose(p, np.exp(logits) / np.exp(logits).sum())
    top2 = next_token_probabilities(logits, top_k=2)
    assert top2[0] == 0 and top2[3] == 0 and top2.sum() == pytest.approx(1)
    cold = next_token_probabilities(logits, temperature=0.05)
    assert cold[1] > 0.999
    with pytest.raises(ValueError, match="temperature must be positive"):
        next_token_probabilities(logits, temperature=0)


# -- plot ---------------------------------------------------------------------------------------------------------


def test_smooth_is_bias_corrected():
    assert smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])


def test_plot_run_writes_a_png(tmp_path):
    with MetricsLog(str(tmp_path / "metrics.jsonl")) as log:
        log.log("start", step=0, task="adding", metric="mse", baselines={"loss": 0.167, "mse": 0.167}, clip=1.0)
        for step in range(1, 21):
            log.log("train", step=step, loss=1.0 / step, grad_norm=step * 0.1, lr=1e-3)
            if step % 5 == 0:
                log.log("eval", step=step, split="valid", loss=1.0 / step, mse=1.0 / step)
    path = plot_run(str(tmp_path))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot_run_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no metrics file"):
        plot_run(str(tmp_path))
    (tmp_path / "metrics.jsonl").write_text('{"kind": "start", "step": 0}\n')
    with pytest.raises(ValueError, match="no training steps yet"):
        plot_run(str(tmp_path))
