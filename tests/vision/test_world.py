"""The captioning world: the renderer's scenes match the pixels, captions parse back, the held-out pairs stay
out of training, the same seed gives the same data, and bad input is a one-line error."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from microseq.vision import (
    BACKGROUND, CAPTION_WORDS, COLOURS, HELD_OUT_PAIRS, PALETTE, SHAPES, CaptionError, Scene, SceneObject,
    caption_data, caption_vocab, captions, check_captions, check_images, encode_caption, parse_caption, render,
    sample_scene, scene_matches, vqa_data,
)
from microseq.vision.questions import ANSWERS, QUESTION_TYPES, check_question, questions
from microseq.vision.render import shape_mask

seeds = st.integers(0, 2**32 - 1)
image_sizes = st.sampled_from([32, 33, 40, 48, 64])


def _colour_at(image, row, col):
    return tuple(np.round(image[:, row, col], 4))


@given(seeds, image_sizes)
def test_scene_description_matches_the_pixels(seed, size):
    scene = sample_scene(np.random.default_rng(seed), image_size=size)
    image = render(scene)
    assert image.shape == (3, size, size) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1
    background = np.asarray(BACKGROUND, dtype=np.float32)[:, None]
    outside = np.ones((size, size), dtype=bool)
    for o in scene.objects:
        x0, y0, x1, y1 = o.box
        assert 0 <= x0 < x1 <= size and 0 <= y0 < y1 <= size and x1 - x0 == y1 - y0
        colour = np.asarray(PALETTE[o.colour], dtype=np.float32)[:, None]
        inside = image[:, y0:y1, x0:x1].reshape(3, -1)
        is_colour = np.all(inside == colour, axis=0)
        is_background = np.all(inside == background, axis=0)
        assert np.all(is_colour | is_background)  # nothing else in the box
        filled = is_colour.mean()
        expected = {"square": 1.0, "circle": np.pi / 4, "triangle": 0.5}[o.shape]
        assert abs(filled - expected) < 0.11, (o, filled)  # pixel rounding at small sides
        cx, cy = o.centre
        assert np.all(image[:, int(cy), int(cx)] == colour[:, 0])  # the object's colour at its centre
        outside[y0:y1, x0:x1] = False
    assert np.all(image[:, outside] == background)  # background everywhere else


@given(seeds)
def test_objects_are_listed_left_to_right_without_overlap(seed):
    scene = sample_scene(np.random.default_rng(seed))
    for a, b in zip(scene.objects, scene.objects[1:]):
        assert a.box[2] < b.box[0]


def test_shape_masks_at_a_known_size():
    assert shape_mask("square", 3).all()
    np.testing.assert_array_equal(shape_mask("triangle", 4), [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0],
                                                              [1, 1, 1, 1]])
    np.testing.assert_array_equal(shape_mask("circle", 4), [[0, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 1],
                                                            [0, 1, 1, 0]])


def test_a_hand_made_scene_renders_where_it_says():
    scene = Scene((SceneObject("square", "red", "small", (1, 2, 4, 5)),), 32)
    image = render(scene)
    assert _colour_at(image, 2, 1) == tuple(np.round(np.float32(PALETTE["red"]), 4))
    assert _colour_at(image, 4, 3) == _colour_at(image, 2, 1)
    assert _colour_at(image, 5, 3) == tuple(np.round(np.float32(BACKGROUND), 4))
    assert _colour_at(image, 2, 4) == tuple(np.round(np.float32(BACKGROUND), 4))


@given(seeds)
def test_every_phrasing_parses_back_to_the_scene(seed):
    scene = sample_scene(np.random.default_rng(seed))
    phrasings = captions(scene)
    assert len(phrasings) >= 3 and len(set(phrasings)) == len(phrasings)
    for caption in phrasings:
        assert parse_caption(caption) == scene.words()
        assert scene_matches(caption, scene)
        assert all(w in CAPTION_WORDS for w in caption.replace(",", " , ").split())


def test_parse_caption_reads_each_form():
    small_red = ("small", "red", "circle")
    big_blue = ("large", "blue", "square")
    green = ("small", "green", "triangle")
    assert parse_caption("a small red circle") == [small_red]
    assert parse_caption("a large blue square right of a small red circle") == [small_red, big_blue]
    assert parse_caption("there is a small red circle left of a large blue square left of a small green "
                         "triangle") == [small_red, big_blue, green]
    assert parse_caption("from left to right a small red circle, a large blue square and a small green "
                         "triangle") == [small_red, big_blue, green]


@pytest.mark.parametrize("caption", [
    "", "a small red", "a small red circle left", "a small red circle left of a large blue square right of a "
    "small green triangle", "a red small circle", "from left to right a small red circle , a large blue square",
    "a small red circle a large blue square", "a small red circle left of", "there a small red circle",
])
def test_parse_caption_rejects_what_the_grammar_does_not_make(caption):
    with pytest.raises(CaptionError):
        parse_caption(caption)


def test_a_wrong_caption_does_not_match_the_scene():
    scene = Scene((SceneObject("circle", "red", "small", (0, 0, 8, 8)),
                   SceneObject("square", "blue", "large", (20, 0, 34, 14))), 48)
    assert scene_matches("a small red circle left of a large blue square", scene)
    assert not scene_matches("a small red circle right of a large blue square", scene)  # order
    assert not scene_matches("a small red circle left of a small blue square", scene)  # size
    assert not scene_matches("a small red circle", scene)  # missing object
    assert not scene_matches("a small red circle left of", scene)  # garbled


def test_held_out_pairs_never_appear_in_training_and_always_in_test():
    held = set(HELD_OUT_PAIRS)
    for split in ("train", "valid"):
        data = caption_data(300, split, seed=1, image_size=32)
        seen = {(o.colour, o.shape) for s in data.scenes for o in s.objects}
        assert not seen & held
        assert len(seen) == len(COLOURS) * len(SHAPES) - len(held)  # every other pair is there
    test = caption_data(300, "test", seed=1, image_size=32)
    assert all(any((o.colour, o.shape) in held for o in s.objects) for s in test.scenes)
    # each colour and each shape of a held-out pair is seen in training, only not together
    train_colours = {o.colour for s in caption_data(300, "train", seed=1, image_size=32).scenes for o in s.objects}
    assert {c for c, _ in held} <= train_colours


def test_held_out_pairs_never_appear_in_vqa_training():
    data = vqa_data(200, "train", seed=4, image_size=32)
    assert not {(o.colour, o.shape) for s in data.scenes for o in s.objects} & set(HELD_OUT_PAIRS)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    a, b = caption_data(20, "train", seed=7), caption_data(20, "train", seed=7)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.scenes == b.scenes and a.captions == b.captions
    c = caption_data(20, "train", seed=8)
    assert a.scenes != c.scenes
    assert caption_data(20, "valid", seed=7).scenes != a.scenes
    q1, q2 = vqa_data(20, "test", seed=2), vqa_data(20, "test", seed=2)
    assert q1.questions == q2.questions and q1.scenes == q2.scenes


def test_data_layout():
    data = caption_data(4, "test", seed=0)
    assert data.images.shape == (4, 3, 48, 48) and data.images.dtype == np.float32
    assert len(data.scenes) == len(data.captions) == 4
    assert caption_data(0).images.shape == (0, 3, 48, 48)


@given(seeds)
def test_questions_have_their_scene_answers(seed):
    scene = sample_scene(np.random.default_rng(seed))
    by_shape = {}
    for o in scene.objects:
        by_shape.setdefault(o.shape, []).append(o)
    for q in questions(scene):
        assert q.answer in ANSWERS and q.kind in QUESTION_TYPES
        check_question(q.text)
        words = q.text.split()
        if q.kind == "count":
            assert int(q.answer) == len(by_shape.get(words[2][:-1], []))
        elif q.kind == "colour":
            (only,) = by_shape[words[-2]]
            assert q.answer == only.colour
        elif q.kind == "shape":
            (only,) = [o for o in scene.objects if o.colour == words[-3]]
            assert q.answer == only.shape
        elif q.kind == "size":
            (only,) = [o for o in scene.objects if (o.colour, o.shape) == (words[-3], words[-2])]
            assert q.answer == only.size
        else:
            (a,), (b,) = by_shape[words[2]], by_shape[words[-2]]
            assert q.answer == ("yes" if a.box[0] < b.box[0] else "no")


def test_question_types_all_occur():
    kinds = {q.kind for q in vqa_data(200, "train", seed=0, image_size=32).questions}
    assert kinds == set(QUESTION_TYPES)


def test_encode_caption_wraps_in_bos_and_eos():
    vocab = caption_vocab()
    ids = encode_caption("a small red circle", vocab)
    assert vocab.decode(ids) == ["<bos>", "a", "small", "red", "circle", "<eos>"]
    assert ids.dtype == np.int64


@pytest.mark.parametrize("shape, message", [
    ((2, 3, 32, 32), "expected images of 48x48, got 32x32"),
    ((2, 1, 48, 48), "expected 3 channels, got 1"),
    ((2, 48, 48, 3), "expected 3 channels, got 48"),
    ((3, 48, 48), "expected a 4-d NCHW batch"),
])
def test_wrong_image_size_or_channels_is_a_one_line_error(shape, message):
    with pytest.raises(ValueError, match=message) as info:
        check_images(np.zeros(shape, np.float32), 48)
    assert "\n" not in str(info.value)


def test_integer_pixels_are_refused():
    with pytest.raises(ValueError, match="expected float pixels"):
        check_images(np.zeros((1, 3, 32, 32), np.uint8), 32)


def test_unknown_word_is_a_one_line_error():
    with pytest.raises(ValueError, match="unknown word 'pink' in caption 'a small pink circle'"):
        encode_caption("a small pink circle", caption_vocab())
    with pytest.raises(ValueError, match="unknown word 'cat'"):
        check_captions([["a small red circle"], ["a small cat"]])
    with pytest.raises(ValueError, match="unknown word 'cube' in question"):
        check_question("what colour is the cube ?")


def test_empty_caption_set_is_a_one_line_error():
    with pytest.raises(ValueError, match="image 1 has an empty caption set"):
        check_captions([["a small red circle"], []])


@pytest.mark.parametrize("call, message", [
    (lambda: sample_scene(np.random.default_rng(0), image_size=31), "image_size must be an int >= 32"),
    (lambda: sample_scene(np.random.default_rng(0), n_objects=4), "n_objects must be 1, 2 or 3"),
    (lambda: caption_data(3, "dev"), "unknown split 'dev'"),
    (lambda: caption_data(3, "test", held_out=()), "needs at least one held-out"),
    (lambda: caption_data(3, held_out=[("pink", "circle")]), "colour-shape pair .* is unknown"),
])
def test_bad_settings_are_one_line_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_caption_batch_draws_among_the_first_phrasings():
    from microseq.vision import caption_batch

    data, vocab = caption_data(6, "train", seed=2, image_size=32), caption_vocab()
    batch = caption_batch(data, np.arange(6), vocab, np.random.default_rng(0), phrasings=1)
    for i in range(6):
        words = [w for w in vocab.decode(batch.targets[i]) if w not in ("<eos>", "<pad>")]
        assert " ".join(words) == data.captions[i][0].replace(",", " ,")
        assert batch.decoder_inputs[i, 0] == vocab.bos_index
    drawn = {tuple(caption_batch(data, [5], vocab, np.random.default_rng(s)).targets[0]) for s in range(30)}
    assert len(drawn) == len(data.captions[5])  # by default every phrasing comes up
    with pytest.raises(ValueError, match="phrasings must be at least 1"):
        caption_batch(data, [0], vocab, np.random.default_rng(0), phrasings=0)


def test_the_question_prior_is_the_most_frequent_answer_per_question():
    from microseq.vision import Question, question_prior, vqa_data, vqa_questions

    asked = [Question("how many circles are there ?", a, "count") for a in ("1", "2", "2", "0")]
    asked += [Question("what colour is the circle ?", a, "colour") for a in ("green", "red")]  # a tie
    assert question_prior(asked) == {"how many circles are there ?": "2", "what colour is the circle ?": "red"}
    scenes, questions = vqa_questions(20, "valid", seed=4, image_size=32)
    data = vqa_data(20, "valid", seed=4, image_size=32)  # the same scenes and questions, rendered
    assert scenes == data.scenes and questions == data.questions
