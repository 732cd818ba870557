"""Training tasks: each ties a data source, a model, a loss and the metrics that say how well it learned.

A task knows how to

- build its model (``build_model``) and describe it for a checkpoint (``model_name``, ``model_config``,
  ``metadata``: vocabularies and anything else needed to rebuild the model exactly);
- run one training step's forward and backward (``train_step``; the trainer clips and steps);
- evaluate a model on its validation or test set (``evaluate``), next to the baselines a model must beat;
- save and restore its position in the data (``state_dict`` / ``load_state_dict``), so a resumed run sees
  exactly the batches the uninterrupted run would have seen;
- at the end of a run, write what it has besides the scores (``write_results``: a sample text, an attention
  heatmap) and say which commands to try next (``next_commands``).

The sequence-to-sequence tasks (reverse, sort, dates) are in :mod:`.seq2seq_task`.

Randomness: the training data stream draws from its own generator seeded with ``(seed, 1)``, the validation
set from ``(seed, 2)``, the test set from ``(seed, 3)``; the model's initialisation and dropout use the global
generator (``microseq.manual_seed(seed)``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import data
from ..autograd import no_grad
from ..data import CharVocab, LMStream, SequenceBatcher, Vocab, WordVocab, collate, vocab_from_dict
from ..ops import cross_entropy, mse_loss
from .config import IMAGE_TASKS, SEQ2SEQ_TASKS, VECTOR_TASKS, TrainConfig
from .memory import training_bytes
from .models import build_model
from .tbptt import lm_loss_sum, tbptt_backward
from .teacher_forcing import TeacherForcingSchedule

__all__ = ["Task", "DecodingTask", "CharLMTask", "AddingTask", "CopyTask", "SentimentTask", "PosTagTask", "make_task"]

LN2 = math.log(2.0)


class Task:
    """Base class; see the module docstring. ``metric`` names the headline metric of ``evaluate``."""

    name = "task"
    model_name = ""
    metric = "loss"
    has_test_set = True  # a held-out set apart from the validation set (evaluated at the end of a run)
    has_validation = True  # evaluated every eval_interval steps and at the end
    trains_further = True  # more steps improve it (not so a model counted in one pass)

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        self.config, self.training = config, training
        self.seed = config.seed

    @property
    def maximize(self) -> bool:
        """Whether a larger ``metric`` is better (accuracy) rather than a smaller one (loss, bpc, mse)."""
        return self.metric.endswith("accuracy")

    def rng(self, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream])

    # -- model ---------------------------------------------------------------------------------------
    def recurrent_options(self) -> dict:
        c = self.config
        return dict(cell=c.cell, num_layers=c.layers, dropout=c.dropout, bidirectional=c.bidirectional,
                    nonlinearity=c.nonlinearity, dtype=c.dtype)

    def model_config(self) -> dict:
        raise NotImplementedError

    def build_model(self):
        return build_model(self.model_name, self.model_config(), fused=not self.config.composed)

    def describe_model(self) -> str:
        c = self.config
        return f"{self.model_name} {c.cell} x{c.layers}, hidden {c.hidden_size}"

    def sequence_length(self) -> int:
        """Time steps of a training batch (for the memory estimate of :mod:`~microseq.training.memory`)."""
        return self.config.seq_len

    def estimated_bytes(self) -> dict:
        """The memory the run will need (:func:`~microseq.training.memory.training_bytes`)."""
        return training_bytes(self.config, self.model_config(), self.sequence_length())

    def metadata(self) -> dict:
        """What besides the config is needed to rebuild the model and its data (JSON-friendly)."""
        return {}

    # -- training and evaluation -----------------------------------------------------------------------------
    def train_step(self, model) -> tuple[float, int]:
        """Forward and backward on the next batch; return (loss, number of tokens)."""
        raise NotImplementedError

    def evaluate(self, model, split: str = "valid") -> dict:
        raise NotImplementedError

    def baselines(self) -> dict:
        """Scores of a model that learned nothing useful, in the keys of ``evaluate``."""
        return {}

    def describe(self) -> str:
        return self.name

    def describe_optimisation(self) -> str:
        """How the model is fitted, for the run's first lines."""
        return f"{self.config.optimizer} lr {self.config.lr:g}"

    # -- the end of a run ----------------------------------------------------------------------------------
    def write_results(self, model, run_dir: str) -> dict:
        """Write what the trained model makes besides its scores into ``run_dir``; return ``{name: path}``."""
        return {}

    def next_commands(self, run_dir: str) -> list:
        """``(command, what it does)`` pairs that make sense for this task's runs, printed at the end."""
        return []

    # -- resuming -----------------------------------------------------------------------------------------
    def state_dict(self) -> tuple[dict, dict]:
        """(JSON-friendly state, named arrays) of the training data stream."""
        return {"rng": self._train_rng.bit_generator.state}, {}

    def load_state_dict(self, state: dict, arrays: dict) -> None:
        self._train_rng.bit_generator.state = state["rng"]


def _check_split(split: str) -> None:
    if split not in ("valid", "test"):
        raise ValueError(f"unknown split {split!r}; expected 'valid' or 'test'")


# ---------------------------------------------------------------------------------------------------------
class CharLMTask(Task):
    """Character language model on a text: the default corpus (Python's stdlib sources) or ``--text``.

    The text is split 95% / 5% into training and validation text (``test`` is the validation text too:
    a single text has no third part). Training streams the text as ``batch_size`` parallel rows of
    ``seq_len`` characters, carrying the recurrent state across batches with truncation every ``bptt`` steps.
    Metrics: loss (nats per character), bits per character, perplexity; baseline: a unigram model of the
    training text's character frequencies.
    """

    name = "charlm"
    model_name = "CharLM"
    metric = "bpc"
    has_test_set = False

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        if config.text:
            text = data.read_text(config.text)
            self.source = config.text
        else:
            text = data.stdlib_corpus(config.corpus_chars)
            self.source = f"Python {'.'.join(map(str, __import__('sys').version_info[:2]))} stdlib sources"
        train_text, valid_text = data.split_text(text, 0.05)
        if config.eval_size:
            valid_text = valid_text[: config.eval_size]
        self.vocab = vocab_from_dict(metadata["vocab"]) if metadata else CharVocab.build(train_text)
        self.train_ids, self.valid_ids = self.vocab.encode(train_text), self.vocab.encode(valid_text)
        if len(self.valid_ids) < 2:
            raise data.DataError(f"{self.source}: text too short to hold out validation text ({len(text)} characters)")
        self.stream = None  # an evaluation (``training=False``) reads only the validation text
        if training:
            try:
                self.stream = LMStream(self.train_ids, config.batch_size, config.seq_len, seed=[self.seed, 1])
            except ValueError as error:
                raise data.DataError(f"{self.source}: {str(error).removeprefix('LMStream: ')}") from None
        self.window = config.bptt or config.seq_len
        self.state = None

    def next_commands(self, run_dir: str) -> list:
        return [(f"microseq sample {run_dir}", "generate more text")]

    def describe(self) -> str:
        return (f"charlm on {self.source}: {len(self.train_ids):,} training and {len(self.valid_ids):,} validation "
                f"characters, vocabulary of {len(self.vocab)}")

    def model_config(self) -> dict:
        c = self.config
        return dict(vocab_size=len(self.vocab), embedding_size=c.embedding_size, hidden_size=c.hidden_size,
                    **self.recurrent_options())

    def metadata(self) -> dict:
        return {"vocab": self.vocab.to_dict()}

    def train_step(self, model) -> tuple[float, int]:
        batch = next(self.stream)
        if batch.reset:
            self.state = None
        loss, self.state = tbptt_backward(model, batch.inputs, batch.targets, self.state, self.window)
        return loss, batch.num_tokens()

    @no_grad()
    def evaluate(self, model, split: str = "valid") -> dict:
        _check_split(split)
        ids = self.valid_ids
        streams = max(1, min(self.config.batch_size, (len(ids) - 1) // self.config.seq_len))
        seq_len = min(self.config.seq_len, (len(ids) - 1) // streams)
        was_training = model.training
        model.eval()
        total, count, state = 0.0, 0, None
        for batch in LMStream(ids, streams, seq_len, random_offset=False).one_epoch():
            loss, state = lm_loss_sum(model, batch.inputs, batch.targets, state)
            total, count = total + loss, count + batch.num_tokens()
        model.train(was_training)
        return self._scores(total / count)

    @staticmethod
    def _scores(nats: float) -> dict:
        return {"loss": nats, "bpc": nats / LN2, "perplexity": math.exp(nats) if nats < 700.0 else math.inf}

    def baselines(self) -> dict:
        counts = np.bincount(self.train_ids, minlength=len(self.vocab)) + 1.0  # add-one: every symbol possible
        log_p = np.log(counts / counts.sum())
        return self._scores(float(-log_p[self.valid_ids].mean()))

    def state_dict(self) -> tuple[dict, dict]:
        arrays = {}
        if self.state is not None:
            parts = self.state if isinstance(self.state, tuple) else (self.state,)
            arrays = {f"carried_state.{i}": part.data for i, part in enumerate(parts)}
        return {"stream": self.stream.state_dict(), "state_parts": len(arrays)}, arrays

    def load_state_dict(self, state: dict, arrays: dict) -> None:
        from ..tensor import Tensor

        self.stream.load_state_dict(state["stream"])
        parts = tuple(Tensor(np.array(arrays[f"carried_state.{i}"])) for i in range(state["state_parts"]))
        self.state = None if not parts else parts if len(parts) > 1 else parts[0]


# ---------------------------------------------------------------------------------------------------------
class AddingTask(Task):
    """The adding problem with T = ``seq_len``: regression from the final state, mean squared error.

    Fresh sequences every step (an endless stream); a fixed validation and test set of ``eval_size`` each.
    Baseline: always answering 1 gives MSE 1/6.
    """

    name = "adding"
    model_name = "SequenceRegressor"
    metric = "mse"

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        self.T = config.seq_len
        self._train_rng = self.rng(1)
        self.dtype = np.float64 if config.dtype == "float64" else np.float32
        self._sets = {}

    def describe(self) -> str:
        return f"adding problem, T = {self.T}: predict the sum of the two marked values (baseline MSE 0.167)"

    def model_config(self) -> dict:
        return dict(input_size=2, hidden_size=self.config.hidden_size, **self.recurrent_options())

    def train_step(self, model) -> tuple[float, int]:
        x, y = data.adding_problem(self._train_rng, self.config.batch_size, self.T, self.dtype)
        loss = mse_loss(model(x), y)
        loss.backward()
        return float(loss.item()), x.shape[0] * x.shape[1]

    def eval_set(self, split: str):
        _check_split(split)
        if split not in self._sets:
            rng = self.rng(2 if split == "valid" else 3)
            self._sets[split] = data.adding_problem(rng, self.config.eval_size or 1000, self.T, self.dtype)
        return self._sets[split]

    @no_grad()
    def evaluate(self, model, split: str = "valid") -> dict:
        x, y = self.eval_set(split)
        was_training = model.training
        model.eval()
        predictions = np.concatenate([model(x[i : i + 500]).data for i in range(0, len(x), 500)])
        model.train(was_training)
        mse = float(np.mean((predictions.astype(np.float64) - y) ** 2))
        return {"loss": mse, "mse": mse}

    def baselines(self) -> dict:
        return {"loss": data.ADDING_BASELINE_MSE, "mse": data.ADDING_BASELINE_MSE}


# ---------------------------------------------------------------------------------------------------------
class CopyTask(Task):
    """The copy task with delay T = ``seq_len``: a tagger writes back 10 symbols after T blank steps.

    Metrics: cross entropy per step, and accuracy on the 10 recalled symbols. Baselines: the memoryless
    strategy's cross entropy and chance accuracy (1/8).
    """

    name = "copy"
    model_name = "SequenceTagger"
    metric = "accuracy"

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        self.T = config.seq_len
        self._train_rng = self.rng(1)
        self._sets = {}

    def sequence_length(self) -> int:
        return self.T + 20

    def describe(self) -> str:
        return f"copy task, T = {self.T}: recall 10 symbols after {self.T} steps (sequences of {self.T + 20})"

    def model_config(self) -> dict:
        return dict(vocab_size=data.COPY_INPUT_SYMBOLS, num_classes=data.COPY_CLASSES, padding_idx=None,
                    embedding_size=self.config.embedding_size, hidden_size=self.config.hidden_size,
                    **self.recurrent_options())

    def train_step(self, model) -> tuple[float, int]:
        x, y = data.copy_task(self._train_rng, self.config.batch_size, self.T)
        loss = cross_entropy(model(x).reshape(y.size, -1), y.reshape(-1))
        loss.backward()
        return float(loss.item()), x.size

    @no_grad()
    def evaluate(self, model, split: str = "valid") -> dict:
        _check_split(split)
        if split not in self._sets:
            self._sets[split] = data.copy_task(self.rng(2 if split == "valid" else 3), self.config.eval_size or 500, self.T)
        x, y = self._sets[split]
        was_training = model.training
        model.eval()
        total, correct = 0.0, 0
        for i in range(0, len(x), 250):
            logits = model(x[i : i + 250])
            targets = y[i : i + 250]
            total += float(cross_entropy(logits.reshape(targets.size, -1), targets.reshape(-1), reduction="sum").item())
            correct += int((logits.data[:, -10:].argmax(-1) == targets[:, -10:]).sum())
        model.train(was_training)
        return {"loss": total / y.size, "accuracy": correct / (len(x) * 10)}

    def baselines(self) -> dict:
        return {"loss": data.copy_baseline_loss(self.T), "accuracy": 1.0 / 8.0}


# ---------------------------------------------------------------------------------------------------------
class _WordTask(Task):
    """A fixed training set of generated sentences over a word vocabulary, served in shuffled padded batches."""

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        sentences, labels = self.generate(self.rng(1), config.train_size)
        self.vocab = vocab_from_dict(metadata["vocab"]) if metadata else WordVocab.build(sentences)
        self.labels = self.label_vocab()
        self.batcher = SequenceBatcher([self.vocab.encode(s) for s in sentences], self.encode_labels(labels),
                                       min(config.batch_size, config.train_size), seed=[self.seed, 4],
                                       pad_value=self.vocab.pad_index)
        self.train_sentences, self.train_labels = sentences, labels
        self._sets = {}

    def generate(self, rng, n):
        raise NotImplementedError

    def label_vocab(self) -> Vocab:
        raise NotImplementedError

    def encode_labels(self, labels: list) -> list:
        raise NotImplementedError

    def metadata(self) -> dict:
        return {"vocab": self.vocab.to_dict()}

    def model_config(self) -> dict:
        return dict(vocab_size=len(self.vocab), num_classes=len(self.labels), padding_idx=self.vocab.pad_index,
                    embedding_size=self.config.embedding_size, hidden_size=self.config.hidden_size,
                    **self.recurrent_options())

    def eval_batches(self, split: str):
        _check_split(split)
        if split not in self._sets:
            sentences, labels = self.generate(self.rng(2 if split == "valid" else 3), self.config.eval_size or 1000)
            inputs, targets = [self.vocab.encode(s) for s in sentences], self.encode_labels(labels)
            self._sets[split] = [collate(inputs[i : i + 250], targets[i : i + 250], self.vocab.pad_index)
                                 for i in range(0, len(inputs), 250)]
        return self._sets[split]

    def train_step(self, model) -> tuple[float, int]:
        batch = next(self.batcher)
        logits = model(batch.inputs, batch.lengths)
        loss = cross_entropy(logits.reshape(batch.targets.size, -1), batch.targets.reshape(-1))
        loss.backward()
        return float(loss.item()), batch.num_tokens()

    @no_grad()
    def evaluate(self, model, split: str = "valid") -> dict:
        was_training = model.training
        model.eval()
        total, correct, count = 0.0, 0, 0
        for batch in self.eval_batches(split):
            logits = model(batch.inputs, batch.lengths)
            targets = batch.targets.reshape(-1)
            flat = logits.reshape(targets.size, -1)
            total += float(cross_entropy(flat, targets, reduction="sum").item())
            counted = targets != -100
            correct += int((flat.data.argmax(-1) == targets)[counted].sum())
            count += int(counted.sum())
        model.train(was_training)
        return {"loss": total / count, "accuracy": correct / count}

    def state_dict(self) -> tuple[dict, dict]:
        return {"batcher": self.batcher.state_dict()}, {}

    def load_state_dict(self, state: dict, arrays: dict) -> None:
        self.batcher.load_state_dict(state["batcher"])


class SentimentTask(_WordTask):
    """Sequence classification (many-to-one) of generated reviews; see :mod:`microseq.data.toy_language`.

    Metrics: cross entropy and accuracy; baseline: always the most frequent training label.
    """

    name = "sentiment"
    model_name = "SequenceClassifier"
    metric = "accuracy"

    def generate(self, rng, n):
        return data.sentiment_examples(rng, n)

    def label_vocab(self) -> Vocab:
        return Vocab(list(data.SENTIMENT_LABELS), pad=None, unk=None)

    def encode_labels(self, labels):
        return list(labels)

    def describe(self) -> str:
        return (f"sentiment classification of generated reviews: {self.config.train_size} training sentences, "
                f"vocabulary of {len(self.vocab)} words")

    def baselines(self) -> dict:
        share = float(np.mean(self.train_labels))
        p = min(max(share, 1e-12), 1 - 1e-12)
        return {"loss": -(p * math.log(p) + (1 - p) * math.log(1 - p)), "accuracy": max(share, 1 - share)}


class PosTagTask(_WordTask):
    """Sequence tagging (many-to-many): part-of-speech tags of generated sentences with ambiguous words.

    Metrics: cross entropy per word and tagging accuracy; baseline: each word's most frequent training tag
    (what a tagger without context can do at best).
    """

    name = "postag"
    model_name = "SequenceTagger"
    metric = "accuracy"

    def generate(self, rng, n):
        return data.pos_examples(rng, n)

    def label_vocab(self) -> Vocab:
        return Vocab(list(data.POS_TAGS), pad=None, unk=None)

    def encode_labels(self, labels):
        return [self.labels.encode(tags) for tags in labels]

    def describe(self) -> str:
        return (f"part-of-speech tagging of generated sentences: {self.config.train_size} training sentences, "
                f"vocabulary of {len(self.vocab)} words, {len(self.labels)} tags")

    def baselines(self) -> dict:
        counts: dict = {}
        for words, tags in zip(self.train_sentences, self.train_labels):
            for w, t in zip(words, tags):
                counts.setdefault(w, {}).setdefault(t, 0)
                counts[w][t] += 1
        best = {w: max(c, key=c.get) for w, c in counts.items()}
        sentences, tags = self.generate(self.rng(2), self.config.eval_size or 1000)
        pairs = [(w, t) for s, ts in zip(sentences, tags) for w, t in zip(s, ts)]
        return {"accuracy": sum(best.get(w) == t for w, t in pairs) / len(pairs)}


class DecodingTask(Task):
    """A task whose decoder reads its previous output (seq2seq, caption): the teacher-forcing schedule, its
    clock (steps taken) and its coins (stream ``(seed, 2)``), saved with the training stream for a resume."""

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        self.teacher_forcing = TeacherForcingSchedule(config.teacher_forcing_decay, config.teacher_forcing,
                                                      config.teacher_forcing_floor, config.teacher_forcing_k)
        self._train_rng, self._coin_rng = self.rng(1), self.rng(2)
        self.steps = 0  # training steps taken: the teacher-forcing schedule's clock

    def state_dict(self) -> tuple[dict, dict]:
        return {"rng": self._train_rng.bit_generator.state, "coins": self._coin_rng.bit_generator.state,
                "steps": self.steps}, {}

    def load_state_dict(self, state: dict, arrays: dict) -> None:
        self._train_rng.bit_generator.state = state["rng"]
        self._coin_rng.bit_generator.state = state["coins"]
        self.steps = int(state["steps"])


TASK_CLASSES = {cls.name: cls for cls in (CharLMTask, AddingTask, CopyTask, SentimentTask, PosTagTask)}


def make_task(config: TrainConfig, metadata: dict | None = None, training: bool = True) -> Task:
    """The task named by ``config.task`` (``metadata`` from a checkpoint restores its vocabularies); with
    ``training=False`` only what evaluation needs (e.g. a text too short to train on can still be scored)."""
    if config.task in SEQ2SEQ_TASKS:
        from .seq2seq_task import Seq2SeqTask  # imported when used: it brings in microseq.seq2seq

        return Seq2SeqTask(config, metadata, training)
    if config.task == "ngram" or (config.task == "sentiment" and config.model == "naive-bayes"):
        from .count_tasks import NGramTask, NaiveBayesSentimentTask

        return NGramTask(config, metadata, training) if config.task == "ngram" else \
            NaiveBayesSentimentTask(config, metadata, training)
    if config.task in VECTOR_TASKS:
        from .vector_tasks import VECTOR_TASK_CLASSES  # imported when used: it brings in microseq.text

        return VECTOR_TASK_CLASSES[config.task](config, metadata, training)
    if config.task in IMAGE_TASKS:
        from .vision_task import CaptionTask, VQATask  # imported when used: it brings in microseq.vision

        return (CaptionTask if config.task == "caption" else VQATask)(config, metadata, training)
    if config.task not in TASK_CLASSES:
        raise ValueError(f"unknown task {config.task!r}; expected one of "
                         f"{', '.join([*TASK_CLASSES, *SEQ2SEQ_TASKS, *IMAGE_TASKS])}")
    return TASK_CLASSES[config.task](config, metadata, training)
