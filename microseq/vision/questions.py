"""Questions about a scene, with their answers, for visual question answering (VQA).

Every question is generated only where its answer is defined (a question about "the circle" only when the scene
has exactly one circle), so each has one known answer. Question types and their answers:

============  ==========================================  ===========================
type          question                                    answers
============  ==========================================  ===========================
colour        what colour is the <shape> ?                the colours
shape         what shape is the <colour> object ?         the shapes
size          what size is the <colour> <shape> ?         small, large
count         how many <shape>s are there ?               0, 1, 2, 3
relation      is the <shape> left of the <shape> ?        yes, no
============  ==========================================  ===========================
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .scenes import COLOURS, SHAPES, SIZES, Scene

__all__ = ["QUESTION_TYPES", "ANSWERS", "QUESTION_WORDS", "Question", "questions", "sample_question",
           "check_question"]

QUESTION_TYPES = ("colour", "shape", "size", "count", "relation")
ANSWERS = tuple(COLOURS) + tuple(SHAPES) + tuple(SIZES) + ("0", "1", "2", "3", "yes", "no")
QUESTION_WORDS = tuple(sorted({"what", "colour", "shape", "size", "is", "the", "object", "how", "many", "are",
                               "there", "left", "of", "?"} | set(COLOURS) | set(SHAPES)
                              | {s + "s" for s in SHAPES}))


@dataclass(frozen=True)
class Question:
    """A question (words separated by spaces), its answer (one of ``ANSWERS``) and its type."""

    text: str
    answer: str
    kind: str


def questions(scene: Scene) -> list[Question]:
    """Every answerable question about ``scene``, in a fixed order."""
    objects = scene.objects
    shapes = Counter(o.shape for o in objects)
    colours = Counter(o.colour for o in objects)
    pairs = Counter((o.colour, o.shape) for o in objects)
    out = []
    for o in objects:
        if shapes[o.shape] == 1:
            out.append(Question(f"what colour is the {o.shape} ?", o.colour, "colour"))
        if colours[o.colour] == 1:
            out.append(Question(f"what shape is the {o.colour} object ?", o.shape, "shape"))
        if pairs[(o.colour, o.shape)] == 1:
            out.append(Question(f"what size is the {o.colour} {o.shape} ?", o.size, "size"))
    for shape in SHAPES:
        out.append(Question(f"how many {shape}s are there ?", str(shapes[shape]), "count"))
    unique = [o for o in objects if shapes[o.shape] == 1]
    for a in unique:
        for b in unique:
            if a is not b:
                answer = "yes" if a.box[2] <= b.box[0] else "no"
                out.append(Question(f"is the {a.shape} left of the {b.shape} ?", answer, "relation"))
    return out


def sample_question(scene: Scene, rng: np.random.Generator) -> Question:
    """One question about ``scene``: a type drawn uniformly among those it has, then a question of that type
    (so the count questions, always present, do not crowd out the others)."""
    by_kind: dict[str, list[Question]] = {}
    for q in questions(scene):
        by_kind.setdefault(q.kind, []).append(q)
    kinds = [k for k in QUESTION_TYPES if k in by_kind]
    chosen = by_kind[kinds[int(rng.integers(0, len(kinds)))]]
    return chosen[int(rng.integers(0, len(chosen)))]


def check_question(text: str) -> list[str]:
    """The question's words; a one-line ValueError naming the first word outside ``QUESTION_WORDS``."""
    words = text.split()
    if not words:
        raise ValueError("empty question")
    for w in words:
        if w not in QUESTION_WORDS:
            raise ValueError(f"unknown word {w!r} in question {text!r}")
    return words
