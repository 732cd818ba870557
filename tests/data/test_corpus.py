"""Corpora: the default stdlib corpus, splitting a text, reading a file."""

import pytest

from microseq.data import DataError, read_text, split_text, stdlib_corpus, stdlib_files


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
