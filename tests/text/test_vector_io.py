import os

import numpy as np
import pytest

from microseq.data import DataError
from microseq.text import load_vectors, save_vectors

WORDS = ["the", "naïve", "__init__"]
VECTORS = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)


@pytest.mark.parametrize("binary", [False, True])
def test_round_trip(tmp_path, binary):
    path = str(tmp_path / "vectors")
    save_vectors(path, WORDS, VECTORS, binary=binary)
    words, vectors = load_vectors(path)
    assert words == WORDS and vectors.dtype == np.float32
    assert np.array_equal(vectors, VECTORS)
    assert os.listdir(tmp_path) == ["vectors"]  # the temporary file was renamed, nothing left over
    with open(path, "rb") as f:
        assert f.readline() == b"3 5\n"


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_and_writes_the_same_files(tmp_path, binary):
    gensim_models = pytest.importorskip("gensim.models")
    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "theirs")
    save_vectors(ours, WORDS, VECTORS, binary=binary)
    kv = gensim_models.KeyedVectors.load_word2vec_format(ours, binary=binary)
    assert list(kv.index_to_key) == WORDS and np.array_equal(kv.vectors, VECTORS)
    kv.save_word2vec_format(theirs, binary=binary)
    words, vectors = load_vectors(theirs, binary=binary)
    assert words == WORDS and np.array_equal(vectors, VECTORS)


@pytest.mark.parametrize("content, message", [
    (b"hello world\n", "not a word2vec vector file"),
    (b"", "not a word2vec vector file"),
    (b"2 3\na 1 2 3\n", "the header says 2 words, the file has 1 lines"),
    (b"1 3\na 1 2\n", "line 2 has 2 numbers, expected 3"),
    (b"1 2\na 1 x\n", "line 2 holds something that is not a number"),
    (b"2 2\na 1 2\na 3 4\n", "a word appears twice"),
    (b"2 4\na \x00\x00\x80\x3f\n", "binary vector file ends early, at word 1 of 2"),
])
def test_malformed_files_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as error:
        load_vectors(str(path))
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_missing_file_and_bad_words(tmp_path):
    with pytest.raises(DataError, match="cannot read vector file"):
        load_vectors(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="may not be empty or hold whitespace"):
        save_vectors(str(tmp_path / "v"), ["new york"], np.zeros((1, 2)))
    assert not os.listdir(tmp_path)
