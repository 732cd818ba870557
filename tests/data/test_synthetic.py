"""The generated adding and copy tasks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq.data import ADDING_BASELINE_MSE, COPY_BLANK, COPY_DELIMITER, adding_problem, copy_baseline_loss, copy_task


@given(st.integers(2, 30), st.integers(0, 2**32 - 1))
def test_adding_problem_markers_and_targets(T, seed):
    x, y = adding_problem(np.random.default_rng(seed), 4, T)
    assert x.shape == (4, T, 2) and y.shape == (4,)
    markers = x[..., 1]
    assert (markers[:, : T // 2].sum(1) == 1).all() and (markers[:, T // 2:].sum(1) == 1).all()
    np.testing.assert_allclose((x[..., 0] * markers).sum(1), y, rtol=1e-6)


def test_adding_problem_mean_baseline():
    _, y = adding_problem(np.random.default_rng(0), 200_000, 10, dtype=np.float64)
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < 0.003


def test_copy_task_layout():
    T = 7
    x, y = copy_task(np.random.default_rng(0), 3, T)
    assert x.shape == y.shape == (3, T + 20)
    assert ((x[:, :10] >= 1) & (x[:, :10] <= 8)).all()
    assert (x[:, 10 : 9 + T] == COPY_BLANK).all() and (x[:, 9 + T] == COPY_DELIMITER).all()
    assert (x[:, T + 10 :] == COPY_BLANK).all()
    np.testing.assert_array_equal(y[:, -10:], x[:, :10])
    assert (y[:, :-10] == COPY_BLANK).all()
    assert copy_baseline_loss(T) == pytest.approx(10 * np.log(8) / (T + 20))
