"""batch_norm, the function: training-mode gradients against finite differences and the composed formula, second
derivatives, special points (a large offset, float32, no affine parameters), evaluation mode, PyTorch parity
and one-line errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
import microseq.nn.functional as F
from microseq.ops.normalization import _training_gradients
from microseq.testing import arrays, check_gradients, check_second_derivatives


def shapes():
    """(B, C, H, W) or (B, C) with more than one value per channel."""
    four = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
    return st.one_of(four, st.tuples(st.integers(2, 4), st.integers(1, 3))).filter(
        lambda s: s[0] * int(np.prod(s[2:])) > 1)


@given(shape=shapes(), affine=st.sampled_from(["both", "weight", "bias", "none"]), data=st.data())
def test_batch_norm_training_gradients_and_second_derivatives(shape, affine, data):
    x = data.draw(arrays(shape)) + np.linspace(0, 1, int(np.prod(shape))).reshape(shape)  # no constant channel
    w = data.draw(arrays(shape[1:2])) if affine in ("both", "weight") else None
    b = data.draw(arrays(shape[1:2])) if affine in ("both", "bias") else None
    params = [p for p in (w, b) if p is not None]

    def fn(x, *params):
        rest = iter(params)
        return F.batch_norm(x, None, None, next(rest) if w is not None else None,
                            next(rest) if b is not None else None, training=True)

    check_gradients(fn, x, *params, atol=1e-4)
    check_second_derivatives(fn, x, *params, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
def test_the_compiled_backward_matches_the_formula_far_from_zero(dtype, rtol):
    # a channel at 1e4 with unit spread: the statistics are taken about the mean (two passes), so float32 holds
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 3, 5, 5)) + np.array([1e4, -3.0, 0.0])[:, None, None]).astype(dtype)
    w, b = (rng.standard_normal(3) + 2).astype(dtype), rng.standard_normal(3).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    t, tw, tb = ms.Tensor(x, requires_grad=True), ms.Tensor(w, requires_grad=True), ms.Tensor(b, requires_grad=True)
    y = F.batch_norm(t, None, None, tw, tb, training=True)
    y.backward(g)
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=(0, 2, 3), keepdims=True), x64.var(axis=(0, 2, 3), keepdims=True)
    expected = (x64 - mean) / np.sqrt(var + 1e-5) * w[:, None, None] + b[:, None, None]
    np.testing.assert_allclose(y.data, expected, rtol=rtol, atol=rtol)
    dx, dw, db = _training_gradients(g.astype(np.float64), x64, w.astype(np.float64), 1e-5, (0, 2, 3))
    for ours, theirs in ((t.grad, dx), (tw.grad, dw), (tb.grad, db)):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * np.abs(theirs).max())


def test_batch_norm_eval_uses_the_running_statistics_as_constants():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 2, 2))
    mean, var = ms.Tensor(rng.standard_normal(3)), ms.Tensor(rng.random(3) + 0.5)
    y = F.batch_norm(ms.Tensor(x), mean, var, eps=0.0)
    np.testing.assert_allclose(y.data, (x - mean.data[:, None, None]) / np.sqrt(var.data[:, None, None]), rtol=1e-12)
    check_gradients(lambda t: F.batch_norm(t, mean, var), x)


@pytest.mark.parametrize("shape", [(32, 16, 48, 48), (32, 32, 12, 12), (5, 4)])
def test_training_and_running_statistics_match_pytorch_in_float32(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    w, b = rng.standard_normal(shape[1]).astype(np.float32), rng.standard_normal(shape[1]).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    running = [ms.Tensor(np.zeros(shape[1], np.float32)), ms.Tensor(np.ones(shape[1], np.float32))]
    their_running = [torch.zeros(shape[1]), torch.ones(shape[1])]
    ours = [ms.Tensor(v, requires_grad=True) for v in (x, w, b)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    y = F.batch_norm(ours[0], *running, ours[1], ours[2], training=True, momentum=0.2)
    ty = torch.nn.functional.batch_norm(theirs[0], *their_running, theirs[1], theirs[2], training=True, momentum=0.2)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-3, atol=1e-3 * np.abs(t.grad.numpy()).max())
    for a, t in zip(running, their_running):
        np.testing.assert_allclose(a.data, t.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.batch_norm(ms.zeros(1, 3, 1, 1), None, None, training=True), ValueError, r"more than 1 value per channel.*\(1, 3, 1, 1\)"),
    (lambda: F.batch_norm(ms.zeros(2, 3, 2, 2), ms.zeros(4), ms.ones(4)), ValueError, r"running_mean has shape \(4,\), expected \(3,\)"),
    (lambda: F.batch_norm(ms.zeros(3), None, None, training=True), ValueError, r"expected an input of shape \(B, C, ...\), got shape \(3,\)"),
    (lambda: F.batch_norm(ms.Tensor(np.zeros((2, 3), np.int64)), None, None, training=True), TypeError, r"batch_norm: expected a floating-point tensor, got dtype int64"),
])
def test_bad_input_is_one_line_naming_the_shapes(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert "\n" not in str(info.value)
