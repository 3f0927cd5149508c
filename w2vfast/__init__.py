"""w2vfast: word2vec (skip-gram/CBOW, negative sampling/hierarchical softmax) on CPUs with Numba."""

import importlib

from .config import TrainConfig
from .errors import W2VError

__all__ = ["CallbackAny2Vec", "KeyedVectors", "TrainConfig", "TrainStats", "W2VError", "Word2Vec", "train"]
__version__ = "0.1.0"
_LOADED_ON_USE = {"train": ".trainer", "TrainStats": ".trainer", "KeyedVectors": ".vectors", "Word2Vec": ".model",
                  "CallbackAny2Vec": ".model"}


def __getattr__(name: str):
    """``train``, ``TrainStats`` and gensim's ``Word2Vec`` load the trainer, and with it the training
    kernels, when first used: commands that do not train (phrases, queries) start 0.1-0.2 s sooner
    without them. ``KeyedVectors`` too, and with it Numba: importing the package stays light, so the
    console script can be ready for Ctrl-C before the heavy imports (``__main__.py``)."""
    if name in _LOADED_ON_USE:
        return getattr(importlib.import_module(_LOADED_ON_USE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
