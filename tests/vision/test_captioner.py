"""The captioning model end to end at tiny sizes (a stand-in patch encoder until the CNN lands): shapes, the
loss with the attention penalty, decoding with the shared search, learning a few captions, bad input."""

import numpy as np
import pytest

import microseq as ms
from microseq.seq2seq import search
from microseq.seq2seq.model import sequence_loss
from microseq.vision import caption_batch, caption_data, caption_vocab
from microseq.vision.captioner import Captioner, caption_loss
from microseq.vision.decoders import AttendTellDecoder, ShowTellDecoder, attention_penalty

from .helpers import PatchMeans

S = 32


def _model(attention=True):
    ms.manual_seed(0)
    vocab = caption_vocab()
    kind = AttendTellDecoder if attention else ShowTellDecoder
    return Captioner(PatchMeans(), kind(len(vocab), 8, 16, 3), image_size=S)


def _batch(n=4):
    data = caption_data(n, "train", seed=0, image_size=S)
    return data, caption_batch(data, np.arange(n), caption_vocab(), np.random.default_rng(0))


@pytest.mark.parametrize("attention, positions", [(True, 16), (False, 0)])
def test_shapes(attention, positions):
    _, batch = _batch()
    logits, weights = _model(attention)(batch.inputs, batch.decoder_inputs)
    b, t = batch.targets.shape
    assert logits.shape == (b, t, len(caption_vocab())) and weights.shape == (b, t, positions)
    if attention:
        np.testing.assert_allclose(weights.data.sum(axis=-1), 1.0, rtol=1e-5)


def test_caption_loss_adds_the_penalty_only_with_attention():
    _, batch = _batch()
    logits, weights = _model()(batch.inputs, batch.decoder_inputs)
    plain = float(sequence_loss(logits, batch.targets, 2).data)
    penalty = float(attention_penalty(weights, batch.targets, 2).data)
    assert penalty > 0
    assert float(caption_loss(logits, weights, batch.targets, penalty=0.5).data) == pytest.approx(plain + 0.5 * penalty,
                                                                                                   rel=1e-5)
    logits, weights = _model(False)(batch.inputs, batch.decoder_inputs)
    assert float(caption_loss(logits, weights, batch.targets).data) == pytest.approx(
        float(sequence_loss(logits, batch.targets, 2).data))


@pytest.mark.parametrize("attention", [True, False])
def test_learns_a_few_captions_and_decodes_them(attention):
    _, batch = _batch(2)  # one phrasing per image: the target is a function of the image
    vocab = caption_vocab()
    model = _model(attention)
    optimizer = ms.optim.Adam(model.parameters(), lr=0.03)
    first = None
    for _ in range(150):
        logits, weights = model(batch.inputs, batch.decoder_inputs)
        loss = caption_loss(logits, weights, batch.targets, penalty=0.0)
        first = first if first is not None else float(loss.data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.data) < 0.1 * first
    decoded = search(model, (batch.inputs,), beam_width=2, max_len=25)
    for b in range(2):  # the whole caption, <eos> included
        length = decoded.lengths[b]
        assert decoded.finished[b] and vocab.decode(decoded.tokens[b, :length]) == \
            vocab.decode(batch.targets[b, :length]) and batch.targets[b, length - 1] == vocab.eos_index


def test_wrong_images_are_one_line_errors():
    model = _model()
    tgt_in = np.ones((1, 3), np.int64)
    with pytest.raises(ValueError, match="Captioner: expected images of 32x32, got 48x48"):
        model(np.zeros((1, 3, 48, 48), np.float32), tgt_in)
    with pytest.raises(ValueError, match="Captioner: expected 3 channels, got 4"):
        model(np.zeros((1, 4, S, S), np.float32), tgt_in)
    with pytest.raises(ValueError, match="tgt_in must be"):
        model(np.zeros((1, 3, S, S), np.float32), np.ones(3, np.int64))
