"""The configuration of a training run: every option, its default, its help text, in one place.

:class:`TrainConfig` is the single source: the command line builds its ``train`` options from its fields,
a TOML file (``--config run.toml``) may set any of them, and the run directory stores the final values in
``config.json``. Values come, from weakest to strongest, from the field defaults, the task's defaults
(:data:`TASK_DEFAULTS`), the TOML file, and the command line.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from dataclasses import dataclass, field

from .teacher_forcing import TeacherForcingSchedule

__all__ = ["TrainConfig", "ConfigError", "TASKS", "TASK_DEFAULTS", "TASK_OPTIONS", "SEQ2SEQ_TASKS", "VECTOR_TASKS", "IMAGE_TASKS", "CUSTOM_TASK", "RESUMABLE_OVERRIDES",
           "make_config", "load_toml"]

TASKS = {
    "charlm": "character-level language model on the Python stdlib sources (or --text FILE)",
    "adding": "adding problem: sum the two marked values of a length-T sequence (regression, many-to-one)",
    "copy": "copy task: recall 10 symbols after T blank steps (many-to-many)",
    "sentiment": "sequence classification (many-to-one): polarity of generated reviews with negation and 'but'",
    "postag": "sequence tagging (many-to-many): part-of-speech tags of generated sentences with ambiguous words",
    "reverse": "seq2seq with attention: reverse a string of symbols",
    "sort": "seq2seq with attention: sort a string of symbols",
    "dates": "seq2seq with attention: normalise dates written in many formats to ISO 8601",
    "word2vec": "word vectors by word2vec (skip-gram, or --cbow) on the planted corpus (or --corpus docs)",
    "glove": "word vectors by GloVe on the planted corpus (or --corpus docs)",
    "ngram": "character n-gram language model (--order, --smoothing) on charlm's corpus and held-out text",
    "caption": "image captioning (one-to-many): a CNN and an LSTM decoder attending over the image grid "
               "(--no-attention: show and tell); tested on colour-shape pairs never seen in training",
    "vqa": "visual question answering: the question's LSTM guides attention over the image grid "
           "(--question-only: the baseline without the image)",
}
VECTOR_TASKS = ("word2vec", "glove")
SEQ2SEQ_TASKS = ("reverse", "sort", "dates")
IMAGE_TASKS = ("caption", "vqa")
DECODING_TASKS = (*SEQ2SEQ_TASKS, "caption")  # tasks with a step-by-step decoder: teacher forcing, beam search
#: Tasks whose model is a recurrent network trained by gradients (the options of the network and the optimizer).
RECURRENT_TASKS = ("charlm", "adding", "copy", "sentiment", "postag", *SEQ2SEQ_TASKS, *IMAGE_TASKS)
#: The task of a run of your own model (:func:`microseq.training.fit`); not a ``microseq train`` task.
CUSTOM_TASK = "custom"


class ConfigError(ValueError):
    """A configuration value or key that cannot be used; the message is one line meant for the user."""


def _option(default, help: str, choices=None, metavar=None, tasks=None):
    """A TrainConfig field: its default, help text, allowed values, and the tasks that read it (None: all)."""
    return field(default=default, metadata={"help": help, "choices": choices, "metavar": metavar, "tasks": tasks})


@dataclass
class TrainConfig:
    """Every setting of a training run (see ``microseq train --help`` for each one's meaning)."""

    task: str = _option("charlm", "what to train", choices=(*TASKS, CUSTOM_TASK))
    text: str | None = _option(None, "charlm, ngram: train on this UTF-8 text file instead of the default corpus",
                               metavar="FILE", tasks=("charlm", "ngram"))
    corpus_chars: int = _option(1_000_000, "charlm, ngram: characters of the default corpus (stdlib sources) to use",
                                tasks=("charlm", "ngram"))
    corpus: str = _option("planted", "word2vec, glove: the planted corpus (analogies hold by construction) or docs "
                                     "(the standard library's English)", choices=("planted", "docs"),
                          tasks=VECTOR_TASKS)
    # model
    model: str = _option("recurrent", "sentiment: a recurrent classifier or multinomial Naive Bayes on bags of "
                                      "words and bigrams", choices=("recurrent", "naive-bayes"), tasks=("sentiment",))
    cbow: bool = _option(False, "word2vec: CBOW (predict a word from its context's mean) instead of skip-gram",
                         tasks=("word2vec",))
    window: int = _option(5, "word2vec, glove: the largest distance to a context word", tasks=VECTOR_TASKS)
    negatives: int = _option(5, "word2vec: noise words per positive word", tasks=("word2vec",))
    subsample: float = _option(1e-3, "word2vec: subsampling threshold of frequent words (0: keep every token)",
                               tasks=("word2vec",))
    min_count: int = _option(1, "word2vec, glove: drop words seen fewer times", tasks=VECTOR_TASKS)
    step_tokens: int = _option(100_000, "word2vec: corpus tokens per step (the vectors are updated per word pair, "
                                        "a step is a chunk of the corpus)", tasks=("word2vec",))
    order: int = _option(5, "ngram: n, the length of the longest n-gram", tasks=("ngram",))
    smoothing: str = _option("kneser-ney", "ngram: interpolated Kneser-Ney, add-k (k = 1) or maximum likelihood",
                             choices=("ml", "add-k", "kneser-ney"), tasks=("ngram",))
    cell: str = _option("lstm", "recurrent layer: RNN, LSTM or GRU (seq2seq: of the encoder and the decoder)",
                        choices=("rnn", "lstm", "gru"), tasks=RECURRENT_TASKS)
    nonlinearity: str = _option("tanh", "activation of --cell rnn", choices=("tanh", "relu"), tasks=RECURRENT_TASKS)
    layers: int = _option(1, "stacked recurrent layers", tasks=RECURRENT_TASKS)
    hidden_size: int = _option(256, "hidden units per layer and direction (seq2seq: of the encoder)", tasks=RECURRENT_TASKS)
    decoder_hidden_size: int | None = _option(None, "seq2seq: hidden units of the decoder (default: the encoder's "
                                                    "output size, --hidden-size times its directions, which "
                                                    "--attention dot needs)", tasks=SEQ2SEQ_TASKS)
    attention: str = _option("general", "seq2seq: attention of the decoder (bahdanau: additive; dot, general, concat: "
                                        "Luong's, with input feeding)",
                             choices=("bahdanau", "dot", "general", "concat"), tasks=SEQ2SEQ_TASKS)
    embedding_size: int = _option(64, "size of the token embeddings (tasks with token inputs; word2vec, glove: "
                                      "of the word vectors)",
                                  tasks=("charlm", "copy", "sentiment", "postag", *SEQ2SEQ_TASKS, *VECTOR_TASKS, *IMAGE_TASKS))
    no_attention: bool = _option(False, "caption: show and tell, the image as one vector that starts the decoder "
                                        "(no attention over the grid)", tasks=("caption",))
    question_only: bool = _option(False, "vqa: the question-only baseline (the model never sees the image)",
                                  tasks=("vqa",))
    attention_penalty: float = _option(0.0, "caption: weight of the doubly stochastic attention penalty "
                                            "sum_i (1 - sum_t alpha_ti)^2 (beside the cross entropy per word, "
                                            "not per caption as in Xu et al.). With captions shorter than the grid "
                                            "(5-21 words, 36 cells) it asks every step to spread its attention: "
                                            "measured at 1000 steps, weights 0.1, 0.01, 0 gave held-out scene "
                                            "accuracy 0.06, 0.33, 0.53 (seed 1: 0.03, -, 0.36) and attention in "
                                            "the named object's box 0.13, 0.18, 0.47", tasks=("caption",))
    phrasings: int = _option(1, "caption: train on the first N phrasings of each scene (1: only the canonical "
                                "left-to-right one; 4: all). Measured at 400 steps: 1 gave held-out validation "
                                "scene accuracy 0.54, all 0.01 (greedy decoding mixes the phrasings)",
                             tasks=("caption",))
    word_dropout: float = _option(0.0, "caption: probability that the decoder reads its previous word as <pad> in "
                                       "training, meant to make it read the next word from the image rather than "
                                       "from colour-shape bigrams. Measured at 1000 steps it did not: 0.3 gave "
                                       "held-out scene accuracy 0.04 (0.06 without) with the penalty of 0.1, and "
                                       "0.27 and 0.32 for seeds 0 and 1 (0.53 and 0.36 without) with none",
                                  tasks=("caption",))
    image_size: int = _option(48, "caption, vqa: side of the square RGB images (at least 32)", tasks=IMAGE_TASKS)
    bidirectional: bool = _option(False, "read sequences both ways (not for charlm)", tasks=RECURRENT_TASKS)
    dropout: float = _option(0.0, "dropout on embeddings, recurrent outputs and between layers", tasks=RECURRENT_TASKS)
    composed: bool = _option(False, "run the recurrent layers as cells composed of primitive ops (readable path, slower)", tasks=RECURRENT_TASKS)
    dtype: str = _option("float32", "floating-point type of parameters and activations", choices=("float32", "float64"), tasks=(*RECURRENT_TASKS, *VECTOR_TASKS))
    # data
    batch_size: int = _option(32, "sequences per batch (word2vec: examples per SGD step, 1 as the C tool)", tasks=(*RECURRENT_TASKS, "word2vec"))
    seq_len: int = _option(100, "charlm: characters per batch row; adding and copy: the task's T",
                           tasks=("charlm", "adding", "copy"))
    bptt: int | None = _option(None, "charlm: truncated-BPTT window, detach the carried state every K steps "
                                     "(default: --seq-len)", metavar="K", tasks=("charlm",))
    train_size: int = _option(5000, "sentiment, postag, caption, vqa: examples in the fixed training set; "
                                    "word2vec, glove: sentences of the planted corpus",
                              tasks=("sentiment", "postag", *VECTOR_TASKS, *IMAGE_TASKS))
    eval_size: int = _option(1000, "examples in the validation set (charlm: characters of validation text, 0 = all)")
    test_size: int | None = _option(None, "seq2seq, caption, vqa: examples in the test set (default: --eval-size)",
                                    tasks=(*SEQ2SEQ_TASKS, *IMAGE_TASKS))
    # optimisation
    optimizer: str = _option("adam", "optimizer", choices=("sgd", "adam", "adamw", "adagrad", "rmsprop"), tasks=RECURRENT_TASKS)
    lr: float = _option(2e-3, "learning rate", tasks=(*RECURRENT_TASKS, *VECTOR_TASKS))
    momentum: float = _option(0.0, "momentum (sgd, rmsprop)", tasks=RECURRENT_TASKS)
    weight_decay: float = _option(0.0, "weight decay", tasks=RECURRENT_TASKS)
    schedule: str = _option("constant", "learning-rate schedule after warm-up",
                            choices=("constant", "cosine", "step", "exponential"), tasks=RECURRENT_TASKS)
    warmup_steps: int = _option(0, "steps of linear learning-rate warm-up", tasks=RECURRENT_TASKS)
    lr_gamma: float = _option(0.5, "decay factor of --schedule step (per --lr-step-size) and exponential (per 1000 steps)", tasks=RECURRENT_TASKS)
    lr_step_size: int = _option(1000, "steps between decays of --schedule step", tasks=RECURRENT_TASKS)
    clip: float = _option(1.0, "clip the gradient norm to this (0 = no clipping)", tasks=RECURRENT_TASKS)
    seed: int = _option(0, "seed of the model's initialisation, the data and dropout")
    teacher_forcing: float = _option(1.0, "seq2seq: probability that the decoder reads the true previous symbol "
                                          "rather than its own prediction (at the start of a decay)",
                                     tasks=DECODING_TASKS)
    teacher_forcing_decay: str = _option("constant", "seq2seq: scheduled sampling, how --teacher-forcing falls to "
                                                     "--teacher-forcing-floor (see --teacher-forcing-k)",
                                         choices=TeacherForcingSchedule.KINDS, tasks=DECODING_TASKS)
    teacher_forcing_floor: float = _option(0.0, "seq2seq: the lowest teacher-forcing probability of the decay",
                                           tasks=DECODING_TASKS)
    teacher_forcing_k: float = _option(1000.0, "seq2seq: speed of the decay: linear, steps to the floor; "
                                               "exponential, factor per step (< 1); inverse_sigmoid, k >= 1",
                                       tasks=DECODING_TASKS)
    # length and bookkeeping
    max_steps: int = _option(1000, "optimizer steps to train for")
    target_score: float | None = _option(None, "stop once the validation metric reaches this (accuracy: at least, "
                                               "loss, bpc, mse: at most)", metavar="SCORE")
    keep_best: bool = _option(False, "end with the weights of the best validation score, not the last ones (they "
                                     "are scored on the test set and saved in the last checkpoint)")
    time_budget: float | None = _option(None, "stop after this many seconds of training (checkpointed as usual)",
                                        metavar="SECONDS")
    eval_interval: int = _option(200, "steps between validations")
    checkpoint_interval: int = _option(500, "steps between checkpoints (one is always written at the end)")
    keep_checkpoints: int = _option(3, "how many of the latest checkpoints to keep")
    log_interval: int = _option(50, "steps between progress lines when the output is not a terminal")
    progress: str = _option("auto", "progress display", choices=("auto", "bar", "lines", "off"))
    threads: int = _option(1, "threads of NumPy's BLAS (OpenBLAS): the small per-step products of a recurrence "
                              "are fastest on one, much more so on a busy machine (2 also runs a bidirectional "
                              "layer's two directions at once)")
    out: str | None = _option(None, "run directory (default: runs/TASK-N, the first free N)", metavar="DIR")
    beam_width: int = _option(5, "seq2seq, caption: also score the test set with beam search of this width "
                                 "(1: greedy only)", tasks=DECODING_TASKS)
    sample_length: int = _option(300, "charlm: characters of the sample printed at the end (0 = none)",
                                 tasks=("charlm",))
    temperature: float = _option(0.8, "charlm: sampling temperature of that sample", tasks=("charlm",))

    def validate(self) -> "TrainConfig":
        """Check every value; raise :class:`ConfigError` naming the first bad one."""
        for f in dataclasses.fields(self):
            value, choices = getattr(self, f.name), f.metadata["choices"]
            if choices and value not in choices:
                raise ConfigError(f"{f.name} must be one of {', '.join(choices)}; got {value!r}")
        positive = ["layers", "hidden_size", "embedding_size", "batch_size", "seq_len", "train_size", "max_steps",
                    "eval_interval", "checkpoint_interval", "keep_checkpoints", "log_interval", "lr_step_size",
                    "corpus_chars", "threads", "beam_width",
                    "window", "negatives", "min_count", "step_tokens", "order"]
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1; got {getattr(self, name)}")
        for name in ("eval_size", "warmup_steps", "sample_length", "momentum", "weight_decay", "clip", "seed"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative; got {getattr(self, name)}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"lr must be a positive number; got {self.lr}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1); got {self.dropout}")
        if not 0.0 < self.lr_gamma <= 1.0:
            raise ConfigError(f"lr_gamma must be in (0, 1]; got {self.lr_gamma}")
        if self.temperature <= 0:
            raise ConfigError(f"temperature must be positive; got {self.temperature}")
        if self.bptt is not None and not 1 <= self.bptt <= self.seq_len:
            raise ConfigError(f"bptt must be between 1 and seq_len ({self.seq_len}); got {self.bptt}")
        for name in ("decoder_hidden_size", "test_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1; got {getattr(self, name)}")
        if self.task in SEQ2SEQ_TASKS and self.eval_size < 1:
            raise ConfigError(f"eval_size of a seq2seq task must be at least 1; got {self.eval_size}")
        try:
            TeacherForcingSchedule(self.teacher_forcing_decay, self.teacher_forcing, self.teacher_forcing_floor,
                                   self.teacher_forcing_k)
        except ValueError as error:
            raise ConfigError(f"teacher forcing: {str(error).removeprefix('TeacherForcingSchedule: ')}") from None
        if self.task in SEQ2SEQ_TASKS and (self.dtype, self.nonlinearity) != ("float32", "tanh"):
            raise ConfigError(f"the seq2seq task {self.task} runs in float32 with tanh; --dtype and --nonlinearity "
                              "are for the other tasks")
        if self.time_budget is not None and self.time_budget <= 0:
            raise ConfigError(f"time_budget must be positive; got {self.time_budget}")
        if self.task in IMAGE_TASKS and self.image_size < 32:
            raise ConfigError(f"image_size must be at least 32 (a small object needs a few pixels); got {self.image_size}")
        if not 0 <= self.word_dropout < 1:
            raise ConfigError(f"word_dropout must be in [0, 1); got {self.word_dropout}")
        if self.phrasings < 1:
            raise ConfigError(f"phrasings must be at least 1; got {self.phrasings}")
        if self.task in IMAGE_TASKS and self.eval_size < 1:
            raise ConfigError(f"eval_size of the {self.task} task must be at least 1; got {self.eval_size}")
        if self.task == "charlm" and self.bidirectional:
            raise ConfigError("charlm cannot be bidirectional: the model would see the characters it must predict")
        if self.task == "adding" and self.seq_len < 2:
            raise ConfigError(f"seq_len of the adding task must be at least 2 (two values are marked); got {self.seq_len}")
        if self.text is not None and self.task not in ("charlm", "ngram"):
            raise ConfigError(f"--text is for the charlm and ngram tasks, not {self.task}")
        if fits_in_one_pass(self.task, self.model) and self.max_steps != 1:
            raise ConfigError(f"{self.task} {'with --model naive-bayes ' if self.task == 'sentiment' else ''}counts in "
                              f"one pass: max_steps must be 1; got {self.max_steps}")
        if not 0 <= self.subsample < 1:
            raise ConfigError(f"subsample must be in [0, 1); got {self.subsample}")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
_HINTS = typing.get_type_hints(TrainConfig)

TASK_DEFAULTS: dict[str, dict] = {
    # measured: 800 steps take ~2.3 minutes of one core and reach 1.94 bits/char (unigram baseline 4.31)
    "charlm": dict(hidden_size=256, embedding_size=64, batch_size=32, seq_len=100, lr=2e-3, max_steps=800,
                   eval_interval=200, eval_size=0),
    # measured: the LSTM leaves the 0.167 plateau near step 1000 and is below MSE 0.01 by 1100-1500 steps
    "adding": dict(hidden_size=32, batch_size=50, seq_len=100, lr=1e-2, max_steps=1500, eval_interval=100,
                   eval_size=1000, checkpoint_interval=500),
    "copy": dict(hidden_size=128, embedding_size=16, batch_size=32, seq_len=20, lr=3e-3, max_steps=1500,
                 eval_interval=250, eval_size=500),
    "sentiment": dict(hidden_size=64, embedding_size=32, batch_size=32, lr=3e-3, max_steps=600, eval_interval=100,
                      eval_size=1000),
    "postag": dict(hidden_size=64, embedding_size=32, batch_size=32, lr=3e-3, max_steps=600, eval_interval=100,
                   eval_size=1000, bidirectional=True),
    # measured (batch 64, lr 3e-3): held-out exact match 99.7-100% after 750-1000 steps for seeds 0 and 1; a
    # decoder of 128 learned no faster per step and each step cost 15-45% more
    "dates": dict(cell="gru", hidden_size=64, decoder_hidden_size=64, embedding_size=32, bidirectional=True,
                  batch_size=64, lr=3e-3, schedule="cosine", max_steps=1000, eval_interval=250, eval_size=1000,
                  test_size=2000, keep_best=True, checkpoint_interval=250),
    "reverse": dict(cell="gru", hidden_size=64, embedding_size=32, bidirectional=True, batch_size=64, lr=3e-3,
                    schedule="cosine", max_steps=1000, eval_interval=250, eval_size=500, test_size=1000,
                    keep_best=True, checkpoint_interval=250),
    "sort": dict(cell="gru", hidden_size=64, embedding_size=32, bidirectional=True, batch_size=64, lr=3e-3,
                 schedule="cosine", max_steps=1000, eval_interval=250, eval_size=500, test_size=1000, keep_best=True,
                 checkpoint_interval=250),
    # measured: 1200 steps in 7 min 10 s of wall time (144 s CPU) at load 5-7, held-out scene accuracy 0.56
    # (in distribution 0.92); --no-attention 5 min 19 s. vqa: 600 steps in 4 min 55 s (107 s CPU) at load 6,
    # test accuracy 0.61 (the question-only model 0.35)
    "caption": dict(hidden_size=64, embedding_size=32, batch_size=32, lr=3e-3, schedule="cosine", max_steps=1200,
                    eval_interval=400, eval_size=200, test_size=500, train_size=4000, checkpoint_interval=400,
                    beam_width=3),
    "vqa": dict(hidden_size=64, embedding_size=32, batch_size=64, lr=3e-3, max_steps=600, eval_interval=200,
                eval_size=500, test_size=1000, train_size=5000, checkpoint_interval=200),
}

TASK_DEFAULTS.update({
    # measured: see the README's microseq section (held-out 3CosAdd accuracy on the planted corpus)
    "word2vec": dict(embedding_size=50, train_size=60_000, batch_size=1, lr=0.025, max_steps=25,
                     eval_interval=5, checkpoint_interval=10),
    "glove": dict(embedding_size=50, train_size=60_000, lr=0.05, max_steps=25,
                  eval_interval=5, checkpoint_interval=10),
    "ngram": dict(max_steps=1, eval_interval=1, eval_size=0),
})
#: The defaults of a model fitted in one pass (counting), whatever its task's: one step is the whole fit.
ONE_PASS_DEFAULTS = dict(max_steps=1, eval_interval=1, checkpoint_interval=1)


def fits_in_one_pass(task: str, model: str) -> bool:
    """Whether the task's model is counted in one pass (n-grams, Naive Bayes) rather than trained by steps."""
    return task == "ngram" or (task == "sentiment" and model == "naive-bayes")

#: Options that only some tasks read (from the fields' ``tasks``); given to another task they are refused.
TASK_OPTIONS = {name: f.metadata["tasks"] for name, f in FIELDS.items() if f.metadata["tasks"]}

#: Options renamed since earlier versions (old name: new name): a run written under an old name still loads.
RENAMED = {"model": "cell"}


def renamed(stored: dict) -> dict:
    """A stored config (``config.json``, a checkpoint's) with the options of :data:`RENAMED` under their new names
    (``model`` is renamed only when it names a cell: it is now the sentiment task's kind of model)."""
    if "cell" in stored or stored.get("model") not in ("rnn", "lstm", "gru"):
        return dict(stored)
    return {RENAMED.get(name, name): value for name, value in stored.items()}


RESUMABLE_OVERRIDES = frozenset({
    "max_steps", "time_budget", "target_score", "eval_interval", "checkpoint_interval", "keep_checkpoints", "log_interval",
    "progress", "sample_length", "temperature",
})
"""Options a resumed run may change; all others must match the run's, or the run would not be the same one."""


def unknown_key_error(key: str, source: str) -> ConfigError:
    close = difflib.get_close_matches(key, FIELDS, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"{source}: unknown key '{key}'{hint}")


def coerce(name: str, value, source: str):
    """``value`` converted to the type of option ``name``, or a ConfigError saying what was expected."""
    types = typing.get_args(_HINTS[name]) or (_HINTS[name],)
    if value is None and type(None) in types:
        return None
    kind = types[0].__name__
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
    }[kind]
    if not ok:
        raise ConfigError(f"{source}: {name} must be {'an' if kind == 'int' else 'a'} {kind}; got {value!r}")
    return float(value) if kind == "float" else value


def load_toml(path: str) -> dict:
    """The settings of a TOML file as ``{field: value}``; dashes in keys may stand for underscores."""
    import tomllib

    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"expected a TOML file, got a directory: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    settings = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in FIELDS:
            raise unknown_key_error(key, path)
        settings[name] = coerce(name, value, path)
    return settings


def make_config(task: str = "charlm", **settings) -> TrainConfig:
    """A validated config: the task's defaults, then ``settings`` (``{field: value}``) on top.

    >>> make_config("adding", hidden_size=32).seq_len
    100
    """
    if task not in TASKS:
        raise ConfigError(f"unknown task '{task}'; choose from {', '.join(TASKS)}")
    values = dict(TASK_DEFAULTS.get(task, {}))
    for name, value in settings.items():
        if name not in FIELDS:
            raise unknown_key_error(name, "make_config")
        if task not in TASK_OPTIONS.get(name, (task,)):
            tasks = TASK_OPTIONS[name]
            raise ConfigError(f"--{name.replace('_', '-')} is for the {', '.join(tasks)} task"
                              f"{'s' if len(tasks) > 1 else ''}, not {task}")
        if (task == "sentiment" and fits_in_one_pass(task, settings.get("model", values.get("model")))
                and name not in ("model", "train_size") and "ngram" not in TASK_OPTIONS.get(name, ("ngram",))):
            raise ConfigError(f"--{name.replace('_', '-')} is not read by sentiment --model naive-bayes (counted in "
                              "one pass)")
        values[name] = coerce(name, value, "make_config")
    if fits_in_one_pass(task, values.get("model", FIELDS["model"].default)):
        values = {**values, **{k: v for k, v in ONE_PASS_DEFAULTS.items() if k not in settings}}
    return TrainConfig(task=task, **values).validate()
