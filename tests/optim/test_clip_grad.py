"""Gradient clipping (``optim.clip_grad_norm_``, ``optim.clip_grad_value_``): the joint norm of every
gradient scaled into the ball with its direction kept, PyTorch's values, and the edge cases."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq import nn, optim
from microseq.testing import arrays

NORM_TYPES = st.sampled_from([1.0, 2.0, 3.0, math.inf, "inf"])


@st.composite
def gradient_sets(draw):
    shapes = draw(st.lists(st.sampled_from([(), (1,), (3,), (2, 3)]), min_size=1, max_size=3))
    params = [nn.Parameter(np.zeros(shape)) for shape in shapes]
    for p in params:
        p.grad = draw(st.none() | arrays(p.shape, domain=(-10, 10)))
    return params


def _joint_norm(grads, norm_type):
    flat = np.concatenate([g.reshape(-1) for g in grads]) if grads else np.zeros(0)
    return np.linalg.norm(flat, float(norm_type)) if flat.size else 0.0


@given(gradient_sets(), st.floats(0.01, 20.0), NORM_TYPES)
def test_clip_grad_norm_scales_into_the_ball_keeping_direction(params, max_norm, norm_type):
    before = [p.grad.copy() for p in params if p.grad is not None]
    total = optim.clip_grad_norm_(params, max_norm, norm_type)
    after = [p.grad for p in params if p.grad is not None]
    np.testing.assert_allclose(total, _joint_norm(before, norm_type), rtol=1e-12)
    assert _joint_norm(after, norm_type) <= max_norm * (1 + 1e-12)
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    for g0, g1 in zip(before, after):
        np.testing.assert_allclose(g1, coefficient * g0, rtol=1e-14)  # one common factor: same direction
    if total <= max_norm - 1e-6:
        assert all(np.array_equal(g0, g1) for g0, g1 in zip(before, after))


@given(gradient_sets(), st.floats(0.01, 20.0), NORM_TYPES, st.floats(0.0, 5.0))
def test_clipping_matches_torch(params, max_norm, norm_type, clip_value):
    torch = pytest.importorskip("torch")
    theirs = [torch.zeros(p.shape, dtype=torch.float64, requires_grad=True) for p in params]
    for p, t in zip(params, theirs):
        t.grad = None if p.grad is None else torch.tensor(p.grad)
    if all(p.grad is None for p in params):  # PyTorch returns a float32 0 then; so do we
        assert optim.clip_grad_norm_(params, max_norm, norm_type) == 0.0
        return
    total = optim.clip_grad_norm_(params, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total, t_total.item(), rtol=1e-13)
    optim.clip_grad_value_(params, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, t in zip(params, theirs):
        if p.grad is not None:
            np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-13)


def test_clip_grad_norm_details():
    p = nn.Parameter(np.zeros(2, np.float32))
    p.grad = np.array([3.0, 4.0], np.float32)
    total = optim.clip_grad_norm_(p, 1.0)
    assert total.dtype == np.float32 and total.item() == 5.0
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-6)
    p.grad = np.array([np.inf, 1.0], np.float32)
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 of the gradients is inf"):
        optim.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    p.grad = np.array([-7.0, 0.5], np.float32)
    optim.clip_grad_value_(p, 5.0)
    np.testing.assert_array_equal(p.grad, [-5.0, 0.5])
