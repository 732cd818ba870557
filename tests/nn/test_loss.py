"""Loss modules: gradients against finite differences, masks, extreme logits, and PyTorch's numbers.

Each module must equal its functional (whose values and gradients tests/ops/test_loss.py checks); what is the
modules' own is tested here: masks, the one op BCEWithLogitsLoss puts on the tape, extreme logits, errors,
and the modules' constructors and numbers against ``torch.nn``.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq import nn
from microseq.testing import arrays, check_gradients, class_targets, sequence_batches

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def _value_and_grad(loss, x):
    z = ms.Tensor(x.copy(), requires_grad=True)
    out = loss(z)
    out.backward(np.random.default_rng(0).standard_normal(out.shape))
    return out.data, z.grad


# -- the modules are their functionals ----------------------------------------------------------------
# The functionals' values, gradients (finite differences) and special points are tested in
# tests/ops/test_loss.py; here each module must give exactly what its functional gives with the module's
# options, so that those tests cover it.
@given(class_targets(), REDUCTIONS, st.data())
def test_each_loss_module_is_its_functional_with_its_options(case, reduction, data):
    scores, target, weight = case
    smoothing = data.draw(st.sampled_from([0.0, 0.1]))
    real = data.draw(arrays(scores.shape, domain="unit"))
    pos_weight = data.draw(st.none() | arrays(scores.shape[-1:], domain="positive"))
    pairs = [
        (
            nn.CrossEntropyLoss(weight, reduction=reduction, label_smoothing=smoothing),
            lambda z: ms.cross_entropy(z, target, weight, reduction=reduction, label_smoothing=smoothing),
            target,
        ),
        (
            nn.NLLLoss(weight, reduction=reduction),
            lambda z: ms.nll_loss(z, target, weight, reduction=reduction),
            target,
        ),
        (nn.MSELoss(reduction), lambda z: ms.mse_loss(z, real, reduction), real),
        (
            nn.BCEWithLogitsLoss(None, reduction, pos_weight),
            lambda z: ms.binary_cross_entropy_with_logits(z, real, None, reduction, pos_weight),
            real,
        ),
    ]
    for module, functional, module_target in pairs:
        with np.errstate(divide="ignore", invalid="ignore"):  # a 'mean' over no counted target: NaN in both
            value, grad = _value_and_grad(lambda z: module(z, module_target), scores)
            expected_value, expected_grad = _value_and_grad(functional, scores)
        np.testing.assert_array_equal(value, expected_value, err_msg=type(module).__name__)
        np.testing.assert_array_equal(grad, expected_grad, err_msg=type(module).__name__)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_loss_with_weights_is_one_op_on_the_tape(reduction):
    logits = ms.tensor(np.linspace(-3, 3, 6).reshape(2, 3), requires_grad=True)
    loss = nn.BCEWithLogitsLoss(weight=np.array([0.5, 1.0, 2.0]), reduction=reduction, pos_weight=np.full(3, 2.0))
    assert [node.op for node in ms.tape_of(loss(logits, np.full((2, 3), 0.25)))] == ["bce_with_logits"]


def test_cross_entropy_module_takes_label_smoothing_and_probabilities():
    z = ms.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], dtype=np.float64)
    loss = nn.CrossEntropyLoss(label_smoothing=0.2)
    expected = ms.cross_entropy(z, np.array([0, 2]), label_smoothing=0.2)
    np.testing.assert_array_equal(loss(z, np.array([0, 2])).data, expected.data)
    soft = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(nn.CrossEntropyLoss()(z, soft).data, ms.cross_entropy(z, soft).data)


def test_loss_modules_call_their_functions_with_their_options():
    x, t = ms.Tensor(np.array([0.2, 0.9, -1.5])), ms.Tensor(np.array([0.0, 1.0, 0.5]))
    pairs = [
        (nn.HuberLoss(reduction="sum", delta=0.5), ms.huber_loss(x, t, "sum", 0.5)),
        (nn.SmoothL1Loss(beta=0.3), ms.smooth_l1_loss(x, t, beta=0.3)),
        (nn.L1Loss(reduction="none"), ms.l1_loss(x, t, "none")),
        (nn.KLDivLoss(reduction="sum", log_target=True), ms.kl_div(x, t, "sum", log_target=True)),
    ]
    for module, expected in pairs:
        np.testing.assert_array_equal(module(x, t).data, expected.data)
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss(reduction='mean', delta=2.0)"
    with pytest.raises(ValueError, match="KLDivLoss: reduction must be one of"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"L1Loss: reduction must be one of \('mean', 'sum', 'none'\)"):
        nn.L1Loss(reduction="batchmean")


# -- masks --------------------------------------------------------------------------------------------
@st.composite
def sequence_logits(draw):
    """A ragged batch of (T, B, C) or (B, T, C) logits with garbage at padding, targets and mask."""
    classes = draw(st.integers(1, 4))
    batch = draw(sequence_batches(features=classes))
    target = draw(arrays(batch.mask.shape, dtype=np.int64, domain=(0, classes - 1)))
    target = np.where(batch.mask, target, 12345)  # padding targets are garbage too: never read
    return batch, target


@given(sequence_logits(), REDUCTIONS)
def test_masked_cross_entropy_gradient(case, reduction):
    batch, target = case
    check_gradients(lambda z: nn.masked_cross_entropy(z, target, batch.mask, reduction=reduction), batch.data)


@given(sequence_logits(), st.data())
def test_masked_cross_entropy_counts_real_tokens_only(case, data):
    """Equal to cross entropy over the real positions alone; padding gets exactly zero gradient."""
    batch, target = case
    weight = data.draw(st.none() | arrays(batch.data.shape[-1:], domain=(0.1, 2.0)))
    logits = ms.Tensor(batch.data.copy(), requires_grad=True)
    loss = nn.masked_cross_entropy(logits, target, batch.mask, weight=weight)
    loss.backward()
    real = ms.cross_entropy(batch.data[batch.mask], target[batch.mask], weight=weight)
    np.testing.assert_allclose(loss.item(), real.item(), rtol=1e-12)
    assert np.all(logits.grad[~batch.mask] == 0)

    per_token = nn.masked_cross_entropy(batch.data, target, batch.mask, weight=weight, reduction="none")
    assert per_token.shape == target.shape
    assert np.all(per_token.data[~batch.mask] == 0)


@given(class_targets(min_classes=2), st.data())
def test_mask_on_module_equals_ignore_index(case, data):
    logits, target, weight = case
    mask = data.draw(arrays(target.shape, dtype=bool))
    garbage = np.where(mask, target, 999)  # what padding holds does not matter
    for module in (nn.CrossEntropyLoss(weight=weight), nn.NLLLoss(weight=weight, reduction="sum")):
        masked = module(logits, garbage, mask=mask)
        ignored = module(logits, np.where(mask, target, -100))
        np.testing.assert_array_equal(masked.data, ignored.data)


def test_fully_masked_batch_gives_nan_mean_but_zero_gradient():
    """PyTorch's convention for all-ignored targets: NaN loss, zero gradient (weights stay finite)."""
    logits = ms.Tensor(np.random.default_rng(0).standard_normal((2, 3, 4)), requires_grad=True)
    loss = nn.masked_cross_entropy(logits, np.zeros((2, 3), np.int64), np.zeros((2, 3), bool))
    loss.backward()
    assert np.isnan(loss.item())
    assert np.all(logits.grad == 0)


# -- extreme logits -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_are_finite_and_exact_for_logits_of_1e4(dtype, reduction):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    target = np.array([0, 0, 2])
    z = ms.Tensor(logits, requires_grad=True)
    loss = nn.CrossEntropyLoss(reduction=reduction)(z, target)
    loss.backward(np.ones(loss.shape, dtype))
    per_item = np.array([0.0, 2e4, 2e4 + np.log(2)])  # certain; wrong by 2e4; two-way tie, wrong by 2e4
    expected = {"none": per_item, "sum": per_item.sum(), "mean": per_item.mean()}[reduction]
    np.testing.assert_allclose(loss.data, expected, rtol=1e-6)
    assert np.all(np.isfinite(z.grad))
    scale = 1 / 3 if reduction == "mean" else 1
    np.testing.assert_allclose(z.grad, scale * np.array([[0, 0, 0], [-1, 0, 1], [0.5, 0.5, -1]]), atol=1e-6)

    bce_target = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=dtype)
    z = ms.Tensor(logits, requires_grad=True)
    bce = nn.BCEWithLogitsLoss(reduction="none", pos_weight=np.full(3, 2.0, dtype))(z, bce_target)
    bce.sum().backward()
    expected_bce = np.array([[0, 0, 2 * np.log(2)], [2e4, 2e4, 1e4], [1e4, 0, 2e4]])  # pos_weight 2
    np.testing.assert_allclose(bce.data, expected_bce, rtol=1e-6)
    assert np.all(np.isfinite(z.grad))


# -- errors -------------------------------------------------------------------------------------------------
def test_bad_arguments_are_clear_errors():
    logits = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: reduction must be one of"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"need targets of shape \(2, 3\), got \(2, 4\)"):
        nn.masked_cross_entropy(logits, np.zeros((2, 4), np.int64))
    with pytest.raises(ValueError, match=r"mask of shape \(3, 2\) must have the targets' shape \(2, 3\)"):
        nn.masked_cross_entropy(logits, np.zeros((2, 3), np.int64), np.ones((3, 2), bool))
    with pytest.raises(TypeError, match=r"CrossEntropyLoss: mask must be boolean"):
        nn.CrossEntropyLoss()(np.zeros((2, 4)), np.zeros(2, np.int64), mask=np.ones(2))
    with pytest.raises(ValueError, match=r"weight of shape \(5,\) does not broadcast to the logits' shape \(2, 4\)"):
        nn.BCEWithLogitsLoss(weight=np.ones(5))(np.zeros((2, 4)), np.zeros((2, 4)))


# -- PyTorch ---------------------------------------------------------------------------------------------------
def _torch_pair(module, torch_module, logits, *rest, target_requires_grad=False):
    """Loss values and input gradients from microseq and PyTorch for the same float64 inputs."""
    torch = pytest.importorskip("torch")
    z = ms.Tensor(logits.copy(), requires_grad=True)
    zt = torch.tensor(logits, requires_grad=True)
    ours = module(z, *rest)
    theirs = torch_module(zt, *(torch.as_tensor(r) for r in rest))
    upstream = np.random.default_rng(1).standard_normal(ours.shape)
    ours.backward(upstream)
    theirs.backward(torch.tensor(upstream))
    return (ours.data, z.grad), (theirs.detach().numpy(), zt.grad.numpy())


@given(class_targets(), REDUCTIONS)
def test_cross_entropy_and_nll_match_torch(case, reduction):
    torch = pytest.importorskip("torch")
    logits, target, weight = case
    tw = None if weight is None else torch.tensor(weight)
    pairs = [
        (nn.CrossEntropyLoss(weight, reduction=reduction), torch.nn.CrossEntropyLoss(tw, reduction=reduction)),
        (nn.NLLLoss(weight, reduction=reduction), torch.nn.NLLLoss(tw, reduction=reduction)),
    ]
    for ours_module, torch_module in pairs:
        (value, grad), (t_value, t_grad) = _torch_pair(ours_module, torch_module, logits, target)
        np.testing.assert_allclose(value, t_value, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(grad, t_grad, rtol=1e-12, atol=1e-12)


@given(arrays(st.tuples(st.integers(1, 4), st.integers(1, 4)), domain=(-30, 30)), st.data(), REDUCTIONS)
def test_bce_and_mse_match_torch(logits, data, reduction):
    torch = pytest.importorskip("torch")
    target = data.draw(arrays(logits.shape, domain="unit"))
    weight = data.draw(st.none() | arrays(logits.shape[-1:], domain=(0.1, 2.0)))
    pos_weight = data.draw(st.none() | arrays(logits.shape[-1:], domain=(0.1, 3.0)))
    as_torch = (lambda a: None if a is None else torch.tensor(a))
    pairs = [
        (
            nn.BCEWithLogitsLoss(weight, reduction, pos_weight),
            torch.nn.BCEWithLogitsLoss(as_torch(weight), reduction=reduction, pos_weight=as_torch(pos_weight)),
        ),
        (nn.MSELoss(reduction), torch.nn.MSELoss(reduction=reduction)),
    ]
    for ours_module, torch_module in pairs:
        (value, grad), (t_value, t_grad) = _torch_pair(ours_module, torch_module, logits, target)
        np.testing.assert_allclose(value, t_value, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(grad, t_grad, rtol=1e-12, atol=1e-12)


def test_masked_cross_entropy_matches_torch_sequence_idiom():
    """PyTorch users write ``cross_entropy(logits.transpose(1, 2), targets.masked_fill(~mask, -100))``."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    logits, target = rng.standard_normal((3, 5, 4)), rng.integers(0, 4, (3, 5))
    mask = np.arange(5) < np.array([[5], [2], [1]])
    z = ms.Tensor(logits.copy(), requires_grad=True)
    zt = torch.tensor(logits, requires_grad=True)
    ours = nn.masked_cross_entropy(z, target, mask)
    theirs = torch.nn.functional.cross_entropy(zt.transpose(1, 2), torch.tensor(np.where(mask, target, -100)))
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(z.grad, zt.grad.numpy(), rtol=1e-12, atol=1e-15)
