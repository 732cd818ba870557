"""The README's Python examples and its quickstart commands run as written, so what a user copies first never
rots. Examples run in a temporary directory (the files they write land there)."""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from microseq.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
QUICKSTART = re.findall(r"^python3 -m venv \.venv && \. \.venv/bin/activate && (.+)$", README, flags=re.M)

# The main job at a tiny size: the same task and code path as `microseq train`, in seconds.
TINY = ["--max-steps", "3", "--hidden-size", "16", "--embedding-size", "8", "--batch-size", "4", "--seq-len", "20",
        "--corpus-chars", "20000", "--sample-length", "20", "--progress", "off"]


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {"__name__": "__readme__"})


def test_training_example_learns(capsys):
    namespace = {"__name__": "__readme__"}
    exec(compile(BLOCKS[0], "README.md block 0", "exec"), namespace)
    assert namespace["loss"].item() < 0.5  # the target's variance is 5/3


def test_quickstart_has_the_main_job_and_the_test_command_that_ci_runs():
    assert QUICKSTART == ["pip install -e . && microseq train", 'pip install -e ".[dev]" && python -m pytest -q']
    assert re.search(r"^Run the tests:\n\n```bash\npython3 -m venv .*python -m pytest -q\n```$", README, flags=re.M)
    assert "Run the tests:" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")  # where .ci/run reads it


def test_the_main_job_command_runs_at_a_tiny_size(tmp_path):
    """`microseq train` as the quickstart says (the console script is `python -m microseq`), made tiny."""
    job = QUICKSTART[0].split(" && ")[-1].split()
    script = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"][job[0]]
    assert script == "microseq.cli:main"  # what microseq/__main__.py runs
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", *job, *TINY], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    run = tmp_path / "runs" / "charlm-1"
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert config["task"] == "charlm" and config["max_steps"] == 3
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    assert metrics and all(isinstance(record, dict) for record in metrics)
    (checkpoint,) = (run / "checkpoints").glob("step-*.safetensors")
    assert load_checkpoint(checkpoint, restore_rng=False)["step"] == 3
    assert (run / "sample.txt").read_text(encoding="utf-8")
