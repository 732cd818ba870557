"""RNN, LSTM, GRU layers: gradients, fused == composed, padding, permutations, directions, PyTorch layout.

Every property runs on float64 layers with small drawn sizes (see ``recurrent_cases``). The comparison with
PyTorch itself is in ``test_against_pytorch.py``.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq import nn

from .recurrent_cases import Case, as_states, assert_same_results, cases, run

COMBINATIONS = list(
    itertools.product(["RNN", "LSTM", "GRU"], [1, 2], [False, True], [False, True], [False, True], [False, True])
)


def _time_major(array: np.ndarray, case: Case) -> np.ndarray:
    return array.swapaxes(0, 1) if case.batch_first else array


# --------------------------------------------------------------------------------------------------
# The two engines agree
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, num_layers, bidirectional, batch_first, ragged, bias", COMBINATIONS)
def test_fused_equals_composed_for_every_combination(kind, num_layers, bidirectional, batch_first, ragged, bias):
    case = Case(
        kind, num_layers, bidirectional, batch_first, bias, steps=4, batch=3, input_size=2, hidden_size=3,
        lengths=(4, 1, 3) if ragged else None, seed=num_layers + 2 * bidirectional + 4 * batch_first,
    )
    expected = run(case.layer(fused=False), case.input(), case.initial_states(), case.lengths)
    actual = run(case.layer(fused=True), case.input(), case.initial_states(), case.lengths)
    assert_same_results(actual, expected, what=str(case))


@given(cases(), st.booleans())
def test_fused_equals_composed_on_drawn_layers(case, give_states):
    states = case.initial_states() if give_states else None
    expected = run(case.layer(fused=False), case.input(), states, case.lengths)
    actual = run(case.layer(fused=True), case.input(), states, case.lengths)
    assert_same_results(actual, expected, what=str(case))


def test_fused_path_is_one_tape_node_per_layer():
    case = Case("LSTM", num_layers=2, bidirectional=True)
    layer = case.layer(fused=True)
    output, (h_n, c_n) = layer(ms.Tensor(case.input(), requires_grad=True))
    ops = [node.op for node in ms.tape_of(output.sum() + h_n.sum() + c_n.sum())]
    assert ops.count("lstm (fused, both directions)") == 2 and "lstm (fused)" not in ops
    assert not {"sigmoid", "tanh", "matmul"} & set(ops)

    layer.fused = False
    output, _ = layer(ms.Tensor(case.input(), requires_grad=True))
    assert not any(op.startswith("lstm (fused") for op in [node.op for node in ms.tape_of(output)])


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_float32_fused_and_composed_agree(kind):
    ms.manual_seed(0)
    layer = nn.LSTM(3, 4, 2, bidirectional=True) if kind == "LSTM" else getattr(nn, kind)(3, 4, 2, bidirectional=True)
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    fused = run(layer, x, lengths=[5, 3])
    layer.fused = False
    composed = run(layer, x, lengths=[5, 3])
    for name in composed:
        assert fused[name].dtype == np.float32, name
        np.testing.assert_allclose(fused[name], composed[name], rtol=1e-4, atol=1e-5, err_msg=name)


# --------------------------------------------------------------------------------------------------
# Gradients against finite differences
# --------------------------------------------------------------------------------------------------
def _gradcheck_layer(case: Case, fused: bool, fast: bool) -> None:
    layer = case.layer(fused=fused)
    states = [ms.Tensor(s, requires_grad=True) for s in case.initial_states()]
    parameters = dict(layer.named_parameters())
    count = len(states)

    def fn(x, *rest):
        hx = tuple(rest[:count]) if count == 2 else rest[0]
        output, h_n = layer(x, hx, lengths=case.lengths)
        return (output, *as_states(h_n))

    inputs = [ms.Tensor(case.input(), requires_grad=True), *states, *parameters.values()]
    names = ["x", "h0", "c0"][: 1 + count] + list(parameters)
    ms.gradcheck(fn, inputs, names=names, fast=fast)


@given(cases(max_steps=3, max_batch=2, max_size=2))
def test_fused_layer_gradients_match_finite_differences_elementwise(case):
    _gradcheck_layer(case, fused=True, fast=False)


@given(cases(max_steps=3, max_batch=2, max_size=2))
def test_composed_layer_gradients_match_finite_differences_elementwise(case):
    _gradcheck_layer(case, fused=False, fast=False)


@given(cases(max_steps=6, max_batch=4, max_size=4))
def test_layer_gradients_along_random_directions_on_larger_sizes(case):
    # PyTorch's fast mode: one random direction per input, so that larger layers stay cheap to check
    _gradcheck_layer(case, fused=True, fast=True)
    _gradcheck_layer(case, fused=False, fast=True)


@pytest.mark.slow  # an element-by-element check of every parameter, 25 times: a tenth of the default suite's time
@given(cases(max_steps=3, max_batch=2, max_size=2, kind="LSTM", hidden_size=3).flatmap(
    lambda case: st.integers(1, 2).map(lambda p: case.with_(proj_size=p))
))
def test_projected_lstm_gradients_match_finite_differences(case):
    _gradcheck_layer(case, fused=False, fast=False)


# --------------------------------------------------------------------------------------------------
# Padding, batch order, directions
# --------------------------------------------------------------------------------------------------
@st.composite
def ragged_cases(draw, **fixed):
    """A case whose batch is padded: lengths always given."""
    steps = draw(st.integers(1, 5))
    batch = draw(st.integers(1, 3))
    lengths = tuple(draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch)))
    return draw(cases(steps=steps, batch=batch, lengths=lengths, **fixed))


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@given(case=ragged_cases())
def test_padded_batch_equals_each_sequence_run_alone(case, fused):
    layer = case.layer(fused)
    x, states = case.input(), case.initial_states()
    upstream = case.upstream()
    together = run(layer, x, states, case.lengths, upstream)

    x_tm, out_tm = _time_major(x, case), _time_major(together["output"], case)
    v_tm, gx_tm = _time_major(upstream[0], case), _time_major(together["grad x"], case)
    parameter_grads = {name: 0.0 for name in together if name.startswith("grad ") and name[5:] in dict(layer.named_parameters())}
    for b, length in enumerate(case.lengths):
        sequence = x_tm[:length, b : b + 1]
        alone = run(
            layer,
            sequence.swapaxes(0, 1) if case.batch_first else sequence,
            [s[:, b : b + 1] for s in states],
            None,
            [v_tm[:length, b : b + 1].swapaxes(0, 1) if case.batch_first else v_tm[:length, b : b + 1]]
            + [u[:, b : b + 1] for u in upstream[1:]],
        )
        alone_out = _time_major(alone["output"], case)
        np.testing.assert_allclose(out_tm[:length, b], alone_out[:, 0], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(out_tm[length:, b], 0)
        for name in ("h_n", "c_n", "grad h0", "grad c0"):
            if name in alone:
                np.testing.assert_allclose(together[name][:, b], alone[name][:, 0], rtol=0, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(gx_tm[:length, b], _time_major(alone["grad x"], case)[:, 0], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(gx_tm[length:, b], 0)
        for name in parameter_grads:
            parameter_grads[name] = parameter_grads[name] + alone[name]
    for name, total in parameter_grads.items():
        np.testing.assert_allclose(together[name], total, rtol=0, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@pytest.mark.parametrize("garbage", [0.0, -7.5, np.inf, np.nan])
@given(case=ragged_cases())
def test_padding_values_never_change_outputs_or_gradients(case, fused, garbage):
    layer = case.layer(fused)
    x = case.input()
    reference = run(layer, x, case.initial_states(), case.lengths)
    padded = _time_major(x, case).copy()
    padded[np.arange(case.steps)[:, None] >= np.array(case.lengths)[None, :]] = garbage
    refilled = run(layer, _time_major(padded, case), case.initial_states(), case.lengths)
    for name in reference:
        np.testing.assert_array_equal(refilled[name], reference[name], err_msg=name)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@given(case=cases(), data=st.data())
def test_permuting_the_batch_permutes_the_results(case, fused, data):
    permutation = np.array(data.draw(st.permutations(range(case.batch))))
    layer = case.layer(fused)
    x, states = case.input(), case.initial_states()
    upstream = case.upstream()
    batch_axis = 0 if case.batch_first else 1
    original = run(layer, x, states, case.lengths, upstream)
    permuted = run(
        layer,
        np.take(x, permutation, axis=batch_axis),
        [s[:, permutation] for s in states],
        None if case.lengths is None else np.array(case.lengths)[permutation],
        [np.take(upstream[0], permutation, axis=batch_axis)] + [u[:, permutation] for u in upstream[1:]],
    )
    for name in ("output", "grad x"):
        np.testing.assert_allclose(permuted[name], np.take(original[name], permutation, axis=batch_axis), rtol=0, atol=1e-12)
    for name in ("h_n", "c_n", "grad h0", "grad c0"):
        if name in original:
            np.testing.assert_allclose(permuted[name], original[name][:, permutation], rtol=0, atol=1e-12, err_msg=name)
    for name, parameter in layer.named_parameters():
        np.testing.assert_allclose(permuted[f"grad {name}"], original[f"grad {name}"], rtol=0, atol=1e-11, err_msg=name)


def _reverse_each(x_tm: np.ndarray, lengths) -> np.ndarray:
    """Each sequence of a time-major batch reversed within its length (NumPy, independent of microseq)."""
    out = x_tm.copy()
    for b, length in enumerate(lengths if lengths is not None else [len(x_tm)] * x_tm.shape[1]):
        out[:length, b] = x_tm[:length, b][::-1]
    return out


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@given(case=cases(num_layers=1, bidirectional=True))
def test_reverse_half_is_a_forward_layer_on_reversed_sequences(case, fused):
    both = case.layer(fused)
    forward_only = case.with_(bidirectional=False).layer(fused)
    for name, parameter in forward_only.named_parameters():
        parameter.data = getattr(both, name + "_reverse").data.copy()
    states = case.initial_states()
    x = case.input()
    with ms.no_grad():
        output, h_n = both(x, _hx(states), lengths=case.lengths)
        reversed_input = _time_major(_reverse_each(_time_major(x, case), case.lengths), case)
        reverse_output, reverse_h_n = forward_only(reversed_input, _hx([s[1:] for s in states]), lengths=case.lengths)
    H = case.hidden_size
    expected = _reverse_each(_time_major(reverse_output.data, case), case.lengths)
    np.testing.assert_allclose(_time_major(output.data, case)[..., H:], expected, rtol=0, atol=1e-12)
    for ours, theirs in zip(as_states(h_n), as_states(reverse_h_n)):
        np.testing.assert_allclose(ours.data[1], theirs.data[0], rtol=0, atol=1e-12)
    if case.lengths is None:  # REFERENCE.md: output[-1, :, :H] == h_n[-2] and output[0, :, H:] == h_n[-1]
        out_tm, h = _time_major(output.data, case), as_states(h_n)[0].data
        np.testing.assert_array_equal(out_tm[-1, :, :H], h[-2])
        np.testing.assert_array_equal(out_tm[0, :, H:], h[-1])


def _hx(states):
    return tuple(ms.Tensor(s) for s in states) if len(states) == 2 else ms.Tensor(states[0])


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@given(case=cases())
def test_missing_initial_state_equals_zeros(case, fused):
    layer = case.layer(fused)
    zeros = [np.zeros_like(s) for s in case.initial_states()]
    implicit = run(layer, case.input(), None, case.lengths)
    explicit = run(layer, case.input(), zeros, case.lengths)
    for name in implicit:
        np.testing.assert_array_equal(implicit[name], explicit[name], err_msg=name)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_equals_a_batch_of_one(kind, fused):
    case = Case(kind, num_layers=2, bidirectional=True, batch=1)
    layer = case.layer(fused)
    x, states = case.input(), case.initial_states()
    upstream = case.upstream()
    batched = run(layer, x, states, upstream=upstream)
    single = run(layer, x[:, 0], [s[:, 0] for s in states], upstream=[u[:, 0] for u in upstream])
    np.testing.assert_allclose(single["output"], batched["output"][:, 0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(single["grad x"], batched["grad x"][:, 0], rtol=0, atol=1e-13)
    for name in ("h_n", "c_n", "grad h0", "grad c0"):
        if name in batched:
            np.testing.assert_allclose(single[name], batched[name][:, 0], rtol=0, atol=1e-13, err_msg=name)


# --------------------------------------------------------------------------------------------------
# Dropout between layers
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_dropout_acts_between_layers_only_in_training(kind, fused):
    case = Case(kind, num_layers=2, bidirectional=True, lengths=(4, 2, 3))
    plain = case.layer(fused)
    dropped = case.layer(fused)
    dropped.dropout = 0.4
    x = ms.Tensor(case.input())

    dropped.eval()
    np.testing.assert_array_equal(dropped(x, lengths=case.lengths)[0].data, plain(x, lengths=case.lengths)[0].data)
    dropped.train()
    plain.train()  # p = 0 in training is the identity too
    np.testing.assert_array_equal(plain(x, lengths=case.lengths)[0].data, plain.eval()(x, lengths=case.lengths)[0].data)

    # Training: the first layer's whole output is dropped (inverted scaling), the second layer's is not.
    ms.manual_seed(11)
    output, _ = dropped(x, lengths=case.lengths)
    first, second = case.with_(num_layers=1).layer(fused), case.with_(num_layers=1, input_size=6).layer(fused)
    for name, parameter in first.named_parameters():
        parameter.data = getattr(dropped, name).data
    for name, parameter in second.named_parameters():
        parameter.data = getattr(dropped, name.replace("_l0", "_l1")).data
    ms.manual_seed(11)
    hidden, _ = first(x, lengths=case.lengths)
    expected, _ = second(ms.dropout(hidden, 0.4, training=True), lengths=case.lengths)
    np.testing.assert_array_equal(output.data, expected.data)
    assert not np.array_equal(output.data, plain(x, lengths=case.lengths)[0].data)


def test_dropout_with_one_layer_warns_and_does_nothing():
    with pytest.warns(UserWarning, match="between stacked layers"):
        layer = nn.GRU(2, 3, dropout=0.5, dtype=np.float64)
    x = ms.Tensor(np.ones((3, 2, 2)))
    np.testing.assert_array_equal(layer(x)[0].data, layer.eval()(x)[0].data)


# --------------------------------------------------------------------------------------------------
# Names, shapes, init
# --------------------------------------------------------------------------------------------------
EXPECTED_NAMES = {
    # torch.nn.LSTM(2, 3, num_layers=2, bidirectional=True).state_dict().keys()
    ("LSTM", 2, True, True): [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
        "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
    ],
    ("GRU", 1, True, False): ["weight_ih_l0", "weight_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse"],
    # torch.nn.LSTM(2, 3, bidirectional=True, proj_size=2).state_dict().keys()
    ("LSTM", 1, True, True, 2): [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
        "weight_hr_l0_reverse",
    ],
    ("RNN", 2, False, True): [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
    ],
}


@pytest.mark.parametrize("key", list(EXPECTED_NAMES), ids=str)
def test_state_dict_has_pytorch_names_shapes_and_init(key):
    kind, num_layers, bidirectional, bias, *proj = key
    hidden, gates, proj_size = 16, {"RNN": 1, "LSTM": 4, "GRU": 3}[kind], (proj[0] if proj else 0)
    options = {"proj_size": proj_size, "fused": False} if proj_size else {}
    layer = getattr(nn, kind)(5, hidden, num_layers, bias=bias, bidirectional=bidirectional, **options)
    state = layer.state_dict()
    assert list(state) == EXPECTED_NAMES[key]
    directions, out = (2 if bidirectional else 1), proj_size or hidden
    for name, value in state.items():
        rows = gates * hidden
        if name.startswith("bias"):
            assert value.shape == (rows,), name
        elif name.startswith("weight_hh"):
            assert value.shape == (rows, out), name
        elif name.startswith("weight_hr"):
            assert value.shape == (proj_size, hidden), name
        else:
            assert value.shape == (rows, 5 if "_l0" in name else directions * out), name
        assert np.abs(value).max() <= 1 / np.sqrt(hidden), name
        assert value.dtype == np.float32
    assert layer.load_state_dict(state) == ([], [])


def test_repr_reads_like_pytorch():
    assert repr(nn.LSTM(10, 20, num_layers=2, batch_first=True)) == "LSTM(10, 20, num_layers=2, batch_first=True)"
    assert repr(nn.RNN(3, 4, nonlinearity="relu", fused=False)) == "RNN(3, 4, fused=False, nonlinearity='relu')"


def test_double_converts_the_layer():
    layer = nn.GRU(2, 3).double()
    output, h_n = layer(np.ones((4, 1, 2)))
    assert output.dtype == h_n.dtype == np.float64


# --------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------
def _lstm():
    return nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=np.float64)


def _x(*shape):
    return ms.Tensor(np.zeros(shape))


BAD_INPUT = [
    ("rank", lambda: _lstm()(_x(2, 3, 4, 3)), ValueError, r"LSTM: expected input of 3 dimensions \(T, B, I\).*got shape \(2, 3, 4, 3\)"),
    ("rank batch_first", lambda: nn.GRU(3, 4, batch_first=True, dtype=np.float64)(_x(3)), ValueError, r"\(B, T, I\).*got shape \(3,\)"),
    ("features", lambda: _lstm()(_x(5, 2, 7)), ValueError, r"LSTM: input has 7 features \(shape \(5, 2, 7\)\), expected input_size=3"),
    ("dtype", lambda: _lstm()(ms.zeros(5, 2, 3)), TypeError, r"input has dtype float32, the layer's parameters float64"),
    ("h0 shape", lambda: nn.GRU(3, 4, dtype=np.float64)(_x(5, 2, 3), _x(2, 2, 4)), ValueError, r"h0 has shape \(2, 2, 4\), expected \(1, 2, 4\)"),
    ("c0 shape", lambda: _lstm()(_x(5, 2, 3), (_x(4, 2, 4), _x(4, 3, 4))), ValueError, r"c0 has shape \(4, 3, 4\), expected \(4, 2, 4\)"),
    ("hx not a pair", lambda: _lstm()(_x(5, 2, 3), _x(4, 2, 4)), TypeError, r"LSTM: hx must be a pair \(h0, c0\)"),
    ("too long", lambda: _lstm()(_x(5, 2, 3), lengths=[5, 6]), ValueError, r"length 6 of sequence 1 is longer than the input's 5 time steps"),
    ("zero length", lambda: _lstm()(_x(5, 2, 3), lengths=[0, 5]), ValueError, r"at least 1, got 0 for sequence 0"),
    ("lengths shape", lambda: _lstm()(_x(5, 2, 3), lengths=[5, 5, 5]), ValueError, r"lengths has shape \(3,\), expected \(2,\)"),
    ("lengths dtype", lambda: _lstm()(_x(5, 2, 3), lengths=[5.0, 2.0]), TypeError, r"lengths must be integers, got dtype float64"),
    ("unbatched lengths", lambda: _lstm()(_x(5, 3), lengths=[5]), ValueError, r"lengths need a batched input"),
    ("nonlinearity", lambda: nn.RNN(3, 4, nonlinearity="gelu"), ValueError, r"RNN: unknown nonlinearity 'gelu'; expected one of 'tanh', 'relu'"),
    ("dropout", lambda: nn.GRU(3, 4, 2, dropout=1.5), ValueError, r"dropout must be a probability in \[0, 1\], got 1.5"),
    ("num_layers", lambda: nn.GRU(3, 4, 0), ValueError, r"num_layers must be a positive integer, got 0"),
    ("proj_size fused", lambda: nn.LSTM(3, 4, proj_size=2), ValueError, r"proj_size=2 runs on the composed path only.*fused=False"),
    ("proj_size fused later", lambda: setattr(nn.LSTM(3, 4, proj_size=2, fused=False), "fused", True), ValueError, r"fused=False"),
    ("proj_size too big", lambda: nn.LSTM(3, 4, proj_size=4, fused=False), ValueError, r"proj_size must be an integer in \[0, hidden_size=4\), got 4"),
    ("h0 shape proj", lambda: nn.LSTM(3, 4, proj_size=2, fused=False, dtype=np.float64)(_x(5, 2, 3), (_x(1, 2, 4), _x(1, 2, 4))), ValueError, r"h0 has shape \(1, 2, 4\), expected \(1, 2, 2\)"),
    ("empty", lambda: _lstm()(_x(0, 2, 3)), ValueError, r"input of shape \(0, 2, 3\) is empty"),
    ("LSTM hidden_size 0", lambda: nn.LSTM(4, 0), ValueError, r"^LSTM: hidden_size must be a positive integer, got 0$"),
    ("proj_size on GRU", lambda: nn.GRU(4, 8, proj_size=2), ValueError, r"GRU: proj_size is supported by LSTM only"),
    ("LSTM float16", lambda: nn.LSTM(4, 8, dtype=np.float16), TypeError, r"^LSTM: dtype float16 is not supported; expected float32 or float64$"),
    ("RNN int64", lambda: nn.RNN(4, 8, dtype=np.int64), TypeError, r"^RNN: dtype int64 is not supported; expected float32 or float64$"),
    ("GRU not a dtype", lambda: nn.GRU(4, 8, dtype="half-ish"), TypeError, r"^GRU: dtype 'half-ish' is not a NumPy dtype; expected float32 or float64$"),
]


@pytest.mark.parametrize("call, error, message", [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_gives_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
