"""The PyTorch rebuilds that the benchmark sets against microseq are the same models: same parameter shapes, and
one step of each side trains (speed lives in ``microseq bench``, not here)."""

import numpy as np
import pytest

from microseq import bench_models

torch = pytest.importorskip("torch")


def _values(parameter) -> np.ndarray:
    return parameter.detach().numpy().copy() if isinstance(parameter, torch.Tensor) else parameter.data.copy()


def _shapes(parameters) -> list:
    return sorted(tuple(p.shape) for p in parameters)


@pytest.mark.parametrize("name", list(bench_models.STEPS))
def test_a_training_step_rebuilt_in_pytorch_has_the_cli_models_parameters_and_both_steps_train(name):
    config = bench_models.step_config(name, quick=True)
    step, _, model = bench_models.microseq_step(config)
    torch_step, torch_model = bench_models.torch_step(config, _)
    # PyTorch keeps a recurrent layer's two biases apart as microseq does: the shapes agree one for one
    assert _shapes(torch_model.parameters()) == _shapes(model.parameters())
    for train, parameters in ((torch_step, list(torch_model.parameters())), (step, list(model.parameters()))):
        before = [_values(p) for p in parameters]
        train()
        assert all(not np.array_equal(a, _values(p)) for a, p in zip(before, parameters))  # Adam moved every one


def test_the_cnn_rows_cover_every_layer_of_the_caption_encoder_but_relu_then_the_whole_encoder():
    steps = bench_models.cnn_layers(quick=True)
    names = list(steps)
    assert [n.split()[0] for n in names] == ["conv2d", "batchnorm2d", "max_pool2d"] * 3 + ["encoder,"]
    assert names[0] == "conv2d 3->16 3x3 2x3x8x8" and names[3].startswith("conv2d 16->32 3x3 2x16x4x4")
    for step, torch_step in steps.values():
        step()
        torch_step()


def test_a_torch_twin_has_its_layers_settings():
    from microseq.nn import BatchNorm2d, Conv2d, MaxPool2d

    conv = bench_models._torch_layer(torch, Conv2d(3, 8, 3, padding=1, bias=False))
    assert conv.weight.shape == (8, 3, 3, 3) and conv.bias is None and conv.padding == (1, 1)
    assert bench_models._torch_layer(torch, BatchNorm2d(5)).num_features == 5
    assert bench_models._torch_layer(torch, MaxPool2d(2)).kernel_size == 2
    with pytest.raises(ValueError, match="no PyTorch twin for Linear"):
        from microseq.nn import Linear

        bench_models._torch_layer(torch, Linear(2, 2))
