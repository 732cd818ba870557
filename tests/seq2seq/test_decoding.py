"""Greedy and beam search: their rules, their bookkeeping, and how they compare."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.seq2seq.decoding import beam_search, greedy_decode, length_penalty, translate
from microseq.seq2seq.model import DecoderState, Memory
from microseq.seq2seq.tasks import BOS, EOS, PAD, seq2seq_vocab

from .helpers import ATTENTIONS, CELLS, TARGET_VOCAB, batches, tiny_model

variants = st.tuples(st.sampled_from(ATTENTIONS), st.sampled_from(CELLS), st.booleans())
alphas = st.sampled_from([0.0, 0.6, 1.5])


def _tiny(variant, seed):
    attention, cell, feeding = variant
    return tiny_model(attention, cell, seed, input_feeding=feeding)


def _teacher_forced(model, src, src_lengths, tokens):
    """log p of each emitted token and the attention of each step, by teacher forcing on ``tokens``."""
    tgt_in = np.concatenate([np.full((len(tokens), 1), BOS), tokens[:, :-1]], axis=1)
    model.eval()
    with ms.no_grad():
        logits, weights = model(src, src_lengths, tgt_in)
    log_p = logits.data - np.log(np.exp(logits.data).sum(-1, keepdims=True))
    return np.take_along_axis(log_p, tokens[..., None], -1)[..., 0], weights.data


def _check_well_formed(decoded, max_len):
    assert (decoded.lengths >= 1).all() and (decoded.lengths <= max_len).all()
    for b, n in enumerate(decoded.lengths):
        row = decoded.tokens[b]
        assert (row[n:] == PAD).all() and (decoded.attention[b, n:] == 0).all()
        assert decoded.finished[b] == (row[n - 1] == EOS)
        assert EOS not in row[: n - 1]  # a hypothesis stops at its first EOS
        assert not decoded.finished[b] or n <= max_len
        if not decoded.finished[b]:
            assert n == max_len


# -- against the model itself ----------------------------------------------------------------------------
@given(variant=variants, batch=batches(), seed=st.integers(0, 100), alpha=alphas, max_len=st.integers(1, 5))
def test_greedy_equals_beam_search_of_width_one(variant, batch, seed, alpha, max_len):
    model = _tiny(variant, seed)
    greedy = greedy_decode(model, batch.inputs, batch.lengths, max_len, alpha)
    beam = beam_search(model, batch.inputs, batch.lengths, 1, max_len, alpha)
    np.testing.assert_array_equal(greedy.tokens, beam.tokens)
    np.testing.assert_array_equal(greedy.lengths, beam.lengths)
    np.testing.assert_array_equal(greedy.finished, beam.finished)
    np.testing.assert_allclose(greedy.log_probs, beam.log_probs, rtol=1e-12)
    np.testing.assert_allclose(greedy.scores, beam.scores, rtol=1e-12)
    np.testing.assert_allclose(greedy.attention, beam.attention, atol=1e-14)
    _check_well_formed(greedy, max_len)


@given(variant=variants, batch=batches(), seed=st.integers(0, 100), alpha=alphas, width=st.integers(2, 4))
def test_beam_search_never_scores_below_greedy(variant, batch, seed, alpha, width):
    model = _tiny(variant, seed)
    greedy = greedy_decode(model, batch.inputs, batch.lengths, 5, alpha)
    beam = beam_search(model, batch.inputs, batch.lengths, width, 5, alpha)
    assert (beam.scores >= greedy.scores - 1e-12).all()
    _check_well_formed(beam, 5)


@given(variant=variants, batch=batches(), seed=st.integers(0, 100), alpha=alphas, width=st.integers(1, 4))
def test_reported_scores_and_attention_are_those_of_the_returned_tokens(variant, batch, seed, alpha, width):
    """Re-scoring each hypothesis by teacher forcing gives its log-probability, score and attention back:
    beam search reordered the decoder states correctly."""
    model = _tiny(variant, seed)
    for decoded in (greedy_decode(model, batch.inputs, batch.lengths, 4, alpha),
                    beam_search(model, batch.inputs, batch.lengths, width, 4, alpha)):
        log_p, weights = _teacher_forced(model, batch.inputs, batch.lengths, decoded.tokens)
        for b, n in enumerate(decoded.lengths):
            assert decoded.log_probs[b] == pytest.approx(log_p[b, :n].sum(), rel=1e-10)
            np.testing.assert_allclose(decoded.attention[b, :n], weights[b, :n], atol=1e-12)
        np.testing.assert_allclose(decoded.scores, decoded.log_probs / length_penalty(decoded.lengths, alpha))


@given(variant=variants, batch=batches(), seed=st.integers(0, 100), width=st.integers(2, 4))
def test_batched_beam_search_equals_one_sequence_at_a_time(variant, batch, seed, width):
    model = _tiny(variant, seed)
    together = beam_search(model, batch.inputs, batch.lengths, width, 4)
    for b in range(len(batch.inputs)):
        n = batch.lengths[b]
        alone = beam_search(model, batch.inputs[b : b + 1, :n], batch.lengths[b : b + 1], width, 4)
        np.testing.assert_array_equal(together.tokens[b, : together.lengths[b]], alone.tokens[0, : alone.lengths[0]])
        assert together.scores[b] == pytest.approx(alone.scores[0], rel=1e-10)


@pytest.mark.parametrize("alpha", [0.0, 0.6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_wide_enough_beam_finds_the_best_hypothesis_of_all(alpha, seed):
    """With room for every prefix, beam search is exhaustive search: compare with brute force."""
    model = tiny_model("bahdanau", "gru", seed)
    src, src_lengths, max_len = np.array([[4, 6, 5]]), np.array([3]), 3
    hypotheses = [(EOS,)]
    for n in range(2, max_len + 1):
        hypotheses += [(*p, EOS) for p in itertools.product(range(TARGET_VOCAB), repeat=n - 1) if EOS not in p]
    hypotheses += [p for p in itertools.product(range(TARGET_VOCAB), repeat=max_len) if EOS not in p]  # cut
    tokens = np.full((len(hypotheses), max_len), PAD)
    for i, h in enumerate(hypotheses):
        tokens[i, : len(h)] = h
    log_p, _ = _teacher_forced(model, np.repeat(src, len(tokens), 0), np.repeat(src_lengths, len(tokens)), tokens)
    lengths = np.array([len(h) for h in hypotheses])
    scores = np.array([log_p[i, :n].sum() for i, n in enumerate(lengths)]) / length_penalty(lengths, alpha)
    beam = beam_search(model, src, src_lengths, TARGET_VOCAB**max_len, max_len, alpha)
    best = int(np.argmax(scores))
    assert beam.scores[0] == pytest.approx(scores[best], rel=1e-10)
    assert tuple(beam.tokens[0, : beam.lengths[0]]) == hypotheses[best]


# -- against scripted next-symbol distributions ----------------------------------------------------------
A, B, C = 4, 5, 6


class Scripted:
    """Stands in for a Seq2Seq: the next-symbol distribution is a fixed table of the prefix.

    Unlisted prefixes get a uniform distribution over A, B, C and EOS. The decoder state is the prefix itself.
    """

    bos, eos, training = BOS, EOS, False

    def __init__(self, table: dict):
        self.table = table
        self.decoder = self

    def train(self, mode=True):
        self.training = mode
        return self

    def eval(self):
        return self.train(False)

    def encode(self, src, src_lengths):
        batch = len(src)
        memory = Memory(ms.Tensor(np.zeros((batch, src.shape[1], 1))), np.ones(src.shape, bool), None)
        return memory, DecoderState((ms.Tensor(np.zeros((batch, 0))),), None)

    def step(self, previous, state, memory):
        prefixes = np.concatenate([state.hidden[0].data, np.asarray(previous, float)[:, None]], axis=1)
        logits = np.full((len(previous), 7), np.log(1e-12))
        for b, prefix in enumerate(prefixes.astype(int)):
            for token, p in self.table.get(tuple(prefix[1:]), {A: 0.25, B: 0.25, C: 0.25, EOS: 0.25}).items():
                logits[b, token] = np.log(p)
        weights = np.full(memory.mask.shape, 1.0 / memory.mask.shape[1])
        return ms.Tensor(logits), DecoderState((ms.Tensor(prefixes),), None), ms.Tensor(weights)


SRC, SRC_LENGTHS = np.array([[4, 4]]), np.array([2])


def test_plain_beam_search_can_lose_to_greedy_and_keep_greedy_prevents_it():
    """Greedy: A A EOS (p = .40 * .34 * 1). The beam of 2 prefers B A and B B after two steps (.35 * .5 each),
    drops A A, and then only finds uniform continuations."""
    model = Scripted({(): {A: 0.40, B: 0.35, C: 0.25}, (A,): {A: 0.34, B: 0.33, C: 0.33}, (B,): {A: 0.5, B: 0.5},
                      (A, A): {EOS: 1.0}})
    greedy = greedy_decode(model, SRC, SRC_LENGTHS, 6, alpha=0.0)
    assert greedy.tokens[0].tolist() == [A, A, EOS]
    plain = beam_search(model, SRC, SRC_LENGTHS, 2, 6, alpha=0.0, keep_greedy=False)
    assert plain.tokens[0, :2].tolist()[0] == B and plain.scores[0] < greedy.scores[0] - 1
    kept = beam_search(model, SRC, SRC_LENGTHS, 2, 6, alpha=0.0)
    assert kept.tokens[0].tolist() == [A, A, EOS] and kept.scores[0] == pytest.approx(greedy.scores[0])


def test_beam_search_finds_what_greedy_misses():
    """Greedy takes A (.5) and then faces a uniform choice; B (.45) then EOS (.99) is far more likely."""
    model = Scripted({(): {A: 0.5, B: 0.45, C: 0.05}, (B,): {EOS: 0.99, A: 0.01}})
    greedy = greedy_decode(model, SRC, SRC_LENGTHS, 5, alpha=0.0)
    beam = beam_search(model, SRC, SRC_LENGTHS, 2, 5, alpha=0.0)
    assert greedy.tokens[0, 0] == A
    assert beam.tokens[0].tolist() == [B, EOS]
    assert beam.log_probs[0] == pytest.approx(np.log(0.45 * 0.99))


def test_length_normalisation_can_prefer_the_longer_hypothesis():
    """EOS at once (p .5, length 1) against A then EOS (p .45, length 2)."""
    model = Scripted({(): {EOS: 0.5, A: 0.5}, (A,): {EOS: 0.9, B: 0.1}})
    raw = beam_search(model, SRC, SRC_LENGTHS, 2, 5, alpha=0.0)
    normalised = beam_search(model, SRC, SRC_LENGTHS, 2, 5, alpha=1.0)
    assert raw.tokens[0].tolist() == [EOS]
    assert normalised.tokens[0].tolist() == [A, EOS]
    assert normalised.scores[0] == pytest.approx(np.log(0.45) / (7 / 6))


def test_hypotheses_are_cut_at_max_len():
    model = Scripted({(): {A: 0.9, EOS: 0.1}, (A,): {A: 0.9, EOS: 0.1}, (A, A): {A: 0.9, EOS: 0.1}})
    for decoded in (greedy_decode(model, SRC, SRC_LENGTHS, 3), beam_search(model, SRC, SRC_LENGTHS, 1, 3)):
        assert decoded.tokens[0].tolist() == [A, A, A] and not decoded.finished[0]
        assert decoded.log_probs[0] == pytest.approx(3 * np.log(0.9))


def test_decoding_argument_errors_and_translate():
    model = tiny_model()
    with pytest.raises(ValueError, match="beam_width must be at least 1"):
        beam_search(model, SRC, SRC_LENGTHS, 0)
    with pytest.raises(ValueError, match="max_len must be at least 1"):
        greedy_decode(model, SRC, SRC_LENGTHS, 0)
    with pytest.raises(ValueError, match=r"src must be \(B, S\)"):
        greedy_decode(model, SRC[0], SRC_LENGTHS)
    vocab = seq2seq_vocab("abc")
    texts, decoded = translate(model, ["ab", "c"], vocab, seq2seq_vocab("xy"), beam_width=2, max_len=4)
    assert len(texts) == 2 and all(set(t) <= set("xy?") for t in texts)
    assert decoded.attention.shape[0] == 2 and model.training  # decoding restores training mode
