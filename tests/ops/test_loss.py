"""The losses of microseq/ops/loss.py: cross_entropy (class indices, probability targets, label smoothing),
nll_loss, mse_loss, binary_cross_entropy(_with_logits), kl_div, huber/smooth L1/L1, cosine similarity and the
cosine embedding loss. Forward against NumPy, gradients against finite differences for every reduction,
second derivatives, special points pinned to PyTorch's values, and parity with PyTorch (values, gradients,
dtypes).
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import special

import microseq as ms
from microseq import nn
from microseq.testing import (
    TORCH_TOLERANCES, arrays, broadcastable_shapes, check_against_torch, check_gradients, check_second_derivatives,
    class_targets, shapes,
)

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


@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_binary_cross_entropy_with_logits_gradient_for_the_target(data, reduction):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4, min_side=1 if reduction == "mean" else 0))
    z, t = data.draw(arrays(shape)), data.draw(arrays(shape, domain="unit"))
    options = dict(weight=data.draw(broadcasting_to(shape)), reduction=reduction,
                   pos_weight=data.draw(broadcasting_to(shape)))
    check_gradients(lambda z, t: ms.binary_cross_entropy_with_logits(z, t, **options), z, t)


def test_binary_cross_entropy_with_logits_target_gradient_is_minus_weight_times_logit():
    """d/dt of w ((1 - t) z + (1 + (p - 1) t) softplus(-z)) is -w z without pos_weight, w ((p - 1) softplus(-z)
    - z) with it; a target that does not require grad gets none."""
    z = np.array([-2.0, 0.0, 3.0])
    t = ms.Tensor(np.array([0.0, 0.5, 1.0]), requires_grad=True)
    ms.binary_cross_entropy_with_logits(z, t, weight=np.array([1.0, 2.0, 0.5]), reduction="sum").backward()
    np.testing.assert_allclose(t.grad, [2.0, 0.0, -1.5])
    t.grad = None
    ms.binary_cross_entropy_with_logits(z, t, pos_weight=np.array([3.0]), reduction="sum").backward()
    np.testing.assert_allclose(t.grad, 2 * np.logaddexp(0, -z) - z)
    logits = ms.Tensor(z, requires_grad=True)
    constant = ms.Tensor(np.array([0.0, 0.5, 1.0]))
    ms.binary_cross_entropy_with_logits(logits, constant).backward()
    assert constant.grad is None and logits.grad is not None


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_with_logits_target_gradient_matches_pytorch(reduction, weighted):
    torch = pytest.importorskip("torch")
    z = np.array([[-30.0, -1.0, 0.0], [0.5, 2.0, 40.0]])
    t = np.array([[0.1, 1.0, 0.5], [0.0, 0.7, 0.2]])
    options = dict(weight=np.array([[0.5], [2.0]]), pos_weight=np.array([2.5, 1.0, 0.25])) if weighted else {}
    upstream = np.arange(1.0, 7.0).reshape(2, 3) if reduction == "none" else np.array(1.5)
    ours = [ms.Tensor(v, requires_grad=True) for v in (z, t)]
    loss = ms.binary_cross_entropy_with_logits(*ours, reduction=reduction, **options)
    loss.backward(upstream)
    theirs = [torch.tensor(v, requires_grad=True) for v in (z, t)]
    reference = torch.nn.functional.binary_cross_entropy_with_logits(
        *theirs, reduction=reduction, **{k: torch.tensor(v) for k, v in options.items()})
    reference.backward(torch.tensor(upstream))
    np.testing.assert_allclose(loss.data, reference.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours[0].grad, theirs[0].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours[1].grad, theirs[1].grad.numpy(), rtol=1e-12)




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


# -- pointwise losses: binary_cross_entropy, kl_div, huber, smooth L1, L1 ---------------------------------
REDUCTIONS = ["mean", "sum", "none"]


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    with np.errstate(invalid="ignore"):
        return np.sum(losses) / losses.size if reduction == "mean" else np.sum(losses)


def _huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


# (name, microseq loss, PyTorch's name in torch.nn.functional, options, NumPy loss per element of (x, t),
#  how to draw x, how to draw t, the kinks of x - t to keep the draws away from)
POINTWISE = [
    ("bce", ms.binary_cross_entropy, "binary_cross_entropy", {},
     lambda p, t: -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100)),
     (0.02, 0.98), "unit", None),
    ("kl_div", ms.kl_div, "kl_div", {}, lambda x, t: special.xlogy(t, t) - t * x, "real", (0.1, 3.0), None),
    ("kl_div_log_target", ms.kl_div, "kl_div", {"log_target": True}, lambda x, t: np.exp(t) * (t - x),
     "real", "real", None),
    ("huber", ms.huber_loss, "huber_loss", {}, lambda x, t: _huber(x - t, 1.0), "real", "real", (-1.0, 1.0)),
    ("huber_delta", ms.huber_loss, "huber_loss", {"delta": 0.5}, lambda x, t: _huber(x - t, 0.5),
     "real", "real", (-0.5, 0.5)),
    ("smooth_l1", ms.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.5}, lambda x, t: _huber(x - t, 0.5) / 0.5,
     "real", "real", (-0.5, 0.5)),
    ("smooth_l1_beta_0", ms.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.0}, lambda x, t: np.abs(x - t),
     "real", "real", (0.0,)),
    ("l1", ms.l1_loss, "l1_loss", {}, lambda x, t: np.abs(x - t), "real", "real", (0.0,)),
]
POINTWISE_IDS = [row[0] for row in POINTWISE]


@st.composite
def pointwise_inputs(draw, row, dtype=np.float64):
    """Input and target of one shape (size 0 and 1 included); with kinks, the input is target + a difference
    drawn away from them."""
    _, _, _, _, _, x_domain, t_domain, kinks = row
    shape = draw(shapes(max_dims=2, max_side=4))
    t = draw(arrays(shape, dtype, t_domain))
    if kinks is None:
        return draw(arrays(shape, dtype, x_domain)), t
    d = draw(arrays(shape, dtype, "real", avoid=kinks))
    return np.asarray(t + d, dtype=dtype), t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("row", POINTWISE, ids=POINTWISE_IDS)
@given(data=st.data())
def test_pointwise_losses_forward_and_gradient(row, reduction, data):
    name, loss, _, options, reference, *_ = row
    x, t = data.draw(pointwise_inputs(row))
    out = loss(ms.Tensor(x), ms.Tensor(t), reduction=reduction, **options)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, _reduce(reference(x, t), reduction), rtol=1e-12, atol=1e-300)
    check_gradients(lambda x, t: loss(x, t, reduction=reduction, **options), x, t, names=["input", "target"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("row", POINTWISE, ids=POINTWISE_IDS)
@given(data=st.data())
@settings(max_examples=10)  # parity on a few draws; special points have their own tests
def test_pointwise_losses_match_pytorch(row, reduction, dtype, data):
    torch = pytest.importorskip("torch")
    name, loss, torch_name, options, *_ = row
    x, t = data.draw(pointwise_inputs(row, dtype))
    check_against_torch(
        lambda x, t: loss(x, t, reduction=reduction, **options),
        lambda x, t: getattr(torch.nn.functional, torch_name)(x, t, reduction=reduction, **options),
        x, t, dtype=dtype, **TORCH_TOLERANCES[np.dtype(dtype)],
    )


@pytest.mark.parametrize("row", POINTWISE, ids=POINTWISE_IDS)
@given(data=st.data())
def test_pointwise_losses_second_derivatives(row, data):
    name, loss, _, options, *_ = row
    check_second_derivatives(lambda x, t: loss(x, t, reduction="sum", **options), *data.draw(pointwise_inputs(row)))


# -- special points -------------------------------------------------------------------------------------------
INF, NAN = np.inf, np.nan


def _grads(loss, x, t, **options):
    x, t = ms.Tensor(np.array(x), requires_grad=True), ms.Tensor(np.array(t), requires_grad=True)
    out = loss(x, t, reduction="none", **options)
    out.backward(np.ones(out.shape))
    return out.data, x.grad, t.grad


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_bce_clamps_the_logs_at_minus_100_like_pytorch():
    value, gp, gt = _grads(ms.binary_cross_entropy, [0.0, 1.0, 0.5, 0.0, 1.0], [0.0, 1.0, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(value, [0.0, 0.0, np.log(2), 100.0, 100.0])
    np.testing.assert_array_equal(gp, [0.0, 0.0, 0.0, -1e12, 1e12])  # (p - t) / max(p (1 - p), 1e-12)
    np.testing.assert_array_equal(gt, [INF, -INF, 0.0, INF, -INF])  # log(1 - p) - log(p), not clamped


def test_bce_refuses_values_outside_0_1_and_different_shapes():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\], got 1.5"):
        ms.binary_cross_entropy(ms.tensor([0.5, 1.5]), ms.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy: input of shape"):
        ms.binary_cross_entropy(ms.tensor([0.5]), ms.tensor([0.0, 1.0]))


def test_bce_weight_and_the_module():
    p, t, w = np.array([0.2, 0.7, 0.9]), np.array([0.0, 1.0, 1.0]), np.array([1.0, 2.0, 0.5])
    expected = -w * (t * np.log(p) + (1 - t) * np.log1p(-p))
    got = ms.binary_cross_entropy(ms.Tensor(p), ms.Tensor(t), weight=w, reduction="sum")
    np.testing.assert_allclose(got.data, expected.sum(), rtol=1e-15)
    np.testing.assert_allclose(nn.BCELoss(weight=w)(ms.Tensor(p), ms.Tensor(t)).data, expected.mean(), rtol=1e-15)
    check_gradients(lambda p: ms.binary_cross_entropy(p, t, weight=w), p)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_kl_div_at_zero_targets_like_pytorch():
    value, gx, gt = _grads(ms.kl_div, [0.0, 1.0], [0.0, 0.5])
    np.testing.assert_allclose(value, [0.0, 0.5 * np.log(0.5) - 0.5], rtol=1e-15)
    np.testing.assert_array_equal(gx, [-0.0, -0.5])
    assert np.isnan(gt[0]) and gt[1] == pytest.approx(np.log(0.5) + 1 - 1.0, rel=1e-15)  # PyTorch: NaN at t = 0


def test_kl_div_reductions():
    x = np.log(np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]]))
    t = np.array([[0.3, 0.7], [0.5, 0.5], [0.6, 0.4]])
    per = special.xlogy(t, t) - t * x
    for reduction, expected in [("batchmean", per.sum() / 3), ("mean", per.mean()), ("sum", per.sum())]:
        got = ms.kl_div(ms.Tensor(x), ms.Tensor(t), reduction=reduction)
        np.testing.assert_allclose(got.data, expected, rtol=1e-14)
    log_t = ms.kl_div(ms.Tensor(x), ms.Tensor(np.log(t)), reduction="batchmean", log_target=True)
    np.testing.assert_allclose(log_t.data, per.sum() / 3, rtol=1e-14)
    np.testing.assert_allclose(nn.KLDivLoss("batchmean")(ms.Tensor(x), ms.Tensor(t)).data, per.sum() / 3, rtol=1e-14)
    check_gradients(lambda x, t: ms.kl_div(x, t, reduction="batchmean"), x, t)
    with pytest.raises(ValueError, match=r"kl_div: reduction must be one of \('mean', 'sum', 'none', 'batchmean'\)"):
        ms.kl_div(ms.Tensor(x), ms.Tensor(t), reduction="average")


@pytest.mark.parametrize(
    "loss, options, d, value, grad",
    [
        # exactly at the kink |d| = delta: the linear branch, slope +-delta (both formulas agree there)
        (ms.huber_loss, {}, [1.0, -1.0, 0.5, 0.0, 3.0], [0.5, 0.5, 0.125, 0.0, 2.5], [1.0, -1.0, 0.5, 0.0, 1.0]),
        (ms.huber_loss, {"delta": 0.5}, [0.5, -0.5, -2.0], [0.125, 0.125, 0.875], [0.5, -0.5, -0.5]),
        (ms.smooth_l1_loss, {"beta": 0.5}, [0.5, -0.5, 0.25], [0.25, 0.25, 0.0625], [1.0, -1.0, 0.5]),
        (ms.smooth_l1_loss, {"beta": 0.0}, [1.0, -1.0, 0.0], [1.0, 1.0, 0.0], [1.0, -1.0, 0.0]),
        (ms.l1_loss, {}, [1.0, 0.0, -2.0], [1.0, 0.0, 2.0], [1.0, 0.0, -1.0]),
    ],
    ids=["huber", "huber_delta", "smooth_l1", "smooth_l1_beta_0", "l1"],
)
def test_regression_losses_at_their_kinks(loss, options, d, value, grad):
    got, gx, gt = _grads(loss, d, np.zeros(len(d)), **options)
    np.testing.assert_array_equal(got, value)
    np.testing.assert_array_equal(gx, grad)
    np.testing.assert_array_equal(gt, -np.array(grad))


def test_regression_losses_check_their_arguments():
    with pytest.raises(ValueError, match="huber_loss: delta must be positive, got 0"):
        ms.huber_loss(ms.ones(2), ms.ones(2), delta=0)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative"):
        ms.smooth_l1_loss(ms.ones(2), ms.ones(2), beta=-1.0)
    with pytest.raises(ValueError, match=r"l1_loss: reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"):
        ms.l1_loss(ms.ones(2), ms.ones(2), reduction="avg")
    with pytest.raises(ValueError, match="huber_loss: input of shape"):
        ms.huber_loss(ms.ones(2), ms.ones(3))


def test_empty_mean_is_nan_like_pytorch():
    empty = ms.Tensor(np.zeros((0, 3)), requires_grad=True)
    for loss in (ms.l1_loss, ms.huber_loss, ms.smooth_l1_loss, ms.binary_cross_entropy, ms.kl_div):
        out = loss(empty, np.zeros((0, 3)))
        assert np.isnan(out.item())


# -- cross entropy: probability targets, label smoothing -----------------------------------------------------
@st.composite
def soft_or_hard_targets(draw, probabilities: bool, dtype=np.float64):
    """Logits (N, C) or (N, C, d) or (C,), targets (probabilities of that shape, or indices with some
    ignored), class weights (C,) or None, label smoothing in [0, 1]."""
    n_classes = draw(st.integers(1, 4))
    layout = draw(st.sampled_from(["unbatched", "batched", "spatial"]))
    batch = draw(st.integers(0, 3))
    shape = {"unbatched": (n_classes,), "batched": (batch, n_classes), "spatial": (batch, n_classes, 2)}[layout]
    logits = draw(arrays(shape, dtype, (-5.0, 5.0)))
    if probabilities:
        target = draw(arrays(shape, dtype, "unit"))
    else:
        target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
        target = draw(arrays(target_shape, np.int64, (-1, n_classes - 1)))  # -1: ignore_index below
    weight = draw(st.none() | arrays((n_classes,), dtype, (0.1, 2.0)))
    smoothing = draw(st.sampled_from([0.0, 0.1, 1.0]))
    return logits, target, weight, smoothing


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy_with_probability_targets(reduction, data):
    logits, target, weight, smoothing = data.draw(soft_or_hard_targets(probabilities=True))
    axis = 1 if logits.ndim > 1 else 0
    n_classes = logits.shape[axis]
    smoothed = target * (1 - smoothing) + smoothing / n_classes
    log_p = logits - special.logsumexp(logits, axis=axis, keepdims=True)
    w = 1.0 if weight is None else weight.reshape((-1,) + (1,) * (logits.ndim - 2))
    per_item = -(w * smoothed * log_p).sum(axis=axis)
    out = ms.cross_entropy(ms.Tensor(logits), ms.Tensor(target), weight, reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(out.data, _reduce(per_item, reduction), rtol=1e-12, atol=1e-14)
    check_gradients(
        lambda z, t: ms.cross_entropy(z, t, weight, reduction=reduction, label_smoothing=smoothing),
        logits, target, names=["logits", "target"],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy_with_label_smoothing_of_class_indices(reduction, data):
    logits, target, weight, smoothing = data.draw(soft_or_hard_targets(probabilities=False))
    def ce(z):
        return ms.cross_entropy(z, target, weight, ignore_index=-1, reduction=reduction, label_smoothing=smoothing)

    if reduction == "mean" and np.all(target == -1):  # nothing counts: NaN, and a zero gradient (as PyTorch)
        z = ms.Tensor(logits, requires_grad=True)
        out = ce(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            out.backward()
        assert np.isnan(out.item()) and not np.any(z.grad)
        return
    check_gradients(ce, logits)
    if smoothing == 0:
        return
    axis = 1 if logits.ndim > 1 else 0
    n_classes = logits.shape[axis]
    log_p = logits - special.logsumexp(logits, axis=axis, keepdims=True)
    w = np.ones(n_classes) if weight is None else weight
    counted = target != -1
    safe = np.where(counted, target, 0)
    picked = np.take_along_axis(log_p, np.expand_dims(safe, axis), axis).squeeze(axis)
    hard = -w[safe] * picked * counted
    uniform = -(w.reshape((-1,) + (1,) * (logits.ndim - 2)) * log_p).sum(axis=axis) * counted
    if reduction == "none":
        expected = (1 - smoothing) * hard + smoothing / n_classes * uniform
    elif reduction == "sum":
        expected = (1 - smoothing) * hard.sum() + smoothing / n_classes * uniform.sum()
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            total = (w[safe] * counted).sum()
            expected = ((1 - smoothing) * hard.sum() + smoothing / n_classes * uniform.sum()) / total
    np.testing.assert_allclose(ce(ms.Tensor(logits)).data, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("probabilities", [True, False], ids=["probabilities", "indices"])
@given(data=st.data())
def test_cross_entropy_second_derivatives(probabilities, data):
    logits, target, weight, smoothing = data.draw(soft_or_hard_targets(probabilities))
    if not probabilities:
        assume(np.any(target != -1))  # an all-ignored mean is NaN
    check_second_derivatives(
        lambda z: ms.cross_entropy(z, target, weight, ignore_index=-1, label_smoothing=smoothing), logits
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("probabilities", [True, False], ids=["probabilities", "indices"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
@settings(max_examples=10)  # parity on a few draws; special points have their own tests
def test_cross_entropy_matches_pytorch(reduction, probabilities, dtype, data):
    torch = pytest.importorskip("torch")
    logits, target, weight, smoothing = data.draw(soft_or_hard_targets(probabilities, dtype))
    if not probabilities and np.all(target == -1) and reduction == "mean":
        return  # all ignored: both give NaN (pinned in test_loss.py); the NaN gradients need not agree
    tw = None if weight is None else torch.tensor(weight.astype(dtype))
    options = dict(reduction=reduction, label_smoothing=smoothing)
    if probabilities:
        ours = lambda z, t: ms.cross_entropy(z, t, weight, **options)  # noqa: E731
        theirs = lambda z, t: torch.nn.functional.cross_entropy(z, t, tw, **options)  # noqa: E731
    else:
        ours = lambda z, t: ms.cross_entropy(z, t, weight, ignore_index=-1, **options)  # noqa: E731
        theirs = lambda z, t: torch.nn.functional.cross_entropy(z, t, tw, ignore_index=-1, **options)  # noqa: E731
    check_against_torch(ours, theirs, logits, target, dtype=dtype, **TORCH_TOLERANCES[np.dtype(dtype)])


def test_cross_entropy_checks_probability_targets_and_smoothing():
    with pytest.raises(ValueError, match=r"class probabilities need the logits' shape \(2, 3\), got \(2, 2\)"):
        ms.cross_entropy(ms.ones(2, 3), np.ones((2, 2), np.float32))
    with pytest.raises(TypeError, match=r"integer class indices, got dtype float32 \(class probabilities"):
        ms.cross_entropy(ms.ones(2, 3), np.ones(2, np.float32))
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"):
        ms.cross_entropy(ms.ones(2, 3), np.array([0, 1]), label_smoothing=1.5)


# -- cosine similarity and the cosine embedding loss -----------------------------------------------------------
@st.composite
def vector_pairs(draw, dtype=np.float64):
    """Two broadcastable shapes with at least one axis, the axis of the vectors, and their values."""
    s1, s2 = draw(broadcastable_shapes(2, min_dims=1, max_dims=3, max_side=3)).input_shapes
    ndim = max(len(s1), len(s2))
    dim = draw(st.integers(-ndim, ndim - 1))
    return draw(arrays(s1, dtype, "nonzero")), draw(arrays(s2, dtype, "nonzero")), dim


def _cosine(x1, x2, dim, eps=1e-8):
    x1, x2 = np.broadcast_arrays(x1, x2)
    n1 = np.maximum(np.linalg.norm(x1, axis=dim, keepdims=True), eps)
    n2 = np.maximum(np.linalg.norm(x2, axis=dim, keepdims=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis=dim)


@given(pair=vector_pairs())
def test_cosine_similarity_forward_and_gradient(pair):
    x1, x2, dim = pair
    out = ms.cosine_similarity(ms.Tensor(x1), ms.Tensor(x2), dim=dim)
    np.testing.assert_allclose(out.data, _cosine(x1, x2, dim), rtol=1e-12, atol=1e-15)
    check_gradients(lambda a, b: ms.cosine_similarity(a, b, dim=dim), x1, x2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
@settings(max_examples=10)  # parity on a few draws; special points have their own tests
def test_cosine_similarity_matches_pytorch(dtype, data):
    torch = pytest.importorskip("torch")
    x1, x2, dim = data.draw(vector_pairs(dtype))
    check_against_torch(
        lambda a, b: ms.cosine_similarity(a, b, dim), lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim),
        x1, x2, dtype=dtype, **TORCH_TOLERANCES[np.dtype(dtype)],
    )


@given(pair=vector_pairs())
def test_cosine_similarity_second_derivatives(pair):
    x1, x2, dim = pair
    check_second_derivatives(lambda a, b: ms.cosine_similarity(a, b, dim=dim), x1, x2)


def test_cosine_similarity_of_a_zero_vector_is_0_with_a_finite_gradient_like_pytorch():
    x1 = ms.Tensor(np.zeros(2), requires_grad=True)
    x2 = ms.Tensor(np.array([1.0, 0.0]), requires_grad=True)
    out = ms.cosine_similarity(x1, x2, dim=0)
    out.backward()
    assert out.item() == 0.0
    np.testing.assert_array_equal(x1.grad, [1e8, 0.0])  # x2 / (|x2| eps), as PyTorch
    np.testing.assert_array_equal(x2.grad, [0.0, 0.0])
    np.testing.assert_array_equal(nn.CosineSimilarity(dim=0)(x1, x2).data, out.data)


def test_cosine_similarity_names_bad_shapes_and_dims():
    with pytest.raises(ValueError, match=r"cosine_similarity: shapes \(2, 3\) and \(4,\) do not broadcast"):
        ms.cosine_similarity(ms.ones(2, 3), ms.ones(4))
    with pytest.raises(IndexError, match="cosine_similarity: axis 2 is out of range"):
        ms.cosine_similarity(ms.ones(2, 3), ms.ones(2, 3), dim=2)


@st.composite
def embedding_pairs(draw, dtype=np.float64):
    batched = draw(st.booleans())
    shape = (draw(st.integers(0, 4)), draw(st.integers(1, 3))) if batched else (draw(st.integers(1, 3)),)
    x1, x2 = draw(arrays(shape, dtype, "nonzero")), draw(arrays(shape, dtype, "nonzero"))
    target = draw(arrays(shape[:-1], np.int64, (-1, 1)).map(lambda y: np.where(y == 0, 1, y)))
    margin = draw(st.sampled_from([0.0, 0.3, -0.5]))
    return x1, x2, target, margin


def _cosine_embedding(x1, x2, y, margin):
    cos = (x1 * x2).sum(-1) / np.sqrt(((x1 * x1).sum(-1) + 1e-12) * ((x2 * x2).sum(-1) + 1e-12))
    return np.where(y == 1, 1 - cos, np.maximum(cos - margin, 0))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cosine_embedding_loss_forward_and_gradient(reduction, data):
    x1, x2, y, margin = data.draw(embedding_pairs())
    out = ms.cosine_embedding_loss(ms.Tensor(x1), ms.Tensor(x2), y, margin, reduction)
    expected = _reduce(_cosine_embedding(x1, x2, y, margin), reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-15)
    cos = _cosine(x1, x2, -1)
    if np.all(np.abs(cos - margin) > 1e-4):  # off the hinge
        check_gradients(lambda a, b: ms.cosine_embedding_loss(a, b, y, margin, reduction), x1, x2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
@settings(max_examples=10)  # parity on a few draws; special points have their own tests
def test_cosine_embedding_loss_matches_pytorch(reduction, dtype, data):
    torch = pytest.importorskip("torch")
    x1, x2, y, margin = data.draw(embedding_pairs(dtype))
    check_against_torch(
        lambda a, b: ms.cosine_embedding_loss(a, b, y, margin, reduction),
        lambda a, b: torch.nn.functional.cosine_embedding_loss(a, b, torch.tensor(y), margin, reduction=reduction),
        x1, x2, dtype=dtype, **TORCH_TOLERANCES[np.dtype(dtype)],
    )


def test_cosine_embedding_loss_at_the_margin_and_the_module():
    x1 = ms.Tensor(np.array([[1.0, 0.0], [1.0, 0.0]]), requires_grad=True)
    x2 = ms.Tensor(np.array([[1.0, 1.0], [1.0, 1.0]]))
    cos = 1 / np.sqrt(2)
    out = ms.cosine_embedding_loss(x1, x2, np.array([1, -1]), margin=cos, reduction="none")
    np.testing.assert_allclose(out.data, [1 - cos, 0.0], atol=1e-12)
    module = nn.CosineEmbeddingLoss(margin=cos, reduction="sum")
    np.testing.assert_allclose(module(x1, x2, np.array([1, -1])).data, 1 - cos, rtol=1e-10)
    with pytest.raises(ValueError, match="cosine_embedding_loss: inputs must both be"):
        ms.cosine_embedding_loss(ms.ones(2, 3), ms.ones(2, 3), np.ones(3))
