"""The captioning model: an image encoder (a CNN) and a caption decoder, trained with teacher forcing and
decoded with the shared greedy / beam search.

Shapes: B batch, C image channels, S image side, D feature channels, h x w the feature map, L = h * w grid
positions, T caption steps, V vocabulary size.

>>> import numpy as np
>>> from microseq.seq2seq import search
>>> from microseq.vision import caption_batch, caption_data, caption_vocab, make_captioner
>>> data, vocab = caption_data(2, image_size=32), caption_vocab()
>>> batch = caption_batch(data, [0, 1], vocab, np.random.default_rng(0))
>>> model = make_captioner(len(vocab), image_size=32, channels=(4, 8), hidden_size=16)
>>> logits, weights = model(batch.inputs, batch.decoder_inputs)     # teacher forcing
>>> weights.shape[2]                                                # an 8x8 grid
64
>>> decoded = search(model, (batch.inputs,), beam_width=3, max_len=20)
"""

from __future__ import annotations

import numpy as np

from .. import ops
from ..nn import Module
from ..seq2seq.model import DecoderState, Memory, sequence_loss, unroll
from ..tensor import Tensor, as_tensor
from .decoders import AttendTellDecoder, ShowTellDecoder, attention_penalty
from .encoder import conv_encoder, grid_side
from .render import check_images

__all__ = ["Captioner", "grid_annotations", "caption_loss", "make_captioner"]

BOS, EOS = 1, 2  # ids of <bos> and <eos> in microseq.vision.dataset.caption_vocab


def grid_annotations(feature_map) -> Tensor:
    """A feature map (B, D, h, w) as L = h * w annotation vectors (B, L, D), row by row."""
    b, d, h, w = feature_map.shape
    return ops.swapaxes(ops.reshape(feature_map, (b, d, h * w)), 1, 2)


class Captioner(Module):
    """``encoder`` (images (B, C, S, S) -> feature map (B, D, h, w)) then ``decoder`` over its grid.

    Parameters
    ----------
    encoder : Module
    decoder : ShowTellDecoder or AttendTellDecoder
    image_size : int
        S; images of another size (or another channel count) are refused with a one-line error.
    channels : int
    bos, eos : int
    """

    def __init__(self, encoder: Module, decoder: Module, image_size: int, channels: int = 3, bos: int = BOS,
                 eos: int = EOS) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.image_size, self.channels, self.bos, self.eos = image_size, channels, bos, eos

    def encode(self, images) -> tuple[Memory, DecoderState]:
        """The grid the decoder attends to, and its initial state."""
        images = as_tensor(images)  # a Tensor stays on the tape (gradients reach the pixels)
        check_images(images.data, self.image_size, self.channels, type(self).__name__)
        annotations = grid_annotations(self.encoder(images))
        return self.decoder.memory(annotations), self.decoder.init_state(annotations)

    def forward(self, images, tgt_in, teacher_forcing_ratio: float = 1.0,
                generator: np.random.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Logits (B, T, V) and attention weights (B, T, L) of every step (teacher forcing by default).

        ``tgt_in`` (B, T) is ``<bos>`` then the caption; see :func:`~microseq.seq2seq.model.unroll` for
        ``teacher_forcing_ratio`` (scheduled sampling below 1).
        """
        tgt_in = np.asarray(tgt_in)
        if tgt_in.ndim != 2 or tgt_in.shape[1] < 1:
            raise ValueError(f"Captioner: tgt_in must be (B, T) integer ids with T >= 1, got shape {tgt_in.shape}")
        memory, state = self.encode(images)
        return unroll(self.decoder, memory, state, tgt_in, teacher_forcing_ratio, generator)


def caption_loss(logits, weights, targets, eos: int = EOS, penalty: float = 1.0) -> Tensor:
    """Mean cross entropy per caption word plus ``penalty`` times the doubly stochastic attention penalty
    (nothing is added for a decoder without attention, whose weights are (B, T, 0))."""
    loss = sequence_loss(logits, targets, eos)
    if penalty and weights.shape[-1] > 0:
        loss = loss + penalty * attention_penalty(weights, targets, eos)
    return loss


def make_captioner(vocab_size: int, attention: bool = True, image_size: int = 48, channels=(16, 32, 32),
                   embedding_size: int = 32, hidden_size: int = 64, attention_size: int | None = None,
                   dropout: float = 0.0, batch_norm: bool = True, dtype=np.float32,
                   word_dropout: float = 0.0) -> Captioner:
    """Show, attend and tell (``attention=True``) or show and tell, on :func:`conv_encoder` ``(channels)``;
    ``word_dropout``: see :mod:`microseq.vision.decoders`."""
    grid_side(image_size, len(channels))
    encoder = conv_encoder(channels, batch_norm=batch_norm, dtype=dtype)
    if attention:
        decoder = AttendTellDecoder(vocab_size, embedding_size, hidden_size, channels[-1], attention_size, dropout,
                                    dtype=dtype, word_dropout=word_dropout)
    else:
        decoder = ShowTellDecoder(vocab_size, embedding_size, hidden_size, channels[-1], dropout, dtype=dtype,
                                  word_dropout=word_dropout)
    return Captioner(encoder, decoder, image_size)
