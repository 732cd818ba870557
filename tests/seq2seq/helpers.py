"""Tiny float64 models and random padded batches shared by the seq2seq tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import microseq as ms
from microseq.seq2seq.model import Seq2Seq, Seq2SeqConfig
from microseq.data import Batch
from microseq.seq2seq.tasks import EOS, PAD

SOURCE_VOCAB, TARGET_VOCAB = 7, 6  # 4 specials + 3 (source) or 2 (target) ordinary symbols
ATTENTIONS = ("bahdanau", "dot", "general", "concat")
CELLS = ("rnn", "gru", "lstm")


def tiny_model(
    attention: str = "general",
    cell: str = "gru",
    seed: int = 0,
    bidirectional: bool = True,
    input_feeding: bool = True,
    decoder_layers: int = 1,
    layers: int = 1,
) -> Seq2Seq:
    """A float64 model small enough for finite differences (decoder hidden 4 = encoder output, so "dot" fits)."""
    ms.manual_seed(seed)
    config = Seq2SeqConfig(
        source_vocab_size=SOURCE_VOCAB,
        target_vocab_size=TARGET_VOCAB,
        embedding_size=3,
        hidden_size=2 if bidirectional else 4,
        decoder_hidden_size=4,
        layers=layers,
        decoder_layers=decoder_layers,
        bidirectional=bidirectional,
        cell=cell,
        attention=attention,
        attention_size=3,
        input_feeding=input_feeding,
    )
    model = Seq2Seq.from_config(config).double()
    with ms.no_grad():  # a larger scale than the default init, so that outputs differ visibly between inputs
        for parameter in model.parameters():
            parameter.data *= 2.0
    return model


@st.composite
def batches(draw, max_batch: int = 3, max_source: int = 4, max_target: int = 4) -> Batch:
    """A padded batch: ragged sources of real symbols, targets ending in EOS, garbage-free padding (PAD)."""
    batch = draw(st.integers(1, max_batch))
    src_lengths = np.array(draw(st.lists(st.integers(1, max_source), min_size=batch, max_size=batch)), dtype=np.int64)
    tgt_lengths = draw(st.lists(st.integers(0, max_target - 1), min_size=batch, max_size=batch))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    src = np.full((batch, src_lengths.max()), PAD, dtype=np.int64)
    tgt = np.full((batch, max(tgt_lengths) + 1), PAD, dtype=np.int64)
    for b in range(batch):
        src[b, : src_lengths[b]] = rng.integers(3, SOURCE_VOCAB, size=src_lengths[b])
        tgt[b, : tgt_lengths[b]] = rng.integers(3, TARGET_VOCAB, size=tgt_lengths[b])
        tgt[b, tgt_lengths[b]] = EOS
    tgt_in = np.concatenate([np.full((batch, 1), 1, dtype=np.int64), tgt[:, :-1]], axis=1)
    tgt_in[tgt_in == EOS] = PAD  # the EOS is never an input
    return Batch(inputs=src, targets=tgt, lengths=src_lengths, decoder_inputs=tgt_in)
