"""The captioning model end to end at tiny sizes (a stand-in patch encoder until the CNN lands): shapes, the
loss with the attention penalty, decoding with the shared search, learning a few captions, bad input."""

import numpy as np
import pytest

import microseq as ms
from microseq.seq2seq import search
from microseq.seq2seq.model import sequence_loss
from microseq.vision import Scene, SceneObject, caption_batch, caption_data, caption_vocab, encode_caption, render_batch
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
def test_learns_two_captions_and_decodes_them(attention):
    vocab = caption_vocab()
    scenes = [Scene((SceneObject("circle", "red", "small", (1, 2, 15, 16)),), S),
              Scene((SceneObject("square", "blue", "large", (16, 10, 30, 24)),), S)]
    ids = np.stack([encode_caption(f"a {s} {c} {h}", vocab) for s, c, h in (o.words() for sc in scenes for o in sc.objects)])
    images, tgt_in, targets = render_batch(scenes), ids[:, :-1], ids[:, 1:]
    model = _model(attention)
    optimizer = ms.optim.Adam(model.parameters(), lr=0.03)
    first = None
    for _ in range(60):
        logits, weights = model(images, tgt_in)
        loss = caption_loss(logits, weights, targets, penalty=0.0)
        first = first if first is not None else float(loss.data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.data) < 0.05 * first
    decoded = search(model, (images,), beam_width=2, max_len=10)
    np.testing.assert_array_equal(decoded.tokens, targets)  # the whole caption, <eos> included
    assert decoded.finished.all()


def test_wrong_images_are_one_line_errors():
    model = _model()
    tgt_in = np.ones((1, 3), np.int64)
    with pytest.raises(ValueError, match="Captioner: expected images of 32x32, got 48x48"):
        model(np.zeros((1, 3, 48, 48), np.float32), tgt_in)
    with pytest.raises(ValueError, match="Captioner: expected 3 channels, got 4"):
        model(np.zeros((1, 4, S, S), np.float32), tgt_in)
    with pytest.raises(ValueError, match="tgt_in must be"):
        model(np.zeros((1, 3, S, S), np.float32), np.ones(3, np.int64))
