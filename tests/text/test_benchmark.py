"""The measurements of ``microseq.text.benchmark`` that can be run small: the pretrained-vector comparison."""

from __future__ import annotations

import pytest

from microseq.text.benchmark import STARTS, main, pretrained_accuracy


def test_pretrained_accuracy_scores_every_start_size_and_seed():
    accuracy, unseen = pretrained_accuracy("postag", sizes=(2, 4), seeds=(0, 1), steps=2, unlabelled=300)
    assert set(accuracy) == {(start, size) for start in STARTS for size in (2, 4)}
    assert all(len(scores) == 2 and all(0.0 <= a <= 1.0 for a in scores) for scores in accuracy.values())
    assert set(unseen) == {2, 4} and all(0.0 < share < 1.0 for share in unseen[2])  # two sentences miss words
    assert all(small >= large for small, large in zip(unseen[2], unseen[4]))  # [seed, 1] sets grow by appending


def test_pretrained_accuracy_names_an_unknown_task():
    with pytest.raises(ValueError, match="task must be 'sentiment' or 'postag', got 'charlm'"):
        pretrained_accuracy("charlm")


def test_main_refuses_an_unknown_part(capsys):
    assert main(["pretrained", "vectors"]) == 2
    assert "unknown part 'vectors'" in capsys.readouterr().err
