"""The CNN encoder and the models built on it: the grid's shape, gradients from the caption loss down to the
pixels against finite differences (float64, no batch norm, composed cells), bad settings."""

import numpy as np
import pytest

import microseq as ms
from microseq.testing import check_gradients
from microseq.vision import VQAModel, answer_vocab, caption_batch, caption_data, caption_vocab, conv_encoder, question_vocab
from microseq.vision.captioner import caption_loss, grid_annotations, make_captioner
from microseq.vision.encoder import grid_side


@pytest.mark.parametrize("size, channels, side", [(48, (16, 32, 32), 6), (32, (4, 8), 8), (33, (4,), 16)])
def test_the_grid_halves_per_block(size, channels, side):
    ms.manual_seed(0)
    out = conv_encoder(channels)(ms.tensor(np.zeros((2, 3, size, size), np.float32)))
    assert out.shape == (2, channels[-1], side, side) and grid_side(size, len(channels)) == side


def test_grid_annotations_reads_the_map_row_by_row():
    fmap = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2)
    ann = grid_annotations(ms.tensor(fmap))
    assert ann.shape == (2, 4, 3)
    np.testing.assert_array_equal(ann.data[1, 2], fmap[1, :, 1, 0])


def test_bad_encoder_settings_are_one_line_errors():
    with pytest.raises(ValueError, match="channels must be a non-empty sequence"):
        conv_encoder(())
    with pytest.raises(ValueError, match="too small for 6 pooling blocks"):
        make_captioner(10, image_size=32, channels=(2,) * 6)


@pytest.mark.parametrize("attention", [True, False])
def test_caption_loss_gradient_reaches_the_pixels(attention):
    ms.manual_seed(4)
    vocab = caption_vocab()
    model = make_captioner(len(vocab), attention, image_size=32, channels=(2, 3, 3), embedding_size=3, hidden_size=4,
                           attention_size=3, batch_norm=False, dtype=np.float64)
    data = caption_data(2, "train", seed=3, image_size=32)
    batch = caption_batch(data, [0, 1], vocab, np.random.default_rng(0))
    tgt_in, targets = batch.decoder_inputs[:, :4], batch.targets[:, :4]

    def loss(images):
        logits, weights = model(images, tgt_in)
        return caption_loss(logits, weights, targets, penalty=0.5)

    check_gradients(loss, data.images.astype(np.float64), names=["images"])


def test_models_on_the_cnn_have_the_expected_shapes():
    ms.manual_seed(5)
    data = caption_data(3, "test", seed=0)
    vocab = caption_vocab()
    batch = caption_batch(data, [0, 1, 2], vocab, np.random.default_rng(0))
    for attention, positions in ((True, 36), (False, 0)):
        logits, weights = make_captioner(len(vocab), attention)(batch.inputs, batch.decoder_inputs)
        assert logits.shape == batch.targets.shape + (len(vocab),) and weights.shape == batch.targets.shape + (positions,)
    vqa = VQAModel(conv_encoder((8, 16, 16)), len(question_vocab()), len(answer_vocab()), feature_size=16)
    questions = np.stack([question_vocab().encode("how many circles are there ?")] * 3)
    logits, weights = vqa(data.images, questions, np.full(3, questions.shape[1]))
    assert logits.shape == (3, len(answer_vocab())) and weights.shape == (3, 36)
    np.testing.assert_allclose(weights.data.sum(axis=1), 1.0, rtol=1e-5)
