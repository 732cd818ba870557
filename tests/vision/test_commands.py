"""``microseq sample`` and ``microseq eval`` on caption and vqa runs, end to end on tiny runs."""

import io
import os

import pytest

from microseq.cli import main
from microseq.training import make_config, train

pytest.importorskip("matplotlib")

TINY = dict(hidden_size=8, embedding_size=4, batch_size=4, image_size=32, train_size=24, eval_size=6, test_size=6,
            progress="off", max_steps=2, eval_interval=2, checkpoint_interval=2)
RUNS = {"caption": ("caption", {"beam_width": 1}), "show_tell": ("caption", {"beam_width": 1, "no_attention": True}),
        "vqa": ("vqa", {}), "question_only": ("vqa", {"question_only": True})}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for name, (task, settings) in RUNS.items():
        train(make_config(task, **TINY, **settings), run_dir=str(root / name), out=io.StringIO())
    return root


def _png(path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name, prefix", [("caption", "caption"), ("show_tell", "caption"), ("vqa", "vqa"),
                                          ("question_only", "vqa")])
def test_sample_draws_held_out_images_and_prints_what_the_model_said(runs, tmp_path, capsys, name, prefix):
    out = tmp_path / "pictures"
    assert main(["sample", str(runs / name), "--images", "2", "--output", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert sorted(os.listdir(out)) == [f"{prefix}-0.png", f"{prefix}-1.png"]  # and no temporary file is left
    for i, line in enumerate(lines):
        assert line.startswith(f"{out / f'{prefix}-{i}.png'}: ")
        assert line.endswith("[right]") or "[wrong" in line
        assert _png(out / f"{prefix}-{i}.png")


def test_sample_writes_into_the_run_by_default_and_takes_a_beam(runs, capsys):
    assert main(["sample", str(runs / "caption"), "--images", "1", "--beam-width", "2"]) == 0
    assert _png(runs / "caption" / "samples" / "caption-0.png")
    assert capsys.readouterr().out.startswith(str(runs / "caption" / "samples" / "caption-0.png"))


@pytest.mark.parametrize("argv, message", [
    (["sample", "{tmp}/nowhere"], "checkpoint not found: {tmp}/nowhere"),
    (["sample", "{tmp}"], "{tmp} holds no checkpoint"),
    (["sample", "{caption}", "--images", "0"], "--images must be at least 1; got 0"),
    (["sample", "{caption}", "--temperature", "0.5"], "--temperature is for charlm checkpoints"),
    (["sample", "{vqa}", "--beam-width", "2"], "--beam-width is for seq2seq and caption checkpoints"),
    (["sample", "{caption}", "--prime", "a small"], "--prime is for charlm and seq2seq checkpoints"),
    (["sample", "{caption}", "--output", "{tmp}/file"], "cannot write the samples to {tmp}/file"),
])
def test_bad_runs_and_options_are_one_line_errors(runs, tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("in the way")
    fill = dict(tmp=tmp_path, caption=runs / "caption", vqa=runs / "vqa")
    assert main([a.format(**fill) for a in argv]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message.format(**fill) in err
    assert (tmp_path / "file").read_text() == "in the way"


def test_eval_of_a_caption_run_breaks_scores_down_by_object_count(runs, capsys):
    assert main(["eval", str(runs / "caption")]) == 0
    out = capsys.readouterr().out
    keys = {line.split(":")[0].split()[-1] for line in out.splitlines()[1:]}
    counts = {len(s.objects) for s in _test_scenes()}
    assert {"scene_accuracy", "bleu4"} <= keys  # (attention_in_box only once the model names an object right)
    assert {f"scene_accuracy_{k}" for k in counts} | {f"bleu4_{k}" for k in counts} <= keys


def test_eval_of_a_vqa_run_shows_the_question_only_prior_beside_each_type(runs, capsys):
    assert main(["eval", str(runs / "vqa")]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert lines and all(line.split(":")[0].split()[-1].startswith("accuracy") for line in lines)
    assert all("(baseline " in line for line in lines)


def _test_scenes():
    from microseq.vision import caption_data

    return caption_data(TINY["test_size"], "test", 0, TINY["image_size"]).scenes
