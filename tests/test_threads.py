"""``blas_threads``: NumPy's BLAS thread count is set for a block and restored after it, errors included."""

import pytest

from microseq._threads import blas_threads, get_blas_threads


def test_the_count_holds_inside_the_block_and_is_restored_after(two_blas_threads):
    with blas_threads(1) as was_set:
        assert was_set and get_blas_threads() == 1
    assert get_blas_threads() == 2


def test_the_count_is_restored_when_the_block_raises(two_blas_threads):
    with pytest.raises(KeyboardInterrupt), blas_threads(1):
        raise KeyboardInterrupt
    assert get_blas_threads() == 2


def test_none_leaves_the_count_alone(two_blas_threads):
    with blas_threads(None) as was_set:
        assert not was_set and get_blas_threads() == 2
    assert get_blas_threads() == 2


def test_a_count_below_one_is_refused_before_the_block_runs(two_blas_threads):
    with pytest.raises(ValueError, match="threads must be at least 1, got 0"), blas_threads(0):
        pytest.fail("the block ran")
    assert get_blas_threads() == 2
