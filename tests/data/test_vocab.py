"""Vocabularies: ids in a fixed order, the special symbols, unknowns, the round trip through a dict."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq.data import CharVocab, Vocab, WordVocab, vocab_from_dict


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
    with_ends = CharVocab("ab", pad="<pad>", bos="<s>", eos="</s>", unk="?")
    for vocab in (CharVocab.build("hello world"), WordVocab.build(["a b c"]), Vocab(["X", "Y"], pad=None, unk=None),
                  with_ends):
        assert vocab_from_dict(vocab.to_dict()) == vocab
    # a vocabulary stored before BOS and EOS existed reads back without them
    old = {key: value for key, value in CharVocab.build("abc").to_dict().items() if key not in ("bos", "eos")}
    assert vocab_from_dict(old) == CharVocab.build("abc")


def test_begin_and_end_symbols_come_after_padding_and_decoding_stops_at_the_end():
    vocab = CharVocab("ab-", pad="<pad>", bos="<s>", eos="</s>", unk="?")
    assert (vocab.pad_index, vocab.bos_index, vocab.eos_index, vocab.unk_index) == (0, 1, 2, 3)
    assert vocab.encode("ab-z").tolist() == [4, 5, 6, 3]
    assert vocab.decode([1, 4, 5, 0, 6, 2, 4]) == "ab-"  # BOS and padding dropped, nothing after EOS
    assert vocab.decode([4, 3]) == "a?"
    plain = CharVocab.build("abc")  # no specials but the unknown: every id decodes to one character
    assert (plain.bos_index, plain.eos_index, plain.pad_index) == (None, None, None)
    assert plain.decode(plain.encode("cab")) == "cab"


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
