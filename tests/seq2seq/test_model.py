"""The encoder-decoder: gradients of the whole model, teacher forcing, padding invariance, the masked loss."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.seq2seq.decoding import greedy_decode
from microseq.seq2seq.model import Decoder, Encoder, Seq2Seq, Seq2SeqConfig, mask_after_eos, sequence_loss
from microseq.seq2seq.tasks import BOS, EOS, PAD

from .helpers import ATTENTIONS, CELLS, SOURCE_VOCAB, TARGET_VOCAB, batches, tiny_model

variants = st.tuples(st.sampled_from(ATTENTIONS), st.sampled_from(CELLS), st.booleans(), st.booleans())


def _loss(model, batch, **kwargs):
    logits, _ = model(batch.inputs, batch.lengths, batch.decoder_inputs, **kwargs)
    return sequence_loss(logits, batch.targets)


@given(variant=variants, layers=st.tuples(st.integers(1, 2), st.integers(1, 2)), batch=batches(), seed=st.integers(0, 100))
def test_full_model_gradient_matches_finite_differences(variant, layers, batch, seed):
    """Encoder (fused layers, lengths), attention, stacked decoder cells, output layer and masked loss, end to
    end, along a random direction per parameter."""
    attention, cell, bidirectional, feeding = variant
    model = tiny_model(attention, cell, seed, bidirectional=bidirectional, input_feeding=feeding,
                       layers=layers[0], decoder_layers=layers[1])
    names = [name for name, _ in model.named_parameters()]
    ms.gradcheck(lambda *p: _loss(model, batch), list(model.parameters()), names=names, fast=True, seed=seed)


@pytest.mark.parametrize("attention", ["bahdanau", "general"])
def test_full_model_full_jacobian(attention):
    """Every element of every parameter (not one direction), for both decoder wirings."""
    model = tiny_model(attention, "gru", seed=3)
    batch = _fixed_batch()
    ms.gradcheck(lambda *p: _loss(model, batch), list(model.parameters()), fast=False)


def _fixed_batch():
    from microseq.data import Batch

    src = np.array([[4, 5, 6, 4], [6, 5, PAD, PAD]])
    tgt_out = np.array([[4, 5, EOS], [5, EOS, PAD]])
    tgt_in = np.array([[BOS, 4, 5], [BOS, 5, PAD]])
    return Batch(src, tgt_out, np.array([4, 2]), tgt_in)


# -- teacher forcing and scheduled sampling --------------------------------------------------------------
def _teacher_forced_by_hand(model, batch):
    """The textbook loop: feed the true previous symbol at every step."""
    memory, state = model.encode(batch.inputs, batch.lengths)
    logits = []
    for t in range(batch.decoder_inputs.shape[1]):
        step_logits, state, _ = model.decoder.step(batch.decoder_inputs[:, t], state, memory)
        logits.append(step_logits)
    return ms.stack(logits, axis=1)


@given(variant=variants, batch=batches(), seed=st.integers(0, 100))
def test_teacher_forcing_ratio_one_is_plain_teacher_forcing(variant, batch, seed):
    attention, cell, bidirectional, feeding = variant
    model = tiny_model(attention, cell, seed, bidirectional=bidirectional, input_feeding=feeding)
    generator = np.random.default_rng(seed)
    state_before = generator.bit_generator.state
    logits, _ = model(batch.inputs, batch.lengths, batch.decoder_inputs, teacher_forcing_ratio=1.0, generator=generator)
    expected = _teacher_forced_by_hand(model, batch)
    np.testing.assert_array_equal(logits.data, expected.data)
    assert generator.bit_generator.state == state_before  # ratio 1 draws no coins
    np.testing.assert_array_equal(sequence_loss(logits, batch.targets).data, sequence_loss(expected, batch.targets).data)


@given(variant=variants, batch=batches(), seed=st.integers(0, 100))
def test_teacher_forcing_ratio_zero_feeds_back_the_argmax(variant, batch, seed):
    attention, cell, bidirectional, feeding = variant
    model = tiny_model(attention, cell, seed, bidirectional=bidirectional, input_feeding=feeding)
    logits, _ = model(batch.inputs, batch.lengths, batch.decoder_inputs, teacher_forcing_ratio=0.0)
    fed = np.concatenate([batch.decoder_inputs[:, :1], np.argmax(logits.data[:, :-1], axis=-1)], axis=1)
    expected, _ = model(batch.inputs, batch.lengths, fed)  # teacher forcing on the model's own argmax
    np.testing.assert_allclose(logits.data, expected.data, rtol=0, atol=1e-13)
    # ... which is what greedy decoding emits, up to the first EOS
    greedy = greedy_decode(model, batch.inputs, batch.lengths, max_len=batch.decoder_inputs.shape[1])
    for b in range(len(batch.inputs)):
        n = greedy.lengths[b]
        np.testing.assert_array_equal(np.argmax(logits.data[b, :n], axis=-1), greedy.tokens[b, :n])


@given(batch=batches(), seed=st.integers(0, 100), ratio=st.floats(0.05, 0.95))
def test_scheduled_sampling_mixes_truth_and_argmax_per_token(batch, seed, ratio):
    model = tiny_model("bahdanau", "gru", seed)
    logits, _ = model(batch.inputs, batch.lengths, batch.decoder_inputs, ratio, generator=np.random.default_rng(seed))
    coins = np.random.default_rng(seed)
    fed = batch.decoder_inputs.copy()
    for t in range(1, fed.shape[1]):
        truth = coins.random(len(fed)) < ratio
        fed[:, t] = np.where(truth, batch.decoder_inputs[:, t], np.argmax(logits.data[:, t - 1], axis=-1))
    expected, _ = model(batch.inputs, batch.lengths, fed)
    np.testing.assert_allclose(logits.data, expected.data, rtol=0, atol=1e-13)


def test_teacher_forcing_ratio_out_of_range_is_an_error():
    model, batch = tiny_model(), _fixed_batch()
    with pytest.raises(ValueError, match=r"teacher_forcing_ratio must be in \[0, 1\], got 1.5"):
        model(batch.inputs, batch.lengths, batch.decoder_inputs, teacher_forcing_ratio=1.5)


# -- padding -----------------------------------------------------------------------------------------------
@given(variant=variants, batch=batches(), seed=st.integers(0, 100), extra=st.integers(0, 3))
def test_source_padding_changes_no_output(variant, batch, seed, extra):
    """Each sequence alone == the same sequence in a padded batch, with garbage symbols in the padding."""
    attention, cell, bidirectional, feeding = variant
    model = tiny_model(attention, cell, seed, bidirectional=bidirectional, input_feeding=feeding)
    rng = np.random.default_rng(seed)
    src = np.concatenate([batch.inputs, np.full((len(batch.inputs), extra), PAD)], axis=1)
    padding = np.arange(src.shape[1])[None, :] >= batch.lengths[:, None]
    src[padding] = rng.integers(3, SOURCE_VOCAB, size=padding.sum())  # real symbols where padding should be
    logits, weights = model(src, batch.lengths, batch.decoder_inputs)
    assert (weights.data[np.broadcast_to(padding[:, None, :], weights.shape)] == 0).all()
    for b in range(len(src)):
        n = batch.lengths[b]
        alone_logits, alone_weights = model(src[b : b + 1, :n], batch.lengths[b : b + 1], batch.decoder_inputs[b : b + 1])
        np.testing.assert_allclose(logits.data[b], alone_logits.data[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(weights.data[b, :, :n], alone_weights.data[0], rtol=0, atol=1e-12)
    greedy = greedy_decode(model, src, batch.lengths, max_len=4)
    clean = greedy_decode(model, batch.inputs, batch.lengths, max_len=4)
    np.testing.assert_array_equal(greedy.tokens, clean.tokens)


def test_padding_symbols_get_no_gradient():
    model, batch = tiny_model("concat", "gru", 1), _fixed_batch()
    src = batch.inputs.copy()
    src[1, 2:] = 5  # a real symbol, in the padding of row 1
    sequence_loss(model(src, batch.lengths, batch.decoder_inputs)[0], batch.targets).backward()
    with_garbage = model.encoder.embedding.weight.grad.copy()
    model.zero_grad()
    sequence_loss(model(batch.inputs, batch.lengths, batch.decoder_inputs)[0], batch.targets).backward()
    np.testing.assert_allclose(with_garbage, model.encoder.embedding.weight.grad, rtol=0, atol=1e-14)


# -- the loss --------------------------------------------------------------------------------------------
def test_mask_after_eos_keeps_the_first_eos_and_nothing_after():
    targets = np.array([[4, 5, EOS, 4, EOS], [EOS, 4, 4, 4, 4], [4, 4, 4, 4, 4], [4, EOS, PAD, PAD, PAD]])
    expected = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], bool)
    np.testing.assert_array_equal(mask_after_eos(targets), expected)


@given(batch=batches(), seed=st.integers(0, 100))
def test_loss_ignores_everything_after_eos(batch, seed):
    rng = np.random.default_rng(seed)
    B, T = batch.targets.shape
    logits = ms.Tensor(rng.standard_normal((B, T, TARGET_VOCAB)), requires_grad=True)
    counted = mask_after_eos(batch.targets)
    loss = sequence_loss(logits, batch.targets)
    # the same as an explicit mean over counted tokens
    log_p = logits.data - np.log(np.exp(logits.data).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_p, np.where(counted, batch.targets, 0)[..., None], -1)[..., 0]
    np.testing.assert_allclose(loss.item(), -picked[counted].mean(), rtol=1e-12)
    loss.backward()
    assert (logits.grad[~counted] == 0).all()
    # garbage targets and logits after EOS change nothing
    garbage = np.where(counted, batch.targets, rng.integers(0, TARGET_VOCAB, size=(B, T)))
    noisy = np.where(counted[..., None], logits.data, 50 * rng.standard_normal(logits.shape))
    assert sequence_loss(ms.Tensor(noisy), garbage).item() == pytest.approx(loss.item(), rel=1e-12)
    ms.gradcheck(lambda x: sequence_loss(x, batch.targets), [ms.Tensor(logits.data.copy(), requires_grad=True)])


# -- construction ------------------------------------------------------------------------------------------
def test_config_round_trip_and_errors():
    config = Seq2SeqConfig(10, 12, attention="dot", hidden_size=8, decoder_hidden_size=16)
    assert Seq2SeqConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match=r"unknown keys \['hiden'\]"):
        Seq2SeqConfig.from_dict({"source_vocab_size": 3, "target_vocab_size": 3, "hiden": 4})
    with pytest.raises(ValueError, match="cell must be one of"):
        Encoder(5, 3, 4, cell="transformer")
    encoder = Encoder(5, 3, 4, bidirectional=False)
    with pytest.raises(ValueError, match="attends to vectors of size 8, the encoder outputs 4"):
        Seq2Seq(encoder, Decoder(5, 3, 4, memory_size=8))
    with pytest.raises(ValueError, match="src must be"):
        encoder(np.zeros(3, dtype=np.int64), np.array([3]))


def test_named_parameters_follow_the_papers():
    bahdanau = dict(Seq2Seq.from_config(Seq2SeqConfig(8, 9, attention="bahdanau")).named_parameters())
    assert {"decoder.attention.W.weight", "decoder.attention.U.weight", "decoder.attention.v"} <= set(bahdanau)
    assert "encoder.rnn.weight_ih_l0_reverse" in bahdanau and "decoder.deep_output.weight" in bahdanau
    luong = dict(Seq2Seq.from_config(Seq2SeqConfig(8, 9, attention="general")).named_parameters())
    assert luong["decoder.attention.W_a.weight"].shape == (128, 128)  # (Q, K): h_t^T W_a h_j
    assert luong["decoder.attentional.weight"].shape == (128, 128 + 128)  # W_c [c; h_t]
    assert luong["decoder.cells.0.weight_ih"].shape == (3 * 128, 32 + 128)  # input feeding: [y; h~]


# -- the wirings of the two papers -----------------------------------------------------------------------
def _gru(x, h, cell):
    """PyTorch's GRU step in NumPy (gate order r, z, n; b_hn inside the reset product)."""
    gx = x @ cell.weight_ih.data.T + cell.bias_ih.data
    gh = h @ cell.weight_hh.data.T + cell.bias_hh.data
    H = h.shape[-1]
    sigmoid = lambda a: 1 / (1 + np.exp(-a))
    r, z = sigmoid(gx[:, :H] + gh[:, :H]), sigmoid(gx[:, H : 2 * H] + gh[:, H : 2 * H])
    n = np.tanh(gx[:, 2 * H :] + r * gh[:, 2 * H :])
    return (1 - z) * n + z * h


def _softmax_over(scores, mask):
    e = np.where(mask, np.exp(scores - np.where(mask, scores, -np.inf).max(-1, keepdims=True)), 0)
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("attention", ["bahdanau", "general"])
def test_two_decoder_steps_follow_the_papers_equations(attention):
    """Bahdanau: the previous state asks, the cell reads [y; c], the output reads tanh(W_p [s; c; y]).
    Luong (general, input feeding): the cell reads [y; h~_prev], the new state asks, h~ = tanh(W_c [c; h]).
    The initial state is tanh(W_b [h_fwd at the last real position; h_bwd at the first])."""
    model, batch = tiny_model(attention, "gru", seed=5), _fixed_batch()
    dec = model.decoder
    keys, _ = model.encoder(batch.inputs, batch.lengths)
    keys = keys.data
    mask = np.arange(batch.inputs.shape[1])[None, :] < batch.lengths[:, None]
    rows = np.arange(len(keys))
    final = np.concatenate([keys[rows, batch.lengths - 1, :2], keys[:, 0, 2:]], axis=-1)
    s = np.tanh(final @ dec.bridge.weight.data.T + dec.bridge.bias.data)
    feed = np.zeros_like(s)
    memory, state = model.encode(batch.inputs, batch.lengths)
    for t in range(2):
        y = dec.embedding.weight.data[batch.decoder_inputs[:, t]]
        if attention == "bahdanau":
            att = dec.attention
            scores = np.tanh((s @ att.W.weight.data.T)[:, None] + keys @ att.U.weight.data.T) @ att.v.data
            a = _softmax_over(scores, mask)
            c = np.einsum("bs,bsk->bk", a, keys)
            s = _gru(np.concatenate([y, c], -1), s, dec.cells[0])
            pre = np.tanh(np.concatenate([s, c, y], -1) @ dec.deep_output.weight.data.T)
        else:
            s = _gru(np.concatenate([y, feed], -1), s, dec.cells[0])
            scores = np.einsum("bq,qk,bsk->bs", s, dec.attention.W_a.weight.data, keys)
            a = _softmax_over(scores, mask)
            c = np.einsum("bs,bsk->bk", a, keys)
            pre = feed = np.tanh(np.concatenate([c, s], -1) @ dec.attentional.weight.data.T)
        expected_logits = pre @ dec.output.weight.data.T + dec.output.bias.data
        logits, state, weights = dec.step(batch.decoder_inputs[:, t], state, memory)
        np.testing.assert_allclose(weights.data, a, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(logits.data, expected_logits, rtol=1e-10, atol=1e-14)
