"""The generated tasks: right answers, deterministic per seed, held-out sets never seen in training."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq.seq2seq.tasks import (
    BOS, DATE_FORMATS, EOS, FIRST_DATE, LAST_DATE, PAD, UNK, DateTask, SymbolTask, format_date, make_batch, seq2seq_vocab,
)


def make_task(name: str, seed: int = 0, **options):
    """The pair generator of task ``name`` (how microseq.training's seq2seq task chooses it)."""
    return DateTask(seed, **options) if name == "dates" else SymbolTask(name, seed, **options)


dates = st.dates(min_value=FIRST_DATE, max_value=LAST_DATE)


def test_the_date_formats_of_the_issue():
    d = dt.date(1999, 3, 3)
    written = {format_date(d, pattern) for pattern in DATE_FORMATS.values()}
    for expected in ("3rd of March 1999", "03/03/99", "March 3, 1999", "1999.03.03", "Wed 3 Mar 1999",
                     "Wednesday, March 3, 1999", "03.03.1999", "1999-03-03", "19990303", "03-Mar-1999"):
        assert expected in written
    assert format_date(dt.date(2001, 11, 12), DATE_FORMATS["ordinal of month"], str.upper) == "12TH OF NOVEMBER 2001"


@pytest.mark.parametrize("day, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                                       (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (30, "30th"), (31, "31st")])
def test_ordinals(day, text):
    assert format_date(dt.date(2000, 1, day), "{ord}") == text


def test_month_first_with_slashes_day_first_with_dots_and_the_two_digit_year_pivot():
    d = dt.date(2004, 3, 7)
    assert format_date(d, DATE_FORMATS["mm/dd/yy (US)"]) == "03/07/04"
    assert format_date(d, DATE_FORMATS["dd.mm.yyyy (European)"]) == "07.03.2004"
    task = DateTask(seed=0, n_valid=10, n_test=10)
    two_digit_years = 0
    for source, target in task.sample(300, np.random.default_rng(0)):
        year = int(target[:4])
        assert FIRST_DATE.year <= year <= LAST_DATE.year
        if "'" in source or re.fullmatch(r"\d{1,2}[/.-]\w+[/.-]\d\d", source):  # '99, 3/3/99, 3.3.99, 3-Mar-99
            assert (year >= 2000) == (int(source[-2:]) < 50)  # yy < 50 means 20yy
            two_digit_years += 1
    assert two_digit_years > 30


@given(dates, dates, st.sampled_from(list(DATE_FORMATS.values())))
def test_every_format_tells_dates_apart(a, b, pattern):
    """No string stands for two dates: the target is a function of the source."""
    if a != b:
        assert format_date(a, pattern).lower() != format_date(b, pattern).lower()


@given(dates)
def test_weekdays_are_the_dates_own(d):
    assert format_date(d, "{Weekday} {Wkd}") == d.strftime("%A %a")  # Python's default C locale: English names


def test_date_targets_are_iso_and_sources_fit_the_vocabulary():
    task = make_task("dates", seed=3, n_valid=50, n_test=50)
    pairs = task.valid + task.test + task.sample(500, np.random.default_rng(1))
    for source, target in pairs:
        assert dt.date.fromisoformat(target).isoformat() == target
        assert UNK not in task.source_vocab.encode(source)
        assert len(target) == task.max_target_length
    assert len({source for source, _ in pairs}) > 400  # many different writings


@pytest.mark.parametrize("name", ["reverse", "sort", "dates"])
def test_tasks_are_deterministic_per_seed(name):
    options = {"n_valid": 20, "n_test": 30}
    a, b, c = make_task(name, 5, **options), make_task(name, 5, **options), make_task(name, 6, **options)
    assert a.valid == b.valid and a.test == b.test
    assert a.sample(40, np.random.default_rng(9)) == b.sample(40, np.random.default_rng(9))
    assert a.test != c.test


def test_date_held_out_sets_are_disjoint_from_training_by_date():
    task = DateTask(seed=1, n_valid=300, n_test=500)
    held_out = task.held_out_dates()
    assert len(held_out) == 800  # each held-out date once
    assert not held_out & task.training_dates()
    assert not {iso for _, iso in task.valid} & {iso for _, iso in task.test}
    assert len(task.training_dates()) + len(held_out) == (LAST_DATE - FIRST_DATE).days + 1
    assert not {iso for _, iso in task.sample(3000, np.random.default_rng(2))} & held_out


@pytest.mark.parametrize("name", ["reverse", "sort"])
def test_symbol_held_out_sets_are_disjoint_from_training(name):
    task = make_task(name, seed=2, n_symbols=3, min_length=2, max_length=4, n_valid=20, n_test=20)  # 117 strings
    held_out = {s for s, _ in task.valid + task.test}
    assert len(held_out) == 40
    assert not {s for s, _ in task.sample(2000, np.random.default_rng(0))} & held_out


@given(st.integers(0, 1000))
def test_reverse_and_sort_targets(seed):
    rng = np.random.default_rng(seed)
    for source, target in make_task("reverse", 0, n_valid=5, n_test=5).sample(5, rng):
        assert target == source[::-1] and 3 <= len(source) <= 12
    for source, target in make_task("sort", 0, n_valid=5, n_test=5).sample(5, rng):
        assert target == "".join(sorted(source)) and set(source) <= set("abcdefghij")


def test_vocab_and_batches():
    vocab = seq2seq_vocab("ab-")
    assert vocab.encode("ab-z").tolist() == [4, 5, 6, UNK]
    assert vocab.decode([BOS, 4, 5, PAD, 6, EOS, 4]) == "ab-"
    assert vocab.decode([4, UNK]) == "a?"
    with pytest.raises(ValueError, match="appear twice"):
        seq2seq_vocab("aa")
    batch = make_batch([("ab", "b"), ("a", "ba")], vocab, vocab)
    np.testing.assert_array_equal(batch.inputs, [[4, 5], [4, PAD]])
    np.testing.assert_array_equal(batch.lengths, [2, 1])
    np.testing.assert_array_equal(batch.decoder_inputs, [[BOS, 5, PAD], [BOS, 5, 4]])
    np.testing.assert_array_equal(batch.targets, [[5, EOS, PAD], [5, 4, EOS]])
    with pytest.raises(ValueError, match="at least one symbol"):
        make_batch([("", "a")], vocab, vocab)


def test_task_errors():
    with pytest.raises(ValueError, match="name must be 'reverse' or 'sort'"):
        SymbolTask("copy")
    with pytest.raises(ValueError, match="leave too few"):
        make_task("reverse", n_symbols=2, min_length=1, max_length=2)
