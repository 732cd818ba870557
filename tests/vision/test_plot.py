"""The word-by-word attention figure: a PNG is written, a malformed map is a one-line error."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from microseq.vision import caption_data  # noqa: E402
from microseq.vision.plot import plot_caption_attention  # noqa: E402


def test_writes_a_png(tmp_path):
    data = caption_data(1, "test", seed=0, image_size=32)
    attention = np.random.default_rng(0).dirichlet(np.ones(16), size=4)
    path = plot_caption_attention(data.images[0], ["a", "small", "red", "circle"], attention, tmp_path / "a" / "b.png",
                                  title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("shape", [(4, 15), (3, 16), (4,)])
def test_a_malformed_map_is_a_one_line_error(tmp_path, shape):
    with pytest.raises(ValueError, match="attention must be"):
        plot_caption_attention(np.zeros((3, 32, 32)), ["a", "small", "red", "circle"], np.zeros(shape), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
