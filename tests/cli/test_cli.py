"""The ``microseq`` command end to end at tiny sizes: every task and subcommand, and every user error."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from microseq.checkpoint import load_checkpoint
from microseq.cli import main
from microseq.training import config as config_module
from microseq.training.checkpoints import RunCheckpoints, read_training_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUIET = ["--progress", "off"]
TINY_CHARLM = ["--hidden-size", "12", "--embedding-size", "6", "--batch-size", "3", "--seq-len", "16",
               "--max-steps", "6", "--eval-interval", "3", "--sample-length", "40", *QUIET]
TINY = {
    "adding": ["--seq-len", "8", "--hidden-size", "6", "--batch-size", "4", "--eval-size", "20"],
    "copy": ["--seq-len", "3", "--hidden-size", "8", "--embedding-size", "4", "--batch-size", "4", "--eval-size", "10"],
    "sentiment": ["--train-size", "40", "--eval-size", "20", "--hidden-size", "6", "--embedding-size", "5",
                  "--batch-size", "8"],
    "postag": ["--train-size", "40", "--eval-size", "20", "--hidden-size", "6", "--embedding-size", "5",
               "--batch-size", "8"],
}
TEXT = "the quick brown fox jumps over the lazy dog.\nsphinx of black quartz, judge my vow!\n" * 60


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # default run directories (runs/TASK-N) land here
    return tmp_path


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def snapshot(directory):
    """Every file under ``directory`` with its bytes."""
    files = {}
    for folder, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, directory)] = f.read()
    return files


# -- train, sample, eval, plot ---------------------------------------------------------------------------------
def test_train_with_no_arguments_is_the_default_charlm(capsys, monkeypatch):
    """What ``microseq train`` runs (the run itself, ~2 minutes, is measured, not tested)."""
    from microseq.training import trainer

    seen = {}

    class Recorder:
        def __init__(self, config, run_dir=None, **kwargs):
            seen.update(config=config, run_dir=run_dir)

        def run(self):
            return trainer.TrainResult("", 0, "max_steps", {}, {}, "", 0.0)

    monkeypatch.setattr(trainer, "Trainer", Recorder)
    assert main(["train"]) == 0
    assert seen["config"] == config_module.make_config("charlm")
    assert (seen["config"].cell, seen["config"].text) == ("lstm", None)
    assert seen["run_dir"] is None and seen["config"].out is None  # the Trainer claims runs/charlm-N itself


def test_charlm_on_a_text_file_then_sample_eval_and_plot(capsys, in_tmp):
    (in_tmp / "text.txt").write_text(TEXT, encoding="utf-8")
    status, out, _ = run(capsys, "train", "--text", "text.txt", *TINY_CHARLM, "--out", "run")
    assert status == 0
    for expected in ("charlm on text.txt", "baseline: loss", "bpc", "perplexity", "finished at step 6",
                     "sample (temperature 0.8)"):
        assert expected in out
    assert (in_tmp / "run" / "sample.txt").read_text(encoding="utf-8") in out

    greedy = [run(capsys, "sample", "run", "--greedy", "--prime", "the ", "--length", "25") for _ in range(2)]
    assert greedy[0] == greedy[1] and greedy[0][0] == 0
    assert greedy[0][1].startswith("the ") and len(greedy[0][1]) in (4 + 25, 4 + 25 + 1)  # + a final newline
    checkpoint = RunCheckpoints("run").latest()[1]
    status, out, _ = run(capsys, "sample", checkpoint, "--top-k", "2", "--temperature", "0.5", "--seed", "3",
                         "--length", "30")
    assert status == 0 and len(out) in (30, 31)

    status, out, _ = run(capsys, "eval", "run")
    assert status == 0 and "(step 6)" in out
    # charlm has one held-out text: its numbers are called validation numbers, whatever --split says
    assert all(f"valid {key:>10}:" in out for key in ("loss", "bpc", "perplexity")) and "baseline" in out
    assert "test" not in out.replace("has no test set", "")

    (in_tmp / "other.txt").write_text("jumps over the lazy quartz sphinx\n" * 40, encoding="utf-8")
    status, other, _ = run(capsys, "eval", "run", "--text", "other.txt")
    assert status == 0 and "charlm on other.txt" in other and other != out

    status, out, _ = run(capsys, "plot", "run")
    assert status == 0 and out.strip() == os.path.join("run", "curves.png")
    assert (in_tmp / "run" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_charlm_on_the_default_corpus(capsys):
    status, out, _ = run(capsys, "train", "charlm", "--corpus-chars", "20000", *TINY_CHARLM, "--sample-length", "0")
    assert status == 0 and "stdlib sources" in out and "sample (temperature" not in out
    assert RunCheckpoints(os.path.join("runs", "charlm-1")).latest()[0] == 6


@pytest.mark.parametrize("task", sorted(TINY))
def test_every_task_trains_and_evaluates(capsys, task):
    status, out, _ = run(capsys, "train", task, *TINY[task], "--max-steps", "4", "--eval-interval", "2", *QUIET)
    metric = {"adding": "mse", "copy": "accuracy", "sentiment": "accuracy", "postag": "accuracy"}[task]
    assert status == 0 and "final validation" in out and "baseline" in out and "test: loss" in out and metric in out
    status, out, _ = run(capsys, "eval", os.path.join("runs", f"{task}-1"), "--split", "valid")
    assert status == 0 and f"valid {metric:>10}:" in out


@pytest.mark.parametrize("task", ["reverse", "sort", "dates"])
def test_seq2seq_tasks_train_evaluate_translate_and_plot(capsys, task):
    status, out, _ = run(capsys, "train", task, "--max-steps", "2", "--hidden-size", "8", "--embedding-size", "4",
                         "--batch-size", "4", "--eval-size", "8", "--test-size", "6", "--eval-interval", "2",
                         "--cell", "lstm", "--beam-width", "2", *QUIET)
    assert status == 0 and "test: accuracy" in out and "beam_accuracy" in out
    run_dir = os.path.join("runs", f"{task}-1")
    assert f"microseq eval {run_dir}" in out and f"microseq sample {run_dir} --prime " in out
    assert os.path.isfile(os.path.join(run_dir, "attention.png"))
    saved = read_training_checkpoint(RunCheckpoints(run_dir).latest()[1])
    assert saved.model_name == "Seq2Seq" and saved.config["task"] == task  # what it is, recorded, not guessed
    model = saved.model_config
    decoder = 64 if task == "dates" else 16  # dates sets --decoder-hidden-size 64; else the encoder's output size
    assert (model["cell"], model["hidden_size"], model["decoder_hidden_size"], model["embedding_size"]) == ("lstm", 8, decoder, 4)
    status, out, _ = run(capsys, "eval", run_dir)
    assert status == 0 and "6 test pairs" in out and "test        accuracy:" in out
    prime = "2001-02-03" if task == "dates" else "abc"
    status, out, _ = run(capsys, "sample", run_dir, "--prime", prime, "--beam-width", "2")
    assert status == 0 and out.endswith("\n")
    status, out, _ = run(capsys, "plot", run_dir)
    assert status == 0 and os.path.isfile(out.strip())


def test_a_toml_config_sets_options_and_the_command_line_wins(capsys, in_tmp):
    (in_tmp / "run.toml").write_text('task = "adding"\nhidden-size = 5\nseq_len = 6\nbatch_size = 3\n'
                                     'max_steps = 2\nlr = 0.01\nprogress = "off"\n', encoding="utf-8")
    status, _, _ = run(capsys, "train", "--config", "run.toml", "--hidden-size", "7")
    assert status == 0
    saved = config_module.TrainConfig(**__import__("json").loads((in_tmp / "runs" / "adding-1" / "config.json").read_text()))
    assert (saved.task, saved.hidden_size, saved.seq_len, saved.lr) == ("adding", 7, 6, 0.01)


def test_resume_continues_a_finished_run_for_more_steps(capsys):
    status, _, _ = run(capsys, "train", "adding", *TINY["adding"], "--max-steps", "3", *QUIET)
    assert status == 0
    status, out, _ = run(capsys, "train", "--resume", os.path.join("runs", "adding-1"), "--max-steps", "5")
    assert status == 0 and "resuming at step 3" in out and "finished at step 5" in out


def test_help_and_no_command(capsys):
    assert run(capsys, "train", "--help")[0] == 0
    status, out, _ = run(capsys)
    assert status == 2 and "train" in out and "sample" in out


def test_bench_is_dispatched_with_its_own_options(capsys):
    status, out, _ = run(capsys, "bench", "--help")
    assert status == 0 and "usage: microseq bench" in out and "--quick" in out
    status, _, err = run(capsys, "bench", "--cells", "nope")
    assert status == 2 and "unknown cell" in err


# -- bad input: one line on stderr, a non-zero status, nothing overwritten ---------------------------------------
def _charlm_run(capsys, in_tmp):
    (in_tmp / "text.txt").write_text(TEXT, encoding="utf-8")
    assert run(capsys, "train", "--text", "text.txt", *TINY_CHARLM, "--sample-length", "0", "--out", "run")[0] == 0


def _adding_run(capsys, in_tmp):
    assert run(capsys, "train", "adding", *TINY["adding"], "--max-steps", "2", *QUIET, "--out", "adding")[0] == 0


def _corrupt_latest(capsys, in_tmp):
    _charlm_run(capsys, in_tmp)
    path = RunCheckpoints("run").latest()[1]
    data = bytearray(open(path, "rb").read())
    data[-5] ^= 0xFF  # a flipped bit in the last parameter's bytes
    open(path, "wb").write(bytes(data))


def _non_utf8(capsys, in_tmp):
    (in_tmp / "latin1.txt").write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1") * 50)


def _foreign_checkpoint(capsys, in_tmp):
    _charlm_run(capsys, in_tmp)
    assert run(capsys, "train", "--text", "text.txt", *TINY_CHARLM, "--hidden-size", "9", "--max-steps", "7",
               "--sample-length", "0", "--out", "other")[0] == 0
    os.replace(RunCheckpoints("other").latest()[1], RunCheckpoints("run").path_for(7))


def _seq2seq_run(capsys, in_tmp):
    assert run(capsys, "train", "reverse", "--max-steps", "1", "--hidden-size", "4", "--embedding-size", "2",
               "--batch-size", "2", "--eval-size", "4", "--test-size", "4", *QUIET, "--out", "s2s")[0] == 0


def _a_file(capsys, in_tmp):
    _adding_run(capsys, in_tmp)
    (in_tmp / "afile").write_text("not a directory\n", encoding="utf-8")


def _latin1_metrics(capsys, in_tmp):
    (in_tmp / "latin1").mkdir()
    (in_tmp / "latin1" / "metrics.jsonl").write_bytes('{"kind": "start", "task": "caf\xe9"}\n'.encode("latin-1"))


def _latin1_metrics_in_a_run(capsys, in_tmp):
    _adding_run(capsys, in_tmp)
    with open(in_tmp / "adding" / "metrics.jsonl", "ab") as f:
        f.write('{"kind": "note", "text": "caf\xe9"}\n'.encode("latin-1"))


HELD = []  # run directories locked for the length of one test, as a live run in another process would


@pytest.fixture(autouse=True)
def release_held():
    yield
    while HELD:
        HELD.pop().release()


def _held_adding_run(capsys, in_tmp):
    from microseq.training.rundir import RunDirectory

    _adding_run(capsys, in_tmp)
    HELD.append(RunDirectory.existing("adding"))


def _held_empty_out(capsys, in_tmp):
    from microseq.training.rundir import RunDirectory

    HELD.append(RunDirectory.new("held", "adding"))


BAD_INPUT = {
    "missing text file": (None, ["train", "--text", "missing.txt"], "text file not found: missing.txt"),
    "non-UTF-8 text": (_non_utf8, ["train", "--text", "latin1.txt"], "latin1.txt is not UTF-8 text (invalid byte 0xe9"),
    "unknown task": (None, ["train", "charml"], "unknown task 'charml'; choose from charlm, adding"),
    "unknown option": (None, ["train", "--hidden", "12", "--lr", "1"], "unrecognized arguments: --hidden"),
    "bad option value": (None, ["train", "--cell", "transformer"], "argument --cell: invalid choice"),
    "unknown config key": (None, ["train", "--config", "bad.toml"], "bad.toml: unknown key 'hiden_size' (did you mean 'hidden_size'?)"),
    "option of another task": (None, ["train", "adding", "--text", "text.txt"], "--text is for the charlm, ngram tasks, not adding"),
    "seq2seq option": (None, ["train", "dates", "--bptt", "5"], "--bptt is for the charlm task, not dates"),
    "option of the seq2seq tasks": (None, ["train", "adding", "--attention", "dot"],
                                    "--attention is for the reverse, sort, dates tasks, not adding"),
    "held-out sets too large for the task": (None, ["train", "dates", "--eval-size", "20000"],
                                             "22000 held-out dates leave too few of 36525 for training"),
    "dot attention with another decoder size": (None, ["train", "sort", "--attention", "dot", "--hidden-size", "8",
                                                       "--decoder-hidden-size", "8"],
                                                "attention dot needs decoder_hidden_size = the encoder's output size (16)"),
    "run directory in use": (_adding_run, ["train", "adding", "--out", "adding"], "adding already holds a run"),
    "sampling a non-LM checkpoint": (_adding_run, ["sample", "adding"], "holds a model of the adding task; sampling needs a charlm"),
    "missing checkpoint": (None, ["eval", "nothing.safetensors"], "checkpoint not found: nothing.safetensors"),
    "corrupted checkpoint (eval)": (_corrupt_latest, ["eval", "run"], "is corrupted or was modified after it was written"),
    "corrupted checkpoint (resume)": (_corrupt_latest, ["train", "--resume", "run", "--max-steps", "9"],
                                      "is corrupted or was modified"),
    "checkpoint of another model (resume)": (_foreign_checkpoint, ["train", "--resume", "run", "--max-steps", "9"],
                                             "belongs to another run (hidden_size 9 there, 12 here)"),
    "not a run directory": (None, ["train", "--resume", "."], ". is not a run directory (no config.json)"),
    "plot without metrics": (None, ["plot", "."], "no metrics file in ."),
    "negative seed (train)": (None, ["train", "adding", "--seed", "-1"], "seed must not be negative; got -1"),
    "negative seed (sample)": (_charlm_run, ["sample", "run", "--seed", "-1"], "--seed must not be negative; got -1"),
    "adding with one step": (None, ["train", "adding", "--seq-len", "1"],
                             "seq_len of the adding task must be at least 2 (two values are marked); got 1"),
    "--out under a file": (_a_file, ["train", "adding", "--out", "afile/sub"], "--out afile/sub: afile is a file"),
    "--out under /proc": (None, ["train", "adding", "--out", "/proc/microseq-run"],
                          "--out /proc/microseq-run: cannot create the directory"),
    "a model too big for the machine": (None, ["train", "adding", "--hidden-size", "1000000"],
                                        "--hidden-size 1000000 (with --layers 1, --batch-size 50) needs about"),
    "a seq2seq model too big for the machine": (None, ["train", "dates", "--hidden-size", "1000000"], "GiB) but this machine has"),
    "plot into a path under a file": (_a_file, ["plot", "adding", "--output", "afile/x.png"],
                                      "cannot write afile/x.png: Not a directory"),
    "plot a metrics file that is not UTF-8": (_latin1_metrics, ["plot", "latin1"],
                                              "latin1/metrics.jsonl is not a metrics file: not UTF-8 text (invalid byte 0xe9"),
    "--bptt on adding": (None, ["train", "adding", "--bptt", "5"], "--bptt is for the charlm task, not adding"),
    "--train-size on copy": (None, ["train", "copy", "--train-size", "5"], "--train-size is for the sentiment, postag, word2vec, glove, caption, vqa tasks, not copy"),
    "--beam-width on a charlm checkpoint": (_charlm_run, ["sample", "run", "--beam-width", "3"],
                                            "--beam-width is for seq2seq and caption checkpoints;"),
    "--temperature on a seq2seq checkpoint": (_seq2seq_run, ["sample", "s2s", "--prime", "abc", "--temperature", "0.5"],
                                              "--temperature is for charlm checkpoints;"),
    "--resume with another --out": (_adding_run, ["train", "--resume", "adding", "--max-steps", "4", "--out", "x"],
                                    "--out cannot be combined with --resume: a resumed run goes on in its own directory"),
    "--resume of nothing with an existing --out": (_adding_run, ["train", "--resume", "nothing", "--out", "adding"],
                                                   "--out cannot be combined with --resume"),
    "resuming a run whose metrics file is not UTF-8": (_latin1_metrics_in_a_run,
                                                        ["train", "--resume", "adding", "--max-steps", "4"],
                                                        "adding/metrics.jsonl is not a metrics file: not UTF-8 text"),
    "resuming a run that a live run holds": (_held_adding_run, ["train", "--resume", "adding", "--max-steps", "4"],
                                             "adding is in use by another run that is still going"),
    "a second run on a held --out": (_held_empty_out, ["train", "adding", *TINY["adding"], "--out", "held"],
                                     "held is in use by another run that is still going"),
    "eval on a text too short to hold anything out": (_charlm_run, ["eval", "run", "--text", "tiny.txt"],
                                                      "tiny.txt: text too short to hold out validation text"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_a_non_zero_status_and_nothing_overwritten(case, capsys, in_tmp):
    prepare, argv, message = BAD_INPUT[case]
    (in_tmp / "text.txt").write_text(TEXT, encoding="utf-8")
    (in_tmp / "bad.toml").write_text("hiden_size = 12\n", encoding="utf-8")
    (in_tmp / "tiny.txt").write_text("ab", encoding="utf-8")
    if prepare:
        prepare(capsys, in_tmp)
        capsys.readouterr()
    before = snapshot(in_tmp)
    status, out, err = run(capsys, *argv)
    assert status != 0
    assert err.count("\n") == 1 and err.startswith(f"microseq {argv[0]}: error: ") and message in err, err
    assert "Traceback" not in out + err
    assert snapshot(in_tmp) == before


def test_python_dash_m_reports_a_user_error_in_one_line(in_tmp):
    result = subprocess.run([sys.executable, "-m", "microseq", "train", "--text", "missing.txt"], cwd=in_tmp,
                            capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)
    assert result.returncode == 1
    assert result.stderr == "microseq train: error: text file not found: missing.txt\n"
    assert os.listdir(in_tmp) == []


def test_ctrl_c_saves_a_checkpoint_and_the_resumed_run_matches_an_uninterrupted_one(in_tmp, capsys):
    """A real ``python -m microseq`` process gets SIGINT mid-run, saves, exits 130; resuming it ends
    with the parameters of a run that was never interrupted."""
    options = ["adding", *TINY["adding"], "--dropout", "0.3", "--checkpoint-interval", "1000000", "--progress", "lines",
               "--log-interval", "1"]
    process = subprocess.Popen([sys.executable, "-m", "microseq", "train", *options, "--max-steps", "1000000",
                                "--out", "run"], cwd=in_tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        for line in process.stderr:  # progress lines: "step N/1000000: ..."
            if line.startswith("step 3/"):
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "interrupted by SIGINT" in out and "microseq train --resume run" in out
    stopped_at, _ = RunCheckpoints(str(in_tmp / "run")).latest()
    assert stopped_at >= 3

    assert main(["train", "--resume", "run", "--max-steps", str(stopped_at + 3), "--progress", "off"]) == 0
    assert main(["train", *options, "--max-steps", str(stopped_at + 3), "--progress", "off", "--out", "whole"]) == 0
    capsys.readouterr()
    resumed = load_checkpoint(RunCheckpoints("run").latest()[1], restore_rng=False)["model_state"]
    whole = load_checkpoint(RunCheckpoints("whole").latest()[1], restore_rng=False)["model_state"]
    assert all(np.array_equal(resumed[name], whole[name]) for name in whole)


# -- what a run reports --------------------------------------------------------------------------------------------
def test_a_finished_run_says_where_everything_went_and_what_to_try_next(capsys, in_tmp):
    (in_tmp / "text.txt").write_text(TEXT, encoding="utf-8")
    status, out, err = run(capsys, "train", "--text", "text.txt", *TINY_CHARLM[:-2], "--progress", "lines",
                           "--log-interval", "3", "--out", "run")
    assert status == 0
    checkpoint = RunCheckpoints("run").latest()[1]
    files = out[out.index("files in run:"):]
    for path in (checkpoint, os.path.join("run", "metrics.jsonl"), os.path.join("run", "sample.txt")):
        assert path in files and os.path.isfile(path)
    for command in ("microseq train --resume run --max-steps 12", "microseq plot run", "microseq eval run",
                    "microseq sample run"):
        assert command in files
    assert os.path.join("run", "curves.png") in files
    assert "step 3/6: smoothed loss " in err  # the progress line says which loss it shows


def test_sample_names_only_the_wrong_option(capsys, in_tmp):
    _charlm_run(capsys, in_tmp)
    capsys.readouterr()
    status, _, err = run(capsys, "sample", "run", "--top-k", "-2", "--length", "5")
    assert status == 2 and err == "microseq sample: error: --top-k must not be negative; got -2\n"
    status, _, err = run(capsys, "sample", "run", "--temperature", "0")
    assert status == 2 and err == "microseq sample: error: --temperature must be a positive number; got 0.0\n"


def test_eval_on_a_text_too_short_to_train_on_still_scores_it(capsys, in_tmp):
    """eval has no size options: a text shorter than a training batch (3 x 16 here) is scored all the same."""
    _charlm_run(capsys, in_tmp)
    (in_tmp / "short.txt").write_text("the lazy dog jumps over the quick fox.\n", encoding="utf-8")
    capsys.readouterr()
    status, out, err = run(capsys, "eval", "run", "--text", "short.txt")
    assert status == 0 and err == "" and "charlm on short.txt" in out and "valid        bpc:" in out


def test_plot_reports_the_file_it_really_wrote(capsys, in_tmp):
    _adding_run(capsys, in_tmp)
    capsys.readouterr()
    status, out, _ = run(capsys, "plot", "adding", "--output", "noext")
    assert status == 0 and out == "noext.png\n" and (in_tmp / "noext.png").read_bytes()[:4] == b"\x89PNG"
    assert not (in_tmp / "noext").exists()


def test_plot_without_matplotlib_says_how_to_install_it(capsys, in_tmp, monkeypatch):
    _adding_run(capsys, in_tmp)
    capsys.readouterr()
    before = snapshot(in_tmp)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails as if it were missing
    status, out, err = run(capsys, "plot", "adding")
    assert status == 1 and out == ""
    assert err == 'microseq plot: error: matplotlib is not installed; install it with: pip install "microseq[plot]"\n'
    assert snapshot(in_tmp) == before


def test_a_seq2seq_run_whose_loss_became_nan_is_one_line(capsys, in_tmp, monkeypatch):
    """The same NaN guard as every task: stopped before the update, naming the step and the last checkpoint."""
    from microseq.training.seq2seq_task import Seq2SeqTask

    original = Seq2SeqTask.train_step

    def diverging(self, model):
        loss, tokens = original(self, model)
        return (float("nan") if self.steps == 3 else loss), tokens

    monkeypatch.setattr(Seq2SeqTask, "train_step", diverging)
    status, _, err = run(capsys, "train", "reverse", "--max-steps", "5", "--hidden-size", "4", "--embedding-size", "2",
                         "--batch-size", "2", "--eval-size", "4", "--checkpoint-interval", "2", *QUIET, "--out", "s2s")
    assert status == 1 and err.count("\n") == 1
    assert err.startswith("microseq train: error: loss became nan at step 3; training stopped before the update, "
                          "last good checkpoint: ") and "step-00000002.safetensors (step 2)" in err
