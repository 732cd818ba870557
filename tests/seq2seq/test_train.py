"""The trainer: schedules, a smoke run that learns, and a run directory that loads back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq.seq2seq.decoding import translate
from microseq.seq2seq.plot import plot_attention
from microseq.seq2seq.train import TeacherForcingSchedule, load_trained, train_task

TINY = {"embedding_dim": 8, "encoder_hidden": 16, "decoder_hidden": 32}
SMALL_TASK = {"n_valid": 20, "n_test": 20, "max_length": 6}


@pytest.mark.parametrize("kind, k", [("linear", 50), ("exponential", 0.9), ("inverse_sigmoid", 10)])
@given(ratio=st.floats(0.2, 1.0), floor=st.floats(0.0, 0.2))
def test_schedules_move_from_teacher_forcing_to_own_predictions(kind, k, ratio, floor):
    schedule = TeacherForcingSchedule(kind, ratio=ratio, floor=floor, k=k)
    values = [schedule(step) for step in range(0, 2000, 7)]
    assert all(floor <= v <= ratio for v in values)
    assert all(a >= b for a, b in zip(values, values[1:]))  # never goes back up
    assert values[-1] == pytest.approx(floor, abs=1e-6)
    if kind == "linear":
        assert schedule(0) == ratio and schedule(25) == pytest.approx(ratio - (ratio - floor) / 2)


def test_schedule_formulas_and_errors():
    assert TeacherForcingSchedule("constant", 0.7)(10**6) == 0.7
    assert TeacherForcingSchedule("exponential", k=0.5)(3) == 0.125
    assert TeacherForcingSchedule("inverse_sigmoid", k=10)(20) == pytest.approx(10 / (10 + np.exp(2)))
    with pytest.raises(ValueError, match="kind must be one of"):
        TeacherForcingSchedule("cosine")
    with pytest.raises(ValueError, match="exponential decay needs 0 < k < 1"):
        TeacherForcingSchedule("exponential", k=2)
    with pytest.raises(ValueError, match="floor <= ratio"):
        TeacherForcingSchedule("linear", ratio=0.2, floor=0.5)


def test_a_tiny_run_on_reverse_lowers_the_loss():
    losses = []
    result = train_task("reverse", model=TINY, steps=60, batch_size=32, lr=1e-2, eval_every=60, beam_width=1,
                        task_options=SMALL_TASK, progress=lambda record: losses.append(record["loss"]))
    assert len(losses) == 60 == result.metrics["steps"]
    assert np.mean(losses[-10:]) < 0.75 * np.mean(losses[:10])
    assert result.metrics["stopped_by"] == "steps" and 0.0 <= result.metrics["test_accuracy"] <= 1.0
    assert result.history[-1]["step"] == 60


def test_runs_are_repeatable_and_scheduled_sampling_trains():
    run = lambda: train_task("sort", model=TINY, steps=8, batch_size=8, beam_width=1, task_options=SMALL_TASK,
                             teacher_forcing=TeacherForcingSchedule("linear", k=8))
    a, b = run(), run()
    assert a.metrics["train_loss"] == b.metrics["train_loss"]
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_run_directory_loads_back_and_has_a_heatmap(tmp_path):
    result = train_task("dates", model=TINY, steps=3, batch_size=8, beam_width=2, seed=4, out_dir=tmp_path,
                        task_options={"n_valid": 10, "n_test": 10})
    for name in ("config.json", "model.safetensors", "metrics.jsonl", "metrics.json", "attention.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "attention.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 3
    model, task, settings = load_trained(tmp_path)
    assert task.test == result.task.test and settings["seed"] == 4
    texts = [source for source, _ in task.test[:4]]
    expected, _ = translate(result.model, texts, task.source_vocab, task.target_vocab)
    assert translate(model, texts, task.source_vocab, task.target_vocab)[0] == expected


def test_train_task_errors():
    with pytest.raises(ValueError, match="give steps, time_budget, or both"):
        train_task("dates")
    with pytest.raises(ValueError, match="unknown task 'copy'"):
        train_task("copy", steps=1)
    with pytest.raises(ValueError, match="unknown keys"):
        train_task("reverse", steps=1, model={"hidden": 3})


def test_plot_attention_checks_its_input(tmp_path):
    path = plot_attention(np.eye(3), "abc", ["c", "b", "a"], tmp_path / "sub" / "a.png", title="t")
    assert path.exists()
    with pytest.raises(ValueError, match="do not cover 4 outputs x 3 sources"):
        plot_attention(np.eye(3), "abc", "abcd", tmp_path / "b.png")
