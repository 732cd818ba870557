"""Conv2d, the pooling layers, Flatten and BatchNorm2d: PyTorch's names, shapes, init, buffers and numerics."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
import microseq.nn as nn
from microseq import optim
from microseq.testing import arrays, check_gradients


# -- Conv2d ------------------------------------------------------------------------------------------------------
def test_conv2d_parameters_have_pytorch_names_shapes_and_init_bounds():
    ms.manual_seed(0)
    conv = nn.Conv2d(8, 12, (3, 2), groups=4)
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    assert conv.weight.shape == (12, 2, 3, 2) and conv.bias.shape == (12,)
    bound = 1 / np.sqrt(2 * 3 * 2)  # kaiming_uniform_(a=sqrt(5)): 1/sqrt(fan_in), fan_in = C_in/groups * kH * kW
    for p in (conv.weight, conv.bias):
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.8 * bound
    assert nn.Conv2d(3, 4, 3, bias=False).bias is None
    assert [name for name, _ in nn.Conv2d(3, 4, 3, bias=False).named_parameters()] == ["weight"]


def test_conv2d_forward_and_gradients_match_pytorch_with_the_same_weights():
    torch = pytest.importorskip("torch")
    ms.manual_seed(1)
    ours = nn.Conv2d(4, 6, 3, stride=2, padding="valid", dilation=(1, 2), groups=2).double()
    theirs = torch.nn.Conv2d(4, 6, 3, stride=2, padding="valid", dilation=(1, 2), groups=2).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 4, 9, 11))
    y, ty = ours(ms.Tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-13)
    y.sum().backward()
    ty.sum().backward()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(theirs, name).grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_init_matches_pytorch_distribution():
    torch = pytest.importorskip("torch")
    ms.manual_seed(2)
    ours = nn.Conv2d(16, 32, 3).weight.data.ravel()
    theirs = torch.nn.Conv2d(16, 32, 3).weight.detach().numpy().ravel()
    # both U(-b, b), b = 1/sqrt(144): same range and the uniform's standard deviation b/sqrt(3)
    b = 1 / 12
    for w in (ours, theirs):
        assert w.min() >= -b and w.max() <= b
        assert abs(w.std() - b / np.sqrt(3)) < 0.05 * b


# -- pooling and Flatten ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda m: m.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
    lambda m: m.MaxPool2d((2, 3), dilation=(2, 1)),
    lambda m: m.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
    lambda m: m.AvgPool2d(2, ceil_mode=True, divisor_override=3),
    lambda m: m.AdaptiveAvgPool2d((2, None)),
    lambda m: m.AdaptiveAvgPool2d(1),
    lambda m: m.Flatten(),
    lambda m: m.Flatten(0, 2),
    lambda m: m.Flatten(-2),
])
def test_parameterless_layers_match_pytorch(make):
    torch = pytest.importorskip("torch")
    x = np.round(np.random.default_rng(0).standard_normal((2, 3, 7, 6)), 1)  # ties included
    ours, theirs = make(nn), make(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    t, tt = ms.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(t), theirs(tt)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12, atol=1e-14)


@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=4), data=st.data())
def test_flatten_merges_the_axes_it_is_given(shape, data):
    start = data.draw(st.integers(-len(shape), len(shape) - 1))
    end = data.draw(st.integers(start % len(shape), len(shape) - 1))
    x = data.draw(arrays(tuple(shape)))
    y = nn.Flatten(start, end)(ms.Tensor(x))
    s, e = start % len(shape), end
    assert y.shape == tuple(shape[:s]) + (int(np.prod(shape[s : e + 1])),) + tuple(shape[e + 1 :])
    np.testing.assert_array_equal(y.data.ravel(), x.ravel())
    check_gradients(lambda t: nn.Flatten(start, end)(t), x)


def test_flatten_refuses_a_start_after_the_end():
    with pytest.raises(ValueError, match=r"start_dim 2 comes after end_dim 1 for an input of shape \(2, 3, 4\)"):
        nn.Flatten(2, 1)(ms.zeros(2, 3, 4))


# -- BatchNorm2d ---------------------------------------------------------------------------------------------------
def test_batch_norm_buffers_and_parameters_have_pytorch_names_and_values():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(5), torch.nn.BatchNorm2d(5)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["weight", "bias"]
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, theirs.state_dict()[name].numpy())
        assert value.dtype == theirs.state_dict()[name].numpy().dtype
    assert list(nn.BatchNorm2d(5, affine=False).state_dict()) == list(torch.nn.BatchNorm2d(5, affine=False).state_dict())
    assert list(nn.BatchNorm2d(5, track_running_stats=False).state_dict()) == ["weight", "bias"]


@pytest.mark.parametrize("options", [
    dict(), dict(momentum=None), dict(momentum=0.3, eps=1e-3), dict(affine=False), dict(track_running_stats=False),
])
def test_batch_norm_train_steps_then_eval_match_pytorch(options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours, theirs = nn.BatchNorm2d(3, **options).double(), torch.nn.BatchNorm2d(3, **options).double()
    if ours.weight is not None:
        ours.weight.data[:] = rng.standard_normal(3)
        ours.bias.data[:] = rng.standard_normal(3)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    for step in range(4):  # train mode: the batch's statistics, and the running ones move
        x = rng.standard_normal((4, 3, 5, 6)) * (step + 1) + step
        t, tt = ms.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = ours(t), theirs(tt)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(y.shape)
        y.backward(g)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-9, atol=1e-11)
        for name, p in ours.named_parameters():
            np.testing.assert_allclose(p.grad, getattr(theirs, name).grad.numpy(), rtol=1e-9, atol=1e-11)
    for name, value in ours.state_dict().items():  # running_var is the unbiased one, num_batches_tracked counts
        np.testing.assert_allclose(value, theirs.state_dict()[name].numpy(), rtol=1e-12, atol=1e-14)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(ours(ms.Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_eval_mode_leaves_the_running_statistics_alone():
    bn = nn.BatchNorm2d(2)
    y = bn(ms.Tensor(np.random.default_rng(0).standard_normal((3, 2, 2, 2)).astype(np.float32)))
    assert y.dtype == bn.running_mean.dtype == bn.running_var.dtype == np.float32  # float32 stays float32
    before = {k: v.copy() for k, v in bn.state_dict().items()}
    assert before["num_batches_tracked"] == 1
    bn.eval()(ms.randn(3, 2, 2, 2))
    for name, value in bn.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_batch_norm_state_dict_round_trip_and_double():
    bn = nn.BatchNorm2d(3)
    bn(ms.randn(4, 3, 2, 2))
    other = nn.BatchNorm2d(3)
    other.load_state_dict(bn.state_dict())
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value, bn.state_dict()[name])
    assert other.num_batches_tracked.dtype == np.int64
    other.double()
    assert other.running_mean.dtype == np.float64 and other.num_batches_tracked.dtype == np.int64
    with pytest.raises(ValueError, match=r"running_var: shape \(4,\) and dtype float32 in the state, \(3,\)"):
        nn.BatchNorm2d(3).load_state_dict(dict(bn.state_dict(), running_var=np.ones(4, np.float32)))
    with pytest.raises(ValueError, match=r"missing: num_batches_tracked"):
        nn.BatchNorm2d(3).load_state_dict({k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"})


def test_batch_norm_buffers_are_not_parameters_and_get_no_gradient():
    bn = nn.BatchNorm2d(2)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    bn(ms.randn(3, 2, 2, 2, requires_grad=True)).sum().backward()
    assert all(not b.requires_grad and b.grad is None for _, b in bn.named_buffers())


@pytest.mark.parametrize("call, message", [
    (lambda: nn.BatchNorm2d(3)(ms.zeros(2, 4, 2, 2)), r"input \(2, 4, 2, 2\) has 4 channels, the layer expects 3"),
    (lambda: nn.BatchNorm2d(3)(ms.zeros(2, 3, 2)), r"expected an input of shape \(B, C, H, W\), got shape \(2, 3, 2\)"),
    (lambda: nn.BatchNorm2d(3)(ms.zeros(1, 3, 1, 1)), r"more than 1 value per channel"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), r"groups=4 must be a positive int dividing in_channels=4 and out_channels=6"),
    (lambda: nn.Conv2d(4, 6, 3, padding_mode="reflect"), r"only padding_mode='zeros'"),
    (lambda: nn.Conv2d(4, 6, 3, stride=2, padding="same"), r"padding='same' with stride \(2, 2\)"),
    (lambda: nn.Conv2d(4, 6, 3, padding="full"), r"padding must be 'valid', 'same' \(with stride 1\)"),
    (lambda: nn.Conv2d(3, 4, 3)(ms.zeros(1, 2, 5, 5)), r"input \(1, 2, 5, 5\) has 2 channels, weight \(4, 3, 3, 3\)"),
    (lambda: nn.MaxPool2d(4)(ms.zeros(1, 1, 3, 3)), r"larger than the padded input \(3, 3\)"),
])
def test_layer_errors_are_one_line(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_a_small_cnn_trains_end_to_end():
    ms.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding="same"),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2),
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 1, 8, 8)).astype(np.float32)
    labels = (x[:, 0, :4].mean(axis=(1, 2)) > x[:, 0, 4:].mean(axis=(1, 2))).astype(np.int64)  # top half brighter
    x[labels == 1, :, :4] += 1.0
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = ms.cross_entropy(model(ms.Tensor(x)), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_a_checkpoint_keeps_the_running_statistics(tmp_path):
    from microseq.checkpoint import load_checkpoint, save_checkpoint

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    model(ms.randn(4, 1, 5, 5))
    save_checkpoint(tmp_path / "cnn.msq", model)
    restored = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    load_checkpoint(tmp_path / "cnn.msq", restored)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(restored.state_dict()[name], value)
        assert restored.state_dict()[name].dtype == value.dtype
    assert restored.state_dict()["1.num_batches_tracked"] == 1


def test_register_buffer_takes_tensors_and_keeps_a_reassigned_buffer():
    module = nn.Module()
    with pytest.raises(TypeError, match=r"register_buffer: 'scale' must be a Tensor \(not a Parameter\) or None"):
        module.register_buffer("scale", nn.Parameter(np.ones(2)))
    module.register_buffer("scale", ms.ones(2))
    module.scale = ms.zeros(3)  # reassigning keeps it a buffer, with the new value
    assert list(module.state_dict()) == ["scale"] and module.state_dict()["scale"].shape == (3,)
    assert list(module.parameters()) == []
