"""BLEU-4 on hand-computed examples and as properties (against the formula written out, and nltk when
installed), and exact-scene accuracy."""

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, strategies as st

from microseq.vision import (
    Scene, SceneObject, corpus_bleu, exact_scene_accuracy, exact_scene_accuracy_by_count, modified_precision,
)

LEFT = "a small red circle left of a large blue square"
RIGHT = "a small red circle right of a large blue square"


def test_modified_precision_clips_to_the_reference_count():
    # Papineni et al.'s example: "the" seven times against a reference with "the" twice
    assert modified_precision(["the cat is on the mat"], "the the the the the the the", 1) == (2, 7)
    # the clip is the largest count in any one reference, not their sum
    assert modified_precision(["the cat", "the the dog"], "the the the", 1) == (2, 3)
    assert modified_precision(["a b"], "a", 2) == (0, 0)


def test_a_perfect_hypothesis_scores_one():
    assert corpus_bleu([[LEFT]], [LEFT]) == pytest.approx(1.0)


def test_bleu_by_hand_one_sentence():
    # 1-grams 9/10 (not "left"), 2-grams 7/9, 3-grams 5/8, 4-grams 3/7, equal lengths so no penalty
    expected = (9 / 10 * 7 / 9 * 5 / 8 * 3 / 7) ** 0.25
    assert corpus_bleu([[RIGHT]], [LEFT]) == pytest.approx(expected)
    assert expected == pytest.approx(0.1875 ** 0.25)


def test_bleu_is_corpus_level_not_a_mean_of_sentences():
    # counts are summed over sentences before the precisions are taken
    expected = ((9 + 4) / (10 + 4) * (7 + 3) / (9 + 3) * (5 + 2) / (8 + 2) * (3 + 1) / (7 + 1)) ** 0.25
    got = corpus_bleu([[RIGHT], ["a large blue square"]], [LEFT, "a large blue square"])
    assert got == pytest.approx(expected)
    assert got != pytest.approx((corpus_bleu([[RIGHT]], [LEFT]) + 1.0) / 2)


def test_brevity_penalty():
    # all precisions 1, c = 4, r = 10: BP = exp(1 - 10/4)
    assert corpus_bleu([[LEFT]], ["a small red circle"]) == pytest.approx(math.exp(1 - 10 / 4))
    # a longer hypothesis is not rewarded: its precisions drop, BP stays 1
    assert corpus_bleu([["a small red circle"]], ["a small red circle"]) == pytest.approx(1.0)


def test_the_closest_reference_length_counts_and_ties_take_the_shorter():
    # hypothesis of 4 words; references of 3 and 5 words are equally close: r = 3, so no penalty
    refs = ["a small red", "a small red circle x"]
    hyp = "a small red circle"
    p = [modified_precision(refs, hyp, n) for n in range(1, 5)]
    assert p == [(4, 4), (3, 3), (2, 2), (1, 1)]
    assert corpus_bleu([refs], [hyp]) == pytest.approx(1.0)
    # with references of 2 and 10 words the closest is 2 (r < c): still no penalty
    assert corpus_bleu([["a small", LEFT]], [hyp]) == pytest.approx(1.0)


def test_bleu_is_zero_without_a_four_gram_match_or_without_words():
    assert corpus_bleu([[LEFT]], ["a small red"]) == 0.0  # no 4-gram at all
    assert corpus_bleu([[LEFT]], [""]) == 0.0
    assert corpus_bleu([], []) == 0.0


def test_bleu_takes_word_lists_as_well_as_strings():
    assert corpus_bleu([[RIGHT.split()]], [LEFT.split()]) == pytest.approx(corpus_bleu([[RIGHT]], [LEFT]))


@pytest.mark.parametrize("refs, hyps, message", [
    ([[LEFT]], [LEFT, LEFT], "2 hypotheses but 1 reference sets"),
    ([[]], [LEFT], "reference set 0 must be a non-empty list"),
    ([LEFT], [LEFT], "reference set 0 must be a non-empty list"),
])
def test_bleu_bad_input(refs, hyps, message):
    with pytest.raises(ValueError, match=message):
        corpus_bleu(refs, hyps)


# -- properties: drawn corpora over a small alphabet, so that n-grams do match -----------------------------
WORDS = st.lists(st.sampled_from("abcd"), max_size=9)
CORPUS = st.lists(st.tuples(st.lists(WORDS, min_size=1, max_size=3), WORDS), max_size=4)


def _formula(references, hypotheses, max_n=4):
    """BLEU written out from Papineni et al.: clipped n-gram counts summed over the corpus, geometric mean of
    the precisions, brevity penalty against the closest reference lengths (the shorter on a tie)."""
    matched, total = [0] * max_n, [0] * max_n
    c = r = 0
    for refs, hyp in zip(references, hypotheses):
        for n in range(1, max_n + 1):
            grams = Counter(tuple(hyp[i:i + n]) for i in range(len(hyp) - n + 1))
            for gram, count in grams.items():
                clip = max(sum(tuple(ref[i:i + n]) == gram for i in range(len(ref) - n + 1)) for ref in refs)
                matched[n - 1] += min(count, clip)
                total[n - 1] += count
        c += len(hyp)
        r += sorted((abs(len(ref) - len(hyp)), len(ref)) for ref in refs)[0][1]
    if c == 0 or 0 in matched:
        return 0.0
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return brevity * math.prod(m / t for m, t in zip(matched, total)) ** (1 / max_n)


@given(CORPUS)
def test_bleu_is_the_formula_and_lies_in_zero_one(corpus):
    references, hypotheses = [refs for refs, _ in corpus], [hyp for _, hyp in corpus]
    score = corpus_bleu(references, hypotheses)
    assert 0.0 <= score <= 1.0
    assert score == pytest.approx(_formula(references, hypotheses), rel=1e-12, abs=1e-15)


@given(CORPUS, st.randoms(use_true_random=False))
def test_bleu_ignores_the_order_of_references_and_of_sentences(corpus, random):
    references, hypotheses = [refs for refs, _ in corpus], [hyp for _, hyp in corpus]
    shuffled_refs = [random.sample(refs, len(refs)) for refs in references]
    order = random.sample(range(len(corpus)), len(corpus))
    score = corpus_bleu(references, hypotheses)
    assert corpus_bleu(shuffled_refs, hypotheses) == pytest.approx(score, rel=1e-12)
    assert corpus_bleu([references[i] for i in order], [hypotheses[i] for i in order]) == pytest.approx(score, rel=1e-12)


@given(st.lists(st.tuples(st.lists(WORDS, max_size=2), st.lists(st.sampled_from("abcd"), min_size=4, max_size=9)),
                min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_a_hypothesis_equal_to_one_of_its_references_scores_one(pairs, random):
    references = []
    for others, hyp in pairs:
        refs = [*others, hyp]
        random.shuffle(refs)
        references.append(refs)
    hypotheses = [hyp for _, hyp in pairs]
    assert corpus_bleu(references, hypotheses) == pytest.approx(1.0)


@given(CORPUS)
def test_bleu_agrees_with_nltk(corpus):
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    references, hypotheses = [refs for refs, _ in corpus], [hyp for _, hyp in corpus]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nltk warns when some n-gram order has no match (its score is then 0)
        expected = nltk_bleu.corpus_bleu(references, hypotheses) if hypotheses else 0.0
    assert corpus_bleu(references, hypotheses) == pytest.approx(expected, abs=1e-12)


def _scenes():
    one = Scene((SceneObject("circle", "red", "small", (0, 0, 8, 8)),), 48)
    two = Scene((SceneObject("circle", "red", "small", (0, 0, 8, 8)),
                 SceneObject("square", "blue", "large", (20, 0, 33, 13))), 48)
    return one, two


def test_exact_scene_accuracy_and_by_object_count():
    one, two = _scenes()
    captions = ["a small red circle", RIGHT, LEFT, "from left to right a small red circle and a large blue square"]
    scenes = [one, two, two, two]
    assert exact_scene_accuracy(captions, scenes) == pytest.approx(3 / 4)
    assert exact_scene_accuracy_by_count(captions, scenes) == pytest.approx({1: 1.0, 2: 2 / 3})
    assert math.isnan(exact_scene_accuracy([], []))
    with pytest.raises(ValueError, match="2 captions but 1 scenes"):
        exact_scene_accuracy([LEFT, LEFT], [two])


def test_box_cell_fractions_by_hand():
    from microseq.vision.evaluation import box_cell_fractions

    # a 32-pixel image on a 4x4 grid: cells of 8x8; box columns 4..12, rows 0..8
    fractions = box_cell_fractions((4, 0, 12, 8), 32, 4).reshape(4, 4)
    expected = np.zeros((4, 4))
    expected[0, 0] = expected[0, 1] = 0.5
    np.testing.assert_allclose(fractions, expected)
    # uniform attention puts box area / image area inside
    assert box_cell_fractions((3, 5, 17, 19), 48, 6).mean() == pytest.approx(14 * 14 / 48 ** 2)


def test_attention_in_objects_counts_colour_and_shape_words():
    from microseq.vision.evaluation import attention_in_objects

    scene = Scene((SceneObject("circle", "red", "small", (0, 0, 8, 8)),
                   SceneObject("square", "blue", "large", (16, 16, 32, 32))), 32)
    words = "a small red circle left of a large blue square".split()
    attention = np.full((len(words), 16), 1 / 16)
    attention[2] = attention[3] = np.eye(16)[0]  # red, circle: all on cell (0, 0), inside the circle's box
    attention[8] = attention[9] = np.eye(16)[15]  # blue, square: all on cell (3, 3), inside the square's box
    mass, uniform, counted = attention_in_objects([words], attention[None], [scene], 4)
    assert counted == 4 and mass == pytest.approx(1.0)
    assert uniform == pytest.approx((64 / 1024 * 2 + 256 / 1024 * 2) / 4)
    # an object the scene does not have is not counted
    assert attention_in_objects([["a", "small", "green", "circle"]], attention[None, :4], [scene], 4)[2] == 0


def test_object_accuracy_counts_only_the_chosen_pairs_in_their_place():
    from microseq.vision import object_accuracy

    one, two = _scenes()  # one: a small red circle; two: it, then a large blue square
    pairs = [("blue", "square")]
    assert object_accuracy([LEFT], [two], pairs) == {"object": 1.0, "colour": 1.0, "shape": 1.0}
    wrong_shape = "a small red circle left of a large blue circle"
    assert object_accuracy([wrong_shape], [two], pairs) == {"object": 0.0, "colour": 1.0, "shape": 0.0}
    # a caption with another number of objects, or none that parses, misses every object
    assert object_accuracy(["a large blue square"], [two], pairs) == {"object": 0.0, "colour": 0.0, "shape": 0.0}
    assert object_accuracy(["blue square"], [two], pairs)["object"] == 0.0
    both = object_accuracy([LEFT, wrong_shape], [two, two], pairs)
    assert both == {"object": 0.5, "colour": 1.0, "shape": 0.5}
    assert all(math.isnan(v) for v in object_accuracy([LEFT], [one], pairs).values())  # no such object
