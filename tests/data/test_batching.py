"""Padding and the resumable shuffling batcher."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microseq.data import Batch, SequenceBatcher, pad_sequences


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


def test_a_batch_counts_its_real_tokens_and_may_carry_decoder_inputs():
    inputs, lengths = pad_sequences([np.array([4, 5, 6]), np.array([7])], pad_value=0)
    batch = Batch(inputs, np.array([[5, 2], [2, 0]]), lengths, decoder_inputs=np.array([[1, 5], [1, 0]]))
    assert batch.batch_size == 2 and batch.num_tokens() == 4
    assert Batch(np.zeros((2, 3))).num_tokens() == 6 and Batch(np.zeros((2, 3))).decoder_inputs is None
