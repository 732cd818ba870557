"""Losses (cross_entropy, nll_loss, mse_loss, binary_cross_entropy_with_logits): forward against NumPy,
gradient against finite differences, parity with PyTorch, empty batches."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import microseq as ms
from microseq.testing import arrays, check_gradients, class_targets, shapes

IGNORE = -100


@st.composite
def classification(draw):
    """:func:`microseq.testing.class_targets` with a reduction; 'mean' gets at least one target that counts."""
    scores, target, weight = draw(class_targets(ignore_index=IGNORE))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    if reduction == "mean":
        assume(np.any(target != IGNORE))
    return scores, target, weight, reduction


def _nll_reference(log_probs, target, weight, reduction):
    """PyTorch's nll_loss written out with NumPy: class axis 1 (0 when unbatched)."""
    class_axis = 0 if log_probs.ndim == 1 else 1
    counted = target != IGNORE
    safe = np.where(counted, target, 0)
    picked = np.take_along_axis(log_probs, np.expand_dims(safe, class_axis), class_axis).squeeze(class_axis)
    w = (np.ones(log_probs.shape[class_axis]) if weight is None else weight)[safe] * counted
    per_item = -w * picked
    if reduction == "none":
        return per_item
    return per_item.sum() / (w.sum() if reduction == "mean" else 1)


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@given(classification())
def test_cross_entropy_forward_and_gradient(case):
    scores, target, weight, reduction = case
    options = dict(weight=weight, ignore_index=IGNORE, reduction=reduction)
    out = ms.cross_entropy(ms.Tensor(scores), target, **options)
    class_axis = 0 if scores.ndim == 1 else 1
    expected = _nll_reference(_log_softmax(scores, class_axis), target, weight, reduction)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    check_gradients(lambda x: ms.cross_entropy(x, target, **options), scores)


@given(classification())
def test_nll_loss_forward_and_gradient(case):
    scores, target, weight, reduction = case
    options = dict(weight=weight, ignore_index=IGNORE, reduction=reduction)
    out = ms.nll_loss(ms.Tensor(scores), target, **options)
    np.testing.assert_allclose(out.data, _nll_reference(scores, target, weight, reduction), rtol=1e-12, atol=1e-14)
    check_gradients(lambda x: ms.nll_loss(x, target, **options), scores)


def test_cross_entropy_equals_nll_of_log_softmax_and_all_ignored_mean_is_nan():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((5, 4, 2)), rng.integers(0, 4, (5, 2))
    fused = ms.cross_entropy(ms.Tensor(x), t, ignore_index=2)
    composed = ms.nll_loss(ms.log_softmax(ms.Tensor(x), axis=1), t, ignore_index=2)
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-14)
    assert np.isnan(ms.cross_entropy(ms.Tensor(x), np.full((5, 2), IGNORE)).item())


def test_cross_entropy_and_nll_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((6, 5, 3)), rng.integers(0, 5, (6, 3))
    t[0, 0] = t[2, 1] = 4
    weight = rng.uniform(0.5, 2.0, 5)
    for reduction in ("mean", "sum", "none"):
        ours = ms.Tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        g = rng.standard_normal(t.shape) if reduction == "none" else np.array(1.7)
        options = dict(weight=weight, ignore_index=4, reduction=reduction)
        loss = ms.cross_entropy(ours, t, **options)
        reference = torch.nn.functional.cross_entropy(
            theirs, torch.tensor(t), weight=torch.tensor(weight), ignore_index=4, reduction=reduction
        )
        loss.backward(g)
        reference.backward(torch.tensor(g))
        np.testing.assert_allclose(loss.data, reference.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def _reduce(per_item, reduction):
    return per_item if reduction == "none" else getattr(per_item, reduction)()


@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_mse_loss_forward_and_gradient(data, reduction):
    shape = data.draw(shapes(max_dims=3, max_side=4, min_side=1 if reduction == "mean" else 0))
    x, y = data.draw(arrays(shape)), data.draw(arrays(shape))
    out = ms.mse_loss(ms.Tensor(x), ms.Tensor(y), reduction=reduction)
    np.testing.assert_allclose(out.data, _reduce((x - y) ** 2, reduction), rtol=1e-12, atol=1e-14)
    check_gradients(lambda x, y: ms.mse_loss(x, y, reduction=reduction), x, y)


@st.composite
def broadcasting_to(draw, shape):
    """None, or an array whose shape broadcasts to ``shape`` (trailing axes kept or set to 1)."""
    if draw(st.booleans()):
        return None
    kept = shape[draw(st.integers(0, len(shape))) :]
    return draw(arrays(tuple(draw(st.sampled_from([n, 1])) for n in kept), domain="positive"))


@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_binary_cross_entropy_with_logits_forward_and_gradient(data, reduction):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4, min_side=1 if reduction == "mean" else 0))
    z, t = data.draw(arrays(shape)), data.draw(arrays(shape, domain="unit"))
    weight, pos_weight = data.draw(broadcasting_to(shape)), data.draw(broadcasting_to(shape))
    w = 1.0 if weight is None else weight
    p = 1.0 if pos_weight is None else pos_weight
    s = 1 / (1 + np.exp(-z))
    per_item = -w * (p * t * np.log(s) + (1 - t) * np.log(1 - s))
    options = dict(weight=weight, reduction=reduction, pos_weight=pos_weight)
    out = ms.binary_cross_entropy_with_logits(ms.Tensor(z), t, **options)
    np.testing.assert_allclose(out.data, _reduce(per_item, reduction), rtol=1e-10, atol=1e-14)
    check_gradients(lambda z: ms.binary_cross_entropy_with_logits(z, t, **options), z)


def test_binary_cross_entropy_with_logits_is_stable_and_matches_pytorch():
    torch = pytest.importorskip("torch")
    z = np.array([[-1e4, -50.0, -1.0, 0.0], [2.0, 60.0, 1e4, 0.5]])
    t = np.array([[1.0, 0.0, 0.3, 1.0], [0.0, 1.0, 0.0, 0.7]])
    weight, pos_weight = np.array([[0.5], [2.0]]), np.array([2.5, 1.0, 0.5, 3.0])
    ours = ms.Tensor(z, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        # weight third and positional, reduction and pos_weight after it: PyTorch's signature
        loss = ms.binary_cross_entropy_with_logits(ours, t, weight, "sum", pos_weight)
        loss.backward()
    theirs = torch.tensor(z, requires_grad=True)
    reference = torch.nn.functional.binary_cross_entropy_with_logits(
        theirs, torch.tensor(t), torch.tensor(weight), reduction="sum", pos_weight=torch.tensor(pos_weight)
    )
    reference.backward()
    np.testing.assert_allclose(loss.data, reference.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "loss",
    [lambda x: ms.mse_loss(x, x * 0.0), lambda x: ms.binary_cross_entropy_with_logits(x, np.zeros((0, 2)))],
    ids=["mse", "bce"],
)
def test_mean_of_an_empty_batch_is_nan_like_pytorch(loss):
    x = ms.Tensor(np.zeros((0, 2)), requires_grad=True)
    with np.errstate(all="raise"):
        out = loss(x)
        out.backward()
    assert np.isnan(out.item()) and x.grad.shape == (0, 2)
