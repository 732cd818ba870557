"""Learning-rate schedules: closed forms, PyTorch's values, state dicts, warm-up then cosine."""

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq import nn, optim
from microseq.optim import lr_scheduler as S

BASE_LRS = st.lists(st.floats(1e-4, 1.0), min_size=1, max_size=2)
STEPS = st.integers(0, 30)


def _optimizer(base_lrs):
    groups = [{"params": [nn.Parameter(np.zeros(1))], "lr": lr} for lr in base_lrs]
    return optim.SGD(groups, lr=0.1)


@st.composite
def schedules(draw):
    """(name, kwargs, closed form f(base_lr, t)) for a drawn schedule."""
    kind = draw(st.sampled_from(["step", "exponential", "cosine", "linear", "lambda"]))
    if kind == "step":
        step_size, gamma = draw(st.integers(1, 5)), draw(st.floats(0.1, 1.0))
        return "StepLR", dict(step_size=step_size, gamma=gamma), lambda b, t: b * gamma ** (t // step_size)
    if kind == "exponential":
        gamma = draw(st.floats(0.5, 1.0))
        return "ExponentialLR", dict(gamma=gamma), lambda b, t: b * gamma**t
    if kind == "cosine":
        t_max, eta_min = draw(st.integers(1, 20)), draw(st.floats(0.0, 1e-4))
        return (
            "CosineAnnealingLR",
            dict(T_max=t_max, eta_min=eta_min),
            lambda b, t: eta_min + (b - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2,
        )
    if kind == "linear":
        start, end, total = draw(st.floats(0.01, 1.0)), draw(st.floats(0.0, 1.0)), draw(st.integers(1, 10))
        return (
            "LinearLR",
            dict(start_factor=start, end_factor=end, total_iters=total),
            lambda b, t: b * (start + (end - start) * min(t, total) / total),
        )
    return "LambdaLR", dict(lr_lambda=lambda t: 1 / (1 + t)), lambda b, t: b / (1 + t)


def _trajectory(scheduler, optimizer, steps):
    """lr of every group at epochs 0..steps (as set in the optimizer), checking get_last_lr agrees."""
    lrs = []
    for _ in range(steps + 1):
        current = [g["lr"] for g in optimizer.param_groups]
        assert scheduler.get_last_lr() == current
        lrs.append(current)
        optimizer.step()
        scheduler.step()
    return np.array(lrs)


@given(schedules(), BASE_LRS, STEPS)
def test_schedules_follow_their_closed_forms(schedule, base_lrs, steps):
    name, kwargs, closed_form = schedule
    optimizer = _optimizer(base_lrs)
    lrs = _trajectory(getattr(S, name)(optimizer, **kwargs), optimizer, steps)
    expected = [[closed_form(b, t) for b in base_lrs] for t in range(steps + 1)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-13, atol=1e-16)


@given(schedules(), BASE_LRS, STEPS)
def test_schedules_match_torch(schedule, base_lrs, steps):
    torch = pytest.importorskip("torch")
    name, kwargs, _ = schedule
    optimizer = _optimizer(base_lrs)
    lrs = _trajectory(getattr(S, name)(optimizer, **kwargs), optimizer, steps)
    t_groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in base_lrs]
    t_optimizer = torch.optim.SGD(t_groups, lr=0.1)
    t_scheduler = getattr(torch.optim.lr_scheduler, name)(t_optimizer, **kwargs)
    t_lrs = []
    for _ in range(steps + 1):
        t_lrs.append(t_scheduler.get_last_lr())
        t_optimizer.step()
        t_scheduler.step()
    np.testing.assert_allclose(lrs, t_lrs, rtol=1e-12, atol=1e-16)  # PyTorch's recursive forms round a bit


@given(st.integers(1, 6), st.integers(1, 15), st.floats(0.0, 1e-3), st.floats(0.01, 1.0))
def test_warmup_cosine_equals_torch_sequential_linear_then_cosine(warmup, decay, eta_min, base_lr):
    torch = pytest.importorskip("torch")
    total = warmup + decay
    optimizer = _optimizer([base_lr])
    lrs = _trajectory(S.warmup_cosine(optimizer, warmup, total, eta_min=eta_min), optimizer, total + 3)[:, 0]
    ramp = base_lr * (np.arange(warmup + 1) + 1) / (warmup + 1)
    np.testing.assert_allclose(lrs[: warmup + 1], ramp, rtol=1e-13)  # rises linearly, base_lr at `warmup`
    np.testing.assert_allclose(lrs[total], eta_min, atol=1e-15)
    assert np.all(np.diff(lrs[warmup : total + 1]) <= 1e-15)  # then decays monotonically

    t_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's SequentialLR calls step(epoch), which it deprecates
        t_warmup = torch.optim.lr_scheduler.LinearLR(t_optimizer, 1 / (warmup + 1), 1.0, warmup)
        t_cosine = torch.optim.lr_scheduler.CosineAnnealingLR(t_optimizer, decay, eta_min)
        t_scheduler = torch.optim.lr_scheduler.SequentialLR(t_optimizer, [t_warmup, t_cosine], [warmup])
        t_lrs = []
        for _ in range(total + 4):
            t_lrs.append(t_scheduler.get_last_lr()[0])
            t_optimizer.step()
            t_scheduler.step()
    np.testing.assert_allclose(lrs, t_lrs, rtol=1e-12, atol=1e-16)


@given(schedules(), BASE_LRS, STEPS, st.integers(0, 10))
def test_state_dict_resumes_the_schedule(schedule, base_lrs, before, after):
    name, kwargs, _ = schedule
    optimizer = _optimizer(base_lrs)
    scheduler = getattr(S, name)(optimizer, **kwargs)
    full = _trajectory(scheduler, optimizer, before + after)

    optimizer = _optimizer(base_lrs)
    scheduler = getattr(S, name)(optimizer, **kwargs)
    _trajectory(scheduler, optimizer, before)
    saved_optimizer = optimizer.state_dict()
    saved = json.loads(json.dumps(scheduler.state_dict()))  # what a checkpoint stores

    resumed_optimizer = _optimizer([1.0] * len(base_lrs))
    resumed = getattr(S, name)(resumed_optimizer, **kwargs)
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved)
    resumed_lrs = _trajectory(resumed, resumed_optimizer, after - 1) if after else np.zeros((0, len(base_lrs)))
    np.testing.assert_array_equal(resumed_lrs, full[before + 1 :])  # epochs before+1 .. before+after


def test_sequential_state_dict_round_trip():
    optimizer = _optimizer([0.5])
    scheduler = S.warmup_cosine(optimizer, warmup_steps=3, total_steps=10)
    for _ in range(5):
        scheduler.step()
    saved = json.loads(json.dumps(scheduler.state_dict()))
    assert saved["last_epoch"] == 5 and len(saved["_schedulers"]) == 2
    other_optimizer = _optimizer([0.5])
    other = S.warmup_cosine(other_optimizer, warmup_steps=3, total_steps=10)
    other.load_state_dict(saved)
    scheduler.step()
    other.step()
    assert other.get_last_lr() == scheduler.get_last_lr()
    assert other._schedulers[1].last_epoch == 3


def test_bad_arguments_are_clear_errors():
    optimizer = _optimizer([0.1])
    with pytest.raises(ValueError, match=r"LinearLR: start_factor must be in \(0, 1\], got 0"):
        S.LinearLR(optimizer, start_factor=0)
    with pytest.raises(ValueError, match=r"CosineAnnealingLR: T_max must be >= 1, got 0"):
        S.CosineAnnealingLR(optimizer, T_max=0)
    with pytest.raises(ValueError, match=r"warmup_cosine: need 0 <= warmup_steps < total_steps"):
        S.warmup_cosine(optimizer, warmup_steps=10, total_steps=10)
    with pytest.raises(ValueError, match=r"SequentialLR: 2 schedulers need 1 milestones, got 0"):
        S.SequentialLR(optimizer, [S.StepLR(optimizer, 2), S.StepLR(optimizer, 3)], [])
    with pytest.raises(KeyError, match=r"needs 'initial_lr' in parameter group 0"):
        S.StepLR(_optimizer([0.1]), 2, last_epoch=4)
