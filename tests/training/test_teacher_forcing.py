"""Scheduled sampling: the teacher-forcing ratio of each step, its decays and their checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq.training import ConfigError, make_config
from microseq.training.teacher_forcing import TeacherForcingSchedule


@pytest.mark.parametrize("kind, k", [("linear", 50), ("exponential", 0.9), ("inverse_sigmoid", 10)])
@given(ratio=st.floats(0.2, 1.0), floor=st.floats(0.0, 0.2))
def test_schedules_move_from_teacher_forcing_to_own_predictions(kind, k, ratio, floor):
    schedule = TeacherForcingSchedule(kind, ratio=ratio, floor=floor, k=k)
    values = [schedule(step) for step in range(0, 2000, 7)]
    assert all(floor <= v <= ratio for v in values)
    assert all(a >= b for a, b in zip(values, values[1:]))  # never goes back up
    assert values[-1] == pytest.approx(floor, abs=1e-6)
    if kind == "linear":
        assert schedule(0) == ratio and schedule(25) == pytest.approx(ratio - (ratio - floor) / 2)


def test_schedule_formulas_and_errors():
    assert TeacherForcingSchedule("constant", 0.7)(10**6) == 0.7
    assert TeacherForcingSchedule("exponential", k=0.5)(3) == 0.125
    assert TeacherForcingSchedule("inverse_sigmoid", k=10)(20) == pytest.approx(10 / (10 + np.exp(2)))
    with pytest.raises(ValueError, match="kind must be one of"):
        TeacherForcingSchedule("cosine")
    with pytest.raises(ValueError, match="exponential decay needs 0 < k < 1"):
        TeacherForcingSchedule("exponential", k=2)
    with pytest.raises(ValueError, match="floor <= ratio"):
        TeacherForcingSchedule("linear", ratio=0.2, floor=0.5)


def test_the_options_are_checked_as_a_schedule():
    with pytest.raises(ConfigError, match="teacher forcing: exponential decay needs 0 < k < 1, got 1000.0"):
        make_config("dates", teacher_forcing_decay="exponential")
    with pytest.raises(ConfigError, match="--teacher-forcing is for the reverse, sort, dates, caption tasks, not copy"):
        make_config("copy", teacher_forcing=0.5)
