"""Encoder-decoder with attention: Bahdanau and Luong attention, teacher forcing and scheduled sampling,
greedy and beam search, generated tasks (reverse, sort, dates) and the attention heatmap.

>>> import numpy as np
>>> from microseq.seq2seq import DateTask, Seq2Seq, Seq2SeqConfig, beam_search, make_batch, sequence_loss
>>> task = DateTask(seed=0, n_valid=10, n_test=10)
>>> model = Seq2Seq.from_config(Seq2SeqConfig(len(task.source_vocab), len(task.target_vocab), attention="general"))
>>> batch = make_batch(task.sample(4, np.random.default_rng(0)), task.source_vocab, task.target_vocab)
>>> logits, weights = model(batch.inputs, batch.lengths, batch.decoder_inputs)     # teacher forcing
>>> loss = sequence_loss(logits, batch.targets)
>>> decoded = beam_search(model, batch.inputs, batch.lengths, beam_width=3, max_len=11)
>>> decoded.attention.shape[0]
4

Modules: :mod:`.attention` (the attention functions and modules), :mod:`.model` (Encoder, Decoder,
Seq2Seq, the masked loss), :mod:`.decoding` (greedy, beam search), :mod:`.tasks` (the generated pairs),
:mod:`.plot` (attention heatmaps; imports matplotlib only when called). Training runs through
:mod:`microseq.training` like every other task (``microseq train dates``; the task is
:class:`microseq.training.seq2seq_task.Seq2SeqTask`).
"""

from .attention import AdditiveAttention, Attention, LuongAttention, make_attention, masked_softmax, scaled_dot_product_attention
from .decoding import Decoded, beam_search, greedy_decode, search, translate
from .model import Decoder, DecoderState, Encoder, Memory, Seq2Seq, Seq2SeqConfig, mask_after_eos, sequence_loss
from .plot import plot_attention
from .tasks import DateTask, PairTask, SymbolTask, make_batch, seq2seq_vocab

__all__ = [
    "AdditiveAttention", "Attention", "DateTask", "Decoded", "Decoder", "DecoderState", "Encoder", "LuongAttention",
    "Memory", "PairTask", "Seq2Seq", "Seq2SeqConfig", "SymbolTask", "beam_search", "greedy_decode", "make_attention",
    "make_batch", "mask_after_eos", "masked_softmax", "plot_attention", "scaled_dot_product_attention", "search",
    "seq2seq_vocab", "sequence_loss", "translate",
]
