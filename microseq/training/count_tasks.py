"""Count models as Tasks of the one Trainer: ``microseq train ngram`` and ``sentiment --model naive-bayes``.

They fit in one pass, so their run is one step: the counts are made when the task builds its model, the one
step scores the training data, and the run is evaluated, checkpointed and reported like every other run
(run directory, ``config.json``, ``metrics.jsonl``). The counts are the model: a
:class:`~microseq.training.models.Tables` of float64 arrays (exact integer counts) in the safetensors
checkpoint, no pickle. They are not trained by gradients, so the Trainer's optimizer leaves them alone.

- ngram: a character n-gram model (``order``, ``smoothing``) on exactly the training and held-out text of
  ``charlm`` (same corpus, same split, same vocabulary), so its bits per character compare with the
  recurrent model's; ``unseen`` is the fraction of held-out n-grams never seen in training.
- sentiment with Naive Bayes: multinomial Naive Bayes (Laplace smoothing) on bags of words and bigrams of the
  very reviews the recurrent classifier of ``sentiment`` trains on and is scored on.
"""

from __future__ import annotations

import numpy as np

from .. import data
from ..text import NaiveBayes, NGramFeatures, NGramLM
from .config import TrainConfig
from .models import Tables
from .tasks import CharLMTask, SentimentTask, Task, _check_split

__all__ = ["NGramTask", "NaiveBayesSentimentTask"]


class _CountTask(Task):
    """A model fitted in one pass when it is built; its tables are known only then."""

    model_name = "Tables"
    trains_further = False

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        self._tables: dict | None = None

    def fit_tables(self) -> dict:
        """Count; return the model's arrays by name."""
        raise NotImplementedError

    def build_model(self) -> Tables:
        self._tables = self.fit_tables()
        return Tables.of(self._tables, "float64")

    def model_config(self) -> dict:  # empty until counted: no memory estimate for a model of counts
        return {} if self._tables is None else {"shapes": {n: list(a.shape) for n, a in self._tables.items()},
                                                "dtype": "float64"}

    def describe_optimisation(self) -> str:
        return "counted in one pass"

    def tables_of(self, model: Tables) -> dict:
        return {name: parameter.data for name, parameter in model.named_parameters()}

    def state_dict(self) -> tuple[dict, dict]:
        return {}, {}  # one step: nothing of a data stream to resume

    def load_state_dict(self, state: dict, arrays: dict) -> None:
        pass


class NGramTask(_CountTask, CharLMTask):
    """Character n-gram language model on charlm's corpus and held-out text."""

    name = "ngram"

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        CharLMTask.__init__(self, config, metadata, training=False)  # the text, split and vocabulary; no stream
        self.training, self._tables = training, None

    def language_model(self, model: Tables) -> NGramLM:
        c = self.config
        return NGramLM.from_tables(self.tables_of(model), c.order, len(self.vocab), c.smoothing)

    def fit_tables(self) -> dict:
        return NGramLM(self.config.order, len(self.vocab), self.config.smoothing).fit(self.train_ids).tables()

    def describe(self) -> str:
        return super().describe().replace("charlm on", f"{self.config.order}-gram ({self.config.smoothing}) on", 1)

    def describe_model(self) -> str:
        sizes = [len(self._tables[f"order{k}_codes"]) for k in range(1, self.config.order + 1)]
        return f"{self.config.order}-gram counts of " + ", ".join(f"{n:,} {k}-grams" for k, n in enumerate(sizes, 1))

    def train_step(self, model: Tables) -> tuple[float, int]:
        return self.language_model(model).cross_entropy(self.train_ids), len(self.train_ids)

    def evaluate(self, model: Tables, split: str = "valid") -> dict:
        _check_split(split)
        lm = self.language_model(model)
        scores = self._scores(lm.cross_entropy(self.valid_ids))
        if len(self.valid_ids) >= self.config.order:
            scores["unseen"] = lm.unseen_fraction(self.valid_ids)
        return scores

    def next_commands(self, run_dir: str) -> list:
        return []


class NaiveBayesSentimentTask(_CountTask):
    """Multinomial Naive Bayes on the sentiment task's reviews (bags of words and bigrams)."""

    name = "sentiment"
    metric = "accuracy"
    NGRAMS = (1, 2)

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        self.train_sentences, self.train_labels = data.sentiment_examples(self.rng(1), config.train_size)
        self.features = NGramFeatures(*self.NGRAMS)
        if metadata:
            self.features.names = list(metadata["features"])
            self.features.index = {g: i for i, g in enumerate(self.features.names)}
        else:
            self.features.fit(self.train_sentences)
        self._sets = {}

    def fit_tables(self) -> dict:
        nb = NaiveBayes().fit(self.features.transform(self.train_sentences), self.train_labels)
        return {"classes": nb.classes.astype(np.float64), "feature_counts": nb.feature_counts,
                "documents": nb.documents}

    def classifier(self, model: Tables) -> NaiveBayes:
        t = self.tables_of(model)
        return NaiveBayes.from_counts(t["classes"].astype(np.int64), t["feature_counts"], t["documents"])

    def metadata(self) -> dict:
        return {"features": self.features.names}

    def describe(self) -> str:
        return (f"sentiment classification of generated reviews by Naive Bayes: {self.config.train_size} training "
                f"sentences, {len(self.features.names):,} word and bigram features")

    def describe_model(self) -> str:
        return "multinomial Naive Bayes, Laplace smoothing"

    def train_step(self, model: Tables) -> tuple[float, int]:
        return self._loss_and_accuracy(model, self.train_sentences, self.train_labels)[0], len(self.train_labels)

    def _loss_and_accuracy(self, model: Tables, sentences, labels) -> tuple[float, float]:
        nb, X, y = self.classifier(model), self.features.transform(sentences), np.asarray(labels)
        log_p = nb.predict_log_proba(X)
        rows = np.searchsorted(nb.classes, y)
        return float(-log_p[np.arange(len(y)), rows].mean()), float((nb.classes[log_p.argmax(axis=1)] == y).mean())

    def evaluate(self, model: Tables, split: str = "valid") -> dict:
        _check_split(split)
        if split not in self._sets:
            self._sets[split] = data.sentiment_examples(self.rng(2 if split == "valid" else 3),
                                                        self.config.eval_size or 1000)
        loss, accuracy = self._loss_and_accuracy(model, *self._sets[split])
        return {"loss": loss, "accuracy": accuracy}

    baselines = SentimentTask.baselines  # the most frequent training label
