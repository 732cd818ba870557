"""Seeded data sets of the captioning world: images with their scenes and captions (or questions).

Splits:

- ``"train"``: no object has a held-out colour-shape pair;
- ``"valid"``: drawn like ``"train"`` from its own random stream (in-distribution check);
- ``"test"``: every scene has at least one object with a held-out pair, so the test measures composition
  (colours and shapes each seen in training, never together), not memory.

Each split draws from its own stream ``default_rng([seed, split_index])``, so the same seed gives the same
data, and the splits do not share scenes by construction of their streams.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..data.batching import Batch, pad_sequences
from ..data.vocab import WordVocab
from .captions import CAPTION_WORDS, captions, check_words
from .questions import ANSWERS, QUESTION_WORDS, Question, sample_question
from .render import render_batch
from .scenes import COLOURS, SHAPES, Scene, check_pairs, sample_scene

__all__ = ["SPLITS", "HELD_OUT_PAIRS", "CaptionData", "VQAData", "caption_data", "vqa_data", "caption_vocab",
           "question_vocab", "answer_vocab", "encode_caption", "caption_batch", "vqa_questions", "question_prior"]

SPLITS = ("train", "valid", "test")
HELD_OUT_PAIRS = (("red", "triangle"), ("blue", "circle"), ("yellow", "square"))


@dataclass
class CaptionData:
    """``images`` float32 (B, 3, S, S) in [0, 1]; per image its scene and its captions (all phrasings)."""

    images: np.ndarray
    scenes: list[Scene]
    captions: list[list[str]]


@dataclass
class VQAData:
    """``images`` float32 (B, 3, S, S); per image its scene and one question with its answer and type."""

    images: np.ndarray
    scenes: list[Scene]
    questions: list[Question]


def _scenes(n: int, split: str, seed: int, image_size: int, held_out) -> tuple[list[Scene], np.random.Generator]:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"the number of images must be an int >= 0, got {n!r}")
    held = check_pairs(held_out)
    if split == "test" and not held:
        raise ValueError("the test split needs at least one held-out colour-shape pair")
    allowed = [(c, s) for c in COLOURS for s in SHAPES if (c, s) not in held]
    if not allowed:
        raise ValueError("every colour-shape pair is held out; training would have no objects")
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    if split == "test":
        held_sorted = sorted(held)
        scenes = [sample_scene(rng, image_size, allowed_pairs=None,
                               required_pair=held_sorted[int(rng.integers(0, len(held_sorted)))])
                  for _ in range(n)]
    else:
        scenes = [sample_scene(rng, image_size, allowed_pairs=allowed) for _ in range(n)]
    return scenes, rng


def caption_data(n: int, split: str = "train", seed: int = 0, image_size: int = 48,
                 held_out=HELD_OUT_PAIRS) -> CaptionData:
    """``n`` images of ``split`` with their scenes and every phrasing of each scene's caption."""
    scenes, _ = _scenes(n, split, seed, image_size, held_out)
    return CaptionData(render_batch(scenes).reshape(n, 3, image_size, image_size), scenes,
                       [captions(s) for s in scenes])


def vqa_questions(n: int, split: str = "train", seed: int = 0, image_size: int = 48,
                  held_out=HELD_OUT_PAIRS) -> tuple[list[Scene], list[Question]]:
    """The scenes and questions of :func:`vqa_data` without rendering the images (e.g. for answer priors)."""
    scenes, rng = _scenes(n, split, seed, image_size, held_out)
    return scenes, [sample_question(s, rng) for s in scenes]


def vqa_data(n: int, split: str = "train", seed: int = 0, image_size: int = 48,
             held_out=HELD_OUT_PAIRS) -> VQAData:
    """``n`` images of ``split``, each with one question (its type drawn uniformly among the answerable)."""
    scenes, questions = vqa_questions(n, split, seed, image_size, held_out)
    return VQAData(render_batch(scenes).reshape(n, 3, image_size, image_size), scenes, questions)


def question_prior(questions) -> dict[str, str]:
    """The most frequent answer of each question text among ``questions`` (ties: the first in ``ANSWERS``):
    what a model that never sees the image does best on their distribution."""
    counts: dict[str, Counter] = {}
    for q in questions:
        counts.setdefault(q.text, Counter())[q.answer] += 1
    return {text: max(ANSWERS, key=lambda a: (c[a], -ANSWERS.index(a))) for text, c in counts.items()}


def caption_vocab() -> WordVocab:
    """The caption words with ``<pad>`` (0), ``<bos>``, ``<eos>``, and no unknown symbol: a word outside the
    grammar is an error, not a silent ``<unk>``."""
    return WordVocab(CAPTION_WORDS, pad="<pad>", unk=None, bos="<bos>", eos="<eos>")


def question_vocab() -> WordVocab:
    """The question words with ``<pad>`` (0) and no unknown symbol."""
    return WordVocab(QUESTION_WORDS, pad="<pad>", unk=None)


def answer_vocab() -> WordVocab:
    """The answers, one class each, no specials (a classifier's labels)."""
    return WordVocab(ANSWERS, pad=None, unk=None)


def encode_caption(caption: str, vocab: WordVocab) -> np.ndarray:
    """Ids of ``<bos> caption <eos>``, int64 (T + 2,); a one-line ValueError for a word not in ``vocab``."""
    words = check_words(caption)
    missing = [w for w in words if w not in vocab]
    if missing:
        raise ValueError(f"unknown word {missing[0]!r} in caption {caption!r}")
    return vocab.encode([vocab.bos, *words, vocab.eos])


def caption_batch(data: CaptionData, indices, vocab: WordVocab, rng: np.random.Generator,
                  phrasings: int | None = None) -> Batch:
    """A teacher-forcing batch of the images ``indices``, one phrasing of each drawn by ``rng`` (among the
    first ``phrasings`` of each image when given: 1 always trains on the canonical left-to-right caption).

    ``inputs`` the images (B, 3, S, S); ``decoder_inputs`` ``<bos>`` then the caption, ``targets`` the caption
    then ``<eos>``, both (B, T) int64 padded with ``<pad>`` (0).
    """
    indices = np.asarray(indices, dtype=np.int64)
    if phrasings is not None and phrasings < 1:
        raise ValueError(f"caption_batch: phrasings must be at least 1, got {phrasings}")
    chosen = [data.captions[i][int(rng.integers(0, min(len(data.captions[i]), phrasings or len(data.captions[i]))))]
              for i in indices]
    ids, _ = pad_sequences([encode_caption(c, vocab) for c in chosen], vocab.pad_index, dtype=np.int64)
    return Batch(inputs=data.images[indices], targets=ids[:, 1:], decoder_inputs=ids[:, :-1])
