"""What Numba compiles: one signature per cached kernel, and every compiled call chain inside one file."""

import importlib
import json
import os
import pkgutil
import subprocess
import sys

from numba.core.dispatcher import Dispatcher
from numba.core.extending import _Intrinsic

import w2vfast

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Every model/loss pair, CBOW's sum, both thread counts, a width off whole vectors, both output
# formats, a corpus in memory or on disk, and gensim's class on a file and on Python sentences: none
# of them may give a kernel a second signature, but for the loss, which two kernels are compiled with
# or without.
TRAIN_EVERY_WAY = """
import json, sys, tempfile
from numba.core.caching import NullCache
from numba.core.dispatcher import Dispatcher
import w2vfast
from w2vfast import corpus, counting, evaluate, kernels, phrases, vocab, word2vec_format

# A kernel that calls others compiled apart (train_blocks calls train_outputs, draw_negatives) asks
# them for its signatures only when it is compiled, not when loaded from the cache: compile such
# callers afresh here. Their callees may load from the cache, which still records each signature.
def calls_compiled_apart(dispatcher, through=()):
    for name in dispatcher.py_func.__code__.co_names:
        callee = dispatcher.py_func.__globals__.get(name)
        if isinstance(callee, Dispatcher) and callee not in through:
            if callee.targetoptions.get("inline") != "always":
                return True
            if calls_compiled_apart(callee, through + (dispatcher,)):
                return True
    return False

callers = [value for value in vars(kernels).values() if isinstance(value, Dispatcher)
           and value.targetoptions.get("inline") != "always" and calls_compiled_apart(value)]
assert kernels.train_blocks in callers, callers
for caller in callers:
    caller._cache = NullCache()

folder = tempfile.mkdtemp()
path = folder + "/corpus.txt"
with open(path, "w") as out:
    out.write("the cat sat on the mat and the dog sat on the log\\n" * 200)
runs = [dict(model="sg"), dict(model="sg", hs=True, negative=0), dict(model="cbow"),
        dict(model="cbow", hs=True, negative=0), dict(model="cbow", cbow_mean=False, hs=True, negative=3)]
for n, options in enumerate(runs):
    for threads, dim in ((1, 16), (2, 13)):
        vectors = w2vfast.train(path, min_count=1, epochs=1, threads=threads, dim=dim,
                                disk_corpus=folder if n % 2 else None, report_loss=n >= 3, **options)
        vectors.save(folder + "/v.bin", binary=True)
        vectors.save(folder + "/v.txt", binary=False)
        w2vfast.KeyedVectors.load(folder + "/v.bin")
        w2vfast.KeyedVectors.load(folder + "/v.txt")
for threads, scoring in ((1, "default"), (2, "npmi")):
    config = phrases.PhraseConfig(min_count=2, threshold=0.1 if scoring == "npmi" else 1.0, scoring=scoring,
                                  passes=2, threads=threads)
    disk = folder if threads == 2 else None
    phrases.phrase_corpus([path], folder + "/p.txt", config, save_phrases=folder + "/t.txt", disk_dir=disk)
    phrases.phrase_corpus([path], folder + "/p.txt", apply=folder + "/t.txt")
    w2vfast.train(path, min_count=1, epochs=1, threads=threads, phrases=folder + "/t.txt", disk_corpus=disk)
w2vfast.Word2Vec(corpus_file=path, min_count=1, epochs=1, workers=2, vector_size=13)  # gensim's class too
w2vfast.Word2Vec([line.split() for line in open(path)], min_count=1, epochs=1, workers=1, vector_size=16, sg=1)
signatures = {}
for module in (corpus, counting, evaluate, kernels, phrases, vocab, word2vec_format):
    for name, value in vars(module).items():
        if isinstance(value, Dispatcher) and (module is kernels or type(value._cache).__name__ != "NullCache"):
            signatures[module.__name__ + "." + name] = [str(s) for s in value.signatures]
json.dump(signatures, sys.stdout)
"""


def test_training_every_way_compiles_each_cached_kernel_once():
    """A second signature means a second compile (seconds each, paid by every cold CLI run): a literal
    ``1`` where ``np.int64(1)`` was meant, or an array that is sometimes not contiguous, gives one."""
    result = subprocess.run([sys.executable, "-c", TRAIN_EVERY_WAY], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    signatures = json.loads(result.stdout)
    assert {"w2vfast.kernels.train_blocks", "w2vfast.kernels.train_outputs", "w2vfast.counting._scan",
            "w2vfast.corpus._line_pieces",
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
