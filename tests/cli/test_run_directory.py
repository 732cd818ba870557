"""The run directory is shared state: runs started at once get their own directory or a one-line refusal,
a live run's directory is locked, and the temporaries of killed checkpoint writers are cleaned up."""

import errno
import json
import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from microseq.cli import main
from microseq.training.checkpoints import RunCheckpoints
from microseq.training.config import ConfigError
from microseq.training.metrics import read_metrics
from microseq.training.rundir import LOCK_NAME, RunDirectory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY_ADDING = ["adding", "--seq-len", "4", "--hidden-size", "3", "--batch-size", "2", "--eval-size", "4",
               "--max-steps", "3", "--eval-interval", "3", "--progress", "off"]
# a task whose data takes a moment to generate: a run that checks for a free directory and creates it only
# after building its task (the race of issue 12) would be caught in the act
SLOW_START = ["postag", "--train-size", "3000", "--hidden-size", "3", "--embedding-size", "2", "--batch-size", "2",
              "--eval-size", "4", "--max-steps", "3", "--eval-interval", "3", "--progress", "off"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _claim_at_once(barrier, results, out):
    """In a child process: wait for the others, claim a run directory, hold it until all have tried."""
    barrier.wait()
    try:
        directory = RunDirectory.new(out, "adding")
    except ConfigError as error:
        results.put(("refused", str(error)))
        barrier.wait()
        return
    results.put(("claimed", directory.path))
    barrier.wait()  # every process has claimed or been refused before any lock is given back
    directory.release()


def _race(out, n=4):
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(n), context.Queue()
    processes = [context.Process(target=_claim_at_once, args=(barrier, results, out)) for _ in range(n)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return outcomes


def test_runs_claiming_the_default_directory_at_the_same_moment_get_different_ones():
    outcomes = _race(None)
    assert sorted(outcomes) == [("claimed", os.path.join("runs", f"adding-{n}")) for n in range(1, 5)]


def test_runs_claiming_the_same_out_at_the_same_moment_one_wins_the_others_are_refused():
    outcomes = _race("same")
    assert [kind for kind, _ in outcomes].count("claimed") == 1
    assert all("same is in use by another run that is still going" in message
               for kind, message in outcomes if kind == "refused")


# ``microseq ARGS`` in a process that has imported everything and waits for the file "go": the runs then
# start within a millisecond of each other, not staggered by their imports
GATED = """
import os, sys, time
from microseq.cli import main
open("ready-%d" % os.getpid(), "w").close()
while not os.path.exists("go"):
    time.sleep(0.001)
sys.exit(main(sys.argv[1:]))
"""


def start_together(in_tmp, argvs):
    env = dict(os.environ, PYTHONPATH=ROOT)
    processes = [subprocess.Popen([sys.executable, "-c", GATED, *argv], cwd=in_tmp, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env) for argv in argvs]
    deadline = time.monotonic() + 300
    while sum(name.startswith("ready-") for name in os.listdir(in_tmp)) < len(processes):
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes)
        time.sleep(0.01)
    for name in os.listdir(in_tmp):
        if name.startswith("ready-"):
            os.remove(in_tmp / name)
    (in_tmp / "go").touch()
    results = [process.communicate(timeout=300) for process in processes]
    os.remove(in_tmp / "go")
    return processes, results


def test_several_microseq_train_started_at_once_each_write_their_own_run(in_tmp):
    processes, results = start_together(in_tmp, [["train", *SLOW_START, "--seed", str(seed)] for seed in range(3)])
    assert [process.returncode for process in processes] == [0, 0, 0], results
    seeds = []
    for n in range(1, 4):
        run = os.path.join("runs", f"postag-{n}")
        seeds.append(json.load(open(os.path.join(run, "config.json"), encoding="utf-8"))["seed"])
        steps = [r["step"] for r in read_metrics(os.path.join(run, "metrics.jsonl")) if r["kind"] == "train"]
        assert steps == [1, 2, 3]  # one run's records, not two interleaved
        assert [step for step, _ in RunCheckpoints(run).all()] == [3]
    assert sorted(seeds) == [0, 1, 2]


def test_several_microseq_train_on_the_same_out_one_runs_the_others_refuse_in_one_line(in_tmp):
    processes, outputs = start_together(in_tmp, [["train", *SLOW_START, "--out", "same"]] * 3)
    results = [(output, process.returncode) for output, process in zip(outputs, processes)]
    assert [code for _, code in results].count(0) == 1, results
    for (out, err), code in results:
        if code:
            assert code == 1 and err.count("\n") == 1 and err.startswith("microseq train: error: same "), err
            assert "in use by another run" in err or "already holds a run" in err
    steps = [r["step"] for r in read_metrics(os.path.join("same", "metrics.jsonl")) if r["kind"] == "train"]
    assert steps == [1, 2, 3]


def test_a_finished_run_gives_its_lock_back_and_can_be_resumed(capsys):
    assert main(["train", *TINY_ADDING, "--out", "run"]) == 0
    assert os.path.isfile(os.path.join("run", LOCK_NAME))
    assert main(["train", "--resume", "run", "--max-steps", "5"]) == 0
    assert "resuming at step 3" in capsys.readouterr().out


def test_resume_with_out_naming_the_same_directory_is_a_plain_resume(capsys):
    assert main(["train", *TINY_ADDING, "--out", "run"]) == 0
    assert main(["train", "--resume", "run", "--out", os.path.join(".", "run"), "--max-steps", "4"]) == 0
    assert RunCheckpoints("run").latest()[0] == 4


def test_stale_checkpoint_temporaries_of_dead_writers_are_removed_on_resume(capsys):
    assert main(["train", *TINY_ADDING, "--out", "run"]) == 0
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)  # a process that has exited
    folder = os.path.join("run", "checkpoints")
    stale = os.path.join(folder, f".step-00000004.safetensors.{dead}.0123abcd.tmp")
    alive = os.path.join(folder, f".step-00000004.safetensors.{os.getppid()}.0123abcd.tmp")  # a live process's
    for path in (stale, alive):
        with open(path, "wb") as f:
            f.write(b"\0" * 1000)
    assert main(["train", "--resume", "run", "--max-steps", "4"]) == 0
    assert not os.path.exists(stale) and os.path.exists(alive)


def test_a_read_only_parent_is_refused_in_one_line_and_nothing_is_made(capsys, in_tmp, monkeypatch):
    (in_tmp / "ro").mkdir()
    if os.geteuid() == 0:  # root writes anywhere: make the refusal happen where the OS would give it
        real_mkdir = os.mkdir

        def read_only_mkdir(path, *args, **kwargs):
            if os.path.dirname(os.path.abspath(path)) == str(in_tmp / "ro"):
                raise PermissionError(errno.EACCES, "Permission denied", path)
            return real_mkdir(path, *args, **kwargs)

        monkeypatch.setattr(os, "mkdir", read_only_mkdir)
    (in_tmp / "ro").chmod(0o555)
    try:
        status = main(["train", *TINY_ADDING, "--out", "ro/run"])
    finally:
        (in_tmp / "ro").chmod(0o755)
    err = capsys.readouterr().err
    assert status == 1 and err == "microseq train: error: --out ro/run: cannot create the directory: Permission denied\n"
    assert os.listdir(in_tmp / "ro") == []


def test_a_run_that_fails_after_claiming_its_directory_removes_it(capsys, monkeypatch):
    from microseq.training import trainer

    def fail(path, value):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(trainer, "_write_json", fail)
    with pytest.raises(OSError):
        main(["train", *TINY_ADDING])
    assert os.listdir("runs") == []
