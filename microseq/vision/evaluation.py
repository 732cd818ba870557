"""Evaluating captions: corpus BLEU-4 and exact-scene accuracy.

BLEU (Papineni et al. 2002), corpus level, no smoothing::

    p_n  = sum over sentences of clipped n-gram matches / sum over sentences of hypothesis n-grams
    BP   = exp(min(0, 1 - r / c))      c: total hypothesis length, r: total of each sentence's closest
                                        reference length (the shorter one on a tie)
    BLEU = BP * exp(mean_n log p_n)    n = 1..4; 0 when some p_n is 0 or the hypotheses are empty

A hypothesis n-gram's match count is clipped to its largest count in any one reference ("modified" precision).
Exact-scene accuracy asks more: the caption must parse and name exactly the scene's objects in order.
Object accuracy looks at single objects: of the objects with given colour-shape pairs (e.g. the held-out ones),
the fraction the caption names right, in their place (the caption must parse into as many objects as the
scene has; otherwise each of its objects counts as missed).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from .captions import CaptionError, parse_caption, scene_matches, tokens
from .scenes import COLOURS, SHAPES, SIZES

__all__ = ["ngrams", "modified_precision", "corpus_bleu", "exact_scene_accuracy",
           "exact_scene_accuracy_by_count", "object_accuracy", "box_cell_fractions", "attention_in_objects"]


def _words(sentence) -> list[str]:
    return tokens(sentence) if isinstance(sentence, str) else list(sentence)


def ngrams(words, n: int) -> Counter:
    """Counts of the n-grams (tuples) of ``words``."""
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def modified_precision(references, hypothesis, n: int) -> tuple[int, int]:
    """``(clipped matches, hypothesis n-grams)`` of one hypothesis against its references."""
    counts = ngrams(_words(hypothesis), n)
    most = Counter()
    for ref in references:
        most |= ngrams(_words(ref), n)  # elementwise max over the references
    return sum(min(c, most[g]) for g, c in counts.items()), sum(counts.values())


def _closest_length(references, length: int) -> int:
    return min((len(_words(r)) for r in references), key=lambda r: (abs(r - length), r))


def corpus_bleu(references, hypotheses, max_n: int = 4) -> float:
    """Corpus BLEU of ``hypotheses`` (strings or word lists) against, per hypothesis, a list of references.

    Parameters
    ----------
    references : list (N) of lists of sentences
    hypotheses : list (N) of sentences
    max_n : int
        Largest n-gram (4 for BLEU-4).
    """
    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses):
        raise ValueError(f"corpus_bleu: {len(hypotheses)} hypotheses but {len(references)} reference sets")
    for i, refs in enumerate(references):
        if isinstance(refs, str) or not list(refs):
            raise ValueError(f"corpus_bleu: reference set {i} must be a non-empty list of sentences")
    matches, totals = [0] * max_n, [0] * max_n
    hyp_length = ref_length = 0
    for refs, hyp in zip(references, hypotheses):
        for n in range(1, max_n + 1):
            m, t = modified_precision(refs, hyp, n)
            matches[n - 1] += m
            totals[n - 1] += t
        hyp_length += len(_words(hyp))
        ref_length += _closest_length(refs, len(_words(hyp)))
    if hyp_length == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    return math.exp(min(0.0, 1 - ref_length / hyp_length) + log_precision)


def _matches(captions, scenes) -> list[bool]:
    captions, scenes = list(captions), list(scenes)
    if len(captions) != len(scenes):
        raise ValueError(f"exact_scene_accuracy: {len(captions)} captions but {len(scenes)} scenes")
    return [scene_matches(c, s) for c, s in zip(captions, scenes)]


def exact_scene_accuracy(captions, scenes) -> float:
    """Fraction of captions that parse back to exactly their scene's objects, in order (nan when empty)."""
    hits = _matches(captions, scenes)
    return sum(hits) / len(hits) if hits else math.nan


def exact_scene_accuracy_by_count(captions, scenes) -> dict[int, float]:
    """Exact-scene accuracy per number of objects in the scene (only the counts that occur)."""
    scenes = list(scenes)
    by_count: dict[int, list[bool]] = {}
    for hit, scene in zip(_matches(captions, scenes), scenes):
        by_count.setdefault(len(scene.objects), []).append(hit)
    return {k: sum(v) / len(v) for k, v in sorted(by_count.items())}


def object_accuracy(captions, scenes, pairs) -> dict[str, float]:
    """How well the captions name the objects whose ``(colour, shape)`` is in ``pairs``.

    Returns ``{"object": fraction named exactly (size, colour, shape), "colour": fraction whose colour is
    right, "shape": fraction whose shape is right}`` over those objects (nan when there are none).
    """
    pairs = {tuple(p) for p in pairs}
    hits = {"object": [], "colour": [], "shape": []}
    for caption, scene in zip(captions, scenes):
        try:
            named = parse_caption(caption)
        except CaptionError:
            named = []
        if len(named) != len(scene.objects):
            named = [(None, None, None)] * len(scene.objects)
        for (size, colour, shape), o in zip(named, scene.objects):
            if (o.colour, o.shape) in pairs:
                hits["object"].append((size, colour, shape) == o.words())
                hits["colour"].append(colour == o.colour)
                hits["shape"].append(shape == o.shape)
    return {k: float(np.mean(v)) if v else math.nan for k, v in hits.items()}


def box_cell_fractions(box, image_size: int, side: int) -> np.ndarray:
    """Per grid cell (row by row, L = side * side), the fraction of its pixel area inside ``box``.

    Cell (r, c) of a side x side grid over an image of ``image_size`` covers rows [r k, (r + 1) k) and
    columns [c k, (c + 1) k) with k = image_size / side. Uniform attention over the grid thus puts
    ``sum(fractions) / L`` = box area / image area inside the box.
    """
    x0, y0, x1, y1 = box
    edges = np.arange(side + 1) * (image_size / side)
    overlap_x = np.clip(np.minimum(edges[1:], x1) - np.maximum(edges[:-1], x0), 0, None)
    overlap_y = np.clip(np.minimum(edges[1:], y1) - np.maximum(edges[:-1], y0), 0, None)
    cell = (image_size / side) ** 2
    return (overlap_y[:, None] * overlap_x[None, :]).reshape(-1) / cell


def attention_in_objects(captions, attention: np.ndarray, scenes, side: int) -> tuple[float, float, int]:
    """Where attention is when the decoder names an object's colour or shape.

    For each generated ``a <size> <colour> <shape>`` that names exactly one object of the scene, the attention
    mass inside that object's bounding box at the steps that emitted the colour and the shape word.

    Parameters
    ----------
    captions : list (B) of word lists (the emitted words, step t emitted word t)
    attention : float array (B, T, L), the weights of the step that emitted each word
    scenes : list (B) of Scene
    side : int
        The grid is side x side (L = side * side).

    Returns
    -------
    (mean mass inside the box, the mean a uniform map would put there, number of words counted)
    """
    masses, uniform = [], []
    for words, weights, scene in zip(captions, attention, scenes):
        named = [o.words() for o in scene.objects]
        for i in range(len(words) - 3):
            phrase = tuple(words[i + 1:i + 4])
            if words[i] != "a" or phrase[0] not in SIZES or phrase[1] not in COLOURS or phrase[2] not in SHAPES:
                continue
            if named.count(phrase) != 1:
                continue
            fractions = box_cell_fractions(scene.objects[named.index(phrase)].box, scene.image_size, side)
            for t in (i + 2, i + 3):  # the colour and the shape word
                masses.append(float(weights[t] @ fractions))
                uniform.append(float(fractions.mean()))
    if not masses:
        return math.nan, math.nan, 0
    return float(np.mean(masses)), float(np.mean(uniform)), len(masses)
