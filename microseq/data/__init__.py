"""Data for training: vocabularies, padded batches, streaming language-model batches, corpora and tasks.

Nothing here needs the network: every generator takes a NumPy ``Generator`` (or a seed), so a seed fixes
a data set, and the iterators expose ``state_dict`` / ``load_state_dict`` so a resumed run sees the same
batches as an uninterrupted one.
"""

from .batching import Batch, SequenceBatcher, collate, pad_sequences
from .corpus import DataError, read_text, split_text, stdlib_corpus, stdlib_files
from .streaming import LMBatch, LMStream
from .synthetic import (
    ADDING_BASELINE_MSE, COPY_BLANK, COPY_CLASSES, COPY_DELIMITER, COPY_INPUT_SYMBOLS, adding_problem,
    copy_baseline_loss, copy_task,
)
from .toy_language import POS_TAGS, SENTIMENT_LABELS, pos_examples, sentiment_examples
from .vocab import CharVocab, Vocab, WordVocab, vocab_from_dict
