"""Small synthetic corpora and vectors with known structure, and the helpers the tests share."""

import itertools
import os
import signal

import numpy as np
import pytest

from w2vfast import KeyedVectors
from w2vfast import interrupt, trainer
from w2vfast.counting import SENTENCE_END, WordCounter
from w2vfast.safepoint import SafePoint

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
