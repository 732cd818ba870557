"""The seq2seq tasks as training tasks: they learn, repeat, record what they are, and size the decoder openly."""

from __future__ import annotations

import io

import numpy as np
import pytest

from microseq.training import ConfigError, make_config, train
from microseq.training.checkpoints import read_training_checkpoint
from microseq.training.metrics import read_metrics
from microseq.training.tasks import make_task

TINY = dict(hidden_size=8, embedding_size=4, batch_size=16, eval_size=10, test_size=10, beam_width=1,
            progress="off")


def losses(run_dir) -> list:
    return [r["loss"] for r in read_metrics(f"{run_dir}/metrics.jsonl") if r["kind"] == "train"]


def test_a_tiny_run_on_reverse_lowers_the_loss(tmp_path):
    config = make_config("reverse", **{**TINY, "hidden_size": 16, "embedding_size": 8, "batch_size": 32}, lr=1e-2,
                         schedule="constant", max_steps=60, eval_interval=60)
    result = train(config, run_dir=str(tmp_path), out=io.StringIO())
    seen = losses(tmp_path)
    assert len(seen) == 60 and result.stopped == "max_steps"
    assert np.mean(seen[-10:]) < 0.75 * np.mean(seen[:10])
    assert 0.0 <= result.test["accuracy"] <= 1.0 and "symbol_accuracy" in result.test


def test_runs_with_scheduled_sampling_repeat_exactly(tmp_path):
    config = make_config("sort", **TINY, max_steps=8, eval_interval=4, teacher_forcing_decay="linear",
                         teacher_forcing_k=8, dropout=0.1)
    a = train(config, run_dir=str(tmp_path / "a"), out=io.StringIO())
    b = train(config, run_dir=str(tmp_path / "b"), out=io.StringIO())
    assert losses(tmp_path / "a") == losses(tmp_path / "b") and a.test == b.test


def test_a_checkpoint_says_which_task_and_model_it_holds(tmp_path):
    result = train(make_config("dates", **TINY, max_steps=2, eval_interval=2), run_dir=str(tmp_path),
                   out=io.StringIO())
    saved = read_training_checkpoint(result.checkpoint)
    assert (saved.config["task"], saved.model_name) == ("dates", "Seq2Seq")
    assert saved.model_config["hidden_size"] == 8 and saved.model_config["decoder_hidden_size"] == 64


@pytest.mark.parametrize("bidirectional, expected", [(True, 16), (False, 8)])
def test_the_decoder_defaults_to_the_encoder_output_size(bidirectional, expected):
    task = make_task(make_config("reverse", hidden_size=8, bidirectional=bidirectional), training=False)
    assert task.model_config()["decoder_hidden_size"] == expected
    assert f"decoder hidden {expected}" in task.describe_model()


def test_dot_attention_with_a_decoder_of_another_size_is_refused():
    with pytest.raises(ConfigError, match=r"attention dot needs decoder_hidden_size = the encoder's output size "
                                          r"\(16\); got 12"):
        make_task(make_config("reverse", hidden_size=8, decoder_hidden_size=12, attention="dot"), training=False)
