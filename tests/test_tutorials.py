"""Every tutorial runs end to end in quick mode and writes the figures its text talks about.

Each tutorial is a plain script (percent-cell format): it is run as a subprocess with
``MICROSEQ_TUTORIAL_QUICK=1`` and its figures go to a temporary directory. A tutorial whose asserted claim
stops holding, or whose figure is not drawn, fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"

# tutorial file -> the PNGs it must produce
EXPECTED_FIGURES = {
    "01_tape_from_scratch.py": ["01_tape_graph.png", "01_backward_time.png"],
    "02_broadcasting_gradients.py": ["02_broadcast_gradients.png"],
    "03_trusting_gradients.py": ["03_finite_difference_error.png"],
    "04_rnn_from_primitives.py": ["04_bptt_memory_and_truncation.png", "04_tbptt_echo.png"],
    "05_vanishing_gradients.py": ["05_gradient_norms.png", "05_adding_problem.png"],
}


def test_every_tutorial_is_listed():
    on_disk = sorted(p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py"))
    assert on_disk == sorted(EXPECTED_FIGURES)


@pytest.mark.parametrize("name", sorted(EXPECTED_FIGURES))
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
    missing = [png for png in EXPECTED_FIGURES[name] if not (tmp_path / png).is_file()]
    assert not missing, f"{name} did not write {missing}"
    for png in EXPECTED_FIGURES[name]:
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG"
