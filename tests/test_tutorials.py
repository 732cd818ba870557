"""Every tutorial runs end to end in quick mode and writes the figures its text talks about.

Each tutorial is a plain script (percent-cell format): it is run as a subprocess with
``MICROSEQ_TUTORIAL_QUICK=1`` and its figures go to a temporary directory. A tutorial whose asserted claim
stops holding, or whose figure is not drawn, fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"

TOPICS = 10  # the reading order: 01 (a tape from scratch) to 10 (making it fast)
TUTORIAL_FILES = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
# The three that take longest (each 2-5 times the others): deselected by default, run by `-m slow` and CI.
SLOW = {"06_lstm_gru_gates.py", "07_char_language_model.py", "10_making_it_fast.py"}


def expected_figures(path: Path) -> list[str]:
    """The PNGs a tutorial promises: every ``"NN_name.png"`` literal in its source (its prose and savefig calls)."""
    return sorted(set(re.findall(r"[\"'](\d\d_\w+\.png)[\"']", path.read_text(encoding="utf-8"))))


def test_tutorials_are_numbered_in_reading_order_and_each_draws_figures():
    numbers = [int(path.name[:2]) for path in TUTORIAL_FILES]
    assert numbers == list(range(1, len(numbers) + 1)), f"tutorials must be numbered 01, 02, ...: {numbers}"
    assert len(numbers) == TOPICS, f"the issue names {TOPICS} tutorials, found {len(numbers)}"
    without = [path.name for path in TUTORIAL_FILES if not expected_figures(path)]
    assert not without, f"tutorials that save no figure: {without}"


@pytest.mark.parametrize("name", [pytest.param(path.name, marks=[pytest.mark.slow] if path.name in SLOW else [])
                                  for path in TUTORIAL_FILES])
def test_tutorial_runs_in_quick_mode(name, tmp_path):
    env = dict(os.environ)
    env.update(
        MICROSEQ_TUTORIAL_QUICK="1",
        MICROSEQ_TUTORIAL_OUT=str(tmp_path),
        MPLBACKEND="Agg",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    result = subprocess.run(
        [sys.executable, str(TUTORIALS / name)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    figures = expected_figures(TUTORIALS / name)
    missing = [png for png in figures if not (tmp_path / png).is_file()]
    assert not missing, f"{name} did not write {missing}"
    for png in figures:
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG"
