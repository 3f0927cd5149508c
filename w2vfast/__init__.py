"""w2vfast: word2vec (skip-gram/CBOW, negative sampling/hierarchical softmax) on CPUs with Numba."""

from .config import TrainConfig
from .errors import W2VError
from .vectors import KeyedVectors

__all__ = ["KeyedVectors", "TrainConfig", "TrainStats", "W2VError", "train"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``train`` and ``TrainStats`` load the trainer, and with it the training kernels, when first
    used: commands that do not train (phrases, queries) start 0.1-0.2 s sooner without them."""
    if name in ("train", "TrainStats"):
        from . import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
