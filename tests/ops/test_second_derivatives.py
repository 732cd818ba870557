"""Second derivatives of every primitive: Hypothesis property tests running ``check_second_derivatives`` over
the op tables of the first-order tests (imported, not copied), the recurrent cells and an attention step, in
float64. ``ms.gradgradcheck`` itself (it passes on correct rules and fails on a planted wrong one) is tested in
tests/test_gradcheck.py."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microseq as ms
from microseq.nn.cells import gru_cell, lstm_cell, rnn_cell
from microseq.testing import arrays, axes, broadcastable_shapes, check_second_derivatives, shapes

from .test_elementwise import CASES, IDS, case_inputs
from .test_loss import broadcasting_to, classification
from .test_reduction import REDUCTIONS, SOFTMAXES


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
    # a target that requires grad: d/dt = w ((p - 1) softplus(-z) - z), itself differentiable in z
    check_second_derivatives(lambda z, t: ms.binary_cross_entropy_with_logits(z, t, **options), x, t)


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
