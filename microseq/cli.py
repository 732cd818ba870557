"""The ``microseq`` command: train, sample, eval, plot, bench.

``microseq train`` with no arguments trains a character-level LSTM on Python's own standard library sources
for a couple of minutes and prints validation loss, bits per character and perplexity next to a unigram
baseline, then a generated sample. Every other task and option is in ``microseq train --help``.

Errors a user can cause (a missing file, an unknown option, a damaged checkpoint...) print one line on stderr
and exit with a non-zero status, without touching any existing file.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import typing

__all__ = ["main"]

USAGE_ERROR, RUN_ERROR, INTERRUPTED = 2, 1, 130


class CLIError(Exception):
    """A one-line error for the user, with the exit status to return."""

    def __init__(self, message: str, status: int = RUN_ERROR, command: str | None = None) -> None:
        super().__init__(message)
        self.status, self.command = status, command


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error raises CLIError (one line) instead of printing usage and exiting, and
    options must be spelled out (``--hidden`` is an error, not ``--hidden-size``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message: str):
        raise CLIError(f"{message} (see {self.prog} --help)", USAGE_ERROR, command=self.prog)


# -- the train command's options come from TrainConfig's fields ------------------------------------------------
def _add_train_options(parser: argparse.ArgumentParser) -> None:
    from .training.config import TASK_DEFAULTS, TASKS, TrainConfig

    hints = typing.get_type_hints(TrainConfig)
    groups = {
        "model": parser.add_argument_group("model"),
        "data": parser.add_argument_group("data"),
        "optimisation": parser.add_argument_group("optimisation"),
        "vectors": parser.add_argument_group("word vectors (word2vec, glove) and n-grams (ngram)"),
        "run": parser.add_argument_group("length and bookkeeping"),
    }
    group = groups["data"]
    for f in dataclasses.fields(TrainConfig):
        if f.name == "task":
            continue
        if f.name in ("model", "cell"):
            group = groups["model"]
        elif f.name == "cbow":
            group = groups["vectors"]
        elif f.name == "batch_size":
            group = groups["data"]
        elif f.name == "optimizer":
            group = groups["optimisation"]
        elif f.name == "max_steps":
            group = groups["run"]
        flag = "--" + f.name.replace("_", "-")
        kind = next(t for t in (typing.get_args(hints[f.name]) or (hints[f.name],)) if t is not type(None))
        help_text = f.metadata["help"] + ("" if f.default is None else f" (default: {f.default})")
        if kind is bool and f.name.startswith("no_"):  # --no-attention: BooleanOptionalAction would read it as False
            group.add_argument(flag, dest=f.name, action="store_true", default=argparse.SUPPRESS,
                               help=f.metadata["help"])
        elif kind is bool:
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                               help=f.metadata["help"])
        else:
            group.add_argument(flag, dest=f.name, type=kind, choices=f.metadata["choices"], metavar=f.metadata["metavar"],
                               default=argparse.SUPPRESS, help=help_text)
    parser.epilog = "tasks:\n" + "\n".join(f"  {name:<10} {text}" for name, text in TASKS.items()) + (
        "\n\ntask defaults (override the defaults above):\n"
        + "\n".join(f"  {name:<10} " + ", ".join(f"{k}={v}" for k, v in d.items()) for name, d in TASK_DEFAULTS.items())
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="microseq", description="Train, sample from, evaluate and plot recurrent sequence models.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser("train", help="train a model (default: a character LSTM on the Python stdlib)",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                description="Train a model on TASK (default: charlm). Options override --config, "
                                            "which overrides the task's defaults.")
    train.add_argument("task", nargs="?", metavar="TASK", help="charlm (default), adding, copy, sentiment, postag, "
                                                                "reverse, sort, dates, word2vec, glove or ngram")
    train.add_argument("--config", metavar="FILE.toml", help="read options from a TOML file (keys as the options below)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its latest checkpoint")
    _add_train_options(train)

    sample = commands.add_parser("sample", help="generate text from a charlm checkpoint (or decode --prime with a "
                                                "seq2seq one; caption, vqa: draw held-out images with the caption "
                                                "or answer and the attention maps)")
    sample.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file, or a run directory (its latest)")
    # defaults are filled in by _sample_options, so that an option given to the wrong kind of model is refused
    sample.add_argument("--length", type=int, help="charlm: characters to generate (default: 500)")
    sample.add_argument("--temperature", type=float, help="charlm: sampling temperature (default: 0.8)")
    sample.add_argument("--top-k", type=int, help="charlm: sample among the K most likely characters (default: 0, all)")
    sample.add_argument("--greedy", action="store_true", default=None,
                        help="charlm: always take the most likely character")
    sample.add_argument("--prime", default="", help="text the model reads before generating (seq2seq: the input)")
    sample.add_argument("--seed", type=int, help="charlm: seed of the sampler (default: random)")
    sample.add_argument("--beam-width", type=int,
                        help="seq2seq, caption checkpoints: beam search of this width (default: 1, greedy)")
    sample.add_argument("--images", type=int, help="caption, vqa: how many held-out test images (default: 4)")
    sample.add_argument("--output", metavar="DIR", help="caption, vqa: where the PNGs go (default: the run's "
                                                        "samples/ directory)")

    evaluate = commands.add_parser("eval", help="evaluate a checkpoint on its task's validation or test set")
    evaluate.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file, or a run directory (its latest)")
    evaluate.add_argument("--split", choices=("valid", "test"), default="test",
                          help="which held-out set (default: test; charlm has one, its held-out validation text)")
    evaluate.add_argument("--text", metavar="FILE", help="charlm: evaluate on the held-out last 5%% of this UTF-8 text instead")

    plot = commands.add_parser("plot", help="draw a run's loss and metric curves to a PNG (word2vec, glove: "
                                            "also a 2-D PCA of some words)")
    plot.add_argument("run_dir", metavar="RUN_DIR")
    plot.add_argument("--output", metavar="PNG", help="where to write (default: RUN_DIR/curves.png)")
    plot.add_argument("--words", nargs="+", metavar="WORD", help="word2vec, glove: the words of the PCA plot "
                                                                 "(default: some of each planted group)")
    plot.add_argument("--words-output", metavar="PNG", help="word2vec, glove: where the PCA plot goes (default: "
                                                            "RUN_DIR/words.png)")

    neighbors = commands.add_parser("neighbors", help="the nearest words of WORD in a word2vec or glove run")
    neighbors.add_argument("run", metavar="RUN", help="a run directory or checkpoint of word2vec or glove")
    neighbors.add_argument("word", metavar="WORD")
    neighbors.add_argument("-k", type=int, default=10, help="how many neighbours (default: 10)")

    analogy = commands.add_parser("analogy", help="A is to B as C is to ? in a word2vec or glove run (3CosAdd)")
    analogy.add_argument("run", metavar="RUN", help="a run directory or checkpoint of word2vec or glove")
    analogy.add_argument("words", nargs=3, metavar=("A", "B", "C"))
    analogy.add_argument("-k", type=int, default=5, help="how many answers (default: 5)")

    commands.add_parser("bench", help="benchmark the recurrent layers (microseq bench --help)", add_help=False)
    return parser


# -- commands ---------------------------------------------------------------------------------------------------
def _train(args: argparse.Namespace, explicit: dict) -> int:
    from .training import config as cfg
    from .training.trainer import Trainer, resume

    if args.resume:
        if args.config:
            raise CLIError("--config cannot be combined with --resume (the run keeps its own config)", USAGE_ERROR)
        out = explicit.pop("out", None)
        if out is not None and not (os.path.isdir(out) and os.path.isdir(args.resume)
                                    and os.path.samefile(out, args.resume)):
            raise CLIError(f"--out cannot be combined with --resume: a resumed run goes on in its own directory "
                           f"({args.resume}); leave out --out, or --resume to start a new run in {out}", USAGE_ERROR)
        if args.task:
            explicit["task"] = args.task  # must match the run's task
        result = resume(args.resume, **explicit)
        return INTERRUPTED if result.stopped == "interrupted" else 0
    settings = cfg.load_toml(args.config) if args.config else {}
    settings.update(explicit)
    task = args.task or settings.pop("task", "charlm")
    settings.pop("task", None)
    result = Trainer(cfg.make_config(task, **settings)).run()
    return INTERRUPTED if result.stopped == "interrupted" else 0


def _resolve_checkpoint(path: str) -> str:
    """A checkpoint file: ``path`` itself, or the latest checkpoint of the run directory ``path``."""
    from .training.checkpoints import RunCheckpoints

    if os.path.isdir(path):
        latest = RunCheckpoints(path).latest()
        if latest is not None:
            return latest[1]
        raise CLIError(f"{path} holds no checkpoint")
    if not os.path.exists(path):
        raise CLIError(f"checkpoint not found: {path}")
    return path


def _load_model(path: str):
    """(checkpoint, config, model) of a checkpoint written by a training run, the model in eval mode."""
    from .checkpoint import load_checkpoint
    from .training.checkpoints import read_training_checkpoint
    from .training.config import CUSTOM_TASK, TrainConfig
    from .training.models import build_model

    checkpoint = read_training_checkpoint(path)
    if checkpoint.config.get("task") == CUSTOM_TASK:
        raise CLIError(f"{path} holds a model of your own ({checkpoint.model_name}, trained with microseq.training.fit); "
                       "load it in Python: microseq.checkpoint.load_checkpoint(path, model)")
    try:
        config = TrainConfig(**checkpoint.config).validate()
        model = build_model(checkpoint.model_name, checkpoint.model_config)
    except (TypeError, ValueError) as error:
        raise CLIError(f"{path} is not a checkpoint this microseq can rebuild ({error})") from None
    load_checkpoint(path, model, restore_rng=False)
    model.eval()
    return checkpoint, config, model


#: ``sample`` options: (kind of checkpoint they are for, default, check, what the check requires)
SAMPLE_OPTIONS = {
    "length": ("charlm", 500, lambda v: v >= 0, "must not be negative"),
    "temperature": ("charlm", 0.8, lambda v: v > 0 and math.isfinite(v), "must be a positive number"),
    "top_k": ("charlm", 0, lambda v: v >= 0, "must not be negative"),
    "greedy": ("charlm", False, lambda v: True, ""),
    "seed": ("charlm", None, lambda v: v >= 0, "must not be negative"),
    "beam_width": ("seq2seq caption", 1, lambda v: v >= 1, "must be at least 1"),
    "images": ("caption vqa", 4, lambda v: v >= 1, "must be at least 1"),
    "output": ("caption vqa", None, lambda v: True, ""),
}


def _sample_options(args: argparse.Namespace, kind: str | None, path: str = "") -> None:
    """Check each ``sample`` option given (``kind`` None) or that it fits a ``kind`` checkpoint, then fill in
    the defaults of those not given."""
    for name, (for_kind, default, ok, requirement) in SAMPLE_OPTIONS.items():
        value, flag = getattr(args, name), "--" + name.replace("_", "-")
        if value is None:
            if kind is not None:
                setattr(args, name, default)
        elif kind is None and not ok(value):
            raise CLIError(f"{flag} {requirement}; got {value}", USAGE_ERROR)
        elif kind is not None and kind not in for_kind.split():
            raise CLIError(f"{flag} is for {' and '.join(for_kind.split())} checkpoints; {path} holds a {kind} model",
                           USAGE_ERROR)


def _sample(args: argparse.Namespace) -> int:
    import numpy as np

    from .data import vocab_from_dict
    from .training.config import SEQ2SEQ_TASKS
    from .training.sampling import sample_text

    _sample_options(args, None)
    path = _resolve_checkpoint(args.checkpoint)
    checkpoint, config, model = _load_model(path)
    if config.task in SEQ2SEQ_TASKS:
        _sample_options(args, "seq2seq", path)
        return _translate(path, args, checkpoint, config, model)
    if config.task in ("caption", "vqa"):
        _sample_options(args, config.task, path)
        return _draw_images(path, args, checkpoint, config, model)
    if config.task != "charlm":
        raise CLIError(f"{path} holds a model of the {config.task} task; sampling needs a charlm, seq2seq "
                       "(reverse, sort, dates), caption or vqa checkpoint")
    _sample_options(args, "charlm", path)
    vocab = vocab_from_dict(checkpoint.task_metadata["vocab"])
    text = sample_text(model, vocab, args.length, prime=args.prime, temperature=args.temperature, top_k=args.top_k,
                       greedy=args.greedy, rng=np.random.default_rng(args.seed))
    sys.stdout.write(args.prime + text + ("" if text.endswith("\n") else "\n"))
    return 0


def _translate(path: str, args: argparse.Namespace, checkpoint, config, model) -> int:
    """``microseq sample`` of a seq2seq run: decode ``--prime`` (greedy, or beam search of ``--beam-width``)."""
    from .seq2seq import translate
    from .training.tasks import make_task

    if not args.prime:
        raise CLIError(f"{path} is a seq2seq model: give the input to transform with --prime TEXT", USAGE_ERROR)
    pairs = make_task(config, checkpoint.task_metadata, training=False).pairs
    [output], _ = translate(model, [args.prime], pairs.source_vocab, pairs.target_vocab,
                            max_len=pairs.max_target_length + 1, beam_width=args.beam_width)
    print(output)
    return 0


def _draw_images(path: str, args: argparse.Namespace, checkpoint, config, model) -> int:
    """``microseq sample`` of a caption or vqa run: draw ``--images`` held-out test images with the caption (and
    each word's attention map) or the answer (and the question's map), print what the model said."""
    from .training.tasks import make_task

    if args.prime:
        raise CLIError(f"--prime is for charlm and seq2seq checkpoints; {path} holds a {config.task} model",
                       USAGE_ERROR)
    task = make_task(config, checkpoint.task_metadata, training=False)
    checkpoints_dir = os.path.dirname(os.path.abspath(path))
    run_dir = os.path.dirname(checkpoints_dir) if os.path.basename(checkpoints_dir) == "checkpoints" else checkpoints_dir
    output = args.output or os.path.join(run_dir, "samples")
    try:
        if config.task == "caption":
            for png, caption, right in task.sample(model, args.images, output, args.beam_width):
                print(f"{png}: {caption}  [{'right' if right else 'wrong'}]")
        else:
            for png, question, answer, truth in task.sample(model, args.images, output):
                print(f"{png}: {question} -> {answer}  [{'right' if answer == truth else f'wrong, truth {truth}'}]")
    except OSError as error:
        raise CLIError(f"cannot write the samples to {output}: {error.strerror or error}") from None
    return 0


def _eval(args: argparse.Namespace) -> int:
    from .training.tasks import make_task
    from .training.trainer import format_score

    path = _resolve_checkpoint(args.checkpoint)
    checkpoint, config, model = _load_model(path)
    if args.text:
        if config.task != "charlm":
            raise CLIError(f"--text is for charlm checkpoints; {path} holds a {config.task} model", USAGE_ERROR)
        config.text = args.text
    task = make_task(config, checkpoint.task_metadata, training=False)
    scores = task.evaluate(model, args.split)
    baselines = task.baselines(args.split) if config.task == "vqa" else task.baselines()  # vqa: its question prior
    print(f"{path} (step {checkpoint.step}): {task.describe()}")
    split = args.split if task.has_test_set else "valid"  # charlm: one held-out text, its validation text
    if split != args.split:
        print(f"{config.task} has no test set: these are the scores on its held-out validation text")
    width = max(10, *map(len, scores))
    for key, value in scores.items():
        base = f"   (baseline {format_score(key, baselines[key])})" if key in baselines else ""
        print(f"{split} {key:>{width}}: {format_score(key, value)}{base}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from .training.checkpoints import RunCheckpoints
    from .training.config import VECTOR_TASKS
    from .training.plot import PlotError, plot_run, plot_words
    from .training.trainer import read_run_config

    vector_run = (os.path.isdir(args.run_dir) and RunCheckpoints(args.run_dir).latest() is not None
                  and read_run_config(args.run_dir).task in VECTOR_TASKS)
    if not vector_run and (args.words or args.words_output):
        raise CLIError(f"--words and --words-output are for word2vec and glove runs; {args.run_dir} is not one",
                       USAGE_ERROR)
    try:
        print(plot_run(args.run_dir, args.output))
        if vector_run:
            vectors, config = _word_vectors(args.run_dir)
            from .training.vector_tasks import DOCS_PLOT_WORDS, PLOT_WORDS

            words = args.words or [w for w in (PLOT_WORDS if config.corpus == "planted" else DOCS_PLOT_WORDS)
                                   if w in vectors]
            rows = _word_rows(vectors, words)
            output = args.words_output or os.path.join(args.run_dir, "words.png")
            print(plot_words(words, vectors.vectors[rows], output, f"{config.task} vectors of {args.run_dir}, PCA"))
    except (FileNotFoundError, ValueError, PlotError) as error:
        raise CLIError(str(error)) from None
    return 0


def _word_vectors(run: str):
    """(WordVectors, config) of the latest checkpoint of a word2vec or glove run (or that checkpoint)."""
    from .text import WordVectors
    from .training.config import VECTOR_TASKS
    from .training.vector_tasks import VECTOR_TASK_CLASSES

    path = _resolve_checkpoint(run)
    checkpoint, config, model = _load_model(path)
    if config.task not in VECTOR_TASKS:
        raise CLIError(f"{run} is a {config.task} run; this command needs a word2vec or glove run")
    return WordVectors(checkpoint.task_metadata["words"], VECTOR_TASK_CLASSES[config.task].table_vectors(model)), config


def _word_rows(vectors, words):
    """The rows of ``words``, or a one-line error naming the first unknown one."""
    try:
        return vectors.ids(words)
    except KeyError as error:
        raise CLIError(error.args[0]) from None


def _positive_k(k: int) -> None:
    if k < 1:
        raise CLIError(f"-k must be at least 1; got {k}", USAGE_ERROR)


def _neighbors(args: argparse.Namespace) -> int:
    _positive_k(args.k)
    vectors, _ = _word_vectors(args.run)
    _word_rows(vectors, [args.word])
    for word, cosine in vectors.neighbors(args.word, args.k):
        print(f"{cosine:7.4f}  {word}")
    return 0


def _analogy(args: argparse.Namespace) -> int:
    _positive_k(args.k)
    vectors, _ = _word_vectors(args.run)
    _word_rows(vectors, args.words)
    a, b, c = args.words
    print(f"{a} is to {b} as {c} is to:")
    for word, score in vectors.analogy(a, b, c, args.k):
        print(f"{score:7.4f}  {word}")
    return 0


def _bench(argv: list[str]) -> int:
    from . import bench

    try:
        return int(bench.main(argv) or 0)
    except SystemExit as exit_:  # bench's own argparse: --help, or a usage error it already printed
        return exit_.code if isinstance(exit_.code, int) else USAGE_ERROR


def _user_errors() -> tuple:
    """Exception types whose message is meant for the user (they become one-line errors)."""
    from .data import DataError
    from .checkpoint import CheckpointError
    from .training.config import ConfigError
    from .training.metrics import MetricsError
    from .training.trainer import TrainingError

    return DataError, ConfigError, CheckpointError, TrainingError, MetricsError


def main(argv: list[str] | None = None) -> int:
    """Run the ``microseq`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        return _run(lambda: _bench(argv[1:]), "microseq bench")
    parser = _build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # reported by the subcommand that was given them, not by the top-level parser
            prog = f"microseq {args.command}" if args.command else "microseq"
            raise CLIError(f"unrecognized arguments: {' '.join(unknown)} (see {prog} --help)", USAGE_ERROR, prog)
    except CLIError as error:
        return _report(error, "microseq")
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    name = f"microseq {args.command}"
    if args.command == "train":
        explicit = {k: v for k, v in vars(args).items() if k not in ("command", "task", "config", "resume")}
        return _run(lambda: _train(args, explicit), name)
    return _run(lambda: {"sample": _sample, "eval": _eval, "plot": _plot, "neighbors": _neighbors,
                           "analogy": _analogy}[args.command](args), name)


def _run(command, name: str) -> int:
    try:
        return command()
    except CLIError as error:
        return _report(error, name)
    except _user_errors() as error:
        return _report(CLIError(str(error)), name)
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return INTERRUPTED


def _report(error: CLIError, name: str) -> int:
    message = " ".join(str(error).split())  # one line, always
    print(f"{error.command or name}: error: {message}", file=sys.stderr)
    return error.status
