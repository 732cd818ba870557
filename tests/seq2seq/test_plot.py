"""The attention heatmap."""

import numpy as np
import pytest

from microseq.seq2seq.plot import plot_attention


def test_plot_attention_writes_a_png_and_checks_its_input(tmp_path):
    path = plot_attention(np.eye(3), "abc", ["c", "b", "a"], tmp_path / "sub" / "a.png", title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="do not cover 4 outputs x 3 sources"):
        plot_attention(np.eye(3), "abc", "abcd", tmp_path / "b.png")
