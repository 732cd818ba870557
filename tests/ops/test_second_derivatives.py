"""Second derivatives: ``ms.gradgradcheck`` itself (it passes on correct rules and fails on a planted wrong
one), then Hypothesis property tests running it over every primitive (the op tables of the first-order tests,
imported, not copied), the recurrent cells and an attention step, in float64."""

import doctest
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microseq as ms
from microseq.gradcheck import GradcheckError
from microseq.nn.cells import gru_cell, lstm_cell, rnn_cell
from microseq.tensor import record
from microseq.testing import arrays, axes, broadcastable_shapes, check_second_derivatives, shapes

from .test_elementwise import CASES, IDS, case_inputs
from .test_loss import broadcasting_to, classification
from .test_reduction import REDUCTIONS, SOFTMAXES


# -- gradgradcheck itself ---------------------------------------------------------------------------
def cube_with_an_undifferentiable_rule(a):
    """``a**3`` whose backward rule is right (3 a^2 g) but reads ``a`` as a constant when it runs on Tensors:
    first derivatives are exact, second derivatives miss the 6 a term. What a rule closing over a saved
    array, or computing on ``.data``, does to ``create_graph=True``."""

    def rule(g, x, _y):
        x = x.detach() if isinstance(x, ms.Tensor) else x
        return (g * 3 * x * x,)

    return record("bad_cube", a.data**3, (a,), rule)


def test_gradgradcheck_passes_on_correct_rules():
    x, w = np.array([[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]]), np.array([[1.0], [-2.0], [0.5]])
    assert ms.gradgradcheck(lambda x, w: ms.tanh(x @ w), [x, w])
    assert ms.gradgradcheck(lambda x: (x**3, ms.exp(x).sum()), [x])  # two outputs, one a scalar
    assert ms.gradgradcheck(lambda x: x**3, [x], grad_outputs=[np.ones(x.shape)])


def test_gradgradcheck_fails_on_a_rule_that_is_right_only_at_first_order():
    x = np.array([0.5, -1.0, 2.0])
    assert ms.gradcheck(cube_with_an_undifferentiable_rule, [x])  # first order: right
    with pytest.raises(GradcheckError) as info:
        ms.gradgradcheck(cube_with_an_undifferentiable_rule, [x], names=["x"])
    message = str(info.value)
    assert message.startswith("gradgradcheck failed")
    assert "  x at index (2,): analytical" in message  # the worst element: 6 a v u is largest at a = 2
    assert not ms.gradgradcheck(cube_with_an_undifferentiable_rule, [x], raise_exception=False)
    with pytest.raises(GradcheckError, match="gradgradcheck failed"):
        check_second_derivatives(cube_with_an_undifferentiable_rule, x)


def test_gradgradcheck_checks_the_upstream_gradient_too():
    """d<u, v^T J>/dv = J u: a rule that reads the upstream gradient's values (``g.data``, as ``np.add.at``
    into a fresh array would) cuts ``v`` from the tape; first order cannot see it, the check through v does."""

    def rule(g, x, _y):
        g = ms.Tensor(g.data) if isinstance(g, ms.Tensor) else g
        return (g * 2 * x,)

    def square(a):
        return record("square_reading_g", a.data**2, (a,), rule)

    x = np.array([0.5, -1.0, 2.0])
    assert ms.gradcheck(square, [x])
    with pytest.raises(GradcheckError) as info:
        ms.gradgradcheck(square, [x], names=["x"])
    assert "upstream gradient of output 0 at index" in str(info.value)


def test_gradgradcheck_errors():
    with pytest.raises(GradcheckError, match="gradgradcheck: no input requires grad"):
        ms.gradgradcheck(ms.tanh, [ms.Tensor(np.ones(2))])
    with pytest.raises(GradcheckError, match=r"grad_outputs\[0\] has shape \(3,\), output 0 has \(2,\)"):
        ms.gradgradcheck(ms.tanh, [np.ones(2)], grad_outputs=[np.ones(3)])
    with pytest.raises(GradcheckError, match="gradgradcheck: .*has dtype float32"):
        ms.gradgradcheck(ms.tanh, [ms.Tensor(np.ones(2, np.float32), requires_grad=True)])


def test_check_second_derivatives_passes_constants_through():
    mask = np.array([True, False, True])
    check_second_derivatives(lambda x, m: ms.masked_fill(x * x, m, 0.0), np.array([1.0, 2.0, 3.0]), mask)


def test_check_second_derivatives_catches_a_rule_that_differs_on_tensors():
    """The rule must give the same first derivative on Tensors (create_graph) as on arrays."""

    def rule(g, x, _y):
        return (g * (3.0 if isinstance(x, ms.Tensor) else 2.0) * x,)

    def square(a):
        return record("square_twice", a.data**2, (a,), rule)

    with pytest.raises(GradcheckError, match="the gradient of x recorded with create_graph=True differs"):
        check_second_derivatives(square, np.array([0.5, -1.0]), names=["x"])


THIRD_ORDER = {  # scalar functions whose gradient (a function with history) gradgradcheck differentiates twice more
    "tanh": lambda x: ms.tanh(x).sum(),
    "softmax": lambda x: (ms.softmax(x, axis=-1) * np.array([1.0, -2.0, 0.5])).sum(),
    "getitem": lambda x: (x[:, np.array([0, 0, 2])] ** 3).sum(),
    "matmul": lambda x: ms.sigmoid(x @ np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]])).sum(),
}


@pytest.mark.parametrize("name", THIRD_ORDER)
def test_third_derivatives_by_composing_with_grad(name):
    """gradgradcheck of ``ms.grad(f)`` checks the third derivatives of ``f``: the transforms compose."""
    x = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]])
    assert ms.gradgradcheck(ms.grad(THIRD_ORDER[name]), [x])


def test_the_documented_examples_run():
    failures, tried = doctest.testmod(sys.modules["microseq.gradcheck"])  # ms.gradcheck is the function
    assert tried >= 1 and failures == 0


# -- every primitive --------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_elementwise_second_derivatives(case, data):
    check_second_derivatives(case.op, *data.draw(case_inputs(case)))


@given(data=st.data())
def test_where_and_masked_fill_second_derivatives(data):
    cond_shape, a_shape, b_shape = data.draw(broadcastable_shapes(3, max_dims=3, max_side=3)).input_shapes
    cond = data.draw(arrays(cond_shape, bool))
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    check_second_derivatives(lambda a, b: ms.where(cond, a * a, ms.tanh(b)), a, b)
    x = data.draw(arrays(a_shape))
    mask = data.draw(arrays(x.shape, bool))
    check_second_derivatives(lambda x: ms.masked_fill(x, mask, 2.0) ** 2, x)


@given(x=arrays(shapes(max_dims=3, max_side=3)))
def test_astype_second_derivatives(x):
    check_second_derivatives(lambda x: ms.astype(x * x, np.float64), x)


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data(), keepdims=st.booleans())
def test_reduction_second_derivatives(name, data, keepdims):
    op = REDUCTIONS[name][0]
    extremum = name in ("max", "min")
    # no empty axes but for sum: the mean of nothing is NaN and logsumexp -inf, whose squares' derivatives
    # are NaN * 0 (their first derivatives over empty axes are tested in test_reduction.py)
    shape = data.draw(shapes(max_dims=3, max_side=3, min_side=0 if name == "sum" else 1))
    x = data.draw(arrays(shape, distinct=extremum))
    axis = data.draw(axes(shape))
    # squared, so that the second derivative is not zero for the linear reductions
    check_second_derivatives(lambda x: op(x, axis=axis, keepdims=keepdims) ** 2, x)


@pytest.mark.parametrize("name", SOFTMAXES)
@given(data=st.data())
def test_softmax_family_second_derivatives(name, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_second_derivatives(lambda x: SOFTMAXES[name][0](x, axis=axis), data.draw(arrays(shape)))


@given(data=st.data())
def test_matmul_second_derivatives(data):
    matmul_shapes = broadcastable_shapes(2, max_dims=2, max_side=3, signature=np.matmul.signature)
    a_shape, b_shape = data.draw(matmul_shapes).input_shapes
    check_second_derivatives(lambda a, b: ms.matmul(a, b) ** 2, data.draw(arrays(a_shape)), data.draw(arrays(b_shape)))


SHAPE_OPS = {  # each followed by a square, so that its rule is differentiated against a non-zero value
    "reshape": lambda x: ms.reshape(x, (-1,)),
    "transpose": lambda x: ms.transpose(x),
    "swapaxes": lambda x: ms.swapaxes(x, 0, -1),
    "unsqueeze_squeeze": lambda x: ms.squeeze(ms.unsqueeze(x, 1), 1),
    "basic_index": lambda x: x[1:, ::-1],
    "integer_array_index": lambda x: x[np.array([0, 0, -1])],
    "boolean_index": lambda x: x[(np.arange(x.size) % 2 == 0).reshape(x.shape)],
    "concatenate": lambda x: ms.concatenate([x, 2.0 * x], axis=1),
    "stack": lambda x: ms.stack([x, x * x], axis=-1),
    "split": lambda x: ms.split(x, 1, axis=0)[-1],
    "chunk": lambda x: ms.chunk(x, 2, axis=1)[0],
}


@pytest.mark.parametrize("name", SHAPE_OPS)
@given(x=arrays(st.tuples(st.integers(1, 3), st.integers(1, 3))))
def test_shape_op_second_derivatives(name, x):
    check_second_derivatives(lambda x: SHAPE_OPS[name](x) ** 2, x)


@given(case=classification())
def test_cross_entropy_and_nll_second_derivatives(case):
    scores, target, weight, reduction = case
    options = dict(weight=weight, reduction=reduction)
    check_second_derivatives(lambda s: ms.cross_entropy(s, target, **options), scores)
    class_axis = 0 if scores.ndim == 1 else 1
    check_second_derivatives(lambda s: ms.nll_loss(ms.log_softmax(s, axis=class_axis), target, **options), scores)


@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_mse_and_bce_with_logits_second_derivatives(data, reduction):
    shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=3, min_side=1 if reduction == "mean" else 0))
    x, y = data.draw(arrays(shape)), data.draw(arrays(shape))
    check_second_derivatives(lambda x, y: ms.mse_loss(x, y, reduction=reduction), x, y)
    t = data.draw(arrays(shape, domain="unit"))
    weight, pos_weight = data.draw(broadcasting_to(shape)), data.draw(broadcasting_to(shape))
    options = dict(weight=weight, pos_weight=pos_weight, reduction=reduction)
    check_second_derivatives(lambda z: ms.binary_cross_entropy_with_logits(z, t, **options), x)


@given(x=arrays(shapes(max_dims=2, max_side=3)), seed=st.integers(0, 2**32 - 1))
def test_dropout_second_derivatives(x, seed):
    check_second_derivatives(lambda x: ms.dropout(x * x, 0.5, generator=np.random.default_rng(seed)), x)


@given(data=st.data())
def test_embedding_second_derivatives(data):
    index = data.draw(arrays(shapes(max_dims=2, max_side=3), np.int64, (0, 2)))
    padding_idx = data.draw(st.none() | st.integers(0, 2))
    embedding = ms.nn.functional.embedding
    check_second_derivatives(lambda w: embedding(index, w, padding_idx=padding_idx) ** 2, data.draw(arrays((3, 2))))


@given(data=st.data())
def test_linear_second_derivatives(data):
    x, weight, bias = data.draw(arrays((2, 3))), data.draw(arrays((2, 3))), data.draw(arrays((2,)))
    check_second_derivatives(lambda x, w, b: ms.tanh(ms.nn.functional.linear(x, w, b)), x, weight, bias)


# -- composed layers: cells and an attention step ---------------------------------------------------
B, I, H, S = 2, 3, 2, 3


@given(data=st.data())
@settings(max_examples=5)
def test_rnn_lstm_gru_cells_second_derivatives(data):
    """The cells' equations (nn.cells) in every input and weight."""
    x, h, c = data.draw(arrays((B, I))), data.draw(arrays((B, H))), data.draw(arrays((B, H)))
    for cell, gates, states in [(rnn_cell, 1, (h,)), (lstm_cell, 4, (h, c)), (gru_cell, 3, (h,))]:
        weights = [data.draw(arrays(shape)) for shape in [(gates * H, I), (gates * H, H), (gates * H,), (gates * H,)]]
        names = ["x", "h", "c"][: 1 + len(states)] + ["w_ih", "w_hh", "b_ih", "b_hh"]
        check_second_derivatives(cell, x, *states, *weights, names=names)


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_modules_second_derivatives_in_their_parameters(cell):
    """The modules as a user holds them: float64 parameters, second derivatives in the parameters and input."""
    ms.manual_seed(0)
    module = getattr(ms.nn, cell)(I, H, dtype=np.float64)
    names = [name for name, _ in module.named_parameters()]
    parameters = list(module.parameters())
    x = ms.Tensor(np.random.default_rng(1).standard_normal((B, I)), requires_grad=True)

    # the parameters are inputs of the check: gradgradcheck perturbs their values where the module reads them
    ms.gradgradcheck(lambda x, *_parameters: module(x), [x, *parameters], names=["x", *names])


@pytest.mark.parametrize("layer", ["RNN", "LSTM", "GRU"])
def test_unrolled_recurrent_layers_second_derivatives(layer):
    """A whole bidirectional layer over padded sequences, on the readable path (fused=False), in the input
    and every weight; one random direction per input (fast mode) keeps it quick."""
    ms.manual_seed(0)
    module = getattr(ms.nn, layer)(I, H, bidirectional=True, dtype=np.float64, fused=False)
    names = [name for name, _ in module.named_parameters()]
    x = ms.Tensor(np.random.default_rng(2).standard_normal((3, B, I)), requires_grad=True)  # (T, B, I)
    lengths = np.array([3, 2])
    run = lambda x, *_parameters: module(x, lengths=lengths)[0]  # noqa: E731  (the parameters are read in place)
    ms.gradgradcheck(run, [x, *module.parameters()], names=["x", *names], fast=True)


@pytest.mark.parametrize("kind", ["bahdanau", "dot", "general", "concat"])
@given(data=st.data())
@settings(max_examples=5)
def test_attention_step_second_derivatives(kind, data):
    from microseq.seq2seq.attention import make_attention

    ms.manual_seed(0)
    attention = make_attention(kind, query_size=H, key_size=H, attention_size=2, dtype=np.float64)
    query, keys = data.draw(arrays((B, H))), data.draw(arrays((B, S, H)))
    mask = np.array([[True, True, False], [True, True, True]])
    check_second_derivatives(lambda q, k: attention(q, k, mask)[0], query, keys, names=["query", "keys"])
