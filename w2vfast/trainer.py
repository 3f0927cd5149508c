"""The training driver: read the corpus, build the tables, run the kernels epoch by epoch, write the vectors.

Python does the bookkeeping between kernel calls (progress, the learning rate's position, statistics,
checkpoints, stop requests). In each call the threads claim blocks of about ``BLOCK_WORDS`` words one
at a time until the call's blocks are trained; settings that make a word far costlier than usual get
smaller blocks, then fewer (``call_shape``), so that the safe points stay about as far apart.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import numba
import numpy as np
from numba.core import event as numba_event

from . import kernels
from .checkpoint import (Checkpoint, Checkpointer, check_interval, load_checkpoint, refuse_unfinished,
                         resumed_output)
from .config import CHECKPOINT_MINUTES, DEFAULTS, MAX_SENTENCE_WORDS, TrainConfig
from .corpus import EncodedCorpus, corpus_paths, read_corpus
from .errors import Interrupted, OutputFailed, W2VError, WrongType, is_switch
from .interrupt import stop_at_safe_point
from .io import STANDARD_OUTPUT, as_path, check_apart, check_writable, output_name, same_file
from .memory import ensure_fits, parse_size, training_bytes
from .progress import Progress
from .safepoint import SafePoint
from .sharing import choose_sharing
from .vectors import KeyedVectors
from .word2vec_format import write_word2vec
from .vocab import Vocab, huffman_tree, keep_probabilities, negative_sampling_table

if TYPE_CHECKING:
    from .continued import Start
    from .phrases import PhraseTable

BLOCK_WORDS = 25_000
# Blocks per thread in one kernel call. Threads claim blocks one at a time, so a thread that falls
# behind costs at most a block at the end of a call (on two threads 5-9% of the time sat idle at the
# barrier when each call gave each thread one 100,000-word block); a call of about 400,000 words a
# thread keeps the safe points between calls (progress, checkpoints, Ctrl-C) under a second apart.
CALL_BLOCKS_PER_THREAD = 16
# Output rows updated a corpus word (``work_per_word``) up to which calls keep the shape above: SG
# with both losses and the default window on a vocabulary of millions (6 × (6 + about 15)), so that
# ordinary settings train as they always have. Costlier settings (SG, --window 20, --negative 50:
# 1,071) get blocks, and so calls, that many times smaller: Ctrl-C and progress would otherwise wait
# for calls of 5 s (and of minutes with --negative 500). A call keeps its blocks a thread, which
# keep the threads' idle time at its end small, until blocks reach ``MIN_BLOCK_WORDS``.
ORDINARY_WORK = 128
MIN_BLOCK_WORDS = 1_000
INIT_ROWS = 65_536  # rows of syn0 drawn at a time
_forked_after_openmp = False  # see ``_note_fork``


def _note_fork() -> None:
    """In a child just forked: note whether its parent ran the kernels on GNU OpenMP, the threading
    layer Numba takes where TBB is not installed. It does not survive a fork: the child's first kernel
    call kills it, and a ``multiprocessing`` pool (fork is its default on Linux) waits for it for good."""
    global _forked_after_openmp
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel ran before the fork
        return
    if layer == "omp":
        from numba.np.ufunc import omppool  # loaded with the layer

        _forked_after_openmp = omppool.openmp_vendor == "GNU"


os.register_at_fork(after_in_child=_note_fork)


@dataclass
class TrainStats:
    """What a run did and how long each part took (seconds)."""

    corpus_words: int = 0
    vocab_size: int = 0
    epoch_words: list[int] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)  # each epoch's summed loss, when it was asked for
    read_seconds: float = 0.0
    jit_seconds: float = 0.0  # Numba compilation during the run: 0 when its cache is warm
    train_seconds: float = 0.0

    @property
    def words_trained(self) -> int:
        return sum(self.epoch_words)

    @property
    def words_per_second(self) -> float:
        return self.words_trained / self.train_seconds if self.train_seconds > 0 else 0.0


def train(corpus=None, *, output: str | None = None, binary: bool | None = None,
          read_vocab: str | None = None, save_vocab: str | None = None, disk_corpus: str | None = None,
          checkpoint: str | None = None, checkpoint_every: float | None = None, resume: str | None = None,
          phrases: str | None = None, vocab_memory: int | str | None = None, init: str | None = None,
          report_loss: bool = False, force: bool = False, quiet: bool = True, client=None,
          **options) -> KeyedVectors:
    """Train word vectors on ``corpus`` (path(s), a directory, ``-`` or an iterable of token lists).

    ``options`` are ``TrainConfig`` fields (``model``, ``dim``, ``window``, ``negative``, ``hs``, ...);
    those not given take its defaults. ``output`` is a vectors file to write at the end (``binary``
    format, else text; by default binary for a ``.bin`` name). ``disk_corpus`` names a directory
    where the encoded corpus is memory-mapped instead of held in RAM. ``checkpoint`` is a file that
    keeps the run: written every ``checkpoint_every`` minutes (``CHECKPOINT_MINUTES``), at the end,
    and when Ctrl-C or SIGTERM stops the run, which then raises ``Interrupted``. ``resume`` goes on
    with the run kept in such a file: its corpus, options, output and checkpoint interval unless
    given (the options given must agree, but for ``threads``). ``phrases`` is a phrase table (from
    ``w2vfast phrases --save-phrases``) whose phrases are joined while the corpus is read; a resumed
    run keeps its own. ``vocab_memory`` (bytes, or a size such as ``"2G"``) bounds what counting
    the words may hold; by default half of the memory available. ``init`` starts the weights from an
    earlier run's: a vectors file or the checkpoint of a finished run (see ``continued``); options not
    given are then that run's. ``report_loss`` keeps each epoch's loss in the statistics. ``force``
    skips the memory check. ``client`` (a ``distributed.Client``) trains on its Dask cluster instead
    of this process (see ``cluster``). Returns the vectors with a ``stats`` attribute (``TrainStats``).
    """
    output, read_vocab, save_vocab, disk_corpus, checkpoint, resume, phrases, init = _checked_paths(
        output=output, read_vocab=read_vocab, save_vocab=save_vocab, disk_corpus=disk_corpus,
        checkpoint=checkpoint, resume=resume, phrases=phrases, init=init)
    report_loss, force, quiet = (_switch(name, value) for name, value in
                                 (("report_loss", report_loss), ("force", force), ("quiet", quiet)))
    binary = None if binary is None else _switch("binary", binary)
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise WrongType(f"train() has no option {unknown[0]!r}")
    for flag, path in (("--resume", resume), ("--init", init), ("--phrases", phrases)):
        if path == "-":  # it was "cannot read ... -: No such file or directory"
            raise W2VError(f"{flag} needs a file, not - (standard input)")
    saved = start = phrases_of = None  # phrases_of: the checkpoint that named the table, when it was not given
    if resume is not None:
        saved = load_checkpoint(resume)
        if "model" in saved.header:  # ``finished_header``: no corpus was checked into it to resume on
            raise W2VError(f"{resume} is a model that Word2Vec.save wrote, not a stopped run: train on from it "
                           f"with --init {resume}")
        if client is None and "cluster" in saved.header:
            raise W2VError(f"the run in {resume} was trained on a Dask cluster: resume it with --dask")
        if read_vocab is not None:
            raise W2VError("--read-vocab and --resume exclude each other: the checkpoint has the vocabulary")
        if init is not None:
            raise W2VError("--init and --resume exclude each other: a resumed run goes on from its checkpoint")
        corpus = saved.corpus(corpus)
        options = saved.options(options)
        output, binary = resumed_output(saved.header, output, binary)
        checkpoint = resume if checkpoint is None else checkpoint
        checkpoint_every = saved.checkpoint_every if checkpoint_every is None else checkpoint_every
        if phrases is not None and saved.header.get("phrases") is None:  # else the corpus would not match
            raise W2VError(f"--phrases {phrases} differs from the checkpoint's (none): a resumed run keeps the "
                           "options it started with (only --threads may change)")
        phrases, phrases_of = (saved.header.get("phrases"), resume) if phrases is None else (phrases, None)
    if corpus is not None and corpus_paths(corpus) is None and not isinstance(corpus, Iterable):
        raise WrongType(f"the corpus must be paths or an iterable of token lists, not {corpus!r:.40}")
    if checkpoint == STANDARD_OUTPUT:
        raise W2VError("--checkpoint needs a file, not -: a stopped run goes on from it")
    kept_in = "--resume" if resume is not None and checkpoint == resume else "--checkpoint"  # as the user said it
    outputs = {"-o": output, "--save-vocab": save_vocab, kept_in: checkpoint}
    check_apart(outputs, corpus_paths(corpus),
                {"the --phrases table": phrases, "the --read-vocab file": read_vocab, "the --init file": init})
    if save_vocab is not None:  # as -o is, before the corpus is read
        check_writable(save_vocab)
    if checkpoint is not None and (resume is None or not same_file(checkpoint, resume)):
        refuse_unfinished(checkpoint)  # a resumed run kept elsewhere must not replace another run either
    if checkpoint_every is not None:  # checked without --checkpoint too: a typo is not silently ignored
        check_interval(checkpoint_every)
        checkpoint_every = float(checkpoint_every)  # NumPy's too, which the checkpoint's header cannot hold
    if client is not None:
        from .cluster import train_on_cluster

        return train_on_cluster(client, corpus, options, saved=saved, output=output, binary=binary,
                                checkpoint=checkpoint, checkpoint_every=checkpoint_every, save_vocab=save_vocab,
                                disk_corpus=disk_corpus, vocab_memory=vocab_memory, report_loss=report_loss,
                                force=force, quiet=quiet,
                                refused={"--read-vocab": read_vocab, "--phrases": phrases, "--init": init})
    if init is not None:
        from .continued import start_from

        if read_vocab is not None:
            raise W2VError("--init and --read-vocab exclude each other: the vocabulary comes from the corpus")
        start = start_from(init)
        options = start.options(options)
        if phrases is None and start.phrases is not None:  # the old run's, as its other options are
            phrases, phrases_of = start.phrases, init
            check_apart(outputs, corpus_paths(corpus), {"the --phrases table": phrases})
    if corpus is None:
        raise W2VError("no corpus given")
    config = TrainConfig(**options)
    if start is not None:
        start.check(config)
    budget = None if vocab_memory is None else parse_size(vocab_memory)
    table = None
    if phrases is not None:
        table = _table_of(phrases, phrases_of)
    binary = output_format(output, binary)
    keeper = None if checkpoint is None else Checkpointer(
        checkpoint, CHECKPOINT_MINUTES if checkpoint_every is None else checkpoint_every,
        corpus_paths(corpus), output, binary, phrases)
    vocab = saved.vocab if saved is not None else None
    if read_vocab is not None:
        vocab = Vocab.read(read_vocab, config.min_count, config.max_vocab)
    stats = TrainStats()
    progress = Progress(0, quiet=quiet)
    with compile_timer(stats):
        vocab, syn0 = _train(corpus, config, stats, vocab, save_vocab, disk_corpus, quiet, force=force,
                             saved=saved, keeper=keeper, phrases=table, budget=budget, start=start,
                             report_loss=report_loss)
    progress.say(f"trained {stats.words_trained:,} words in {stats.train_seconds:.2f} s "
                 f"({stats.words_per_second / 1e6:.3f}M words/s, {config.threads} threads); "
                 f"JIT compilation {stats.jit_seconds:.2f} s")
    return finished_vectors(vocab, syn0, stats, output, binary, keeper, progress)


def _table_of(path: str, named_by: str | None) -> PhraseTable:
    """The phrase table at ``path``; one that a checkpoint named but is no longer there gets a hint.
    Only a run with phrases loads their module and kernels."""
    from .phrases import PhraseTable

    if named_by is not None and not os.path.lexists(path):
        raise W2VError(f"cannot read phrase table {path}, which the run in {named_by} joined: No such file "
                       "or directory (if it moved, give --phrases with its new place)")
    return PhraseTable.load(path)


def _switch(name: str, value) -> bool:
    if is_switch(value):
        return bool(value)
    raise WrongType(f"{name} must be True or False, not {value!r:.40}")


def _checked_paths(**paths) -> list[str | None]:
    """The file arguments that are given, as strings (``io.as_path``), checked before any is used."""
    return [None if path is None else as_path(path, name) for name, path in paths.items()]


def output_format(output: str | None, binary: bool | None) -> bool | None:
    """Whether ``output`` is written in the binary format (see ``binary_by_name``), once sure it can be
    written: long runs check before they start."""
    if output is None:
        return binary
    check_writable(output)
    return binary_by_name(output, binary)


def binary_by_name(output: str, binary: bool | None) -> bool:
    """``binary`` if given, else whether ``output`` is a ``.bin`` name."""
    return output.endswith(".bin") if binary is None else binary


def finished_vectors(vocab: Vocab, syn0: np.ndarray, stats: TrainStats, output: str | None, binary: bool | None,
                     keeper: Checkpointer | None, progress: Progress) -> KeyedVectors:
    """The vectors of a finished run, with its ``stats``, written to ``output`` if given (from the
    vocabulary's bytes, which the file holds); when that fails, a run kept by ``keeper`` says how to
    write them once the cause is mended."""
    syn0 = compacted(syn0)
    vectors = KeyedVectors.from_bytes_words(vocab.words, syn0)
    vectors.stats = stats
    if output is not None:
        try:
            write_word2vec(output, vocab.words, syn0, binary)
        except W2VError as failed:
            if keeper is None:
                raise
            raise OutputFailed(str(failed), keeper.path) from None
        except Interrupted as stop:  # the checkpoint holds the run, and --resume of it writes them
            if keeper is None or not keeper.kept:
                raise
            raise Interrupted(stop.signum, keeper.path) from None
        progress.say(f"wrote {len(vectors):,} x {vectors.vector_size} vectors to {output_name(output)}")
    return vectors


def compacted(matrix: np.ndarray) -> np.ndarray:
    """``matrix``, the first rows and columns of a finished run's padded rows (threads' private rows may follow),
    moved to the front of that memory as one contiguous matrix: a copy was fresh memory, which this host faults
    in slowly (1.5 s for 2.75M words of 50 dimensions). The padded rows are no longer rows once it returns."""
    padded = matrix.base
    rows, dim = matrix.shape
    if matrix.flags.c_contiguous:  # no padding
        return matrix
    if not isinstance(padded, np.ndarray) or padded.ndim != 2 or not padded.flags.c_contiguous or \
            padded.shape[0] < rows or padded.dtype != matrix.dtype or padded.strides != matrix.strides or \
            padded.__array_interface__["data"][0] != matrix.__array_interface__["data"][0]:
        return np.ascontiguousarray(matrix)
    flat = padded.reshape(-1)
    for start in range(0, rows, INIT_ROWS):  # numpy copies through a buffer where a block's rows overlap
        end = min(start + INIT_ROWS, rows)
        flat[start * dim:end * dim].reshape(end - start, dim)[...] = padded[start:end, :dim]
    return flat[:rows * dim].reshape(rows, dim)


def _train(corpus, config, stats, vocab, save_vocab, disk_corpus, quiet, *, force: bool,
           saved: Checkpoint | None, keeper: Checkpointer | None, phrases: PhraseTable | None,
           budget: int | None, start: Start | None, report_loss: bool):
    progress = Progress(0, quiet=quiet)
    begin = time.perf_counter()
    vocab, encoded = read_corpus(corpus, config, vocab, disk_corpus, force, phrases, budget, progress.say,
                                 choose=None if start is None else start.vocabulary,
                                 keep=None if start is None else start.keep)
    if saved is not None:
        saved.check_corpus(encoded)
    stats.read_seconds = time.perf_counter() - begin
    stats.corpus_words, stats.vocab_size = encoded.n_words, len(vocab)
    progress.say(f"corpus: {encoded.n_words:,} words, vocabulary {len(vocab):,} words, "
                 f"read in {stats.read_seconds:.2f} s")
    trainer = new_trainer(vocab, config, encoded.n_words, force, report_loss)
    position = saved.restore(trainer) if saved is not None else (0, 0)
    if start is not None:
        progress.say(start.apply(trainer))
    if save_vocab is not None:  # once the run is sure to start, its weights read whole: one refused keeps
        vocab.save(save_vocab)  # the file there was
    fit(trainer, encoded, stats, quiet=quiet, position=position, keeper=keeper)
    if saved is not None and saved.finished and keeper is not None and not same_file(keeper.path, saved.path):
        try:  # a finished run trains nothing: no safe point saved it in its new checkpoint
            keeper.save(trainer, encoded, position)
        except W2VError as exc:  # as a periodic save that fails: the vectors are still written
            progress.say(keeper.failed(exc), even_if_quiet=True)
    # Only syn0 outlives the trainer: the output matrices are freed before the vectors are taken out of
    # its padded rows (moved within them, or copied where they cannot be), so that does not raise the
    # run's peak memory.
    return vocab, trainer.matrices()["syn0"]


@contextlib.contextmanager
def compile_timer(stats: TrainStats) -> Iterator[None]:
    """Keep in ``stats.jit_seconds`` the time Numba spends compiling inside (0 when its cache is warm)."""
    with numba_event.install_timer("numba:compile", lambda seconds: setattr(stats, "jit_seconds", seconds)):
        yield


def new_trainer(vocab: Vocab, config: TrainConfig, corpus_words: int, force: bool = False,
                report_loss: bool = False) -> Trainer:
    """A trainer for ``config.epochs`` epochs over ``corpus_words`` words, once sure it fits in memory
    and that this process can run the kernels."""
    if _forked_after_openmp:
        raise W2VError("this process was forked from one that had trained already, and the kernels' threads "
                       "(GNU OpenMP) cannot run in it: start it with multiprocessing's 'spawn' or 'forkserver' "
                       "method (multiprocessing.get_context('spawn').Pool(), say)")
    needed = training_bytes(len(vocab), config)
    remedy = ("a larger --min-count, a smaller --max-vocab or a smaller --dim needs less"
              if needed["thread buffers"] < needed["weights"] else
              "a smaller --window, --negative, --dim or --threads needs less")
    ensure_fits("training", needed, remedy, force)
    return Trainer(vocab, config, config.epochs * corpus_words, report_loss)


def fit(trainer: Trainer, encoded: EncodedCorpus, stats: TrainStats, *, quiet: bool,
        position: tuple[int, int] = (0, 0), keeper: Checkpointer | None = None,
        on_epoch_end: Callable[[int], None] | None = None) -> None:
    """Train ``trainer`` on ``encoded`` from ``position`` to the end of its last epoch, filling ``stats``.

    Between kernel calls the run is checked, saved by ``keeper`` when due and stopped by Ctrl-C or
    SIGTERM (``SafePoint``); ``on_epoch_end`` is called with each finished epoch there, and whatever
    it raises stops the run at that safe point.
    """
    trainer.warm_up(encoded)
    progress = Progress(trainer.config.epochs * encoded.n_words, quiet=quiet,
                        done=encoded.words_before(*position))
    stats.epoch_loss = trainer.epoch_loss
    begin = time.perf_counter()
    with stop_at_safe_point() as stop:
        safe_point = SafePoint(trainer, encoded, keeper, stop, progress, on_epoch_end)
        stats.epoch_words = trainer.run_epochs(encoded, progress, position, safe_point)
        safe_point.after_training()
    stats.train_seconds = time.perf_counter() - begin


def weight_rows(vocab_size: int, config: TrainConfig) -> kernels.Weights:
    """The rows of each weight matrix for a vocabulary of ``vocab_size`` words; a matrix the run does not
    use (``syn1neg`` without negative sampling, ``syn1`` without hierarchical softmax) keeps one row."""
    return kernels.Weights(vocab_size, vocab_size if config.negative else 1,
                           max(vocab_size - 1, 1) if config.hs else 1)


def random_rows(matrix: np.ndarray, rng: np.random.Generator) -> None:
    """Fill ``matrix`` (input vectors, maybe a view of padded rows) with word2vec's first values,
    (r - 0.5) / dim for r uniform in [0, 1), a block of rows at a time so no big temporary is made."""
    rows, dim = matrix.shape
    for start in range(0, rows, INIT_ROWS):
        block = rng.random((min(INIT_ROWS, rows - start), dim), dtype=np.float32)
        block -= np.float32(0.5)
        block /= np.float32(dim)
        matrix[start:start + len(block)] = block


def work_per_word(config: TrainConfig, mean_code_length: float) -> float:
    """Output rows a corpus word updates, roughly (before subsampling): what training a word costs.
    A reduced window averages (window + 1) / 2 words a side; skip-gram trains each of them against
    the outputs, CBOW their mean once."""
    outputs = (config.negative + 1 if config.negative else 0) + (mean_code_length if config.hs else 0)
    context = config.window + 1
    return outputs + context if config.model == "cbow" else outputs * context


def call_shape(work: float) -> tuple[int, int]:
    """(words a block, blocks a thread in each kernel call) for a word costing ``work``: a call's work
    no more than an ordinary one's."""
    words = BLOCK_WORDS * min(1.0, ORDINARY_WORK / work)
    if words >= MIN_BLOCK_WORDS:
        return int(words), CALL_BLOCKS_PER_THREAD
    return MIN_BLOCK_WORDS, max(1, int(CALL_BLOCKS_PER_THREAD * words / MIN_BLOCK_WORDS))


def _blocks(encoded: EncodedCorpus, threads: int, block_words: int, first: int = 0,
            last: int | None = None) -> np.ndarray:
    """Sentence indices that cut sentences ``first`` to ``last`` (by default the whole corpus) into
    blocks of about ``block_words`` words, at least one per thread where there are enough sentences."""
    last = encoded.n_sentences if last is None else last
    begin, end = int(encoded.sentence_starts[first]), int(encoded.sentence_starts[last])
    size = max(1, min(block_words, -(-(end - begin) // threads)))
    cuts = np.searchsorted(encoded.sentence_starts, np.arange(begin, end, size), side="left")
    return np.unique(np.concatenate(([first], cuts, [last]))).astype(np.int64)


def _blocks_from(blocks: np.ndarray, sentence: int) -> np.ndarray:
    """The cuts of ``blocks`` after ``sentence``, which starts the first block: a resumed epoch."""
    return np.concatenate(([sentence], blocks[blocks > sentence])).astype(np.int64)


class Trainer:
    """Weights, tables and scratch for one run; ``run_epochs`` trains them on an encoded corpus."""

    def __init__(self, vocab: Vocab, config: TrainConfig, total_words: int, report_loss: bool = False) -> None:
        self.vocab = vocab
        self.config = config
        rng = np.random.default_rng(config.seed)
        v, d = len(vocab), config.dim
        if config.hs:
            points, codes, lengths = huffman_tree(vocab.counts)
        else:
            points, codes, lengths = (np.zeros((1, 1), np.int32), np.zeros((1, 1), np.uint8),
                                      np.zeros(1, np.int32))
        keep_prob = keep_probabilities(vocab.counts, config.sample)
        self.tables = kernels.Tables(keep_prob, negative_sampling_table(vocab.counts), points, codes, lengths)
        mean_code_length = float(np.dot(vocab.counts, lengths) / max(vocab.counts.sum(), 1)) if config.hs else 0.0
        self.block_words, self.blocks_per_thread = call_shape(work_per_word(config, mean_code_length))
        self.sharing = choose_sharing(vocab.counts, keep_prob, config, points, lengths)
        # How many rows of each matrix are shared; the threads' private copies of its hot rows follow them.
        self.shared_rows = weight_rows(v, config)
        syn0, syn1neg, syn1 = (kernels.zero_rows(kernels.private_rows(rows, hot, config.threads), d)
                               for rows, hot in zip(self.shared_rows, self.sharing.hot))
        random_rows(syn0[:v, :d], rng)
        self.weights = kernels.Weights(syn0, syn1neg, syn1)
        self.params = kernels.make_params(config.model == "cbow", config.cbow_mean, config.hs,
                                          config.negative, config.window, config.alpha,
                                          config.min_alpha, total_words)
        max_outputs = max(config.negative + 1, points.shape[1])
        self.scratch = kernels.make_scratch(config.threads, d, config.window, config.negative,
                                            max_outputs, MAX_SENTENCE_WORDS)
        self.rng_states = np.random.SeedSequence(config.seed).generate_state(config.threads, np.uint64)
        # Each thread's running loss, or None: a run that does not ask for it is compiled without it.
        self.losses = kernels.make_losses(config.threads) if report_loss else None
        self.epoch_loss: list[float] = []

    def set_rng_states(self, states: np.ndarray) -> None:
        """Go on with the random states of an earlier run; another thread count derives fresh ones from
        them (it splits the corpus differently anyway)."""
        if len(states) == len(self.rng_states):
            self.rng_states[:] = states
        else:
            self.rng_states = np.random.SeedSequence(states.tolist()).generate_state(len(self.rng_states), np.uint64)

    def matrices(self) -> dict[str, np.ndarray]:
        """The weight matrices by name, without the kernels' row padding or the threads' private rows
        (views, not copies): between kernel calls the shared rows hold the whole model."""
        return {name: matrix[:rows, :self.config.dim]
                for (name, matrix), rows in zip(self.weights._asdict().items(), self.shared_rows)}

    def warm_up(self, encoded: EncodedCorpus) -> None:
        """Compile (or load from the cache) the kernel with an empty call, outside the timed training."""
        self._call(encoded, np.zeros(1, dtype=np.int64), 0)

    def _call(self, encoded: EncodedCorpus, blocks: np.ndarray, words_before: int) -> int:
        """Train the sentences of ``blocks`` once; returns the words they cover."""
        block_words = np.zeros(max(len(blocks) - 1, 1), dtype=np.int64)
        next_block = np.zeros(1, dtype=np.int64)
        kernels.train_blocks(self.weights, self.scratch, self.rng_states, block_words, next_block, encoded.words,
                             encoded.sentence_starts, blocks, np.int64(words_before), self.tables, self.params,
                             self.sharing, self.losses)
        return int(block_words.sum())

    def train_span(self, encoded: EncodedCorpus, first: int, last: int, words_before: int) -> int:
        """Train sentences ``first`` to ``last`` once, the learning rate starting where it is
        ``words_before`` words into the run; returns the words covered. A distributed replica's round."""
        numba.set_num_threads(min(self.config.threads, numba.config.NUMBA_NUM_THREADS))
        blocks = _blocks(encoded, self.config.threads, self.block_words, first, last)
        per_call = self.config.threads * self.blocks_per_thread
        covered = 0
        for start in range(0, len(blocks) - 1, per_call):
            call_blocks = blocks[start:start + per_call + 1]
            offset = int(encoded.sentence_starts[call_blocks[0]] - encoded.sentence_starts[first])
            covered += self._call(encoded, call_blocks, words_before + offset)
        return covered

    def run_epochs(self, encoded: EncodedCorpus, progress: Progress, start: tuple[int, int] = (0, 0),
                   after_call: Callable[[tuple[int, int]], None] | None = None) -> list[int]:
        """Train every epoch over the whole corpus; returns the words each epoch actually covered.

        A position is ``(epoch, sentence)``. The run begins at ``start`` (later than ``(0, 0)`` when
        it is resumed), and ``after_call`` is given the position after every kernel call: a safe point
        to save the run or stop it by raising. When the loss is asked for, each epoch's sum is added to
        ``epoch_loss`` before the safe point that ends the epoch (a resumed epoch's covers the part
        trained since).
        """
        threads = self.config.threads
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        blocks = _blocks(encoded, threads, self.block_words)
        start_epoch, start_sentence = start
        per_call = threads * self.blocks_per_thread
        epoch_words = []
        for epoch in range(start_epoch, self.config.epochs):
            epoch_blocks = _blocks_from(blocks, start_sentence) if epoch == start_epoch else blocks
            covered = 0
            for first in range(0, len(epoch_blocks) - 1, per_call):
                call_blocks = epoch_blocks[first:first + per_call + 1]
                words_before = encoded.words_before(epoch, int(call_blocks[0]))
                trained = self._call(encoded, call_blocks, words_before)
                covered += trained
                progress.update(words_before + trained, self.alpha_at(words_before + trained))  # where the call ended
                if first + per_call >= len(epoch_blocks) - 1 and self.losses is not None:
                    self._end_epoch_loss(epoch, covered, progress, resumed=epoch == start_epoch and start_sentence > 0)
                if after_call is not None:
                    after_call((epoch, int(call_blocks[-1])))
            epoch_words.append(covered)
        progress.close()
        return epoch_words

    def _end_epoch_loss(self, epoch: int, covered: int, progress: Progress, resumed: bool) -> None:
        loss = self.take_loss()
        self.epoch_loss.append(loss)
        part = " since the resume" if resumed else ""  # a checkpoint keeps no loss: the part before is not known
        progress.say(f"epoch {epoch + 1}: loss {loss:.6g}{part} ({loss / max(covered, 1):.4f} a word)")

    def take_loss(self) -> float:
        """The threads' loss since it was last taken, summed in float64 (so it never stops growing);
        it starts again at 0."""
        loss = float(self.losses.totals[:, 0].sum())
        self.losses.totals[:] = 0.0
        return loss

    def diverged(self) -> bool:
        """Whether a weight is NaN or infinite (a float64 sum of finite float32s cannot overflow)."""
        return not all(math.isfinite(matrix.sum(dtype=np.float64)) for matrix in self.matrices().values())

    def check_finite(self, epoch: int, progress: Progress) -> None:
        """Refuse weights gone to NaN or infinity in ``epoch``: stop with an error that says what may help."""
        if self.diverged():
            progress.close()
            raise W2VError(f"training diverged in epoch {epoch + 1}: the weights hold NaN or infinity; "
                           f"a smaller --alpha (now {self.config.alpha:g}) may help")

    def alpha_at(self, position: int) -> float:
        c = self.config
        return max(c.min_alpha, c.alpha - (c.alpha - c.min_alpha) * position / self.params.total_words)
