"""w2vfast: word2vec (skip-gram/CBOW, negative sampling/hierarchical softmax) on CPUs with Numba."""

import importlib
import os
import sys

from .config import TrainConfig
from .errors import W2VError

__all__ = ["CallbackAny2Vec", "KeyedVectors", "TrainConfig", "TrainStats", "W2VError", "Word2Vec", "train"]
__version__ = "0.1.0"
_LOADED_ON_USE = {"train": ".trainer", "TrainStats": ".trainer", "KeyedVectors": ".vectors", "Word2Vec": ".model",
                  "CallbackAny2Vec": ".model"}


def __getattr__(name: str):
    """``train``, ``TrainStats`` and gensim's ``Word2Vec`` load the trainer, and with it the training
    kernels, when first used: commands that do not train (phrases, queries) start 0.1-0.2 s sooner
    without them. ``KeyedVectors`` too (it imports Numba's modules only to parse a file or evaluate):
    importing the package stays light, so the console script can be ready for Ctrl-C before the
    heavy imports (``__main__.py``)."""
    if name in _LOADED_ON_USE:
        return getattr(importlib.import_module(_LOADED_ON_USE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _writable(directory: str) -> bool:
    """Whether a file can be made in ``directory`` (made if missing), as Numba checks its cache's place."""
    try:
        os.makedirs(directory, exist_ok=True)
        probe = os.path.join(directory, f".w2vfast-probe-{os.getpid()}")
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        os.unlink(probe)
        return True
    except OSError:
        return False


def _own_private_directory(path: str) -> bool:
    """Whether ``path`` is (or is now made) a directory of this user's that no one else may write."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    info = os.lstat(path)
    return os.path.isdir(path) and not os.path.islink(path) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _numba_cache_fallback() -> None:
    """Numba keeps the compiled kernels beside their sources, else in the user's cache directory, and
    will not import a module of cached functions where it can write neither (a package installed by
    another user, and a home that cannot be written: a container, a service account). A directory of
    the user's own under the temporary directory is then the cache; never one another user could
    write, since a cache is code that is loaded. Numba's own ``NUMBA_CACHE_DIR`` is left as it is."""
    if os.environ.get("NUMBA_CACHE_DIR") or not hasattr(os, "getuid"):
        return
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.platform == "darwin":
        user_cache = os.path.expanduser("~/Library/Caches")
    else:  # as Numba's appdirs finds it, an empty XDG_CACHE_HOME included
        user_cache = os.getenv("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    if _writable(os.path.join(here, "__pycache__")) or _writable(os.path.join(user_cache, "numba")):
        return
    import tempfile

    cache = os.path.join(tempfile.gettempdir(), f"w2vfast-numba-cache-{os.getuid()}")
    if not _own_private_directory(cache):
        cache = tempfile.mkdtemp(prefix="w2vfast-numba-cache-")  # one run's: it compiles again next time
    os.environ["NUMBA_CACHE_DIR"] = cache
    if "numba" in sys.modules:  # imported before w2vfast: it read its settings already
        sys.modules["numba"].config.CACHE_DIR = cache


_numba_cache_fallback()
