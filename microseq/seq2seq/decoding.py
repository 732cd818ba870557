"""Decoding a trained :class:`~microseq.seq2seq.model.Seq2Seq`: greedy search and batched beam search.

Both run the decoder one step at a time from BOS, stop a hypothesis at EOS or at ``max_len`` tokens, and
return the attention weights of every emitted token, ready to plot.

Scoring. A hypothesis y of length L (counting its EOS) scores ``log p(y | x) / lp(L)`` with Wu et al.'s
(2016) length penalty ``lp(L) = ((5 + L) / 6) ** alpha``. ``alpha = 0`` is the plain log-probability, which
favours short outputs; larger alpha favours longer ones. Greedy search picks the argmax at each step and
reports the same score, so that the two can be compared.

Beam search keeps the ``beam_width`` best unfinished prefixes of each sequence. At each step it ranks all
their one-token extensions by log-probability; an extension that ends with EOS among the best ``beam_width``
becomes a finished hypothesis, and the best ``beam_width`` extensions without EOS go on. A sequence is done
when it has ``beam_width`` finished hypotheses, or when no unfinished prefix can still beat the best finished
one (log-probabilities only fall as a prefix grows, so ``score / lp(max_len)`` bounds its future). With
width 1 this is exactly greedy search.

Plain beam search can return a *worse* hypothesis than greedy search: the greedy prefix may fall out of the
beam to prefixes that look better at first and end worse. ``keep_greedy=True`` (the default) also runs greedy
search and keeps its hypothesis when it scores higher, so beam search is never worse than greedy under the
same scoring, at the cost of one more beam.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..autograd import no_grad
from ..data import CharVocab, pad_sequences
from ..tensor import array_of
from .model import DecoderState, Memory, Seq2Seq
from .tasks import PAD

__all__ = ["Decoded", "length_penalty", "greedy_decode", "beam_search", "search", "translate"]


@dataclass
class Decoded:
    """The hypotheses chosen for a batch.

    Attributes
    ----------
    tokens : int64 array (B, L)
        Each hypothesis, ending with EOS if it finished, padded with PAD.
    lengths : int64 array (B,)
        Number of tokens, EOS included.
    log_probs : float64 array (B,)
        ``log p(tokens | source)``.
    scores : float64 array (B,)
        ``log_probs / lp(lengths)`` (see the module docstring).
    attention : float array (B, L, S)
        Attention weights of the step that emitted each token; zero past the hypothesis' end.
    finished : bool array (B,)
        Whether the hypothesis ended with EOS (else it was cut at ``max_len``).
    """

    tokens: np.ndarray
    lengths: np.ndarray
    log_probs: np.ndarray
    scores: np.ndarray
    attention: np.ndarray
    finished: np.ndarray


def length_penalty(length, alpha: float):
    """Wu et al.'s ``((5 + length) / 6) ** alpha`` (1 when alpha is 0)."""
    return ((5.0 + np.asarray(length, dtype=np.float64)) / 6.0) ** alpha


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@contextmanager
def _inference(model: Seq2Seq):
    """No tape and no dropout inside; the model's training mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        model.train(was_training)


def _check_args(src, src_lengths) -> tuple[np.ndarray, np.ndarray]:
    src = array_of(src)
    src_lengths = array_of(src_lengths)
    if src.ndim != 2 or src_lengths.shape != src.shape[:1]:
        raise ValueError(f"decoding: src must be (B, S) and src_lengths (B,), got {src.shape} and {src_lengths.shape}")
    return src, src_lengths


def greedy_decode(model: Seq2Seq, src, src_lengths, max_len: int = 50, alpha: float = 0.6) -> Decoded:
    """Pick the most probable token at every step.

    Parameters
    ----------
    model : Seq2Seq
    src : int array (B, S)
    src_lengths : int array (B,)
    max_len : int
        Most tokens per hypothesis (EOS included).
    alpha : float
        Length-penalty exponent of the reported ``scores`` (it does not change the choice).
    """
    src, src_lengths = _check_args(src, src_lengths)
    return search(model, (src, src_lengths), 1, max_len, alpha)


def _greedy(model: Seq2Seq, memory: Memory, state: DecoderState, max_len: int, alpha: float) -> Decoded:
    batch, source_len = memory.mask.shape
    tokens = np.full((batch, max_len), PAD, dtype=np.int64)
    attention = np.zeros((batch, max_len, source_len), dtype=memory.keys.dtype)
    log_probs = np.zeros(batch)
    lengths = np.full(batch, max_len, dtype=np.int64)
    alive = np.ones(batch, dtype=bool)
    previous = np.full(batch, model.bos, dtype=np.int64)
    steps = 0
    for t in range(max_len):
        logits, state, weights = model.decoder.step(previous, state, memory)
        log_p = _log_softmax(logits.data)
        best = np.argmax(log_p, axis=-1)
        tokens[alive, t] = best[alive]
        attention[alive, t] = weights.data[alive]
        log_probs[alive] += log_p[alive, best[alive]]
        ended = alive & (best == model.eos)
        lengths[ended] = t + 1
        alive &= ~ended
        previous = best
        steps = t + 1
        if not alive.any():
            break
    return Decoded(
        tokens=tokens[:, :steps],
        lengths=lengths,
        log_probs=log_probs,
        scores=log_probs / length_penalty(lengths, alpha),
        attention=attention[:, :steps],
        finished=~alive,
    )


@dataclass
class _Hypothesis:
    score: float
    log_prob: float
    tokens: np.ndarray
    attention: np.ndarray
    finished: bool


def beam_search(
    model: Seq2Seq,
    src,
    src_lengths,
    beam_width: int = 5,
    max_len: int = 50,
    alpha: float = 0.6,
    keep_greedy: bool = True,
) -> Decoded:
    """Batched beam search (see the module docstring for the rules).

    Parameters
    ----------
    model : Seq2Seq
    src : int array (B, S)
    src_lengths : int array (B,)
    beam_width : int
        K, the number of prefixes kept per sequence.
    max_len : int
        Most tokens per hypothesis (EOS included); hypotheses still open then are scored as they are.
    alpha : float
        Length-penalty exponent (0: raw log-probability).
    keep_greedy : bool
        Also consider the greedy hypothesis, so that the result never scores below greedy search.

    Returns
    -------
    Decoded, the best hypothesis of each sequence.
    """
    src, src_lengths = _check_args(src, src_lengths)
    return search(model, (src, src_lengths), beam_width, max_len, alpha, keep_greedy)


def search(model, inputs: tuple, beam_width: int = 1, max_len: int = 50, alpha: float = 0.6,
           keep_greedy: bool = True) -> Decoded:
    """Greedy search (``beam_width`` 1) or beam search of any model that decodes step by step.

    The model needs ``encode(*inputs) -> (memory, state)``, ``decoder.step(prev_tokens, state, memory) ->
    (logits (B, V), state, weights (B, S))``, ``bos`` and ``eos``; ``memory`` and ``state`` need
    ``select(rows)``, and ``memory`` a ``mask`` (B, S) and ``keys`` (for the dtype). A :class:`Seq2Seq`
    encodes ``(src, src_lengths)``, a captioning model ``(images,)``: both decode here.
    """
    if max_len < 1:
        raise ValueError(f"decoding: max_len must be at least 1, got {max_len}")
    if beam_width < 1:
        raise ValueError(f"beam_search: beam_width must be at least 1, got {beam_width}")
    with _inference(model):
        memory, state = model.encode(*inputs)
        if beam_width == 1:
            return _greedy(model, memory, state, max_len, alpha)
        best = _beam(model, memory, state, beam_width, max_len, alpha)
        if keep_greedy:
            greedy = _greedy(model, memory, state, max_len, alpha)
            for b in np.nonzero(greedy.scores > [h.score for h in best])[0]:
                length = greedy.lengths[b]
                best[b] = _Hypothesis(
                    greedy.scores[b], greedy.log_probs[b], greedy.tokens[b, :length], greedy.attention[b, :length],
                    bool(greedy.finished[b]),
                )
    return _collect(best, memory.mask.shape[1], memory.keys.dtype)


def _beam(model: Seq2Seq, memory: Memory, state: DecoderState, width: int, max_len: int, alpha: float) -> list:
    """The best hypothesis of each sequence, by beam search of width ``width``."""
    batch, source_len = memory.mask.shape
    rows = np.repeat(np.arange(batch), width)  # beam k of sequence b sits in row b * width + k
    memory, state = memory.select(rows), state.select(rows)
    scores = np.full((batch, width), -np.inf)
    scores[:, 0] = 0.0  # one live prefix at the start, so the beams do not begin as copies of each other
    prefixes = np.zeros((batch, width, 0), dtype=np.int64)
    prefix_attention = np.zeros((batch, width, 0, source_len), dtype=memory.keys.dtype)
    finished: list[list[_Hypothesis]] = [[] for _ in range(batch)]
    done = np.zeros(batch, dtype=bool)
    previous = np.full(batch * width, model.bos, dtype=np.int64)
    b_index = np.arange(batch)[:, None]
    for t in range(max_len):
        logits, state, weights = model.decoder.step(previous, state, memory)
        log_p = _log_softmax(logits.data).reshape(batch, width, -1)
        vocab = log_p.shape[-1]
        weights = weights.data.reshape(batch, width, source_len)
        candidates = (scores[:, :, None] + log_p).reshape(batch, width * vocab)
        order = np.argsort(-candidates, axis=1, kind="stable")[:, : 2 * width]  # ties: lowest index, as argmax
        cand_scores = np.take_along_axis(candidates, order, axis=1)
        cand_beam, cand_token = order // vocab, order % vocab
        is_eos = cand_token == model.eos

        # Extensions ending with EOS among the best `width` candidates finish.
        for b, j in zip(*np.nonzero(is_eos[:, :width] & np.isfinite(cand_scores[:, :width]))):
            if not done[b]:
                k = cand_beam[b, j]
                finished[b].append(_Hypothesis(
                    cand_scores[b, j] / length_penalty(t + 1, alpha),
                    cand_scores[b, j],
                    np.append(prefixes[b, k], model.eos),
                    np.concatenate([prefix_attention[b, k], weights[b, k][None]]),
                    True,
                ))

        # The best `width` extensions without EOS go on (there are always enough among 2 * width candidates).
        keep = np.argsort(is_eos, axis=1, kind="stable")[:, :width]
        beam = np.take_along_axis(cand_beam, keep, axis=1)
        token = np.take_along_axis(cand_token, keep, axis=1)
        scores = np.take_along_axis(cand_scores, keep, axis=1)
        prefixes = np.concatenate([prefixes[b_index, beam], token[:, :, None]], axis=2)
        prefix_attention = np.concatenate([prefix_attention[b_index, beam], weights[b_index, beam][:, :, None]], axis=2)
        state = state.select((b_index * width + beam).reshape(-1))
        previous = token.reshape(-1)

        bound = scores.max(axis=1) / length_penalty(max_len, alpha)  # the best any open prefix can still reach
        for b in np.nonzero(~done)[0]:
            if finished[b] and (len(finished[b]) >= width or max(h.score for h in finished[b]) >= bound[b]):
                done[b] = True
        if done.all():
            break

    best = []
    for b in range(batch):
        pool = list(finished[b])
        if not done[b]:  # cut at max_len: the open prefixes compete as they are
            length = prefixes.shape[2]
            pool += [
                _Hypothesis(scores[b, k] / length_penalty(length, alpha), scores[b, k], prefixes[b, k],
                            prefix_attention[b, k], False)
                for k in range(width) if np.isfinite(scores[b, k])
            ]
        best.append(max(pool, key=lambda h: h.score))  # max keeps the first of equal scores
    return best


def _collect(hypotheses: list, source_len: int, dtype) -> Decoded:
    longest = max(len(h.tokens) for h in hypotheses)
    batch = len(hypotheses)
    tokens = np.full((batch, longest), PAD, dtype=np.int64)
    attention = np.zeros((batch, longest, source_len), dtype=dtype)
    for b, h in enumerate(hypotheses):
        tokens[b, : len(h.tokens)] = h.tokens
        attention[b, : len(h.tokens)] = h.attention
    return Decoded(
        tokens=tokens,
        lengths=np.array([len(h.tokens) for h in hypotheses], dtype=np.int64),
        log_probs=np.array([h.log_prob for h in hypotheses], dtype=np.float64),
        scores=np.array([h.score for h in hypotheses], dtype=np.float64),
        attention=attention,
        finished=np.array([h.finished for h in hypotheses]),
    )


def translate(
    model: Seq2Seq,
    texts: list[str],
    source_vocab: CharVocab,
    target_vocab: CharVocab,
    beam_width: int = 1,
    max_len: int = 50,
    alpha: float = 0.6,
) -> tuple[list[str], Decoded]:
    """Decode strings: greedy for ``beam_width`` 1, else beam search. Returns the output strings and the
    :class:`Decoded` batch (for the attention weights)."""
    if not texts or any(len(text) == 0 for text in texts):
        raise ValueError("translate: needs at least one text, and no empty text")
    src, lengths = pad_sequences([source_vocab.encode(text) for text in texts], PAD, dtype=np.int64)
    if beam_width == 1:
        decoded = greedy_decode(model, src, lengths, max_len, alpha)
    else:
        decoded = beam_search(model, src, lengths, beam_width, max_len, alpha)
    return [target_vocab.decode(row) for row in decoded.tokens], decoded
