"""A captioning world with known answers, and the tools to evaluate captions and answers about it.

- :mod:`.scenes`: scenes of one to three objects (shape, colour, size, place), drawn from a seed;
- :mod:`.render`: scenes to NCHW float32 images in [0, 1], in NumPy;
- :mod:`.captions`: several phrasings per scene, the caption words, and a parser back to the scene;
- :mod:`.questions`: answerable questions per scene, by type (colour, shape, size, count, relation);
- :mod:`.dataset`: seeded splits (train, valid, and a test of colour-shape pairs never seen in training),
  and the question-only prior of VQA;
- :mod:`.evaluation`: corpus BLEU-4, exact-scene accuracy and the accuracy on objects of given pairs;
- :mod:`.encoder`: the small CNN whose last feature map is the grid of annotation vectors;
- :mod:`.decoders`, :mod:`.captioner`: show and tell, show attend and tell (decoded by the seq2seq search);
- :mod:`.plot`: the image with each word's attention map (captions) or the question's (VQA), as PNGs;
- :mod:`.vqa`: VQA with question-guided attention, and the question-only baseline.
"""

from .captions import CAPTION_WORDS, CaptionError, captions, check_captions, parse_caption, scene_matches
from .dataset import (
    HELD_OUT_PAIRS, SPLITS, CaptionData, VQAData, answer_vocab, caption_batch, caption_data, caption_vocab, encode_caption,
    question_prior, question_vocab, vqa_data, vqa_questions,
)
from .evaluation import (
    corpus_bleu, exact_scene_accuracy, exact_scene_accuracy_by_count, modified_precision, object_accuracy,
)
from .questions import ANSWERS, QUESTION_TYPES, Question, questions
from .render import check_images, render, render_batch
from .scenes import BACKGROUND, COLOURS, PALETTE, SHAPES, SIZES, Scene, SceneObject, sample_scene
from .captioner import Captioner, caption_loss, make_captioner
from .decoders import AttendTellDecoder, ShowTellDecoder, attention_penalty
from .encoder import conv_encoder
from .vqa import VQAModel, make_vqa
