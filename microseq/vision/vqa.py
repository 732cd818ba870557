"""Visual question answering with attention, and the question-only baseline.

Shapes: B batch, N question length, E embedding size, H question encoding size, L grid positions, D feature
size, A number of answers.

- :class:`VQAModel` with an image encoder: the question's final LSTM state ``q`` (B, H) asks an additive
  attention over the image grid ``a_i`` (B, L, D)::

      alpha = softmax_i(v^T tanh(W q + U a_i)),   z = sum_i alpha_i a_i,
      logits = W_2 relu(W_1 [q; z] + b_1) + b_2   (B, A)

- without an image encoder (``image_encoder=None``) the same classifier reads ``q`` only: the question-only
  baseline, which shows how much of an answer the question alone gives away.
"""

from __future__ import annotations

import numpy as np

from .. import ops
from ..nn import Embedding, Linear, Module
from ..seq2seq.attention import AdditiveAttention
from ..tensor import Tensor, as_tensor
from ..training.models import final_state, recurrent_layer
from .captioner import grid_annotations
from .encoder import conv_encoder, grid_side
from .render import check_images

__all__ = ["VQAModel", "make_vqa"]

PAD = 0  # the question vocabulary's padding id (microseq.vision.dataset.question_vocab)


class VQAModel(Module):
    """Question LSTM, attention over the image grid guided by the question, classifier over the answers.

    Parameters
    ----------
    image_encoder : Module or None
        Images (B, C, S, S) -> feature map (B, D, h, w); None for the question-only baseline.
    question_vocab_size, answer_count : int
    feature_size : int
        D (ignored without an image encoder).
    image_size, channels : int
        The images this model accepts.
    embedding_size, hidden_size : int
    attention_size : int, optional
    fused : bool
        Run the question LSTM with the fused kernels (default) or the composed cells.
    """

    def __init__(self, image_encoder: Module | None, question_vocab_size: int, answer_count: int,
                 feature_size: int = 0, image_size: int = 48, channels: int = 3, embedding_size: int = 16,
                 hidden_size: int = 32, attention_size: int | None = None, fused: bool = True,
                 dtype=np.float32) -> None:
        super().__init__()
        self.image_encoder = image_encoder
        self.image_size, self.channels = image_size, channels
        self.embedding = Embedding(question_vocab_size, embedding_size, padding_idx=PAD, dtype=dtype)
        self.question_rnn = recurrent_layer("lstm", embedding_size, hidden_size, dtype=dtype, fused=fused)
        read = hidden_size
        if image_encoder is not None:
            self.attention = AdditiveAttention(hidden_size, feature_size, attention_size, dtype=dtype)
            read += feature_size
        self.hidden = Linear(read, hidden_size, dtype=dtype)
        self.classifier = Linear(hidden_size, answer_count, dtype=dtype)

    def encode_question(self, questions, lengths) -> Tensor:
        """The question LSTM's state after each question's last word: (B, H)."""
        questions = np.asarray(questions)
        if questions.ndim != 2:
            raise ValueError(f"VQAModel: questions must be (B, N) word ids, got shape {questions.shape}")
        _, h_n = self.question_rnn(self.embedding(questions), lengths=np.asarray(lengths))
        return final_state(h_n, False)

    def forward(self, images, questions, lengths) -> tuple[Tensor, Tensor | None]:
        """Answer logits (B, A) and the attention weights over the grid (B, L) (None for the baseline)."""
        q = self.encode_question(questions, lengths)
        weights = None
        features = q
        if self.image_encoder is not None:
            images = as_tensor(images)  # a Tensor stays on the tape (gradients reach the pixels)
            check_images(images.data, self.image_size, self.channels, "VQAModel")
            if images.shape[0] != q.shape[0]:
                raise ValueError(f"VQAModel: {images.shape[0]} images but {q.shape[0]} questions")
            annotations = grid_annotations(self.image_encoder(images))
            context, weights = self.attention(q, annotations)
            features = ops.concatenate([q, context], axis=-1)
        return self.classifier(ops.relu(self.hidden(features))), weights


def make_vqa(question_vocab_size: int, answer_count: int, question_only: bool = False, image_size: int = 48,
             channels=(16, 32, 32), embedding_size: int = 16, hidden_size: int = 32, attention_size: int | None = None,
             batch_norm: bool = True, fused: bool = True, dtype=np.float32) -> VQAModel:
    """VQA with attention on :func:`conv_encoder` ``(channels)``, or the question-only baseline."""
    grid_side(image_size, len(channels))
    encoder = None if question_only else conv_encoder(channels, batch_norm=batch_norm, dtype=dtype)
    return VQAModel(encoder, question_vocab_size, answer_count, channels[-1], image_size, 3, embedding_size,
                    hidden_size, attention_size, fused, dtype)
