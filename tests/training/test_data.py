"""Data pipeline: vocabularies, padding, the resumable batchers, corpora and the generated tasks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq.data import (
    ADDING_BASELINE_MSE, COPY_BLANK, COPY_DELIMITER, POS_TAGS, CharVocab, DataError, LMStream, SequenceBatcher,
    Vocab, WordVocab, adding_problem, copy_baseline_loss, copy_task, pad_sequences, pos_examples, read_text,
    sentiment_examples, split_text, stdlib_corpus, stdlib_files, vocab_from_dict,
)
from microseq.data import toy_language

# -- vocabularies ---------------------------------------------------------------------------------------


@given(st.text(min_size=1, max_size=40), st.text(max_size=20))
def test_char_vocab_round_trip_and_unknowns(text, other):
    vocab = CharVocab.build(text)
    assert vocab.decode(vocab.encode(text)) == text
    decoded = vocab.decode(vocab.encode(other))
    assert len(decoded) == len(other)
    assert all(d == c if c in set(text) else d == "\ufffd" for c, d in zip(other, decoded))


@given(st.lists(st.text(alphabet="abcde", min_size=1, max_size=3), min_size=1, max_size=30), st.randoms())
def test_vocab_ids_do_not_depend_on_order(words, random):
    shuffled = list(words)
    random.shuffle(shuffled)
    assert WordVocab.build([words]).itos == WordVocab.build([shuffled]).itos


def test_vocab_specials_and_min_count():
    vocab = WordVocab.build(["the cat sat", "the dog", "<unk> the"], min_count=2)
    assert vocab.itos == ["<pad>", "<unk>", "the"]
    assert (vocab.pad_index, vocab.unk_index) == (0, 1)
    assert vocab.encode("the zebra").tolist() == [2, 1]
    assert vocab.decode([2, 1]) == ["the", "<unk>"]


def test_vocab_max_size_keeps_the_most_frequent():
    vocab = CharVocab.build("aaabbc", max_size=2)
    assert vocab.itos == ["\ufffd", "a", "b"]


def test_vocab_to_dict_round_trip():
    for vocab in (CharVocab.build("hello world"), WordVocab.build(["a b c"]), Vocab(["X", "Y"], pad=None, unk=None)):
        assert vocab_from_dict(vocab.to_dict()) == vocab


def test_vocab_errors():
    closed = Vocab(["a"], pad=None, unk=None)
    with pytest.raises(KeyError, match="'b' is not in the vocabulary"):
        closed.encode(["a", "b"])
    with pytest.raises(ValueError, match="single characters"):
        CharVocab(["ab"])
    with pytest.raises(ValueError, match="appear twice"):
        Vocab(["a", "a"])
    with pytest.raises(ValueError, match="not a vocabulary"):
        vocab_from_dict({"symbols": []})


# -- padding and batching -----------------------------------------------------------------------------------


@given(st.lists(st.lists(st.integers(1, 9), min_size=1, max_size=6), min_size=1, max_size=5))
def test_pad_sequences_keeps_every_sequence(sequences):
    padded, lengths = pad_sequences([np.array(s) for s in sequences], pad_value=0)
    assert padded.shape == (len(sequences), max(map(len, sequences)))
    assert lengths.tolist() == [len(s) for s in sequences]
    for row, s in zip(padded, sequences):
        assert row[: len(s)].tolist() == s
        assert not row[len(s):].any()


def test_pad_sequences_with_features_and_errors():
    padded, lengths = pad_sequences([np.ones((2, 3)), np.ones((1, 3))], pad_value=-1.0)
    assert padded.shape == (2, 2, 3) and lengths.tolist() == [2, 1] and (padded[1, 1] == -1).all()
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(2, 4\)"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="no sequences"):
        pad_sequences([])


def test_sequence_batcher_epochs_and_resume():
    inputs = [np.arange(1, n + 1) for n in range(1, 11)]
    targets = [np.arange(n) for n in range(1, 11)]
    batcher = SequenceBatcher(inputs, targets, batch_size=3, seed=5, drop_last=False)
    assert len(batcher) == 4
    seen = [int(b.lengths[i]) for b in (next(batcher) for _ in range(4)) for i in range(b.batch_size)]
    assert sorted(seen) == list(range(1, 11))  # one epoch visits every example once
    batch = next(batcher)
    assert batcher.epoch == 1
    for row, length in zip(batch.targets, batch.lengths):
        assert (row[length:] == -100).all() and (row[:length] == np.arange(length)).all()

    state = batcher.state_dict()
    expected = [next(batcher).inputs for _ in range(6)]
    resumed = SequenceBatcher(inputs, targets, batch_size=3, seed=999, drop_last=False)
    resumed.load_state_dict(state)
    for want in expected:
        np.testing.assert_array_equal(next(resumed).inputs, want)


def test_sequence_batcher_scalar_targets():
    batcher = SequenceBatcher([np.array([1, 2]), np.array([3])], [0, 1], batch_size=2)
    batch = next(batcher)
    assert batch.targets.shape == (2,) and batch.num_tokens() == 3


def test_lm_stream_layout_continuity_and_resume():
    ids = np.arange(200)
    stream = LMStream(ids, batch_size=3, seq_len=5, seed=1)
    first, second = next(stream), next(stream)
    assert first.inputs.shape == (3, 5) and first.reset and not second.reset
    np.testing.assert_array_equal(first.targets, first.inputs + 1)  # targets are the next tokens
    np.testing.assert_array_equal(second.inputs[:, 0], first.inputs[:, -1] + 1)  # rows continue
    for _ in range(stream.batches_per_epoch - 2):
        next(stream)
    assert next(stream).reset and stream.epoch == 1

    state = stream.state_dict()
    expected = [next(stream).inputs for _ in range(30)]
    resumed = LMStream(ids, batch_size=3, seq_len=5, seed=1234)
    resumed.load_state_dict(state)
    for want in expected:
        np.testing.assert_array_equal(next(resumed).inputs, want)


def test_lm_stream_one_epoch_covers_the_text_in_order():
    stream = LMStream(np.arange(41), batch_size=2, seq_len=5, random_offset=False)
    batches = list(stream.one_epoch())
    assert len(batches) == 4 and batches[0].reset
    rows = np.concatenate([b.inputs for b in batches], axis=1)
    np.testing.assert_array_equal(rows, np.arange(40).reshape(2, 20))


def test_lm_stream_too_short():
    with pytest.raises(ValueError, match="too few for batch_size 4 x seq_len 10"):
        LMStream(np.arange(30), batch_size=4, seq_len=10)


# -- corpora ------------------------------------------------------------------------------------------------------


def test_default_corpus_is_deterministic_and_sized():
    text = stdlib_corpus(50_000)
    assert text == stdlib_corpus(50_000) and len(text) == 50_000
    assert "def " in text and "import" in text
    names = [p.rsplit("/", 1)[-1] for p in stdlib_files(50_000)]
    assert names == sorted(names) and not any(n.startswith("_") for n in names)


def test_split_text_cuts_at_a_line():
    text = "".join(f"line {i}\n" for i in range(100))
    train, valid = split_text(text, 0.1)
    assert train + valid == text and valid.startswith("line ") and 0.05 < len(valid) / len(text) < 0.15


def test_read_text_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_text(str(tmp_path / "missing.txt"))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("ok\ncaf\xe9".encode("latin-1"))
    with pytest.raises(DataError, match=r"not UTF-8 text \(invalid byte 0xe9 on line 2\)"):
        read_text(str(bad))
    with pytest.raises(DataError, match="directory"):
        read_text(str(tmp_path))
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(DataError, match="empty"):
        read_text(str(tmp_path / "empty.txt"))


# -- generated tasks ----------------------------------------------------------------------------------------------------


@given(st.integers(2, 30), st.integers(0, 2**32 - 1))
def test_adding_problem_markers_and_targets(T, seed):
    x, y = adding_problem(np.random.default_rng(seed), 4, T)
    assert x.shape == (4, T, 2) and y.shape == (4,)
    markers = x[..., 1]
    assert (markers[:, : T // 2].sum(1) == 1).all() and (markers[:, T // 2:].sum(1) == 1).all()
    np.testing.assert_allclose((x[..., 0] * markers).sum(1), y, rtol=1e-6)


def test_adding_problem_mean_baseline():
    _, y = adding_problem(np.random.default_rng(0), 200_000, 10, dtype=np.float64)
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < 0.003


def test_copy_task_layout():
    T = 7
    x, y = copy_task(np.random.default_rng(0), 3, T)
    assert x.shape == y.shape == (3, T + 20)
    assert ((x[:, :10] >= 1) & (x[:, :10] <= 8)).all()
    assert (x[:, 10 : 9 + T] == COPY_BLANK).all() and (x[:, 9 + T] == COPY_DELIMITER).all()
    assert (x[:, T + 10 :] == COPY_BLANK).all()
    np.testing.assert_array_equal(y[:, -10:], x[:, :10])
    assert (y[:, :-10] == COPY_BLANK).all()
    assert copy_baseline_loss(T) == pytest.approx(10 * np.log(8) / (T + 20))


def _sentiment_by_rule(words):
    """An independent reading of a review: the polarity of the last clause, flipped by 'not'."""
    for separator in ("but", ",", "and"):
        if separator in words:
            words = words[len(words) - words[::-1].index(separator):]
    positive = any(w in toy_language._POSITIVE for w in words)
    return int(positive) ^ ("not" in words)


def test_sentiment_labels_follow_the_grammar():
    sentences, labels = sentiment_examples(np.random.default_rng(3), 500)
    assert [_sentiment_by_rule(s) for s in sentences] == labels
    assert 0.4 < np.mean(labels) < 0.6
    assert sentiment_examples(np.random.default_rng(3), 500) == (sentences, labels)


def test_pos_tags_come_from_the_lexicon_and_ambiguity_exists():
    sentences, tags = pos_examples(np.random.default_rng(4), 500)
    seen = {}
    for words, word_tags in zip(sentences, tags):
        assert len(words) == len(word_tags) and 2 <= len(words) <= 16
        for w, t in zip(words, word_tags):
            assert t in POS_TAGS and w in toy_language._LEXICON[t]
            seen.setdefault(w, set()).add(t)
    assert seen["saw"] == {"NOUN", "VERB"} and seen["light"] == {"ADJ", "NOUN"}
