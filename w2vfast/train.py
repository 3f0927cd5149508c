"""The training driver: read and encode the corpus, build the tables, run the kernels epoch by epoch.

Python does the bookkeeping between kernel calls (progress, learning-rate position, statistics);
each call trains one block of sentences per thread in parallel.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numba
import numpy as np
from numba.core import event as numba_event

from . import kernels
from .checkpoint import Checkpoint, Checkpointer, load_checkpoint, words_done
from .config import MAX_SENTENCE_WORDS, TrainConfig
from .corpus import EncodedCorpus, WordCounter, count_words, corpus_files, encode, plain_text_bytes
from .errors import W2VError
from .interrupt import stop_at_safe_point
from .memory import corpus_bytes, ensure_fits, training_bytes
from .progress import Progress
from .safepoint import SafePoint
from .vectors import KeyedVectors
from .vocab import Vocab, huffman_tree, keep_probabilities, negative_sampling_table

BLOCK_WORDS = 25_000
# Blocks per thread in one kernel call. Threads claim blocks one at a time, so a thread that falls
# behind costs at most a block at the end of a call (on two threads 5-9% of the time sat idle at the
# barrier when each call gave each thread one 100,000-word block); a call of about 400,000 words a
# thread keeps the safe points between calls (progress, checkpoints, Ctrl-C) under a second apart.
CALL_BLOCKS_PER_THREAD = 16
INIT_ROWS = 65_536  # rows of syn0 drawn at a time


@dataclass
class TrainStats:
    """What a run did and how long each part took (seconds)."""

    corpus_words: int = 0
    vocab_size: int = 0
    epoch_words: list[int] = field(default_factory=list)
    read_seconds: float = 0.0
    jit_seconds: float = 0.0  # Numba compilation during the run: 0 when its cache is warm
    train_seconds: float = 0.0

    @property
    def words_trained(self) -> int:
        return sum(self.epoch_words)

    @property
    def words_per_second(self) -> float:
        return self.words_trained / self.train_seconds if self.train_seconds > 0 else 0.0


def _sentences_to_counter(sentences: Iterable, threads: int) -> WordCounter:
    """Feed an iterable of token lists (str or bytes) through the same counter as files."""
    counter = WordCounter(threads=threads)
    buffer, size = [], 0
    for sentence in sentences:
        line = b" ".join(t.encode("utf-8", "surrogateescape") if isinstance(t, str) else bytes(t)
                         for t in sentence) + b"\n"
        buffer.append(line)
        size += len(line)
        if size >= 1 << 22:
            counter.feed(b"".join(buffer), False)
            buffer, size = [], 0
    counter.feed(b"".join(buffer), True)
    return counter


def _is_paths(corpus) -> bool:
    if isinstance(corpus, (str, os.PathLike)):
        return True
    return isinstance(corpus, (list, tuple)) and len(corpus) > 0 and \
        all(isinstance(c, (str, os.PathLike)) for c in corpus)


def _corpus_paths(corpus) -> list[str] | None:
    """The corpus as a list of paths, or ``None`` for an iterable of token lists."""
    if not _is_paths(corpus):
        return None
    return [os.fspath(corpus)] if isinstance(corpus, (str, os.PathLike)) else [os.fspath(c) for c in corpus]


def read_corpus(corpus, config: TrainConfig, vocab: Vocab | None = None, disk_dir: str | None = None,
                force: bool = False) -> tuple[Vocab, EncodedCorpus]:
    """Count, choose the vocabulary (unless given), and encode: the corpus text is read exactly once.

    ``disk_dir`` keeps the encoded corpus in a memory-mapped file there rather than in RAM; without
    it, a corpus too large for memory is refused before reading, unless ``force`` is set.
    """
    paths = _corpus_paths(corpus)
    if paths is not None:
        files = corpus_files(paths)
        if disk_dir is None:
            ensure_fits("reading the corpus", corpus_bytes(plain_text_bytes(files)),
                        "--disk-corpus DIR keeps it on disk", force)
        counter = count_words(files, disk_dir, config.threads)
    else:
        counter = _sentences_to_counter(corpus, config.threads)
    if counter.n_words == 0:
        raise W2VError("the corpus is empty: it holds no words")
    if vocab is not None:
        index = vocab.index
        remap = np.array([index.get(w, -1) for w in counter.words(range(counter.n_words))], dtype=np.int32)
    else:
        order = Vocab.select(counter.counts, config.min_count, config.max_vocab)
        vocab = Vocab(counter.words(order), counter.counts[order].astype(np.int64))
        remap = np.full(counter.n_words, -1, dtype=np.int32)
        remap[order] = np.arange(len(order), dtype=np.int32)
    if len(vocab) == 0:
        raise W2VError(f"the vocabulary is empty: no word occurs --min-count {config.min_count} times or more")
    encoded = encode(counter, remap, MAX_SENTENCE_WORDS)
    if encoded.n_words == 0:
        raise W2VError("no corpus word is in the vocabulary")
    return vocab, encoded


def _blocks(encoded: EncodedCorpus, threads: int) -> np.ndarray:
    """Sentence indices that cut the corpus into blocks of about ``BLOCK_WORDS`` words."""
    size = max(1, min(BLOCK_WORDS, -(-encoded.n_words // threads)))
    cuts = np.searchsorted(encoded.sentence_starts, np.arange(0, encoded.n_words, size), side="left")
    return np.unique(np.append(cuts, encoded.n_sentences)).astype(np.int64)


def _blocks_from(blocks: np.ndarray, sentence: int) -> np.ndarray:
    """The cuts of ``blocks`` after ``sentence``, which starts the first block: a resumed epoch."""
    return np.concatenate(([sentence], blocks[blocks > sentence])).astype(np.int64)


class Trainer:
    """Weights, tables and scratch for one run; ``run_epochs`` trains them on an encoded corpus."""

    def __init__(self, vocab: Vocab, config: TrainConfig, total_words: int) -> None:
        self.vocab = vocab
        self.config = config
        rng = np.random.default_rng(config.seed)
        v, d = len(vocab), config.dim
        syn0 = kernels.zero_rows(v, d)
        for start in range(0, v, INIT_ROWS):  # (r - 0.5) / d, a block of rows at a time: no big temporary
            block = rng.random((min(INIT_ROWS, v - start), d), dtype=np.float32)
            block -= np.float32(0.5)
            block /= np.float32(d)
            syn0[start:start + len(block), :d] = block
        syn1neg = kernels.zero_rows(v if config.negative else 1, d)
        if config.hs:
            points, codes, lengths = huffman_tree(vocab.counts)
        else:
            points, codes, lengths = (np.zeros((1, 1), np.int32), np.zeros((1, 1), np.uint8),
                                      np.zeros(1, np.int32))
        syn1 = kernels.zero_rows(max(v - 1, 1) if config.hs else 1, d)
        self.weights = kernels.Weights(syn0, syn1neg, syn1)
        self.tables = kernels.Tables(keep_probabilities(vocab.counts, config.sample),
                                     negative_sampling_table(vocab.counts), points, codes, lengths)
        self.params = kernels.make_params(config.model == "cbow", config.cbow_mean, config.hs,
                                          config.negative, config.window, config.alpha,
                                          config.min_alpha, total_words)
        max_outputs = max(config.negative + 1, points.shape[1])
        self.scratch = kernels.make_scratch(config.threads, d, config.window, config.negative,
                                            max_outputs, MAX_SENTENCE_WORDS)
        self.rng_states = np.random.SeedSequence(config.seed).generate_state(config.threads, np.uint64)

    def matrices(self) -> dict[str, np.ndarray]:
        """The weight matrices by name, without the kernels' row padding (views, not copies)."""
        return {name: matrix[:, :self.config.dim] for name, matrix in self.weights._asdict().items()}

    def warm_up(self, encoded: EncodedCorpus) -> None:
        """Compile (or load from the cache) the kernel with an empty call, outside the timed training."""
        self._call(encoded, np.zeros(1, dtype=np.int64), 0, np.zeros(1, dtype=np.int64))

    def _call(self, encoded, blocks, words_before, words_done) -> None:
        kernels.train_blocks(encoded.words, encoded.sentence_starts, blocks, np.int64(words_before),
                             self.weights, self.tables, self.params, self.rng_states, self.scratch,
                             words_done, np.zeros(1, dtype=np.int64))

    def run_epochs(self, encoded: EncodedCorpus, progress: Progress, start: tuple[int, int] = (0, 0),
                   after_call: Callable[[tuple[int, int]], None] | None = None) -> list[int]:
        """Train every epoch over the whole corpus; returns the words each epoch actually covered.

        A position is ``(epoch, sentence)``. The run begins at ``start`` (later than ``(0, 0)`` when
        it is resumed), and ``after_call`` is given the position after every kernel call: a safe point
        to save the run or stop it by raising.
        """
        threads = self.config.threads
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        blocks = _blocks(encoded, threads)
        start_epoch, start_sentence = start
        epoch_words = []
        for epoch in range(start_epoch, self.config.epochs):
            epoch_blocks = _blocks_from(blocks, start_sentence) if epoch == start_epoch else blocks
            covered = 0
            per_call = threads * CALL_BLOCKS_PER_THREAD
            for first in range(0, len(epoch_blocks) - 1, per_call):
                call_blocks = epoch_blocks[first:first + per_call + 1]
                words_done = np.zeros(len(call_blocks) - 1, dtype=np.int64)
                words_before = epoch * encoded.n_words + int(encoded.sentence_starts[call_blocks[0]])
                self._call(encoded, call_blocks, words_before, words_done)
                covered += int(words_done.sum())
                progress.update(words_before + int(words_done.sum()), self.alpha_at(words_before))
                if after_call is not None:
                    after_call((epoch, int(call_blocks[-1])))
            epoch_words.append(covered)
        progress.close()
        return epoch_words

    def diverged(self) -> bool:
        """Whether a weight is NaN or infinite (a float64 sum of finite float32s cannot overflow)."""
        return not all(math.isfinite(matrix.sum(dtype=np.float64)) for matrix in self.weights)

    def alpha_at(self, position: int) -> float:
        c = self.config
        return max(c.min_alpha, c.alpha - (c.alpha - c.min_alpha) * position / self.params.total_words)


def train(corpus=None, *, read_vocab: str | None = None, save_vocab: str | None = None,
          disk_corpus: str | None = None, quiet: bool = True, checkpoint: str | None = None,
          checkpoint_every: float | None = None, resume: str | None = None, force: bool = False,
          **options) -> KeyedVectors:
    """Train word vectors on ``corpus`` (path(s), a directory, ``-`` or an iterable of token lists).

    ``disk_corpus`` names a directory where the encoded corpus is memory-mapped instead of held in
    RAM. ``options`` are ``TrainConfig`` fields (``model``, ``dim``, ``window``, ``negative``, ``hs``, ...).
    ``checkpoint`` is a file that keeps the run: written every ``checkpoint_every`` minutes (30),
    at the end, and when Ctrl-C or SIGTERM stops the run, which then raises ``Interrupted``.
    ``resume`` goes on with the run kept in such a file, on the corpus it names unless one is given;
    options given must agree with it, but for ``threads``. ``force`` skips the memory check.
    Returns the vectors with a ``stats`` attribute (``TrainStats``).
    """
    saved = load_checkpoint(resume) if resume is not None else None
    if saved is not None:
        corpus, options, checkpoint, checkpoint_every = saved.resumed(corpus, read_vocab, options,
                                                                      checkpoint, checkpoint_every)
    if corpus is None:
        raise W2VError("no corpus given")
    keeper = None if checkpoint is None else Checkpointer(checkpoint, checkpoint_every, _corpus_paths(corpus))
    config = TrainConfig(**options)
    vocab = saved.vocab if saved is not None else None
    if read_vocab is not None:
        vocab = Vocab.read(read_vocab, config.min_count, config.max_vocab)
    stats = TrainStats()
    with numba_event.install_timer("numba:compile", lambda seconds: setattr(stats, "jit_seconds", seconds)):
        vocab, syn0 = _train(corpus, config, stats, vocab, save_vocab, disk_corpus, quiet,
                             force=force, saved=saved, keeper=keeper)
    Progress(0, quiet=quiet).say(
        f"trained {stats.words_trained:,} words in {stats.train_seconds:.2f} s "
        f"({stats.words_per_second / 1e6:.3f}M words/s, {config.threads} threads); "
        f"JIT compilation {stats.jit_seconds:.2f} s")
    vectors = KeyedVectors.from_bytes_words(vocab.words, syn0)
    vectors.stats = stats
    return vectors


def _train(corpus, config, stats, vocab, save_vocab, disk_corpus, quiet, *, force: bool,
           saved: Checkpoint | None, keeper: Checkpointer | None):
    progress = Progress(0, quiet=quiet)
    start = time.perf_counter()
    vocab, encoded = read_corpus(corpus, config, vocab, disk_corpus, force)
    if saved is not None:
        saved.check_corpus(encoded)
    stats.read_seconds = time.perf_counter() - start
    stats.corpus_words, stats.vocab_size = encoded.n_words, len(vocab)
    progress.say(f"corpus: {encoded.n_words:,} words, vocabulary {len(vocab):,} words, "
                 f"read in {stats.read_seconds:.2f} s")
    if save_vocab is not None:
        vocab.save(save_vocab)
    ensure_fits("training", training_bytes(len(vocab), config),
                "a larger --min-count, a smaller --max-vocab or a smaller --dim needs less", force)
    trainer = Trainer(vocab, config, config.epochs * encoded.n_words)
    position = saved.restore(trainer) if saved is not None else (0, 0)
    trainer.warm_up(encoded)
    progress = Progress(config.epochs * encoded.n_words, quiet=quiet, done=words_done(encoded, position))
    start = time.perf_counter()
    with stop_at_safe_point() as stop:
        safe_point = SafePoint(trainer, encoded, keeper, stop, progress)
        stats.epoch_words = trainer.run_epochs(encoded, progress, position, safe_point)
        safe_point.after_training()
    stats.train_seconds = time.perf_counter() - start
    # Only syn0 outlives the trainer: the output matrices are freed before the vectors copy it out
    # of its padded rows, so that copy does not raise the run's peak memory.
    return vocab, trainer.matrices()["syn0"]
