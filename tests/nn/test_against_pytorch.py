"""The strongest proof: PyTorch's own layers, weights copied in, float64, outputs and gradients within 1e-10.

Padded batches go through ``torch.nn.utils.rnn.pack_padded_sequence(enforce_sorted=False)``, PyTorch's
packed sequences, so this also pins the variable-length semantics (h_n after each sequence's last step, the
reverse direction starting at L_b - 1, zero outputs at padding). Skipped when PyTorch is not installed.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from .recurrent_cases import as_states, cases, run

torch = pytest.importorskip("torch")


def _torch_run(case, x: np.ndarray, states: list, upstream: list, state_dict: dict) -> dict[str, np.ndarray]:
    """The same forward + backward as ``recurrent_cases.run``, in PyTorch."""
    options = {"nonlinearity": case.nonlinearity} if case.kind == "RNN" else {}
    if case.proj_size:
        options["proj_size"] = case.proj_size
    layer = getattr(torch.nn, case.kind)(
        case.input_size, case.hidden_size, case.num_layers, bias=case.bias, batch_first=case.batch_first,
        bidirectional=case.bidirectional, dtype=torch.float64, **options,
    )
    layer.load_state_dict({name: torch.tensor(value) for name, value in state_dict.items()})
    inputs = torch.tensor(x, requires_grad=True)
    initial = [torch.tensor(s, requires_grad=True) for s in states]
    hx = tuple(initial) if len(initial) == 2 else initial[0]
    if case.lengths is None:
        output, h_n = layer(inputs, hx)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            inputs, torch.tensor(case.lengths), batch_first=case.batch_first, enforce_sorted=False
        )
        packed_output, h_n = layer(packed, hx)
        output, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_output, batch_first=case.batch_first, total_length=case.steps)
    finals = h_n if isinstance(h_n, tuple) else (h_n,)
    loss = sum((o * torch.tensor(u)).sum() for o, u in zip((output, *finals), upstream))
    loss.backward()
    results = {"output": output.detach().numpy(), "h_n": finals[0].detach().numpy(), "grad x": inputs.grad.numpy()}
    if len(finals) == 2:
        results["c_n"] = finals[1].detach().numpy()
    for name, tensor in zip(("h0", "c0"), initial):
        results[f"grad {name}"] = tensor.grad.numpy()
    for name, parameter in layer.named_parameters():
        results[f"grad {name}"] = parameter.grad.numpy()
    return results


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@given(data=cases(max_steps=6, max_batch=4, max_size=4))
def test_layer_matches_pytorch(kind, fused, data):
    case = data.with_(kind=kind, nonlinearity=data.nonlinearity if kind == "RNN" else "tanh")
    layer = case.layer(fused)
    x, states = case.input(), case.initial_states()
    upstream = case.upstream()
    ours = run(layer, x, states, case.lengths, upstream)
    theirs = _torch_run(case, x, states, upstream, layer.state_dict())
    assert ours.keys() == theirs.keys()
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-10, err_msg=f"{case}: {name}")


@given(data=cases(max_steps=5, max_batch=3, kind="LSTM", hidden_size=3).flatmap(
    lambda case: st.integers(1, case.hidden_size - 1).map(lambda p: case.with_(proj_size=p))
))
def test_projected_lstm_matches_pytorch(data):
    case = data
    layer = case.layer(fused=False)
    x, states = case.input(), case.initial_states()
    upstream = case.upstream()
    ours = run(layer, x, states, case.lengths, upstream)
    theirs = _torch_run(case, x, states, upstream, layer.state_dict())
    assert ours.keys() == theirs.keys()
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-10, err_msg=f"{case}: {name}")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_float32_layer_is_close_to_pytorch(kind):
    from microseq import nn

    layer = getattr(nn, kind)(5, 8, 2, bidirectional=True)
    reference = getattr(torch.nn, kind)(5, 8, 2, bidirectional=True)
    reference.load_state_dict({name: torch.tensor(value) for name, value in layer.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((7, 3, 5)).astype(np.float32)
    output, h_n = layer(x)
    expected, expected_h_n = reference(torch.tensor(x))
    np.testing.assert_allclose(output.data, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    for ours, theirs in zip(as_states(h_n), expected_h_n if kind == "LSTM" else (expected_h_n,)):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
