"""``Recurrent`` (any cell over a sequence) and Keras's ``Bidirectional`` wrapper with its merge modes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq import nn

from .recurrent_cases import Case, as_states, cases, run

CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}


def _copy(source, target, renames: dict) -> None:
    """target.<new> = a copy of source.<old> for every (old -> new) in ``renames``."""
    for old, new in renames.items():
        getattr(target, new).data = getattr(source, old).data.copy()


def _cell_names(bias: bool) -> list[str]:
    return ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else [])


def _wrapper_state(states: list, direction: int):
    """The initial state of one direction in a cell's own format: h (B, H) or (h, c)."""
    parts = tuple(ms.Tensor(s[direction], requires_grad=True) for s in states)
    return parts if len(parts) == 2 else parts[0]


@pytest.mark.parametrize("kind", sorted(CELLS))
@given(case=cases(num_layers=1, bidirectional=True, batch_first=False))
def test_wrapped_cells_equal_a_bidirectional_layer(kind, case):
    """Bidirectional(cell) with concat is PyTorch's one-layer bidirectional layer, gradients included."""
    case = case.with_(kind=kind, nonlinearity="tanh")
    layer = case.layer(fused=True)
    options = {"nonlinearity": "tanh"} if kind == "RNN" else {}
    wrapper = nn.Bidirectional(CELLS[kind](case.input_size, case.hidden_size, bias=case.bias, dtype=np.float64, **options))
    names = _cell_names(case.bias)
    _copy(layer, wrapper.forward_layer.cell, {f"{n}_l0": n for n in names})
    _copy(layer, wrapper.backward_layer.cell, {f"{n}_l0_reverse": n for n in names})

    x, states = case.input(), case.initial_states()
    upstream = case.upstream()
    expected = run(layer, x, states, case.lengths, upstream)

    inputs = ms.Tensor(x, requires_grad=True)
    forward_state, backward_state = _wrapper_state(states, 0), _wrapper_state(states, 1)
    output, (final_forward, final_backward) = wrapper(inputs, (forward_state, backward_state), lengths=case.lengths)
    finals = [ms.stack([f, b]) for f, b in zip(as_states(final_forward), as_states(final_backward))]
    loss = sum((o * u).sum() for o, u in zip([output, *finals], upstream))
    loss.backward()

    np.testing.assert_allclose(output.data, expected["output"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(finals[0].data, expected["h_n"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(inputs.grad, expected["grad x"], rtol=0, atol=1e-12)
    initial = forward_state if isinstance(forward_state, tuple) else (forward_state,)
    initial_backward = backward_state if isinstance(backward_state, tuple) else (backward_state,)
    for name, f, b in zip(("h0", "c0"), initial, initial_backward):
        np.testing.assert_allclose(np.stack([f.grad, b.grad]), expected[f"grad {name}"], rtol=0, atol=1e-12)
    for name in names:
        np.testing.assert_allclose(getattr(wrapper.forward_layer.cell, name).grad, expected[f"grad {name}_l0"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(getattr(wrapper.backward_layer.cell, name).grad, expected[f"grad {name}_l0_reverse"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@given(case=cases(num_layers=1, bidirectional=True))
def test_wrapped_layer_equals_a_bidirectional_layer(case, fused):
    both = case.layer(fused)
    wrapper = nn.Bidirectional(case.with_(bidirectional=False).layer(fused))
    names = [name for name, _ in wrapper.forward_layer.named_parameters()]
    _copy(both, wrapper.forward_layer, {n: n for n in names})
    _copy(both, wrapper.backward_layer, {n + "_reverse": n for n in names})
    x = case.input()
    with ms.no_grad():
        expected, expected_h_n = both(x, lengths=case.lengths)
        output, (state_forward, state_backward) = wrapper(x, lengths=case.lengths)
    np.testing.assert_allclose(output.data, expected.data, rtol=0, atol=1e-12)
    for ours_f, ours_b, theirs in zip(as_states(state_forward), as_states(state_backward), as_states(expected_h_n)):
        np.testing.assert_allclose(ours_f.data[0], theirs.data[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(ours_b.data[0], theirs.data[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("merge_mode", ["sum", "mean", "mul", None])
@given(case=cases(num_layers=1, bidirectional=False, batch_first=False))
def test_merge_modes_combine_the_two_halves(case, merge_mode):
    ms.manual_seed(case.seed)
    wrapper = nn.Bidirectional(case.layer(), merge_mode="concat")
    x, H = case.input(), case.hidden_size
    with ms.no_grad():
        concat, _ = wrapper(x, lengths=case.lengths)
        wrapper.merge_mode = merge_mode
        merged, _ = wrapper(x, lengths=case.lengths)
    forward, backward = concat.data[..., :H], concat.data[..., H:]
    expected = {"sum": forward + backward, "mean": (forward + backward) / 2, "mul": forward * backward, None: (forward, backward)}[merge_mode]
    if merge_mode is None:
        np.testing.assert_array_equal(merged[0].data, expected[0])
        np.testing.assert_array_equal(merged[1].data, expected[1])
    else:
        np.testing.assert_allclose(merged.data, expected, rtol=0, atol=1e-15)
        if case.lengths is not None:
            padding = np.arange(case.steps)[:, None] >= np.array(case.lengths)[None, :]
            np.testing.assert_array_equal(merged.data[padding], 0)


@given(
    case=cases(max_steps=3, max_batch=2, max_size=2, num_layers=1, bidirectional=False, batch_first=False),
    merge_mode=st.sampled_from(["concat", "sum", "mean", "mul"]),
)
def test_bidirectional_gradients_match_finite_differences(case, merge_mode):
    cell = CELLS[case.kind](case.input_size, case.hidden_size, bias=case.bias, dtype=np.float64)
    wrapper = nn.Bidirectional(cell, merge_mode=merge_mode)
    parameters = dict(wrapper.named_parameters())

    def fn(x, *_parameters):  # the parameters are the wrapper's own tensors, perturbed in place by gradcheck
        output, (forward_state, backward_state) = wrapper(x, lengths=case.lengths)
        return (output, *as_states(forward_state), *as_states(backward_state))

    x = ms.Tensor(case.input(), requires_grad=True)
    ms.gradcheck(fn, [x, *parameters.values()], names=["x", *parameters])


def test_backward_layer_is_a_fresh_copy_named_like_keras():
    ms.manual_seed(0)
    wrapper = nn.Bidirectional(nn.LSTMCell(3, 4))
    names = [name for name, _ in wrapper.named_parameters()]
    assert names == [f"{side}_layer.cell.{n}" for side in ("forward", "backward") for n in _cell_names(True)]
    forward, backward = wrapper.forward_layer.cell, wrapper.backward_layer.cell
    for name in _cell_names(True):
        assert getattr(forward, name).shape == getattr(backward, name).shape
        assert not np.array_equal(getattr(forward, name).data, getattr(backward, name).data), name
        assert getattr(forward, name) is not getattr(backward, name)

    layer = nn.GRU(3, 4, batch_first=True)
    wrapper = nn.Bidirectional(layer)
    assert wrapper.forward_layer is layer and wrapper.batch_first
    assert not np.array_equal(layer.weight_ih_l0.data, wrapper.backward_layer.weight_ih_l0.data)
    output, _ = wrapper(ms.zeros(2, 5, 3), lengths=[5, 2])
    assert output.shape == (2, 5, 8)


# --------------------------------------------------------------------------------------------------
# Recurrent: any cell over a sequence
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(CELLS))
@given(case=cases(num_layers=1, bidirectional=False))
def test_recurrent_cell_equals_the_layer(kind, case):
    case = case.with_(kind=kind, nonlinearity="tanh")
    layer = case.layer(fused=True)
    cell = CELLS[kind](case.input_size, case.hidden_size, bias=case.bias, dtype=np.float64)
    _copy(layer, cell, {f"{n}_l0": n for n in _cell_names(case.bias)})
    recurrent = nn.Recurrent(cell, batch_first=case.batch_first)
    with ms.no_grad():
        expected, expected_h_n = layer(case.input(), lengths=case.lengths)
        output, state = recurrent(case.input(), lengths=case.lengths)
    np.testing.assert_allclose(output.data, expected.data, rtol=0, atol=1e-12)
    for ours, theirs in zip(as_states(state), as_states(expected_h_n)):
        np.testing.assert_allclose(ours.data, theirs.data[0], rtol=0, atol=1e-12)


class MinimalCell(nn.Module):
    """A user-written cell: h' = tanh(x A + h C), no reset_parameters."""

    def __init__(self, input_size, hidden_size, seed):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.hidden_size = hidden_size
        self.a = nn.Parameter(rng.standard_normal((input_size, hidden_size)))
        self.c = nn.Parameter(rng.standard_normal((hidden_size, hidden_size)))

    def forward(self, x, h=None):
        pre = x @ self.a
        return ms.tanh(pre if h is None else pre + h @ self.c)


def test_any_cell_can_be_wrapped_given_its_backward_layer():
    with pytest.raises(TypeError, match="MinimalCell has no reset_parameters"):
        nn.Bidirectional(MinimalCell(2, 3, seed=0))
    wrapper = nn.Bidirectional(MinimalCell(2, 3, seed=0), merge_mode="sum", backward_layer=MinimalCell(2, 3, seed=1))
    x = np.random.default_rng(2).standard_normal((4, 2, 2))
    lengths = [4, 2]
    output, _ = wrapper(x, lengths=lengths)

    def alone(cell, sequence):
        h, outs = None, []
        for step in sequence:
            h = cell(ms.Tensor(step[None]), h)
            outs.append(h.data[0])
        return np.array(outs)

    for b, length in enumerate(lengths):
        forward = alone(wrapper.forward_layer.cell, x[:length, b])
        backward = alone(wrapper.backward_layer.cell, x[:length, b][::-1])[::-1]
        np.testing.assert_allclose(output.data[:length, b], forward + backward, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(output.data[length:, b], 0)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nn.Bidirectional(nn.LSTM(2, 3, bidirectional=True)), ValueError, "already bidirectional"),
        (lambda: nn.Bidirectional(nn.GRUCell(2, 3), merge_mode="max"), ValueError, r"unknown merge_mode 'max'"),
        (lambda: nn.Bidirectional(nn.GRU(2, 3), backward_layer=nn.GRU(2, 3, batch_first=True)), ValueError, "disagree on batch_first"),
        (lambda: nn.Bidirectional(nn.GRUCell(2, 3))(ms.zeros(4, 2)), ValueError, r"3 dimensions \(T, B, F\), got shape \(4, 2\)"),
        (lambda: nn.Bidirectional(nn.GRUCell(2, 3))(ms.zeros(4, 2, 2), lengths=[5, 1]), ValueError, "longer than the input's 4 time steps"),
        (lambda: nn.Bidirectional(nn.GRUCell(2, 3))(ms.zeros(4, 2, 2), ms.zeros(2, 3)), TypeError, "pair"),
        (lambda: nn.Bidirectional(np.zeros(3)), TypeError, r"a cell \(a Module\), got ndarray"),
    ],
)
def test_bad_use_gives_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
