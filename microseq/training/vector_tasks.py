"""Word-vector tasks (``microseq train word2vec`` and ``glove``): Tasks of the one Trainer.

The vectors are not trained by gradients through the optimizer: a step runs the fused kernel of
:mod:`microseq.text` over a piece of the data and updates the tables in place (the model is a
:class:`~microseq.training.models.Tables`, whose arrays do not require grad, so the Trainer's optimizer and
clipping leave them alone). What a step depends on is in the checkpoint: the tables (word2vec: v, u;
GloVe: w, wc, b, bc and AdaGrad's sums), the training generator and the number of steps done, so a resumed
run continues bit for bit.

- word2vec: a step is the next chunk of about ``step_tokens`` corpus tokens (cut at sentence starts),
  cycling through the corpus; its examples (kept tokens, windows, negatives) are drawn from the training
  generator and the learning rate falls linearly from ``lr`` over the ``max_steps`` steps, as in the C tool
  (so a run resumed with a larger ``--max-steps`` continues on the longer schedule, from a higher rate).
- GloVe: a step is one epoch of AdaGrad over the co-occurrence entries in a freshly shuffled order.

Evaluation on the planted corpus: 3CosAdd analogy accuracy on the ``dev`` questions (validation) or the
``held_out`` ones (test), and the Spearman correlation of cosines with the planted similarity. The docs
corpus has no questions: its runs are looked at with ``microseq neighbors``.
"""

from __future__ import annotations

import os

import numpy as np

from ..data import DataError
from ..kernels.glove import glove_train
from ..kernels.word2vec import sgns_train
from ..text import Corpus, WordVectors, planted_corpus, python_docs_corpus, save_vectors
from ..text.glove import cooccurrence
from ..text.word2vec import draw_examples, keep_probability, noise_table, sentence_chunks
from .config import TrainConfig
from .models import Tables
from .tasks import Task

__all__ = ["WordVectorTask", "Word2VecTask", "GloVeTask", "VECTOR_TASK_CLASSES"]

#: The words ``microseq plot`` shows of a planted-corpus run: a few of each planted group.
PLOT_WORDS = ("king", "queen", "man", "woman", "prince", "princess", "kings", "queens", "france", "paris",
              "japan", "tokyo", "italy", "rome", "egypt", "cairo", "acme", "smith", "hooli", "belson", "big",
              "bigger", "biggest", "cold", "colder", "coldest")
#: ... and of a docs-corpus run.
DOCS_PLOT_WORDS = ("list", "tuple", "dict", "set", "string", "bytes", "file", "directory", "path", "error",
                   "exception", "warning", "thread", "process", "lock", "socket", "server", "client", "int", "float")


class WordVectorTask(Task):
    """What word2vec and GloVe share: the corpus, the vocabulary, the evaluation, the vectors file."""

    model_name = "Tables"
    metric = "analogy_accuracy"

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        self.planted = planted_corpus(config.train_size, seed=config.seed) if config.corpus == "planted" else None
        if self.planted is None:  # no questions: nothing to score
            self.has_validation = self.has_test_set = False
        self.words = list(metadata["words"]) if metadata else None
        self._train_rng = self.rng(1)
        self.steps_done = 0
        if training:
            sentences = self.planted.sentences if self.planted else python_docs_corpus()
            self.corpus = Corpus(sentences, config.min_count)
            self.words = self.corpus.words
            if not (self.corpus.sentence[1:] == self.corpus.sentence[:-1]).any():
                raise DataError(f"{self.name}: no sentence has two words, so no word has a context")
            self.prepare()

    def prepare(self) -> None:
        """What the training steps read, computed once from ``self.corpus``."""

    # -- the tables --------------------------------------------------------------------------------------
    def table_shapes(self) -> dict:
        raise NotImplementedError

    def model_config(self) -> dict:
        return {"shapes": self.table_shapes(), "dtype": self.config.dtype}

    def estimated_bytes(self) -> dict:
        size = np.dtype(self.config.dtype).itemsize
        return {"tables": sum(int(np.prod(shape)) * size for shape in self.table_shapes().values())}

    def build_model(self) -> Tables:
        model = Tables(self.table_shapes(), self.config.dtype)
        self.initialise(model, self.rng(4))
        return model

    def initialise(self, model: Tables, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def metadata(self) -> dict:
        return {"words": self.words}

    def describe_model(self) -> str:
        return f"{self.name} vectors of {len(self.words):,} words x {self.config.embedding_size}"

    # -- evaluation ----------------------------------------------------------------------------------------
    @staticmethod
    def table_vectors(model: Tables) -> np.ndarray:
        """The word vectors (V, D) of the tables."""
        raise NotImplementedError

    def word_vectors(self, model: Tables) -> WordVectors:
        return WordVectors(self.words, self.table_vectors(model))

    def evaluate(self, model: Tables, split: str = "valid") -> dict:
        if self.planted is None:
            raise DataError(f"the docs corpus has no analogy or similarity questions; look at the vectors with "
                            "microseq neighbors RUN WORD")
        vectors = self.word_vectors(model)
        questions = self.planted.dev if split == "valid" else self.planted.held_out
        return {"analogy_accuracy": vectors.analogy_accuracy(questions, "add"),
                "spearman": vectors.similarity_correlation(self.planted.similarity)}

    def describe(self) -> str:
        source = (f"the planted corpus ({self.config.train_size:,} sentences)" if self.planted
                  else "the Python docs corpus")
        return f"{self.name} on {source}"

    def write_results(self, model: Tables, run_dir: str) -> dict:
        vectors = self.word_vectors(model)
        path = os.path.join(run_dir, "vectors.txt")
        save_vectors(path, vectors.words, vectors.vectors)
        return {"vectors": path}

    def next_commands(self, run_dir: str) -> list:
        if self.planted is None:
            return [(f"microseq neighbors {run_dir} list", "the nearest words by cosine")]
        return [(f"microseq neighbors {run_dir} king", "the nearest words by cosine"),
                (f"microseq analogy {run_dir} man king woman", "man is to king as woman is to ?")]

    # -- resuming -------------------------------------------------------------------------------------------
    def state_dict(self) -> tuple[dict, dict]:
        return {"rng": self._train_rng.bit_generator.state, "steps_done": self.steps_done}, {}

    def load_state_dict(self, state: dict, arrays: dict) -> None:
        self._train_rng.bit_generator.state = state["rng"]
        self.steps_done = int(state["steps_done"])


class Word2VecTask(WordVectorTask):
    """word2vec with negative sampling (skip-gram, or CBOW with ``cbow``); see the module docstring."""

    name = "word2vec"

    def prepare(self) -> None:
        c, corpus = self.config, self.corpus
        if len(corpus) < c.negatives + 1:
            raise DataError(f"word2vec: the corpus has {len(corpus)} distinct words; {c.negatives} negatives need "
                            f"at least {c.negatives + 1}")
        self.noise = noise_table(corpus.counts)
        self.keep = keep_probability(corpus.counts, c.subsample)
        self.cuts = sentence_chunks(corpus.sentence, c.step_tokens)

    def table_shapes(self) -> dict:
        shape = [len(self.words), self.config.embedding_size]
        return {"v": shape, "u": shape}

    def initialise(self, model: Tables, rng: np.random.Generator) -> None:
        V, D = model.v.shape
        model.v.data[...] = (rng.random((V, D)) - 0.5) / D  # the C tool's start; u stays zero

    @staticmethod
    def table_vectors(model: Tables) -> np.ndarray:
        return model.v.data  # the input vectors

    def describe_model(self) -> str:
        return ("CBOW " if self.config.cbow else "skip-gram ") + super().describe_model()

    def describe_optimisation(self) -> str:
        return f"SGD per example in the fused kernel, lr {self.config.lr:g} falling linearly to 0"

    def _tokens_before(self, step: int) -> int:
        """Corpus tokens (counted with repeats) before the chunk of ``step``."""
        chunks, N = len(self.cuts) - 1, len(self.corpus.ids)
        return step // chunks * N + int(self.cuts[step % chunks])

    def train_step(self, model: Tables) -> tuple[float, int]:
        c, corpus = self.config, self.corpus
        chunk = self.steps_done % (len(self.cuts) - 1)
        start, stop = int(self.cuts[chunk]), int(self.cuts[chunk + 1])
        examples = draw_examples(corpus.ids[start:stop], corpus.sentence[start:stop], self.noise, self.keep,
                                 c.window, c.negatives, c.cbow, self._train_rng)
        before, total = self._tokens_before(self.steps_done), self._tokens_before(c.max_steps)
        self.steps_done += 1
        if len(examples) == 0:
            return 0.0, stop - start
        batch_ptr = np.r_[np.arange(0, len(examples), c.batch_size), len(examples)].astype(np.int64)
        progress = (before + examples.position[batch_ptr[:-1]]) / total
        lrs = (c.lr * np.maximum(1.0 - progress, 1e-4)).astype(model.v.dtype)
        loss = sgns_train(model.v.data, model.u.data, examples.in_ptr, examples.in_ids, examples.targets,
                          batch_ptr, lrs)
        return float(loss) / len(examples), stop - start


class GloVeTask(WordVectorTask):
    """GloVe: weighted least squares on log co-occurrence counts, one AdaGrad epoch per step."""

    name = "glove"
    X_MAX, ALPHA = 100.0, 0.75  # the weighting f(x) = min(1, (x / x_max)^alpha) of the paper

    def prepare(self) -> None:
        corpus = self.corpus
        self.rows, self.cols, self.values = cooccurrence(corpus.ids, corpus.sentence, len(corpus), self.config.window)
        if len(self.values) == 0:
            raise DataError("glove: no two words of one sentence are within the window")

    def describe_optimisation(self) -> str:
        return f"AdaGrad per entry in the fused kernel, lr {self.config.lr:g}"

    def table_shapes(self) -> dict:
        V, D = len(self.words), self.config.embedding_size
        return {"w": [V, D], "wc": [V, D], "b": [V], "bc": [V], "gw": [V, D], "gwc": [V, D], "gb": [V], "gbc": [V]}

    def initialise(self, model: Tables, rng: np.random.Generator) -> None:
        D = self.config.embedding_size
        for name in ("w", "wc", "b", "bc"):  # the GloVe tool's start
            table = getattr(model, name).data
            table[...] = (rng.random(table.shape) - 0.5) / D
        for name in ("gw", "gwc", "gb", "gbc"):  # AdaGrad's sums start at 1
            getattr(model, name).data[...] = 1.0

    @staticmethod
    def table_vectors(model: Tables) -> np.ndarray:
        return model.w.data + model.wc.data  # word and context vectors summed

    def train_step(self, model: Tables) -> tuple[float, int]:
        order = self._train_rng.permutation(len(self.values))
        tables = [getattr(model, name).data for name in ("w", "wc", "b", "bc", "gw", "gwc", "gb", "gbc")]
        loss = glove_train(*tables, self.rows, self.cols, self.values, order, self.config.lr, self.X_MAX, self.ALPHA)
        self.steps_done += 1
        return float(loss) / len(self.values), len(self.values)


VECTOR_TASK_CLASSES = {cls.name: cls for cls in (Word2VecTask, GloVeTask)}
