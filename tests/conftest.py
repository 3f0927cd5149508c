"""Small synthetic corpora and vectors with known structure, and the helpers the tests share."""

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

# A Numba cache of the session's own, set before Numba is imported: every run of the suite starts from
# an empty cache, so that the first fixture below sees every kernel compiled, and the tests' processes
# load what it compiled. A NUMBA_CACHE_DIR set already is kept (a warm one spares a minute of compiling
# when a few tests are run by hand), and the check of what the first fixture compiled is then skipped.
OWN_NUMBA_CACHE = "NUMBA_CACHE_DIR" not in os.environ
if OWN_NUMBA_CACHE:
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="w2vfast-tests-numba-")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from w2vfast import KeyedVectors  # noqa: E402
from w2vfast import interrupt, trainer  # noqa: E402
from w2vfast.counting import SENTENCE_END, WordCounter  # noqa: E402
from w2vfast.safepoint import SafePoint  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CLUSTERS = 5
WORDS_PER_CLUSTER = 8


@pytest.fixture(autouse=True, scope="session")
def ctrl_c_handled():
    """Handle Ctrl-C as an interactive Python does, in the tests and the processes they start.

    A shell starts background jobs ignoring it, and w2vfast leaves an ignored signal ignored; the
    signal tests must not depend on how they were started.
    """
    before = signal.getsignal(signal.SIGINT)
    if before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


# Every model/loss pair, CBOW's sum, both thread counts, a width off whole vectors, both output
# formats, a corpus in memory or on disk, phrases, the evaluations and gensim's class on a file and on
# Python sentences, in two processes that start together with the session's empty cache, one of them
# training with the loss (a second signature of two kernels, as long to compile as the first). Each
# prints the compiled functions' signatures (tests/test_compiled.py checks them) and the kernels that
# call others compiled apart but were loaded from the cache, not compiled: such a kernel asks its
# callees for their signatures only when it is compiled, so theirs would go unrecorded.
TRAIN_EVERY_WAY = """
import json, sys, tempfile
from numba.core.dispatcher import Dispatcher
import w2vfast
from w2vfast import corpus, counting, evaluate, kernels, phrases, vocab, word2vec_format

def calls_compiled_apart(dispatcher, through=()):
    for name in dispatcher.py_func.__code__.co_names:
        callee = dispatcher.py_func.__globals__.get(name)
        if isinstance(callee, Dispatcher) and callee not in through:
            if callee.targetoptions.get("inline") != "always":
                return True
            if calls_compiled_apart(callee, through + (dispatcher,)):
                return True
    return False

with_loss = sys.argv[1] == "loss"
folder = tempfile.mkdtemp()
path = folder + "/corpus.txt"
with open(path, "w") as out:
    out.write("the cat sat on the mat and the dog sat on the log\\n" * 200)
with open(folder + "/questions.txt", "w") as out:
    out.write(": s\\nthe cat the dog\\n")
runs = [dict(model="sg"), dict(model="sg", hs=True, negative=0), dict(model="cbow"),
        dict(model="cbow", hs=True, negative=0), dict(model="cbow", cbow_mean=False, hs=True, negative=3)]
for n, options in enumerate(runs):
    if (n >= 3) != with_loss:
        continue
    for threads, dim in ((1, 16), (2, 13)):
        vectors = w2vfast.train(path, min_count=1, epochs=1, threads=threads, dim=dim,
                                disk_corpus=folder if n % 2 else None, report_loss=with_loss, **options)
        vectors.save(folder + "/v.bin", binary=True)
        vectors.save(folder + "/v.txt", binary=False)
        w2vfast.KeyedVectors.load(folder + "/v.bin")
        w2vfast.KeyedVectors.load(folder + "/v.txt").evaluate_word_analogies(folder + "/questions.txt")
for threads, scoring in ((1, "default"), (2, "npmi")) if not with_loss else ():
    config = phrases.PhraseConfig(min_count=2, threshold=0.1 if scoring == "npmi" else 1.0, scoring=scoring,
                                  passes=2, threads=threads)
    disk = folder if threads == 2 else None
    phrases.phrase_corpus([path], folder + "/p.txt", config, save_phrases=folder + "/t.txt", disk_dir=disk)
    phrases.phrase_corpus([path], folder + "/p.txt", apply=folder + "/t.txt")
    w2vfast.train(path, min_count=1, epochs=1, threads=threads, phrases=folder + "/t.txt", disk_corpus=disk)
if not with_loss:
    w2vfast.Word2Vec(corpus_file=path, min_count=1, epochs=1, workers=2, vector_size=13)  # gensim's class too
    w2vfast.Word2Vec([line.split() for line in open(path)], min_count=1, epochs=1, workers=1, vector_size=16, sg=1)
signatures = {}
for module in (corpus, counting, evaluate, kernels, phrases, vocab, word2vec_format):
    for name, value in vars(module).items():
        if isinstance(value, Dispatcher):
            signatures[module.__name__ + "." + name] = [str(s) for s in value.signatures]
callers = [name for name, value in vars(kernels).items() if isinstance(value, Dispatcher)
           and value.targetoptions.get("inline") != "always" and calls_compiled_apart(value)]
assert "train_blocks" in callers, callers
loaded = [name for name in callers if sum(getattr(kernels, name).stats.cache_hits.values())]
json.dump(dict(signatures=signatures, callers_loaded=loaded), sys.stdout)
"""


@pytest.fixture(autouse=True, scope="session")
def every_way_started():
    """Start training every way, in two processes at once, as the session starts: they fill the
    session's Numba cache, which tests that start processes of their own, several at once in some,
    would otherwise each compile the same kernels in, a minute of the suite. A module's fixtures are
    made before its first test waits for them (``compiled_every_way``): the benchmark harness's quick
    run, whose own cache starts empty on purpose, runs meanwhile."""
    runs = [subprocess.Popen([sys.executable, "-c", TRAIN_EVERY_WAY, part], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for part in ("plain", "loss")]
    yield {"runs": runs}
    for run in runs:
        if run.poll() is None:  # the session ended before a test waited for it
            run.kill()
            run.communicate()
    if OWN_NUMBA_CACHE:
        shutil.rmtree(os.environ["NUMBA_CACHE_DIR"], ignore_errors=True)


@pytest.fixture(autouse=True)
def compiled_every_way(every_way_started):
    """What ``TRAIN_EVERY_WAY`` printed, the two processes' signatures together, or their error; each
    test starts once they are done."""
    state, runs = every_way_started, every_way_started["runs"]
    if "result" not in state:
        outputs = [run.communicate() for run in runs]
        if any(run.returncode for run in runs):
            state["result"] = "\n".join(err for run, (_, err) in zip(runs, outputs) if run.returncode)
        else:
            found = [json.loads(out) for out, _ in outputs]
            signatures = {}
            for part in found:
                for name, listed in part["signatures"].items():
                    signatures[name] = sorted(set(signatures.get(name, [])) | set(listed))
            state["result"] = dict(signatures=signatures,
                                   callers_loaded=[name for part in found for name in part["callers_loaded"]])
    return state["result"]


@pytest.fixture(autouse=True)
def no_earlier_stop():
    """Each test stops as a run of its own process would: a signal a test sends within a quarter of a
    second of the last test's stop is not that stop's echo (``interrupt.is_echo``)."""
    interrupt._last_stop[:] = [0, 0.0]


def cluster_of(word: str) -> int:
    return int(word.split("_")[0][1:])


def planted_sentences(n_sentences=1500, length=12, shuffled=False, seed=0):
    """Sentences whose words all come from one cluster; ``shuffled`` draws them from every cluster."""
    rng = np.random.default_rng(seed)
    words = [[f"c{c}_w{i}" for i in range(WORDS_PER_CLUSTER)] for c in range(CLUSTERS)]
    everything = [w for cluster in words for w in cluster]
    sentences = []
    for _ in range(n_sentences):
        pool = everything if shuffled else words[rng.integers(CLUSTERS)]
        sentences.append([pool[i] for i in rng.integers(len(pool), size=length)])
    return sentences


def write_corpus(path, sentences):
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    return str(path)


@pytest.fixture
def planted_file(tmp_path):
    return write_corpus(tmp_path / "planted.txt", planted_sentences())


def neighbours_in_own_cluster(vectors, topn=3):
    """Share of each word's ``topn`` nearest neighbours that belong to its own cluster."""
    hits = total = 0
    for word in vectors.index_to_key:
        for other, _ in vectors.most_similar(word, topn=topn):
            hits += cluster_of(other) == cluster_of(word)
            total += 1
    return hits / total


def feed_in_pieces(data: bytes, piece: int, split: bool = False) -> WordCounter:
    """``split``: two scanners share every piece, however small (as they share big blocks)."""
    counter = WordCounter(threads=2, split_bytes=1) if split else WordCounter()
    for start in range(0, len(data), piece):
        counter.feed(data[start:start + piece], False)
    counter.feed(b"", True)
    return counter


def tokens_of(counter):
    words = counter.words(range(counter.n_words))
    return [words[i] if i != SENTENCE_END else None for i in counter.ids]


FAST = dict(dim=16, window=3, epochs=3, sample=0, min_count=1, threads=2, seed=3)


# Axes: male, female, royal, young, fruit. Answers about these words follow from this geometry by hand.
ROYAL_WORDS = ["man", "woman", "king", "queen", "boy", "girl", "prince", "princess", "apple"]
ROYAL_VECTORS = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [1, 0, 1, 0, 0], [0, 1, 1, 0, 0],
                          [1, 0, 0, 1, 0], [0, 1, 0, 1, 0], [1, 0, 1, 1, 0], [0, 1, 1, 1, 0],
                          [0, 0, 0, 0, 3]], dtype=np.float32)


@pytest.fixture
def royals():
    return KeyedVectors(ROYAL_WORDS, ROYAL_VECTORS)


def signal_at_call(monkeypatch, call, signum=signal.SIGINT):
    """Send this process ``signum`` once the run's ``call``-th kernel call has returned: a stop that
    comes at a known point of the run, however fast or slow the machine."""
    count = itertools.count(1)

    class SignalAtCall(SafePoint):
        def __call__(self, position):
            if next(count) == call:
                os.kill(os.getpid(), signum)
            return super().__call__(position)

    monkeypatch.setattr(trainer, "SafePoint", SignalAtCall)
