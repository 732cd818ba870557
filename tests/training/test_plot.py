"""The curves of a run."""

import pytest

from microseq.training.metrics import MetricsLog
from microseq.training.plot import plot_run, smooth


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
