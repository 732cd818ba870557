"""``keep_freed_memory``: once the kernels load, a large array freed and allocated again reuses heap pages
instead of faulting in fresh ones (Linux with glibc; each case runs in a fresh process, as the setting is
process-wide)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")

# Page faults per round after a warm-up round; a round writes five 2.5 MiB arrays, alive together, then frees
# them, as a layer's forward and backward do (by glibc's own rules their 12.5 MiB heap top is trimmed each round).
SCRIPT = """
import resource, sys
import numpy as np
if sys.argv[1] == "kernels":
    import microseq.kernels
faults = []
for _ in range(4):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    arrays = [np.full(5 << 17, 1.0, np.float32) for _ in range(5)]
    del arrays
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(min(faults[1:]))
"""
PAGES = 5 * (5 << 17) * 4 // 4096  # 4 KiB pages written per round


def faults_per_round(mode, env=None):
    result = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True,
                            env=env)
    return int(result.stdout)


def test_without_it_every_round_faults_in_fresh_pages():
    assert faults_per_round("plain") >= PAGES // 2


def test_after_the_kernels_load_freed_pages_are_reused():
    assert faults_per_round("kernels") < PAGES // 10


def test_thresholds_the_user_set_are_left_alone():
    import os

    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072", MALLOC_TRIM_THRESHOLD_="131072")
    assert faults_per_round("kernels", env) >= PAGES // 2


def test_it_reports_whether_it_set_a_threshold():
    from microseq._heap import keep_freed_memory

    assert keep_freed_memory() is True
