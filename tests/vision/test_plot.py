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


def test_upsample_map_interpolates_between_cell_centres():
    from microseq.vision.plot import upsample_map

    # a 2x2 grid over 4 pixels: pixel centres fall at cell coordinates -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
    up = upsample_map(np.array([0.0, 1.0, 0.0, 1.0]), 4)
    np.testing.assert_allclose(up, np.tile([0.0, 0.25, 0.75, 1.0], (4, 1)))
    np.testing.assert_allclose(upsample_map(np.full(9, 1 / 9), 10), np.full((10, 10), 1 / 9))
    np.testing.assert_allclose(upsample_map(np.array([0.7]), 3), np.full((3, 3), 0.7))
    with pytest.raises(ValueError, match="weights must be"):
        upsample_map(np.ones(5), 4)


def test_a_show_and_tell_caption_and_a_vqa_answer_are_drawn(tmp_path):
    from microseq.vision.plot import plot_vqa_attention

    image = caption_data(1, "test", seed=0, image_size=32).images[0]
    assert plot_caption_attention(image, ["a", "small", "red", "circle"], None, tmp_path / "c.png").read_bytes()[:4] \
        == b"\x89PNG"
    weights = np.random.default_rng(0).dirichlet(np.ones(16))
    for w in (weights, None):  # with attention, and the question-only baseline
        path = plot_vqa_attention(image, "what colour is the circle ?", "red", w, tmp_path / "v.png")
        assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="weights must be"):
        plot_vqa_attention(image, "what colour is the circle ?", "red", np.ones(15), tmp_path / "bad.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "v.png"]  # no half-made file, no temporary
