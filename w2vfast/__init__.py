"""w2vfast: word2vec (skip-gram/CBOW, negative sampling/hierarchical softmax) on CPUs with Numba."""

from .config import TrainConfig
from .errors import W2VError
from .trainer import TrainStats, train
from .vectors import KeyedVectors

__all__ = ["KeyedVectors", "TrainConfig", "TrainStats", "W2VError", "train"]
__version__ = "0.1.0"
