"""The README's Python examples run as written, so the first thing a user copies never rots."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, capsys):
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {"__name__": "__readme__"})


def test_training_example_learns(capsys):
    namespace = {"__name__": "__readme__"}
    exec(compile(BLOCKS[0], "README.md block 0", "exec"), namespace)
    assert namespace["loss"].item() < 0.5  # the target's variance is 5/3
