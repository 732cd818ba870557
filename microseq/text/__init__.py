"""From counts to vectors: n-gram language models, Naive Bayes, word2vec and GloVe (issue 16).

Modules, one job each: ``ngram`` (n-gram LMs), ``features`` and ``naive_bayes`` (bag-of-n-gram classifiers),
``vocabulary`` (a word corpus as ids), ``word2vec`` and ``glove`` (training; the fused updates are in
``microseq.kernels.word2vec`` and ``.glove``), ``similarity`` (neighbours, analogies, Spearman),
``corpora`` (planted and Python-docs corpora), ``vector_io`` (word2vec text/binary files), ``benchmark``.
"""

from .corpora import PlantedCorpus, planted_corpus, python_docs_corpus, tokenize
from .features import NGramFeatures
from .glove import GloVe, cooccurrence, glove_loss
from .naive_bayes import NaiveBayes
from .ngram import NGramLM
from .similarity import WordVectors, spearman
from .vector_io import load_vectors, save_vectors
from .vocabulary import Corpus
from .word2vec import Word2Vec, sgns_loss

__all__ = [
    "Corpus", "GloVe", "NGramFeatures", "NGramLM", "NaiveBayes", "PlantedCorpus", "Word2Vec", "WordVectors",
    "cooccurrence", "glove_loss", "load_vectors", "planted_corpus", "python_docs_corpus", "save_vectors",
    "sgns_loss", "spearman", "tokenize",
]
