"""VQA with attention and the question-only baseline at tiny sizes: shapes, attention summing to one over the
grid, gradients against finite differences (float64, composed LSTM cells), bad input."""

import numpy as np
import pytest

import microseq as ms
from microseq.data import pad_sequences
from microseq.testing import check_gradients
from microseq.vision import answer_vocab, question_vocab, vqa_data
from microseq.vision.vqa import VQAModel

from .helpers import PatchMeans

S = 32


def _batch(n=3, seed=0):
    data = vqa_data(n, "train", seed=seed, image_size=S)
    qv = question_vocab()
    questions, lengths = pad_sequences([qv.encode(q.text) for q in data.questions], 0, dtype=np.int64)
    return data, questions, lengths


def _model(image_encoder, dtype=np.float32, fused=True):
    ms.manual_seed(0)
    return VQAModel(image_encoder, len(question_vocab()), len(answer_vocab()), feature_size=3, image_size=S,
                    embedding_size=4, hidden_size=5, attention_size=3, fused=fused, dtype=dtype)


def test_shapes_and_attention_over_the_grid():
    data, questions, lengths = _batch()
    logits, weights = _model(PatchMeans())(data.images, questions, lengths)
    assert logits.shape == (3, len(answer_vocab())) and weights.shape == (3, 16)
    np.testing.assert_allclose(weights.data.sum(axis=1), 1.0, rtol=1e-5)


def test_the_question_only_baseline_never_reads_the_image():
    data, questions, lengths = _batch()
    model = _model(None)
    logits, weights = model(data.images, questions, lengths)
    assert weights is None
    again, _ = model(np.zeros_like(data.images), questions, lengths)
    np.testing.assert_array_equal(again.data, logits.data)


def test_gradients_through_attention_and_question_match_finite_differences():
    data, questions, lengths = _batch(2, seed=1)
    model = _model(PatchMeans(), np.float64, fused=False)
    check_gradients(lambda images: model(images, questions, lengths)[0], data.images.astype(np.float64),
                    names=["images"])


def test_wrong_image_size_and_batch_mismatch_are_one_line_errors():
    data, questions, lengths = _batch()
    model = _model(PatchMeans())
    with pytest.raises(ValueError, match="expected images of 32x32, got 48x48"):
        model(np.zeros((3, 3, 48, 48), np.float32), questions, lengths)
    with pytest.raises(ValueError, match="expected 3 channels, got 1"):
        model(np.zeros((3, 1, S, S), np.float32), questions, lengths)
    with pytest.raises(ValueError, match="2 images but 3 questions"):
        model(data.images[:2], questions, lengths)
