"""The sequence-to-sequence tasks (reverse, sort, dates) as training tasks: a :class:`Task` like the others.

The pairs come from :mod:`microseq.seq2seq.tasks` (a fixed validation and test set drawn from the seed,
and an endless stream of training pairs that never meets them); the model is a
:class:`~microseq.seq2seq.Seq2Seq` (a recurrent encoder, an attention decoder). One training step draws
``batch_size`` fresh pairs and runs the decoder over the target, feeding it the true previous symbol with
the teacher-forcing probability of the step (:mod:`~microseq.training.teacher_forcing`); the loss is the
cross entropy per target symbol up to and including EOS.

Metrics: exact match (``accuracy``: the whole output right, greedy decoding) and ``symbol_accuracy``; on
the test set also ``beam_accuracy`` (beam search of ``beam_width``). A model that learned nothing gets
close to 0, so there is no baseline to print.

Randomness: training pairs draw from ``(seed, 1)``, the teacher-forcing coins from ``(seed, 2)``; both
generators and the step count are saved in a checkpoint, so a resumed run is the uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import os
import shlex

from ..autograd import no_grad
from ..seq2seq.decoding import beam_search, greedy_decode, translate
from ..seq2seq.model import Seq2SeqConfig, sequence_loss
from ..seq2seq.tasks import EOS, DateTask, PairTask, SymbolTask, make_batch
from .config import ConfigError, TrainConfig
from .memory import training_bytes
from .tasks import DecodingTask, _check_split

__all__ = ["Seq2SeqTask"]

#: Sources per decoding batch when evaluating (sorted by length, so that little is padding).
EVAL_BATCH = 500


class Seq2SeqTask(DecodingTask):
    """reverse, sort or dates: see the module docstring."""

    model_name = "Seq2Seq"
    metric = "accuracy"

    def __init__(self, config: TrainConfig, metadata: dict | None = None, training: bool = True) -> None:
        super().__init__(config, metadata, training)
        self.name = config.task
        sizes = dict(n_valid=config.eval_size, n_test=config.test_size or config.eval_size)
        try:  # held-out sets too large for the task, or dot attention with a decoder of another size
            self.pairs: PairTask = (DateTask(config.seed, **sizes) if config.task == "dates"
                                    else SymbolTask(config.task, config.seed, **sizes))
            self.model_settings = Seq2SeqConfig(
                len(self.pairs.source_vocab), len(self.pairs.target_vocab), config.embedding_size, config.hidden_size,
                config.decoder_hidden_size, config.layers, bidirectional=config.bidirectional, cell=config.cell,
                attention=config.attention, dropout=config.dropout)
        except ValueError as error:
            raise ConfigError(str(error).split(": ", 1)[-1]) from None

    # -- model ----------------------------------------------------------------------------------------
    def model_config(self) -> dict:
        return self.model_settings.to_dict()

    def describe_model(self) -> str:
        c = self.model_settings
        return (f"Seq2Seq {c.cell}: encoder x{c.layers} hidden {c.hidden_size}"
                f"{' per direction, bidirectional' if c.bidirectional else ''}, decoder hidden "
                f"{c.decoder_hidden_size}, {c.attention} attention")

    def describe(self) -> str:
        return (f"{self.name}: sequence to sequence with attention, {len(self.pairs.valid)} validation and "
                f"{len(self.pairs.test)} test pairs held out of training, e.g. {self.pairs.test[0][0]!r} -> "
                f"{self.pairs.test[0][1]!r}")

    def estimated_bytes(self) -> dict:
        """The encoder's and the decoder's memory (the decoder one-way, with its own hidden size)."""
        c, longest = self.config, self.pairs.max_target_length + 1
        decoder = dataclasses.replace(c, hidden_size=self.model_settings.decoder_hidden_size, bidirectional=False,
                                      layers=1)
        parts = [training_bytes(c, {"vocab_size": len(self.pairs.source_vocab)}, self.sequence_length()),
                 training_bytes(decoder, {"vocab_size": len(self.pairs.target_vocab)}, longest)]
        return {name: sum(part[name] for part in parts) for name in parts[0]}

    def sequence_length(self) -> int:
        return max(len(source) for source, _ in self.pairs.test)

    # -- training and evaluation ----------------------------------------------------------------------------
    def train_step(self, model) -> tuple[float, int]:
        batch = make_batch(self.pairs.sample(self.config.batch_size, self._train_rng), self.pairs.source_vocab,
                           self.pairs.target_vocab)
        ratio = self.teacher_forcing(self.steps)
        logits, _ = model(batch.inputs, batch.lengths, batch.decoder_inputs, ratio, self._coin_rng)
        loss = sequence_loss(logits, batch.targets, EOS)
        loss.backward()
        self.steps += 1
        return float(loss.item()), int((batch.targets != 0).sum())

    def split(self, split: str) -> list:
        _check_split(split)
        return self.pairs.valid if split == "valid" else self.pairs.test

    @no_grad()
    def evaluate(self, model, split: str = "valid") -> dict:
        pairs = self.split(split)
        scores = self.exact_match(model, pairs)
        if split == "test" and self.config.beam_width > 1:
            scores["beam_accuracy"] = self.exact_match(model, pairs, self.config.beam_width)["accuracy"]
        return scores

    def exact_match(self, model, pairs: list, beam_width: int = 1) -> dict:
        """``accuracy`` (whole output right) and ``symbol_accuracy`` on ``pairs``, greedy or beam search."""
        was_training = model.training
        model.eval()
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]))
        exact = symbols = total = 0
        max_len = self.pairs.max_target_length + 1
        for start in range(0, len(order), EVAL_BATCH):
            chunk = [pairs[i] for i in order[start : start + EVAL_BATCH]]
            batch = make_batch(chunk, self.pairs.source_vocab, self.pairs.target_vocab)
            if beam_width == 1:
                decoded = greedy_decode(model, batch.inputs, batch.lengths, max_len)
            else:
                decoded = beam_search(model, batch.inputs, batch.lengths, beam_width, max_len)
            for row, (_, target) in zip(decoded.tokens, chunk):
                output = self.pairs.target_vocab.decode(row)
                exact += output == target
                symbols += sum(a == b for a, b in zip(output, target))
                total += len(target)
        model.train(was_training)
        return {"accuracy": exact / max(len(pairs), 1), "symbol_accuracy": symbols / max(total, 1)}

    # -- the end of a run ---------------------------------------------------------------------------------------
    def write_results(self, model, run_dir: str) -> dict:
        """``attention.png``: the attention weights of a decoded test example (one with words, if any)."""
        from ..seq2seq.plot import plot_attention

        source, target = next(((s, t) for s, t in self.pairs.test if sum(ch.isalpha() for ch in s) >= 6
                               and len(s) >= 16), self.pairs.test[0])
        [output], decoded = translate(model, [source], self.pairs.source_vocab, self.pairs.target_vocab,
                                      max_len=self.pairs.max_target_length + 1)
        ending = ["</s>"] if decoded.finished[0] else []  # a hypothesis cut at max_len has no EOS step
        path = os.path.join(run_dir, "attention.png")
        plot_attention(decoded.attention[0], source, list(output) + ending, path,
                       title=f"{source!r} -> {output!r} (target {target!r})")
        return {"attention": path}

    def next_commands(self, run_dir: str) -> list:
        example = shlex.quote(self.pairs.test[0][0])
        return [(f"microseq sample {run_dir} --prime {example}", "decode an input of your own")]
