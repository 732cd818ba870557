"""The metrics file: appended, and cut back to the checkpoint on resume."""

import json

import numpy as np
import pytest

from microseq.training.metrics import MetricsLog, read_metrics


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
