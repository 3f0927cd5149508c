"""w2vfast: word2vec (skip-gram/CBOW, negative sampling/hierarchical softmax) on CPUs with Numba."""

from .config import TrainConfig
from .errors import W2VError

__all__ = ["CallbackAny2Vec", "KeyedVectors", "TrainConfig", "TrainStats", "W2VError", "Word2Vec", "train"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``train``, ``TrainStats`` and gensim's ``Word2Vec`` load the trainer, and with it the training
    kernels, when first used: commands that do not train (phrases, queries) start 0.1-0.2 s sooner
    without them. ``KeyedVectors`` too, and with it Numba: importing the package stays light, so the
    console script can be ready for Ctrl-C before the heavy imports (``__main__.py``)."""
    if name in ("train", "TrainStats"):
        from . import trainer

        return getattr(trainer, name)
    if name == "KeyedVectors":
        from .vectors import KeyedVectors

        return KeyedVectors
    if name in ("Word2Vec", "CallbackAny2Vec"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
