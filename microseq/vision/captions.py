"""Captions of a scene: several phrasings, a fixed word list, and a parser that reads a caption back.

Grammar (every phrasing names every object with its size, colour and shape, and their left-to-right order)::

    caption := ["there" "is"] chain            objects joined by one relation, all "left of" or all "right of"
             | "from" "left" "to" "right" list  objects in order: A "and" B, or A "," B "and" C
    chain   := object (relation object)*
    object  := "a" size colour shape

>>> from .scenes import Scene, SceneObject
>>> scene = Scene((SceneObject("circle", "red", "small", (2, 2, 10, 10)),
...                SceneObject("square", "blue", "large", (20, 5, 34, 19))), 48)
>>> captions(scene)[:2]
['a small red circle left of a large blue square', 'a large blue square right of a small red circle']
>>> parse_caption('from left to right a small red circle and a large blue square') == scene.words()
True
"""

from __future__ import annotations

from .scenes import COLOURS, SHAPES, SIZES, Scene

__all__ = ["CAPTION_WORDS", "CaptionError", "captions", "parse_caption", "check_captions", "check_words",
           "scene_matches"]

CAPTION_WORDS = tuple(sorted({"a", "there", "is", "left", "right", "of", "from", "to", "and", ","}
                             | set(SIZES) | set(COLOURS) | set(SHAPES)))


class CaptionError(ValueError):
    """A caption that the grammar does not produce (raised by :func:`parse_caption`)."""


def _phrase(words) -> str:
    size, colour, shape = words
    return f"a {size} {colour} {shape}"


def captions(scene: Scene) -> list[str]:
    """Every phrasing of ``scene`` (at least three, all distinct), in a fixed order."""
    objects = [_phrase(w) for w in scene.words()]
    if not objects:
        raise ValueError("captions: the scene has no objects")
    left = " left of ".join(objects)
    right = " right of ".join(reversed(objects))
    listed = objects[0] if len(objects) == 1 else ", ".join(objects[:-1]) + " and " + objects[-1]
    out = [left, right, "there is " + left, "from left to right " + listed]
    out = list(dict.fromkeys(out))  # one object: left == right
    return out


def tokens(caption: str) -> list[str]:
    """Words of a caption; a comma is a word of its own."""
    return caption.replace(",", " , ").split()


def check_words(caption: str) -> list[str]:
    """The caption's words; a one-line ValueError naming the first word outside ``CAPTION_WORDS``."""
    words = tokens(caption)
    for w in words:
        if w not in CAPTION_WORDS:
            raise ValueError(f"unknown word {w!r} in caption {caption!r}")
    return words


def check_captions(caption_sets) -> list[list[str]]:
    """Per image, its list of captions; a one-line ValueError for an empty set or an unknown word."""
    checked = []
    for i, caps in enumerate(caption_sets):
        caps = [caps] if isinstance(caps, str) else list(caps)
        if not caps:
            raise ValueError(f"image {i} has an empty caption set; every image needs at least one caption")
        for c in caps:
            check_words(c)
        checked.append(caps)
    return checked


def _read_object(words: list[str], i: int, caption: str) -> tuple[tuple[str, str, str], int]:
    if words[i:i + 1] != ["a"] or len(words) < i + 4:
        raise CaptionError(f"expected 'a <size> <colour> <shape>' at word {i} of {caption!r}")
    size, colour, shape = words[i + 1:i + 4]
    if size not in SIZES or colour not in COLOURS or shape not in SHAPES:
        raise CaptionError(f"{' '.join(words[i:i + 4])!r} is not 'a <size> <colour> <shape>' in {caption!r}")
    return (size, colour, shape), i + 4


def parse_caption(caption) -> list[tuple[str, str, str]]:
    """The objects a caption describes, as ``(size, colour, shape)`` from left to right.

    ``caption`` is a string or a list of words. Raises :class:`CaptionError` (one line) when the caption is
    not one the grammar produces, so a model's garbled output never passes for a scene.
    """
    words = tokens(caption) if isinstance(caption, str) else list(caption)
    text = " ".join(words)
    if words[:4] == ["from", "left", "to", "right"]:
        objects, i = [], 4
        while True:
            obj, i = _read_object(words, i, text)
            objects.append(obj)
            if i == len(words):
                break
            separator = "and" if len(words) - i == 5 else ","
            if words[i] != separator:
                raise CaptionError(f"expected {separator!r} at word {i} of {text!r}")
            i += 1
        return objects
    i = 2 if words[:2] == ["there", "is"] else 0
    objects, relations = [], set()
    obj, i = _read_object(words, i, text)
    objects.append(obj)
    while i < len(words):
        relation = tuple(words[i:i + 2])
        if relation not in (("left", "of"), ("right", "of")):
            raise CaptionError(f"expected 'left of' or 'right of' at word {i} of {text!r}")
        relations.add(relation)
        obj, i = _read_object(words, i + 2, text)
        objects.append(obj)
    if len(relations) > 1:
        raise CaptionError(f"mixed 'left of' and 'right of' leave the order open in {text!r}")
    return objects[::-1] if relations == {("right", "of")} else objects


def scene_matches(caption, scene: Scene) -> bool:
    """Exact-scene match: the caption parses and names the scene's objects (size, colour, shape) in order."""
    try:
        return parse_caption(caption) == scene.words()
    except CaptionError:
        return False
