"""Every tutorial runs end to end in quick mode, with its exercises' solutions, and writes its figures.

Each tutorial is a plain script (percent-cell format): it is run as a subprocess with
``MICROSEQ_TUTORIAL_QUICK=1`` and ``MICROSEQ_TUTORIAL_SOLUTIONS=1`` and its figures go to a temporary
directory. A tutorial whose asserted claim stops holding, or whose figure is not drawn, fails here; so does
an exercise whose check fails with the solution, passes with the stub or misses a listed mistake
(``tutorials/exercises.py`` judges that while the tutorial runs and logs each exercise it judged).
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

EXERCISES_PER_TUTORIAL = (2, 3)  # the issue asks for two or three "implement this" cells in every tutorial
TOPICS = 12  # the reading order: 01 (a tape from scratch) to 12 (making it fast)
TUTORIAL_FILES = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
# The four that take longest (each 2-5 times the others): deselected by default, run by `-m slow` and CI.
SLOW = {"06_lstm_gru_gates.py", "08_char_language_model.py", "11_image_captioning_and_vqa.py", "12_making_it_fast.py"}


def expected_figures(path: Path) -> list[str]:
    """The PNGs a tutorial promises: every ``"NN_name.png"`` literal in its source (its prose and savefig calls)."""
    return sorted(set(re.findall(r"[\"'](\d\d_\w+\.png)[\"']", path.read_text(encoding="utf-8"))))


def exercises(path: Path) -> list[str]:
    """The names of a tutorial's exercises: every function or class marked ``@exercise``."""
    return re.findall(r"^@exercise\n(?:def|class) (\w+)", path.read_text(encoding="utf-8"), flags=re.M)


def test_every_tutorial_has_its_exercises_and_one_solution_module():
    for path in TUTORIAL_FILES:
        names = exercises(path)
        low, high = EXERCISES_PER_TUTORIAL
        assert low <= len(names) <= high, f"{path.name} has {len(names)} exercises: {names}"
        solutions = TUTORIALS / "solutions" / f"tutorial{path.name[:2]}.py"
        assert solutions.is_file(), f"{path.name}: no {solutions.relative_to(ROOT)}"
        source = solutions.read_text(encoding="utf-8")
        missing = [name for name in names if not re.search(rf"^(def|class) {name}\b", source, flags=re.M)]
        assert not missing, f"{solutions.name} has no solution for {missing}"


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
        MICROSEQ_TUTORIAL_SOLUTIONS="1",
        MICROSEQ_TUTORIAL_OUT=str(tmp_path),
        MPLBACKEND="Agg",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    result = subprocess.run(
        [sys.executable, str(TUTORIALS / name)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    log = tmp_path / "exercises.log"
    judged = [line.split()[0] for line in log.read_text().splitlines()] if log.is_file() else []
    assert sorted(judged) == sorted(exercises(TUTORIALS / name)), f"{name}: exercises judged {judged}"
    figures = expected_figures(TUTORIALS / name)
    missing = [png for png in figures if not (tmp_path / png).is_file()]
    assert not missing, f"{name} did not write {missing}"
    for png in figures:
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG"


def test_readme_table_lists_every_tutorial():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Tutorials"):].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    linked = [re.search(r"\(tutorials/(\d\d_\w+\.py)\)", row).group(1) for row in rows]
    assert linked == [path.name for path in TUTORIAL_FILES], "the README's tutorial table is out of date"
    assert all(row.count("|") == 6 and "| |" not in row for row in rows), "every row fills its five columns"


def test_check_fails_the_build_when_an_exercise_is_broken(monkeypatch):
    """``exercises.check`` (solutions on) rejects a check that the solution fails, that passes without calling
    the learner's code, or that misses a listed mistake; it accepts a check that does all three right."""
    monkeypatch.syspath_prepend(str(TUTORIALS))
    monkeypatch.delenv("MICROSEQ_TUTORIAL_OUT", raising=False)
    import exercises

    monkeypatch.setattr(exercises, "SOLUTIONS", True)

    def stub(x):
        raise NotImplementedError

    def plus_one(x):
        return x + 1

    def plus_two(x):
        return x + 2

    plus_one.stub, plus_one.mistakes = stub, (plus_two,)

    def never_calls(fn):
        pass

    def too_weak(fn):
        assert fn(0) > 0

    def wrong_answer(fn):
        assert fn(0) == 5

    def right(fn):
        assert fn(0) == 1 and fn(-1) == 0

    with pytest.raises(AssertionError, match="does not call the learner's code"):
        exercises.check(never_calls, plus_one)
    with pytest.raises(AssertionError, match="does not catch the mistake plus_two"):
        exercises.check(too_weak, plus_one)
    with pytest.raises(AssertionError):
        exercises.check(wrong_answer, plus_one)
    exercises.check(right, plus_one)
