"""The language-model stream: layout, continuity between batches, resume."""

import numpy as np
import pytest

from microseq.data import LMStream


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
