"""``import microseq as ms`` is enough: ``ms.nn``, ``ms.optim``, ... load on first use (as ``torch.nn`` after
``import torch``), and the core import does not load them (nor numba, scipy or hypothesis)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(code: str) -> str:
    """Run ``code`` in a fresh interpreter with this checkout first on the path; its stdout."""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout


def test_the_core_import_loads_no_subpackage():
    loaded = run(
        "import sys, microseq\n"
        "heavy = ['microseq.nn', 'microseq.optim', 'microseq.seq2seq', 'microseq.training', 'microseq.data',\n"
        "         'microseq.testing', 'microseq.kernels', 'numba', 'scipy', 'hypothesis']\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    assert loaded.strip() == "[]"


def test_subpackages_are_attributes_after_import_microseq():
    out = run(
        "import numpy as np\n"
        "import microseq as ms\n"
        "lstm = ms.nn.LSTM(3, 4)\n"
        "opt = ms.optim.Adam(lstm.parameters(), lr=1e-3)\n"
        "y = ms.nn.functional.linear(ms.ones(2, 3), ms.ones(4, 3))\n"
        "print(type(lstm).__name__, type(opt).__name__, y.shape, 'nn' in dir(ms))"
    )
    assert out.split() == ["LSTM", "Adam", "(2,", "4)", "True"]


def test_an_unknown_attribute_is_still_an_attribute_error():
    import microseq as ms

    with pytest.raises(AttributeError, match="module 'microseq' has no attribute 'nope'"):
        ms.nope  # noqa: B018
    assert ms.nn is sys.modules["microseq.nn"]  # imported once, then an ordinary attribute
