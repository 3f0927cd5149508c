"""What Numba compiles: one signature per cached kernel, and every compiled call chain inside one file."""

import importlib
import pkgutil

import pytest
from numba.core.dispatcher import Dispatcher
from numba.core.extending import _Intrinsic

import w2vfast
from conftest import OWN_NUMBA_CACHE


def test_training_every_way_compiles_each_cached_kernel_once(compiled_every_way):
    """A second signature means a second compile (seconds each, paid by every cold CLI run): a literal
    ``1`` where ``np.int64(1)`` was meant, or an array that is sometimes not contiguous, gives one. The
    session's first fixture trained every way, with an empty cache (conftest's ``TRAIN_EVERY_WAY``)."""
    assert isinstance(compiled_every_way, dict), compiled_every_way  # else the script's error
    if not OWN_NUMBA_CACHE:
        pytest.skip("NUMBA_CACHE_DIR was set: the kernels may have come from its cache, not been compiled")
    assert compiled_every_way["callers_loaded"] == []  # one loaded from a cache would not type its callees
    signatures = compiled_every_way["signatures"]
    assert {"w2vfast.kernels.train_blocks", "w2vfast.kernels.train_outputs", "w2vfast.counting._scan",
            "w2vfast.corpus._line_pieces", "w2vfast.evaluate._best_columns",
            "w2vfast.word2vec_format._format_text_rows", "w2vfast.phrases._join",
            "w2vfast.phrases._rewrite", "w2vfast.phrases._count_and_score"} <= \
        {name for name, found in signatures.items() if found}
    with_or_without_loss = {"w2vfast.kernels.train_blocks", "w2vfast.kernels.train_outputs"}
    for name in with_or_without_loss:
        assert sorted(found.endswith(", none)") for found in signatures[name]) == [False, True], signatures[name]
    assert {name: found for name, found in signatures.items()
            if len(found) > 1 and name not in with_or_without_loss} == {}


def compiled_functions():
    for info in pkgutil.iter_modules(w2vfast.__path__):
        module = importlib.import_module(f"w2vfast.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, Dispatcher) and value.py_func.__module__ == module.__name__:
                yield module, name, value


def test_compiled_functions_only_call_compiled_code_of_their_own_file():
    """Numba's cache checks only the file a cached function lives in: a compiled call into another
    file would keep running that file's old code after it changed."""
    seen = 0
    for module, name, dispatcher in compiled_functions():
        seen += 1
        code = dispatcher.py_func.__code__
        for referenced in code.co_names:
            value = dispatcher.py_func.__globals__.get(referenced)
            if isinstance(value, Dispatcher):
                assert value.py_func.__module__ == module.__name__, (name, referenced)
            elif isinstance(value, _Intrinsic):
                assert value._defn.__module__ == module.__name__, (name, referenced)
            else:
                assert not (type(value).__name__ == "module" and value.__name__.startswith("w2vfast")), \
                    (name, referenced)
    assert seen > 20
