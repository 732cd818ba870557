"""Encoder-decoder with attention: Bahdanau and Luong attention, teacher forcing and scheduled sampling,
greedy and beam search, generated tasks (reverse, sort, dates) and a trainer.

>>> import numpy as np
>>> from microseq.seq2seq import Seq2Seq, Seq2SeqConfig, beam_search, make_batch, make_task, sequence_loss
>>> task = make_task("dates", seed=0, n_valid=10, n_test=10)
>>> model = Seq2Seq.from_config(Seq2SeqConfig(len(task.source_vocab), len(task.target_vocab), attention="general"))
>>> batch = make_batch(task.sample(4, np.random.default_rng(0)), task.source_vocab, task.target_vocab)
>>> logits, weights = model(batch.src, batch.src_lengths, batch.tgt_in)     # teacher forcing
>>> loss = sequence_loss(logits, batch.tgt_out)
>>> decoded = beam_search(model, batch.src, batch.src_lengths, beam_width=3, max_len=11)
>>> decoded.attention.shape[0]
4

Modules: :mod:`.attention` (the attention functions and modules), :mod:`.model` (Encoder, Decoder,
Seq2Seq, the masked loss), :mod:`.decoding` (greedy, beam search), :mod:`.tasks` (data), :mod:`.train`
(``train_task``), :mod:`.plot` (attention heatmaps; imports matplotlib only when called).
"""

from .attention import AdditiveAttention, Attention, LuongAttention, make_attention, masked_softmax, scaled_dot_product_attention
from .decoding import Decoded, beam_search, greedy_decode, translate
from .model import Decoder, DecoderState, Encoder, Memory, Seq2Seq, Seq2SeqConfig, mask_after_eos, sequence_loss
from .plot import plot_attention
from .tasks import Batch, Vocab, make_batch, make_task
from .train import TeacherForcingSchedule, TrainResult, evaluate, load_trained, train_task

__all__ = [
    "AdditiveAttention", "Attention", "Batch", "Decoded", "Decoder", "DecoderState", "Encoder", "LuongAttention",
    "Memory", "Seq2Seq", "Seq2SeqConfig", "TeacherForcingSchedule", "TrainResult", "Vocab", "beam_search",
    "evaluate", "greedy_decode", "load_trained", "make_attention", "make_batch", "make_task", "mask_after_eos",
    "masked_softmax", "plot_attention", "scaled_dot_product_attention", "sequence_loss", "train_task", "translate",
]
