"""Image captioning and visual question answering as training tasks of the one Trainer.

The data is the generated world of :mod:`microseq.vision`: a fixed training set of ``train_size`` images
(no object has a held-out colour-shape pair), a validation set from the same distribution, and a test set in
which every image has an object with a held-out pair (composition, not memory).

- ``caption``: :func:`~microseq.vision.make_captioner`, show, attend and tell (``--no-attention``: show and
  tell). A step draws ``batch_size`` training images and one phrasing of each, runs the decoder with the
  step's teacher-forcing probability, and minimises the cross entropy per word plus
  ``attention_penalty`` times the doubly stochastic penalty. Metrics (greedy decoding): ``scene_accuracy``
  (the caption parses back to exactly the scene) and ``bleu4`` against all phrasings, both also per number of
  objects (``scene_accuracy_2``, ``bleu4_2``...); on the test set also ``held_out_object_accuracy`` and its
  ``_shape_`` and ``_colour_`` parts (:func:`~microseq.vision.object_accuracy` of the held-out pairs),
  ``beam_scene_accuracy`` (beam search of ``beam_width``) and, with attention, ``attention_in_box``: the
  attention mass inside an object's bounding box when the decoder emits its colour or shape word, beside
  ``attention_in_box_uniform``, what a uniform map puts there.
- ``vqa``: :func:`~microseq.vision.make_vqa` (``--question-only``: the baseline). One question per image;
  metrics ``accuracy`` and ``accuracy_<type>`` per question type; its baseline, the question-only prior
  (per question text its most frequent answer in training, else its type's), in the same keys.
- ``sample``: draws held-out test images with the caption and each word's attention map (or the question, the
  answer and its map) to PNGs, for ``microseq sample``.

Randomness: training batches draw from ``(seed, 1)``, teacher-forcing coins from ``(seed, 2)``; both are
saved in a checkpoint.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..data import pad_sequences
from ..ops import cross_entropy
from ..seq2seq.decoding import search
from ..vision import (
    HELD_OUT_PAIRS, QUESTION_TYPES, Question, answer_vocab, caption_batch, caption_data, caption_loss, caption_vocab, corpus_bleu,
    exact_scene_accuracy, exact_scene_accuracy_by_count, object_accuracy, question_prior, question_vocab, vqa_data, vqa_questions,
)
from ..vision.encoder import grid_side
from ..vision.evaluation import attention_in_objects
from .config import TrainConfig
from .tasks import DecodingTask, Task, _check_split

__all__ = ["CaptionTask", "VQATask"]

EVAL_BATCH = 250  # images per decoding batch when evaluating
MAX_CAPTION = 30  # most words a decoded caption may have, <eos> included (the longest phrasing has 21)


class _ImageTask(Task):
    """What both image tasks share: the three splits, the batch generator, its saved state."""

    has_test_set = True

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        c = config
        make = caption_data if self.name == "caption" else vqa_data
        self.data = {"valid": make(c.eval_size, "valid", c.seed, c.image_size),
                     "test": make(c.test_size or c.eval_size, "test", c.seed, c.image_size)}
        if training:
            self.data["train"] = make(c.train_size, "train", c.seed, c.image_size)
        self._train_rng = self.rng(1)

    def split(self, split: str):
        _check_split(split)
        return self.data[split]

    def estimated_bytes(self) -> dict:
        """Parameters counted from the built model; activations of the CNN's first block dominate."""
        itemsize = 4 if self.config.dtype == "float32" else 8
        parameters = sum(p.data.size for p in self.build_model().parameters())
        s, first = self.config.image_size, 16
        activations = self.config.batch_size * s * s * (3 + 4 * first)
        return {"parameters": parameters * itemsize, "gradients and optimizer": parameters * itemsize * 3,
                "activations": activations * itemsize}

    def sequence_length(self) -> int:
        return MAX_CAPTION


class CaptionTask(_ImageTask, DecodingTask):
    """caption: see the module docstring."""

    name = "caption"
    model_name = "Captioner"
    metric = "scene_accuracy"

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        self.vocab = caption_vocab()

    def model_config(self) -> dict:
        c = self.config
        return {"vocab_size": len(self.vocab), "attention": not c.no_attention, "image_size": c.image_size,
                "embedding_size": c.embedding_size, "hidden_size": c.hidden_size, "dropout": c.dropout,
                "word_dropout": c.word_dropout, "dtype": c.dtype}

    def build_model(self):
        from ..vision import make_captioner

        return make_captioner(**self.model_config())

    def describe_model(self) -> str:
        c = self.config
        kind = "show and tell (no attention)" if c.no_attention else "show, attend and tell"
        return f"Captioner: CNN 16-32-32 and an LSTM decoder of {c.hidden_size}, {kind}"

    def describe(self) -> str:
        test = self.data["test"]
        return (f"caption: {self.config.train_size} training images of {self.config.image_size}x"
                f"{self.config.image_size}, {len(test.scenes)} test images with held-out colour-shape pairs, e.g. "
                f"{test.captions[0][0]!r}")

    def train_step(self, model) -> tuple[float, int]:
        train = self.data["train"]
        indices = self._train_rng.integers(0, len(train.scenes), size=self.config.batch_size)
        batch = caption_batch(train, indices, self.vocab, self._train_rng, self.config.phrasings)
        logits, weights = model(batch.inputs, batch.decoder_inputs, self.teacher_forcing(self.steps), self._coin_rng)
        loss = caption_loss(logits, weights, batch.targets, self.vocab.eos_index, self.config.attention_penalty)
        loss.backward()
        self.steps += 1
        return float(loss.item()), int((batch.targets != self.vocab.pad_index).sum())

    def decode(self, model, images: np.ndarray, beam_width: int = 1) -> tuple[list[list[str]], list[np.ndarray]]:
        """The decoded words of each image (without ``<eos>``; greedy for width 1, else beam search) and the
        attention weights (T, L) of the steps that emitted them."""
        words, attention = [], []
        for start in range(0, len(images), EVAL_BATCH):
            decoded = search(model, (images[start:start + EVAL_BATCH],), beam_width, MAX_CAPTION)
            for row, weights, length, finished in zip(decoded.tokens, decoded.attention, decoded.lengths,
                                                      decoded.finished):
                kept = length - 1 if finished else length
                words.append(self.vocab.decode(row[:kept]))
                attention.append(weights[:kept])
        return words, attention

    @no_grad()
    def evaluate(self, model, split: str = "valid") -> dict:
        data = self.split(split)
        words, attention = self.decode(model, data.images)
        captions = [" ".join(w) for w in words]
        scores = {"scene_accuracy": exact_scene_accuracy(captions, data.scenes),
                  "bleu4": corpus_bleu(data.captions, captions)}
        for count, accuracy in exact_scene_accuracy_by_count(captions, data.scenes).items():
            scores[f"scene_accuracy_{count}"] = accuracy
        counts = np.array([len(scene.objects) for scene in data.scenes])
        for count in np.unique(counts):
            chosen = np.flatnonzero(counts == count)
            scores[f"bleu4_{count}"] = corpus_bleu([data.captions[i] for i in chosen], [captions[i] for i in chosen])
        if split == "test":  # composition: how the objects of held-out pairs are named
            held_out = object_accuracy(captions, data.scenes, HELD_OUT_PAIRS)
            scores.update({"held_out_object_accuracy": held_out["object"], "held_out_shape_accuracy": held_out["shape"],
                           "held_out_colour_accuracy": held_out["colour"]})
        if split == "test" and not self.config.no_attention:
            side = grid_side(self.config.image_size, 3)
            mass, uniform, counted = attention_in_objects(words, attention, data.scenes, side)
            if counted:
                scores["attention_in_box"], scores["attention_in_box_uniform"] = mass, uniform
        if split == "test" and self.config.beam_width > 1:
            beam, _ = self.decode(model, data.images, self.config.beam_width)
            scores["beam_scene_accuracy"] = exact_scene_accuracy([" ".join(w) for w in beam], data.scenes)
        return scores

    def write_results(self, model, run_dir: str) -> dict:
        """``attention.png``: a held-out test image, its greedy caption and, with attention, each word's map."""
        if self.config.no_attention:  # show and tell: no map to draw
            return {}
        [(path, _, _)] = self.sample(model, 1, run_dir, names=["attention.png"])
        return {"attention": path}

    @no_grad()
    def sample(self, model, count: int, directory: str, beam_width: int = 1, names=None) -> list[tuple]:
        """Caption the first ``count`` held-out test images and draw each (the image, the caption and, with
        attention, the map of every word) to ``directory/caption-<i>.png`` (or ``names``).

        Returns ``(path, caption, scene_matches)`` per image: whether the caption names exactly its scene.
        """
        import os

        from ..vision import scene_matches
        from ..vision.plot import plot_caption_attention

        data = self.data["test"]
        count = min(count, len(data.scenes))
        words, attention = self.decode(model, data.images[:count], beam_width)
        out = []
        for i in range(count):
            caption = " ".join(words[i])
            path = os.path.join(directory, names[i] if names else f"caption-{i}.png")
            maps = None if self.config.no_attention else attention[i]
            plot_caption_attention(data.images[i], words[i], maps, path,
                                   title=f"{caption!r}\n(truth {data.captions[i][0]!r})")
            out.append((path, caption, scene_matches(caption, data.scenes[i])))
        return out


class VQATask(_ImageTask):
    """vqa: see the module docstring."""

    name = "vqa"
    model_name = "VQAModel"
    metric = "accuracy"

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        self.questions, self.answers = question_vocab(), answer_vocab()

    def model_config(self) -> dict:
        c = self.config
        return {"question_vocab_size": len(self.questions), "answer_count": len(self.answers),
                "question_only": c.question_only, "image_size": c.image_size, "embedding_size": c.embedding_size,
                "hidden_size": c.hidden_size, "dtype": c.dtype}

    def build_model(self):
        from ..vision import make_vqa

        return make_vqa(**self.model_config(), fused=not self.config.composed)

    def describe_model(self) -> str:
        c = self.config
        kind = "question only (baseline)" if c.question_only else "CNN 16-32-32, attention guided by the question"
        return f"VQAModel: question LSTM of {c.hidden_size}, {kind}"

    def describe(self) -> str:
        q = self.data["test"].questions[0]
        return (f"vqa: {self.config.train_size} training images with a question each, test images with held-out "
                f"colour-shape pairs, e.g. {q.text!r} -> {q.answer!r}")

    def _batch(self, data, indices):
        questions, lengths = pad_sequences([self.questions.encode(data.questions[i].text) for i in indices],
                                           self.questions.pad_index, dtype=np.int64)
        answers = self.answers.encode([data.questions[i].answer for i in indices])
        return data.images[indices], questions, lengths, answers

    def train_step(self, model) -> tuple[float, int]:
        train = self.data["train"]
        indices = self._train_rng.integers(0, len(train.scenes), size=self.config.batch_size)
        images, questions, lengths, answers = self._batch(train, indices)
        logits, _ = model(images, questions, lengths)
        loss = cross_entropy(logits, answers)
        loss.backward()
        return float(loss.item()), len(indices)

    @no_grad()
    def sample(self, model, count: int, directory: str) -> list[tuple]:
        """Answer the questions of the first ``count`` held-out test images and draw each (the image, the
        question, the answer and, with an image encoder, the attention map) to ``directory/vqa-<i>.png``.

        Returns ``(path, question, answer, true answer)`` per image.
        """
        import os

        from ..vision.plot import plot_vqa_attention

        data = self.data["test"]
        count = min(count, len(data.scenes))
        was_training = model.training
        model.eval()
        logits, weights = model(*self._batch(data, np.arange(count))[:3])
        model.train(was_training)
        out = []
        for i, answer_id in enumerate(np.argmax(logits.data, axis=-1)):
            q, answer = data.questions[i], self.answers.decode([int(answer_id)])[0]
            path = os.path.join(directory, f"vqa-{i}.png")
            plot_vqa_attention(data.images[i], q.text, answer, None if weights is None else weights.data[i], path,
                               title=f"{q.text} -> {answer} (truth {q.answer})")
            out.append((path, q.text, answer, q.answer))
        return out

    @no_grad()
    def evaluate(self, model, split: str = "valid") -> dict:
        data = self.split(split)
        was_training = model.training
        model.eval()
        right = []
        for start in range(0, len(data.scenes), EVAL_BATCH):
            indices = np.arange(start, min(start + EVAL_BATCH, len(data.scenes)))
            images, questions, lengths, answers = self._batch(data, indices)
            logits, _ = model(images, questions, lengths)
            right.extend(np.argmax(logits.data, axis=-1) == answers)
        model.train(was_training)
        return _accuracies(np.asarray(right), data.questions)

    def baselines(self, split: str = "valid") -> dict:
        """The question-only prior on ``split``: per question text, its most frequent answer in training (for a
        question never asked in training, e.g. about a held-out pair, the most frequent answer of its type)."""
        c = self.config
        _, asked = vqa_questions(c.train_size, "train", c.seed, c.image_size)
        prior = question_prior(asked)
        by_type = question_prior([Question(q.kind, q.answer, q.kind) for q in asked])
        questions = self.split(split).questions
        return _accuracies(np.array([prior.get(q.text, by_type[q.kind]) == q.answer for q in questions]), questions)


def _accuracies(right: np.ndarray, questions) -> dict:
    """``accuracy`` over all questions and ``accuracy_<type>`` per question type present."""
    scores = {"accuracy": float(right.mean())}
    kinds = np.array([q.kind for q in questions])
    for kind in QUESTION_TYPES:
        if (kinds == kind).any():
            scores[f"accuracy_{kind}"] = float(right[kinds == kind].mean())
    return scores
