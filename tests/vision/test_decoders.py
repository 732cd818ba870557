"""Caption decoders at tiny sizes: shapes, attention that sums to one over the grid, gradients of a decoder
step against finite differences (float64, composed cells), the doubly stochastic penalty, and decoding with the
shared greedy / beam search."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import microseq as ms
from microseq.seq2seq import search
from microseq.seq2seq.model import DecoderState, unroll
from microseq.testing import check_gradients
from microseq.vision.decoders import AttendTellDecoder, ShowTellDecoder, attention_penalty

V, E, H, D = 7, 4, 5, 3


def _annotations(rng, b, l, dtype=np.float64):
    return ms.tensor(rng.standard_normal((b, l, D)).astype(dtype))


class _GridModel(ms.nn.Module):
    """Decoder over given annotations: what search() needs (encode, decoder, bos, eos)."""

    def __init__(self, decoder):
        super().__init__()
        self.decoder, self.bos, self.eos = decoder, 1, 2

    def encode(self, annotations):
        return self.decoder.memory(annotations), self.decoder.init_state(annotations)


@settings(deadline=None, max_examples=10)
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**31))
def test_attention_weights_sum_to_one_over_the_grid(batch, positions, steps, seed):
    ms.manual_seed(seed % 1000)
    rng = np.random.default_rng(seed)
    decoder = AttendTellDecoder(V, E, H, D, attention_size=3)
    annotations = _annotations(rng, batch, positions, np.float32)
    tgt_in = rng.integers(0, V, size=(batch, steps))
    logits, weights = unroll(decoder, decoder.memory(annotations), decoder.init_state(annotations), tgt_in)
    assert logits.shape == (batch, steps, V) and weights.shape == (batch, steps, positions)
    np.testing.assert_allclose(weights.data.sum(axis=-1), 1.0, rtol=1e-5)
    assert np.all(weights.data >= 0)


def test_show_and_tell_has_no_grid_and_only_its_words():
    ms.manual_seed(0)
    decoder = ShowTellDecoder(V, E, H, D)
    annotations = _annotations(np.random.default_rng(0), 2, 4, np.float32)
    logits, weights = unroll(decoder, decoder.memory(annotations), decoder.init_state(annotations),
                             np.array([[1, 3, 4], [1, 5, 6]]))
    assert logits.shape == (2, 3, V) and weights.shape == (2, 3, 0)
    # the image enters only through the mean feature: permuting the grid changes nothing
    permuted = ms.tensor(annotations.data[:, ::-1].copy())
    again, _ = unroll(decoder, decoder.memory(permuted), decoder.init_state(permuted), np.array([[1, 3, 4], [1, 5, 6]]))
    np.testing.assert_allclose(again.data, logits.data, rtol=1e-6)


@pytest.mark.parametrize("kind", [AttendTellDecoder, ShowTellDecoder])
def test_gradient_of_a_decoder_step_matches_finite_differences(kind):
    ms.manual_seed(1)
    decoder = kind(V, E, H, D, dtype=np.float64)
    rng = np.random.default_rng(1)
    tokens = np.array([1, 4, 6])

    def step(annotations, h, c):
        state = DecoderState(((h, c),), None)
        logits, new, weights = decoder.step(tokens, state, decoder.memory(annotations))
        (h2, c2), = new.hidden
        return (logits, h2, c2, weights) if weights.shape[-1] else (logits, h2, c2)

    check_gradients(step, rng.standard_normal((3, 4, D)), rng.standard_normal((3, H)), rng.standard_normal((3, H)),
                    names=["annotations", "h", "c"])


def test_gradient_of_the_initial_state_and_a_parameter_match_finite_differences():
    ms.manual_seed(2)
    decoder = AttendTellDecoder(V, E, H, D, dtype=np.float64)
    rng = np.random.default_rng(2)
    tgt_in = np.array([[1, 3, 5], [1, 6, 2]])

    def loss_of(annotations):
        logits, weights = unroll(decoder, decoder.memory(annotations), decoder.init_state(annotations), tgt_in)
        return ms.ops.sum(logits * logits) + attention_penalty(weights, np.array([[3, 5, 2], [6, 2, 0]]), 2)

    check_gradients(loss_of, rng.standard_normal((2, 5, D)), names=["annotations"])

    # the gate's weight: backward against a central difference in a random direction
    annotations = ms.tensor(rng.standard_normal((2, 5, D)))
    decoder.zero_grad()
    loss_of(annotations).backward()
    direction = rng.standard_normal(decoder.gate.weight.shape)
    analytic = float(np.sum(decoder.gate.weight.grad * direction))
    weight, eps = decoder.gate.weight.data.copy(), 1e-6
    values = []
    for sign in (1, -1):
        decoder.gate.weight.data[...] = weight + sign * eps * direction
        values.append(float(loss_of(annotations).data))
    decoder.gate.weight.data[...] = weight
    assert analytic == pytest.approx((values[0] - values[1]) / (2 * eps), rel=1e-5, abs=1e-7)


def test_attention_penalty_by_hand():
    # two steps counted (second target is eos), third is after eos and not counted
    weights = ms.tensor(np.array([[[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]]))
    penalty = attention_penalty(weights, np.array([[4, 2, 5]]), eos=2)
    # sums over counted t: (0.5, 1.0, 0.5) -> (0.5^2 + 0 + 0.5^2) = 0.5
    assert float(penalty.data) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="weights must be"):
        attention_penalty(weights, np.array([[4, 2]]), eos=2)


def test_wrong_annotation_size_is_a_one_line_error():
    decoder = AttendTellDecoder(V, E, H, D)
    with pytest.raises(ValueError, match=r"annotations must have shape \(B, L, 3\), got \(2, 4, 5\)"):
        decoder.memory(ms.tensor(np.zeros((2, 4, 5), np.float32)))


@pytest.mark.parametrize("kind", [AttendTellDecoder, ShowTellDecoder])
def test_greedy_and_beam_search_decode_captioning_decoders(kind):
    ms.manual_seed(3)
    model = _GridModel(kind(V, E, H, D))
    annotations = _annotations(np.random.default_rng(3), 2, 4, np.float32)
    greedy = search(model, (annotations,), beam_width=1, max_len=5)
    beam = search(model, (annotations,), beam_width=3, max_len=5)
    positions = 4 if kind is AttendTellDecoder else 0
    assert greedy.tokens.shape[0] == 2 and greedy.attention.shape[2] == positions
    assert np.all(beam.scores >= greedy.scores - 1e-9)  # keep_greedy: never worse than greedy
    # greedy picks the argmax of the teacher-forced logits along its own output
    tgt_in = np.concatenate([np.ones((2, 1), np.int64), greedy.tokens[:, :-1]], axis=1)
    with ms.no_grad():
        model.eval()
        logits, _ = unroll(model.decoder, *model.encode(annotations), tgt_in)
    for b in range(2):
        n = greedy.lengths[b]
        np.testing.assert_array_equal(np.argmax(logits.data[b, :n], axis=-1), greedy.tokens[b, :n])


@pytest.mark.parametrize("cls", [ShowTellDecoder, AttendTellDecoder])
def test_word_dropout_reads_dropped_words_as_padding_in_training_only(cls):
    decoder = cls(V, E, H, D, word_dropout=0.5)
    tokens = np.arange(200) % (V - 1) + 1  # no padding among them
    ms.manual_seed(3)
    read = decoder.read_words(tokens).data
    ms.manual_seed(3)
    dropped = ms.default_generator().random(tokens.shape) < 0.5
    np.testing.assert_array_equal(read, decoder.embedding(np.where(dropped, 0, tokens)).data)
    assert 60 < dropped.sum() < 140 and not read[dropped].any() and read[~dropped].any(axis=1).all()
    decoder.eval()
    np.testing.assert_array_equal(decoder.read_words(tokens).data, decoder.embedding(tokens).data)


@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_word_dropout_out_of_range_is_a_one_line_error(p):
    with pytest.raises(ValueError, match=r"AttendTellDecoder: word_dropout must be in \[0, 1\)"):
        AttendTellDecoder(V, E, H, D, word_dropout=p)
