"""caption and vqa as Tasks of the one Trainer: tiny runs, exact resume, checkpoints that rebuild, options."""

import io

import numpy as np
import pytest

from microseq.checkpoint import load_checkpoint
from microseq.training import ConfigError, make_config, resume, train
from microseq.training.checkpoints import read_training_checkpoint
from microseq.training.metrics import read_metrics
from microseq.training.models import build_model
from microseq.training.tasks import make_task

TINY = dict(hidden_size=8, embedding_size=4, batch_size=4, image_size=32, train_size=24, eval_size=6, test_size=6,
            progress="off", eval_interval=2, checkpoint_interval=2,
            schedule="constant")  # a cosine schedule (caption's default) cannot be resumed to more steps


def _losses(run_dir):
    return [r["loss"] for r in read_metrics(f"{run_dir}/metrics.jsonl") if r["kind"] == "train"]


def _parameters(path):
    return load_checkpoint(path, restore_rng=False)["model_state"]


@pytest.mark.parametrize("task, settings", [
    ("caption", dict(beam_width=2, teacher_forcing_decay="linear", teacher_forcing_k=4, dropout=0.1)),
    ("caption", dict(no_attention=True, beam_width=1)),
    ("vqa", {}),
    ("vqa", dict(question_only=True)),
])
def test_a_resumed_run_is_the_uninterrupted_one(tmp_path, task, settings):
    whole = train(make_config(task, **TINY, **settings, max_steps=4), run_dir=str(tmp_path / "whole"), out=io.StringIO())
    train(make_config(task, **TINY, **settings, max_steps=2), run_dir=str(tmp_path / "split"), out=io.StringIO())
    resumed = resume(str(tmp_path / "split"), max_steps=4, out=io.StringIO())
    assert _losses(tmp_path / "whole") == _losses(tmp_path / "split")
    a, b = _parameters(whole.checkpoint), _parameters(resumed.checkpoint)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert whole.test == resumed.test
    metric = "scene_accuracy" if task == "caption" else "accuracy"
    assert 0.0 <= whole.test[metric] <= 1.0
    if task == "caption":
        assert {"bleu4", "scene_accuracy_1"} <= whole.test.keys()
        assert ("beam_scene_accuracy" in whole.test) == (settings["beam_width"] > 1)
    else:
        assert any(k.startswith("accuracy_") for k in whole.test)


def test_a_checkpoint_rebuilds_the_model_and_scores_the_same(tmp_path):
    result = train(make_config("caption", **TINY, max_steps=2, beam_width=1), run_dir=str(tmp_path),
                   out=io.StringIO())
    saved = read_training_checkpoint(result.checkpoint)
    assert (saved.config["task"], saved.model_name) == ("caption", "Captioner")
    model = build_model(saved.model_name, saved.model_config)
    load_checkpoint(result.checkpoint, model, restore_rng=False)
    task = make_task(make_config("caption", **TINY, max_steps=2, beam_width=1), training=False)
    assert "train" not in task.data  # evaluation does not render the training set
    assert task.evaluate(model, "test") == result.test
    written = task.write_results(model, str(tmp_path))  # the word-by-word attention of a test image
    assert open(written["attention"], "rb").read(4) == b"\x89PNG"


def test_the_test_split_holds_out_pairs_the_training_split_never_shows():
    task = make_task(make_config("caption", **TINY))
    train_pairs = {(o.colour, o.shape) for s in task.data["train"].scenes for o in s.objects}
    test_pairs = [{(o.colour, o.shape) for o in s.objects} for s in task.data["test"].scenes]
    assert all(pairs - train_pairs for pairs in test_pairs)


@pytest.mark.parametrize("task, settings, message", [
    ("vqa", dict(no_attention=True), "--no-attention is for the caption task, not vqa"),
    ("caption", dict(question_only=True), "--question-only is for the vqa task, not caption"),
    ("caption", dict(image_size=20), "image_size must be at least 32"),
    ("vqa", dict(eval_size=0), "eval_size of the vqa task must be at least 1"),
    ("caption", dict(phrasings=0), "phrasings must be at least 1"),
    ("vqa", dict(phrasings=1), "--phrasings is for the caption task, not vqa"),
])
def test_options_of_the_image_tasks_are_checked(task, settings, message):
    with pytest.raises(ConfigError, match=message):
        make_config(task, **settings)


@pytest.mark.parametrize("flags, attention, question_only", [
    (("caption", "--no-attention"), False, False), (("caption",), True, False), (("vqa", "--question-only"), True, True),
])
def test_the_command_line_flags_reach_the_model(tmp_path, flags, attention, question_only):
    from microseq.cli import main

    argv = ["train", *flags, "--max-steps", "1", "--train-size", "8", "--eval-size", "2", "--test-size", "2",
            "--batch-size", "2", "--hidden-size", "4", "--embedding-size", "4", "--image-size", "32",
            "--progress", "off", "--out", str(tmp_path / "run")]
    if flags[0] == "caption":
        argv += ["--beam-width", "1"]
    assert main(argv) == 0
    saved = read_training_checkpoint(str(tmp_path / "run" / "checkpoints" / "step-00000001.safetensors"))
    assert saved.config["no_attention"] is (not attention) and saved.config["question_only"] is question_only
    if flags[0] == "caption":
        assert saved.model_config["attention"] is attention
