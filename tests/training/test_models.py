"""The task models: shapes, padding behaviour, rebuild from their config, errors."""

import numpy as np
import pytest

import microseq as ms
from microseq.training.models import (
    CharLM, SequenceClassifier, SequenceRegressor, SequenceTagger, build_model, final_state, recurrent_layer,
)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_models_shapes_and_rebuild(cell):
    ids = np.array([[3, 4, 2, 0], [1, 2, 0, 0]])
    lengths = np.array([3, 2])
    models = [
        (CharLM(6, 4, 5, cell=cell), lambda m: m(ids)[0], (2, 4, 6)),
        (SequenceClassifier(6, 3, 4, 5, cell=cell, bidirectional=True), lambda m: m(ids, lengths), (2, 3)),
        (SequenceTagger(6, 7, 4, 5, cell=cell, bidirectional=True, num_layers=2), lambda m: m(ids, lengths), (2, 4, 7)),
        (SequenceRegressor(2, 5, cell=cell), lambda m: m(np.ones((2, 4, 2), np.float32)), (2,)),
    ]
    for model, run, shape in models:
        assert run(model).shape == shape
        twin = build_model(type(model).__name__, model.config())
        twin.load_state_dict(model.state_dict())
        np.testing.assert_array_equal(run(twin).data, run(model).data)


def test_classifier_ignores_padding():
    """Padding ids after a sequence's end change nothing, in either direction."""
    ms.manual_seed(1)
    model = SequenceClassifier(6, 2, 4, 5, cell="gru", bidirectional=True)
    lengths = np.array([2, 3])
    a = model(np.array([[3, 4, 0, 0], [1, 2, 5, 0]]), lengths).data
    b = model(np.array([[3, 4, 5, 1], [1, 2, 5, 4]]), lengths).data
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_model_errors():
    with pytest.raises(ValueError, match="cannot be bidirectional"):
        CharLM(5, bidirectional=True)
    with pytest.raises(ValueError, match="unknown recurrent cell 'lstmm'"):
        CharLM(5, cell="lstmm")
    with pytest.raises(ValueError, match="unknown model 'Nope'"):
        build_model("Nope", {})


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_final_state_is_forward_after_the_last_real_step_and_reverse_after_the_first(cell):
    ms.manual_seed(0)
    layer = recurrent_layer(cell, 3, 4, num_layers=2, bidirectional=True, dtype=np.float64)
    x, lengths = np.random.default_rng(0).standard_normal((3, 5, 3)), np.array([5, 2, 1])
    output, state = layer(x, lengths=lengths)
    final = final_state(state, bidirectional=True).data  # (B, 2H)
    rows = np.arange(3)
    np.testing.assert_array_equal(final[:, :4], output.data[rows, lengths - 1, :4])
    np.testing.assert_array_equal(final[:, 4:], output.data[:, 0, 4:])
    one_way, state = recurrent_layer(cell, 3, 4)(x[:, :, :3].astype(np.float32))
    np.testing.assert_array_equal(final_state(state, bidirectional=False).data, one_way.data[:, -1])
