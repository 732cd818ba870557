"""RNNCell, LSTMCell, GRUCell: the equations, their gradients, PyTorch's names, shapes and numerics."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq import nn

CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def reference_step(kind, x, state, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """The REFERENCE.md equations in plain NumPy (row vectors, x W^T + b)."""
    b_ih = 0 if b_ih is None else b_ih
    b_hh = 0 if b_hh is None else b_hh
    if kind == "RNN":
        pre = x @ w_ih.T + b_ih + state @ w_hh.T + b_hh
        return np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0)
    if kind == "LSTM":
        h, c = state
        i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=-1)
        c_next = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c_next), c_next
    x_r, x_z, x_n = np.split(x @ w_ih.T + b_ih, 3, axis=-1)
    h_r, h_z, h_n = np.split(state @ w_hh.T + b_hh, 3, axis=-1)
    r, z = _sigmoid(x_r + h_r), _sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    return (1 - z) * n + z * state


@st.composite
def cell_cases(draw):
    """(cell in float64, x, state arrays) with drawn kind, sizes, bias, nonlinearity, batched or not."""
    kind = draw(st.sampled_from(sorted(CELLS)))
    batch = draw(st.none() | st.integers(1, 3))  # None: an unbatched (I,) input
    input_size, hidden_size = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    options = {"nonlinearity": draw(st.sampled_from(["tanh", "relu"]))} if kind == "RNN" else {}
    ms.manual_seed(draw(st.integers(0, 2**16)))
    cell = CELLS[kind](input_size, hidden_size, bias=draw(st.booleans()), dtype=np.float64, **options)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    lead = () if batch is None else (batch,)
    x = rng.standard_normal(lead + (input_size,))
    states = [rng.standard_normal(lead + (hidden_size,)) for _ in range(2 if kind == "LSTM" else 1)]
    return kind, cell, x, states


def _call(cell, x, states):
    return cell(x, tuple(states) if len(states) == 2 else states[0])


@given(cell_cases())
def test_cell_follows_the_reference_equations(case):
    kind, cell, x, states = case
    expected = reference_step(
        kind, x, tuple(states) if kind == "LSTM" else states[0],
        *(None if p is None else p.data for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)),
        nonlinearity=getattr(cell, "nonlinearity", "tanh"),
    )
    result = _call(cell, ms.Tensor(x), [ms.Tensor(s) for s in states])
    for got, want in zip(result if kind == "LSTM" else (result,), expected if kind == "LSTM" else (expected,)):
        np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)


@given(cell_cases())
def test_cell_gradients_match_finite_differences(case):
    kind, cell, x, states = case
    inputs = [ms.Tensor(x, requires_grad=True)] + [ms.Tensor(s, requires_grad=True) for s in states]
    names = ["x", "h", "c"][: len(inputs)]
    parameters = dict(cell.named_parameters())
    count = len(inputs)

    def fn(*tensors):
        return _call(cell, tensors[0], list(tensors[1:count]))

    ms.gradcheck(fn, inputs + list(parameters.values()), names=names + list(parameters))


@given(cell_cases())
def test_missing_state_means_zeros(case):
    kind, cell, x, states = case
    zeros = [np.zeros_like(s) for s in states]
    implicit = cell(ms.Tensor(x))
    explicit = _call(cell, ms.Tensor(x), [ms.Tensor(z) for z in zeros])
    for a, b in zip(implicit if kind == "LSTM" else (implicit,), explicit if kind == "LSTM" else (explicit,)):
        np.testing.assert_array_equal(a.data, b.data)


@given(cell_cases())
def test_unbatched_input_equals_a_batch_of_one(case):
    kind, cell, x, states = case
    if x.ndim == 2:  # take the first sequence of the batch
        x, states = x[0], [s[0] for s in states]
    single = _call(cell, ms.Tensor(x), [ms.Tensor(s) for s in states])
    batch = _call(cell, ms.Tensor(x[None]), [ms.Tensor(s[None]) for s in states])
    for a, b in zip(single if kind == "LSTM" else (single,), batch if kind == "LSTM" else (batch,)):
        assert a.shape == b.shape[1:]
        np.testing.assert_allclose(a.data, b.data[0], rtol=0, atol=1e-14)


@pytest.mark.parametrize("kind", sorted(CELLS))
@pytest.mark.parametrize("bias", [True, False])
def test_parameters_have_pytorch_names_shapes_and_init(kind, bias):
    hidden = 16
    cell = CELLS[kind](5, hidden, bias=bias)
    rows = GATES[kind] * hidden
    expected = {"weight_ih": (rows, 5), "weight_hh": (rows, hidden)}
    if bias:
        expected.update(bias_ih=(rows,), bias_hh=(rows,))
    assert {name: p.shape for name, p in cell.named_parameters()} == expected
    assert list(cell.state_dict()) == list(expected)
    bound = 1 / np.sqrt(hidden)
    for name, parameter in cell.named_parameters():
        assert parameter.dtype == np.float32
        assert np.abs(parameter.data).max() <= bound, name
        assert np.abs(parameter.data).max() > 0.5 * bound, f"{name} does not fill U(-1/sqrt(H), 1/sqrt(H))"
    if not bias:
        assert cell.bias_ih is None and cell.bias_hh is None


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_same_seed_gives_the_same_cell_and_float32_runs(kind):
    ms.manual_seed(3)
    a = CELLS[kind](3, 4)
    ms.manual_seed(3)
    b = CELLS[kind](3, 4)
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    out = a(ms.Tensor(np.ones((2, 3), dtype=np.float32)))
    assert (out[0] if kind == "LSTM" else out).dtype == np.float32


@pytest.mark.parametrize(
    "make, call, error, message",
    [
        (lambda: nn.RNNCell(3, 4), lambda c: c(ms.zeros(2, 2, 3)), ValueError, r"\(B, I\) or \(I,\).*\(2, 2, 3\)"),
        (lambda: nn.GRUCell(3, 4), lambda c: c(ms.zeros(2, 5)), ValueError, r"5 features.*input_size=3"),
        (lambda: nn.GRUCell(3, 4), lambda c: c(ms.zeros(2, 3), ms.zeros(3, 4)), ValueError, r"hx has shape \(3, 4\), expected \(2, 4\)"),
        (lambda: nn.LSTMCell(3, 4), lambda c: c(ms.zeros(2, 3), (ms.zeros(2, 4), ms.zeros(2, 5))), ValueError, r"c has shape \(2, 5\), expected \(2, 4\)"),
        (lambda: nn.LSTMCell(3, 4), lambda c: c(ms.zeros(2, 3), ms.zeros(2, 4)), TypeError, r"pair \(h, c\)"),
        (lambda: nn.RNNCell(3, 4), lambda c: c(ms.zeros(2, 3, dtype=np.float64)), TypeError, r"float64.*float32"),
        (lambda: nn.RNNCell(3, 4, nonlinearity="sigmoid"), None, ValueError, r"unknown nonlinearity 'sigmoid'.*'tanh', 'relu'"),
        (lambda: nn.LSTMCell(0, 4), None, ValueError, r"must be positive, got 0 and 4"),
    ],
)
def test_bad_input_gives_a_clear_error(make, call, error, message):
    with pytest.raises(error, match=message):
        cell = make()
        call(cell)


# --------------------------------------------------------------------------------------------------
# Against PyTorch's cells, weights copied, float64
# --------------------------------------------------------------------------------------------------
@given(cell_cases())
def test_cell_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    kind, cell, x, states = case
    options = {"nonlinearity": cell.nonlinearity} if kind == "RNN" else {}
    reference = getattr(torch.nn, f"{kind}Cell")(cell.input_size, cell.hidden_size, bias=cell.bias, dtype=torch.float64, **options)
    reference.load_state_dict({name: torch.tensor(value) for name, value in cell.state_dict().items()})

    ours_inputs = [ms.Tensor(x, requires_grad=True)] + [ms.Tensor(s, requires_grad=True) for s in states]
    theirs_inputs = [torch.tensor(a, requires_grad=True) for a in [x] + states]
    ours = _call(cell, ours_inputs[0], ours_inputs[1:])
    theirs = reference(theirs_inputs[0], tuple(theirs_inputs[1:]) if kind == "LSTM" else theirs_inputs[1])
    ours, theirs = (ours, theirs) if kind == "LSTM" else ((ours,), (theirs,))
    rng = np.random.default_rng(0)
    upstream = [rng.standard_normal(o.shape) for o in ours]
    sum((o * u).sum() for o, u in zip(ours, upstream)).backward()
    sum((t * torch.tensor(u)).sum() for t, u in zip(theirs, upstream)).backward()

    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=0, atol=1e-10)
    for o, t in zip(ours_inputs, theirs_inputs):
        np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=0, atol=1e-10)
    for (name, p), (_, q) in zip(cell.named_parameters(), reference.named_parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=0, atol=1e-10, err_msg=name)
