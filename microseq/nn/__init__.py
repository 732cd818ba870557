"""Layers and models: ``Module`` and the layers a PyTorch user reaches for."""

from . import functional
from .layers import Dropout, Embedding, Linear
from .module import Module, ModuleList, Parameter, Sequential
from .bidirectional import Bidirectional
from .cells import GRUCell, LSTMCell, RNNCell
from .recurrent import GRU, LSTM, RNN
from .unroll import Recurrent
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss, masked_cross_entropy
