"""Training on a Dask cluster: every worker trains a replica of the weights on its shard of the corpus,
and the driver, the process that calls ``train``, keeps the replicas in step.

1. A worker cuts the files into one shard per worker (``shards.py``), once every worker has said it
   can read them all.
2. Each worker counts its shard with the counter of one process, within ``--vocab-memory``; the
   driver merges the counts into the vocabulary, exactly the one a single process counts. When a
   shard's distinct words outgrow the budget, or their union would outgrow the driver's, the workers
   sketch their shards, the driver adds the sketches up, and the workers count again, adding only the
   words that the corpus's sketch lets through (as ``counting.py`` does for one process).
3. The vocabulary goes to every worker, which encodes its shard and keeps it: no process holds the
   whole corpus or all of its ids.
4. The replicas train in rounds and are synchronised through the driver after each (``syncing.py``);
   the learning rate follows the words that all of them have trained. The driver holds the model:
   after a round that synchronised every row (each epoch's last, and one made so when a checkpoint is
   due or a stop asked for) it is the run's, and that is when checkpoints are written.

Each worker's replica is a Dask actor (``Replica``). Every wait for one has a limit and checks that
its worker is still in the cluster; a worker lost, or silent past its limit, stops the run: the others
send what they changed since their last synchronisation, and the driver writes a checkpoint of its
model (without the lost worker's unsynchronised changes) for ``--resume`` to go on from.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import pickle
import re
import signal
import sys
import threading
import time
import warnings
import zlib
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .checkpoint import Checkpoint, Checkpointer, fingerprint
from .config import CHECKPOINT_MINUTES, TrainConfig
from .corpus import corpus_paths, encode, vocab_ids
from .counting import add_sketches, count_once, not_fitting, sketch_slots, sketch_text, sketch_threshold
from .errors import Interrupted, W2VError, WorkerLost, WrongType
from .interrupt import StopRequest, stop_at_safe_point
from .io import STANDARD_OUTPUT, is_special
from .memory import TEXT_BYTES_PER_WORD, corpus_bytes, counting_budget, ensure_fits, parse_size
from .progress import Progress
from .shards import WHOLE, merge_counts, plan_shards, read_shard, resumed_shards, shard_bytes, shard_words
from .sources import corpus_files
from .syncing import (ROUND_WORDS, FewRows, SyncSchedule, add_to_rows, difference_to_wire, moved_rows, plan_sync,
                      replica_learning_rate, rows_read)
from .trainer import INIT_ROWS, TrainStats, finished_vectors, new_trainer, output_format
from .vocab import Vocab

POLL_SECONDS = 1.0  # how often a wait looks whether the worker is still in the cluster
START_SECONDS = 60.0  # for a worker to take on its replica, or a scheduler to answer
SETUP_SECONDS = 900.0  # for a worker to build its replica and load (or compile) the kernels
READ_BYTES_PER_SECOND = 1 << 20  # a worker reading its shard slower than this is taken as stuck
ROUND_SECONDS = 300.0  # the least time a round may take; more when rounds have been slow
STOP_SECONDS = 10.0  # once a stop is asked for, a worker silent this long is taken as lost (frozen, say)
CLOSE_SECONDS = 30.0
QUIET_TRACKER = "ignore:resource_tracker:UserWarning"  # its warnings of what it cleans up (``_ctrl_c_held``)
LOCAL_WORKERS_PER_CORE = 8  # a one-thread worker process a core, and room to oversubscribe for trying it
CONNECT_MARGIN_SECONDS = 10.0  # past START_SECONDS, for a scheduler that accepts and never answers
CONNECT_NOTICE_SECONDS = 3.0  # a connection slower than this is said on stderr, so a wrong address is no silent minute
# A local cluster's dashboard listens on a port no one is told of, so the statistical profiler of its
# workers and the system monitors of its servers, which feed the dashboard, only take CPU from training:
# without them a 2-worker run's event loops took half the CPU, and it trained 3-5% faster. Each server's
# tick, which times its event loop for the dashboard and for warnings of a blocked loop, comes once a
# second instead of 50 times: the event loops then took half as much CPU again.
LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.interval": "60s",
                        "distributed.admin.tick.interval": "1s"}
# An actor call given up on at a stop or a lost worker is never awaited, and Python says so when it is
# collected; that is no news to the user.
warnings.filterwarnings("ignore", message="coroutine 'ActorFuture._result' was never awaited", category=RuntimeWarning)
# What merging a distinct word of a shard takes on the driver besides its count and bytes: a slot of
# the union's hash table at 70% load (twice that just after it grows), its offset and length, its id.
MERGE_BYTES_PER_WORD = 40


@dataclass
class ClusterStats(TrainStats):
    """A cluster run's statistics: besides ``TrainStats``', the workers, the rounds of an epoch and the
    bytes the driver sent and received synchronising the replicas."""

    workers: int = 0
    rounds_per_epoch: int = 0
    sync_bytes: int = 0


@contextlib.contextmanager
def connect(address: str, quiet: bool = False) -> Iterator:
    """A ``distributed.Client`` of the scheduler at ``address`` (``tcp://host:8786``), or of the one a
    scheduler file names (``dask scheduler --scheduler-file FILE`` writes it, as do dask-mpi and
    batch jobs on SLURM or PBS), or for ``local:N`` of a ``LocalCluster`` of N one-thread worker
    processes started here and shut down on leaving, however it is left. Unless ``quiet``, a scheduler
    that has not answered within ``CONNECT_NOTICE_SECONDS`` is said to be waited for, on stderr."""
    if not address.strip():
        raise W2VError("--dask needs an address: tcp://host:8786, a scheduler file or local:N")
    local = re.fullmatch(r"local:(.*)", address, re.IGNORECASE)
    port = re.search(r":(\d+)/?$", address)
    if local is None and port is not None and not 0 < int(port.group(1)) < 1 << 16:  # else a minute of retrying
        raise W2VError(f"--dask {address}: a port is a number from 1 to 65535")
    if local is None:
        distributed = _distributed()
        if os.path.isdir(address):
            raise W2VError(f"--dask {address} is a directory, not a Dask scheduler file")
        if os.path.isfile(address):
            address = _scheduler_in(address)
        elif "://" not in address and (address.endswith(".json") or os.sep in address):
            raise W2VError(f"no Dask scheduler file at {address}")
        with _dask_logs_silenced():  # also while the client closes, which logs a lost scheduler
            try:
                client = _joined(distributed, address, quiet)
            except (OSError, ValueError, TypeError, ImportError) as exc:  # TLS or UCX without their settings
                raise W2VError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
            except MemoryError:  # what Dask's reader meets in bytes that are not its protocol
                raise W2VError(f"cannot reach the Dask scheduler at {address}: what answers there is not one") \
                    from None
            with client:
                yield client
        return
    if not local.group(1).isdecimal() or int(local.group(1)) < 1:
        raise W2VError(f"--dask local:N needs a whole number of workers, at least one, not {address}")
    most = LOCAL_WORKERS_PER_CORE * (os.cpu_count() or 1)
    if int(local.group(1)) > most:  # Dask would build every worker's spec first, taking memory without end
        raise W2VError(f"--dask {address}: a local cluster takes at most {most} workers on this machine's "
                       f"{os.cpu_count() or 1} cores ({LOCAL_WORKERS_PER_CORE} a core); a larger cluster needs more "
                       "machines: join its scheduler with --dask tcp://HOST:8786")
    distributed = _distributed()
    import dask  # installed with distributed

    # Its web server takes a free port (the dashboard's usual 8787 may be another cluster's).
    with _ctrl_c_held() as pressed, dask.config.set(LOCAL_CLUSTER_CONFIG):
        try:
            cluster = distributed.LocalCluster(n_workers=int(local.group(1)), threads_per_worker=1, processes=True,
                                               dashboard_address=":0", memory_limit=0, silence_logs=logging.CRITICAL)
        except (RuntimeError, OSError, TimeoutError) as exc:  # a worker process that died as it started, say
            raise W2VError(f"the local Dask cluster did not start: {exc}") from None
    with _dask_logs_silenced():  # its closing too, which a SIGTERM that reached the workers makes noisy
        try:
            if pressed:
                raise Interrupted(pressed[0])
            with distributed.Client(cluster, direct_to_workers=True) as client:
                yield client
        except BaseException:
            _close(cluster)
            raise
        with stop_at_safe_point() as stop:  # a run that ended closes its cluster whole, then stops
            _close(cluster)
        if stop.signum is not None:
            raise Interrupted(stop.signum)


@contextlib.contextmanager
def _dask_logs_silenced() -> Iterator[None]:
    """The run says in one line what stops it; Dask's client would log the same with its tracebacks
    (a lost scheduler: 37 lines), as a local cluster's ``silence_logs`` keeps it from doing. Each of
    Dask's loggers that has a level of its own (``distributed.client`` has, and a handler) is set."""
    names = ["distributed", *(name for name in logging.root.manager.loggerDict if name.startswith("distributed."))]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _joined(distributed, address: str, quiet: bool):
    """A client of the scheduler at ``address``. Dask's timeout covers connecting, not a server that
    accepts and never answers (it waited for good), so the client is made in a thread of its own,
    which is given up on ``START_SECONDS`` and a margin later. Dask tries again and again while nothing
    listens at the address, as a batch job needs when its scheduler starts at the same time."""
    made: list = []

    def make() -> None:
        try:
            made.append(distributed.Client(address, timeout=START_SECONDS, direct_to_workers=True))
        except BaseException as exc:  # handed to the caller
            made.append(exc)

    maker = threading.Thread(target=make, name="w2vfast-connect", daemon=True)
    maker.start()
    waited = START_SECONDS + CONNECT_MARGIN_SECONDS
    maker.join(CONNECT_NOTICE_SECONDS)
    if not made and not quiet and sys.stderr is not None:
        print(f"waiting for the Dask scheduler at {address} to answer (up to {START_SECONDS:.0f} s)", file=sys.stderr,
              flush=True)
    maker.join(waited - CONNECT_NOTICE_SECONDS)
    if not made:
        raise W2VError(f"cannot reach the Dask scheduler at {address}: no answer within {waited:.0f} s")
    if isinstance(made[0], BaseException):
        raise made[0]
    return made[0]


def _scheduler_in(path: str) -> str:
    """The scheduler's address in the Dask scheduler file ``path`` (JSON with an ``address``)."""
    try:
        with open(path, encoding="utf-8") as file:
            found = json.load(file)
    except OSError as exc:
        raise W2VError(f"cannot read the Dask scheduler file {path}: {exc.strerror}") from None
    except ValueError:  # not JSON, or not text
        found = None
    address = found.get("address") if isinstance(found, dict) else None
    if not isinstance(address, str) or not address.strip():
        raise W2VError(f"{path} is not a Dask scheduler file: no scheduler address in it")
    return address


def _close(cluster) -> None:
    """Shut ``cluster`` down; worker processes it has not ended within ``CLOSE_SECONDS`` are killed."""
    import psutil  # a requirement of distributed

    workers = [process for process in psutil.Process().children(recursive=True)
               if "multiprocessing.spawn" in " ".join(_command_line(process))]
    try:
        cluster.close(timeout=CLOSE_SECONDS)
    except (OSError, TimeoutError):
        pass
    for process in workers:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(workers, timeout=CLOSE_SECONDS)


def _command_line(process) -> list[str]:
    import psutil

    try:
        return process.cmdline()
    except psutil.Error:  # ended meanwhile
        return []


def _distributed():
    try:
        import distributed
    except ImportError:
        raise W2VError("--dask needs Dask's distributed package: pip install 'w2vfast[dask]'") from None
    return distributed


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[list[int]]:
    """Hold Ctrl-C back while a local cluster starts; yields the list it is noted in if pressed.

    The worker processes start with it blocked, since they inherit the mask of the thread that starts
    them, so that one pressed at a terminal, which reaches them too, never stops them: as a shell
    starts background jobs ignoring it, and it is the driver that stops the run, at a safe point, and
    then the workers. The driver blocks it in the threads that start them (its own and those it
    starts meanwhile), and notes one that comes in another thread or is pending when it is unblocked.
    multiprocessing's resource tracker is started first: started by Dask's thread, it unblocks Ctrl-C there.
    It starts without Python's warnings: a run stopped while the workers start leaves it their
    semaphores, which it removes, warning of them on stderr after the run's one line.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield []  # a background job's Ctrl-C is ignored already, and with it the workers'
        return
    from multiprocessing import resource_tracker

    sys.warnoptions.append(QUIET_TRACKER)  # its process takes this one's -W options
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions.remove(QUIET_TRACKER)
    pressed: list[int] = []
    before = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield pressed
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a pending one is noted before it returns
        signal.signal(signal.SIGINT, before)


class Replica:
    """A worker's part of a run, kept there by Dask as an actor: its shards, counted, then encoded, and
    its replica of the weights with each row as last synchronised."""

    def __init__(self) -> None:
        self.shards: list = []
        self.counters: list = []
        self.corpora: list = []
        self.trainer = None
        self.schedule: SyncSchedule | None = None
        self.round_starts: list[np.ndarray] = []  # per shard: the sentence each round starts at
        self.synced: list[np.ndarray] = []  # each matrix as its rows were last synchronised: the driver's
        self.sent: list[np.ndarray | slice] = []  # the rows whose changes went to the driver last
        self.vocab: Vocab | None = None

    def readable(self, paths: bytes) -> bytes:
        """The corpus files of ``paths``, as this worker sees them, and their sizes, once sure it can read
        each one (both ``_packed``)."""
        try:
            return _packed([(os.path.abspath(path), os.path.getsize(path)) for path in corpus_files(_unpacked(paths))])
        except OSError as exc:
            raise W2VError(f"cannot read corpus {exc.filename}: {exc.strerror}") from None

    def plan(self, files: bytes, count: int) -> bytes:
        return _packed(plan_shards(_unpacked(files), count))

    def count(self, shards: bytes, threads: int, budget: int | None, disk_dir: str | None, force: bool,
              sketch: np.ndarray | None = None, threshold: int = 0) -> tuple[int | None, int | None]:
        """Count the words of ``shards`` (``_packed``), within ``budget`` bytes (by default half the memory
        available), adding only words whose bucket of ``sketch`` reached ``threshold``; returns the budget
        and about what merging the words on the driver takes, or ``None`` for it if they outgrew the budget."""
        from .counting import BudgetReached

        shards = _unpacked(shards)
        text = sum(map(shard_bytes, shards))
        budget = counting_budget(text) if budget is None else budget
        ensure_fits("reading a shard", dict(corpus_bytes(text), **{"counting budget": budget or 0}),
                    "more workers, --disk-corpus DIR or a smaller --vocab-memory need less", force)
        self.shards, self.counters = shards, []
        try:
            for shard in shards:
                self.counters.append(count_once(lambda: read_shard(shard), shard_bytes(shard), disk_dir, threads,
                                                budget, sketch, threshold))
        except BudgetReached:
            self.counters = []
            return budget, None
        return budget, sum(c.footprint() + MERGE_BYTES_PER_WORD * c.n_words for c in self.counters)

    def sketch(self, slots: int) -> np.ndarray:
        """The sketch of this worker's shards (see ``counting.py``)."""
        total = np.zeros(slots, dtype=np.uint8)
        for shard in self.shards:
            add_sketches(total, sketch_text(lambda: read_shard(shard), slots))
        return total

    def words(self) -> list[tuple[bytes, np.ndarray]]:
        return [shard_words(counter) for counter in self.counters]

    def encode(self, words: bytes, counts: np.ndarray, ids: np.ndarray | None) -> list[dict]:
        """Encode the shards with the vocabulary (its ``words`` ``_packed``) and, unless ``None``, the
        vocabulary ids of their words, shard after shard (``merge_counts``); returns each shard's
        fingerprint."""
        vocab = Vocab(_unpacked(words), counts)
        if ids is None:  # a checkpoint's vocabulary, which the driver did not merge
            remaps = [vocab_ids(counter, vocab) for counter in self.counters]
        else:
            remaps = np.split(ids, np.cumsum([counter.n_words for counter in self.counters])[:-1])
        self.corpora = [encode(counter, remap) for counter, remap in zip(self.counters, remaps)]
        self.counters = []
        self.vocab = vocab
        return [fingerprint(encoded) for encoded in self.corpora]

    def start(self, config: TrainConfig, corpus_words: int, schedule: SyncSchedule, matrices: dict | None,
              rng_states: np.ndarray, report_loss: bool, force: bool) -> tuple[list[np.ndarray], int, np.ndarray]:
        """Build the replica from the driver's model, which ``matrices`` holds unless the run starts afresh
        (then the replica draws the same first weights from the seed), and load the kernels; returns the
        sentence each round of each shard starts at, the CRC of the input vectors it starts from, and
        the words of its shards (``np.packbits``), the only input vectors it reads."""
        self.trainer = new_trainer(self.vocab, config, corpus_words, force, report_loss)
        if matrices is not None:
            for name, matrix in self.trainer.matrices().items():
                matrix[...] = matrices[name]
        self.trainer.rng_states = rng_states.copy()
        self.synced = [matrix.copy() for matrix in self.trainer.matrices().values()]
        self.schedule = schedule
        self.round_starts = [np.searchsorted(encoded.sentence_starts,
                                             np.arange(schedule.rounds + 1) * encoded.n_words // schedule.rounds)
                             for encoded in self.corpora]
        reads = np.zeros(len(self.vocab), dtype=bool)
        for encoded in self.corpora:
            self.trainer.warm_up(encoded)
            reads[encoded.words] = True
        return self.round_starts, _rows_crc(self.trainer.matrices()["syn0"]), np.packbits(reads)

    def step(self, update: list[np.ndarray | FewRows] | None, round_in_epoch: int | None, words_before: int,
             tiers: list[int], take_loss: bool) -> tuple:
        """Take the driver's combined change of the rows sent last, train round ``round_in_epoch`` of
        every shard (none if ``None``) with the learning rate as ``words_before`` words into the run,
        and return what changed in the rows of ``tiers`` since they were last synchronised, the words
        trained, the loss since it was last taken (if asked for) and the random states."""
        matrices = list(self.trainer.matrices().values())
        if update is not None:
            for matrix, synced, rows, combined in zip(matrices, self.synced, self.sent, update):
                matrix[rows] = add_to_rows(synced, rows, combined)
        words = 0
        if round_in_epoch is not None:
            for encoded, starts in zip(self.corpora, self.round_starts):
                words += self.trainer.train_span(encoded, int(starts[round_in_epoch]),
                                                 int(starts[round_in_epoch + 1]), words_before)
        self.sent = self.schedule.rows_of(tiers)
        changes = self._changes_in(self.sent)
        loss = self.trainer.take_loss() if take_loss and self.trainer.losses is not None else None
        return changes, words, loss, self.trainer.rng_states.copy()

    def pending(self, tiers: list[int]) -> list[np.ndarray]:
        """What changed in the rows of ``tiers`` since they were last synchronised, which stay as they
        are: a checkpoint's look, which leaves the run as it would have gone without it."""
        return self._changes_in(self.schedule.rows_of(tiers))

    def _changes_in(self, rows: list[np.ndarray | slice]) -> list[np.ndarray | FewRows]:
        """What changed in each matrix's ``rows`` since they were last synchronised, as it travels."""
        return [moved_rows(difference_to_wire(matrix[r], synced[r]))
                for matrix, synced, r in zip(self.trainer.matrices().values(), self.synced, rows)]


def check_cluster_run(corpus, refused: dict, resumed: tuple[str, dict] | None = None) -> None:
    """Refuse what a cluster cannot train: the options of ``refused`` (flag: value) that are given, a
    corpus that is not files, and a resumed run (``resumed``: its checkpoint's path and header) that
    was trained in one process. A resumed run given no corpus trains on its own. The command line
    asks before it starts a cluster (``local:N``)."""
    for flag, value in refused.items():
        if value is not None:
            raise W2VError(f"{flag} cannot be used with --dask")
    if resumed is not None:
        path, header = resumed
        if "cluster" not in header:
            raise W2VError(f"the run in {path} was trained in one process: resume it without --dask")
        corpus = corpus or header.get("corpus")
    paths = corpus_paths(corpus)
    if paths is None or "-" in paths or any(map(is_special, paths)):
        raise W2VError("--dask trains on files that every worker can read, not on standard input, pipes or "
                       "Python sentences")


def train_on_cluster(client, corpus, options: dict, *, saved: Checkpoint | None = None, output: str | None = None,
                     binary: bool | None = None, checkpoint: str | None = None, checkpoint_every: float | None = None,
                     save_vocab: str | None = None, disk_corpus: str | None = None, vocab_memory=None,
                     report_loss: bool = False, force: bool = False, quiet: bool = True, refused: dict | None = None,
                     every_epoch: bool = False):
    """``trainer.train`` on the workers of ``client``'s cluster, all those it has now; the options are
    ``train``'s, but for those in ``refused`` (flag: value), which must be ``None``. ``every_epoch``
    synchronises as Spark's word2vec does, to be measured against (see ``syncing.py``)."""
    check_cluster_run(corpus, refused or {}, None if saved is None else (saved.path, saved.header))
    _check_client(client)
    paths = corpus_paths(corpus)
    run = _ClusterRun(client, Progress(0, quiet=quiet))
    options = dict(options)
    options.setdefault("threads", run.threads)  # Dask's threads a worker, 1 on a cluster from local:N
    config = TrainConfig(**options)
    budget = None if vocab_memory is None else parse_size(vocab_memory)
    binary = output_format(output, binary)
    minutes = CHECKPOINT_MINUTES if checkpoint_every is None else checkpoint_every
    keeper = None if checkpoint is None else Checkpointer(checkpoint, minutes, paths, output, binary)
    stats = ClusterStats(workers=len(run.addresses))
    try:
        begin = time.perf_counter()
        vocab = run.read(paths, config, saved, budget, disk_corpus, force)
        stats.read_seconds = time.perf_counter() - begin
        stats.corpus_words, stats.vocab_size = run.corpus_words, len(vocab)
        model = run.start(vocab, config, saved, report_loss, force, every_epoch)
        if save_vocab is not None:  # once a resumed run's weights are read whole: one refused keeps the file
            vocab.save(save_vocab)
        stats.rounds_per_epoch = run.schedule.rounds
        begin = time.perf_counter()
        run.train(model, keeper, stats, (paths, output, binary))
        stats.train_seconds = time.perf_counter() - begin
    finally:
        run.release()
    run.progress.say(f"trained {stats.words_trained:,} words in {stats.train_seconds:.2f} s "
                     f"({stats.words_per_second / 1e6:.3f}M words/s, {len(run.replicas)} workers x {config.threads} "
                     f"threads); synchronising sent and received {stats.sync_bytes / 2**20:,.1f} MiB")
    return finished_vectors(vocab, model.matrices()["syn0"], stats, output, binary, keeper, run.progress)


def _check_client(client) -> None:
    distributed = _distributed()
    if not isinstance(client, distributed.Client):
        raise WrongType(f"client must be a distributed.Client, not {type(client).__name__}")
    if client.status != "running":
        raise W2VError(f"the Dask client is {client.status}: train with a client that is running")


class _ClusterRun:
    """The driver's side of a run: the replicas, the shards they hold and the calls to them."""

    def __init__(self, client, progress: Progress) -> None:
        self.client = client
        self.progress = progress
        workers = self._workers("as the run started")
        deadline = time.monotonic() + START_SECONDS
        while not workers:  # asked again and again (Dask's wait_for_workers waits a minute for a scheduler
            if time.monotonic() > deadline:  # that is gone), so that a lost scheduler is said at once
                raise W2VError(f"no Dask worker joined the cluster within {START_SECONDS:.0f} s")
            time.sleep(POLL_SECONDS)
            workers = self._workers("while the run waited for a worker")
        self.addresses = sorted(workers)
        self.threads = min(workers[address] for address in self.addresses)
        self._check_code()
        self.futures = [client.submit(Replica, actor=True, workers=[address], allow_other_workers=False, pure=False)
                        for address in self.addresses]
        self.replicas = [self._wait(future, address, "starting its replica", START_SECONDS)
                         for future, address in zip(self.futures, self.addresses)]
        self.shards: list = []
        self.owned: list[list[int]] = []  # the shards of each replica, by index
        self.fingerprints: list[dict] = []
        self.corpus_words = 0
        self.schedule: SyncSchedule | None = None
        self.round_sentences: np.ndarray | None = None  # the corpus sentences before each round of an epoch
        self.rng_states: list[np.ndarray] = []
        self.config: TrainConfig | None = None
        self.start_position = (0, 0, 0)  # the epoch, round and words done where training starts
        self.sync_bytes = 0

    def _check_code(self) -> None:
        """Refuse workers that run another w2vfast than the driver: the replicas' arrays and calls
        change from one version of the code to the next, and a mismatch would fail deep in a round.
        The version number alone does not tell two checkouts apart, so the source files are compared."""
        def code() -> tuple[str, str, str]:  # nested, so sent by value: a worker runs it whatever w2vfast it has
            import hashlib
            import os

            import w2vfast

            folder = os.path.dirname(os.path.abspath(w2vfast.__file__))
            digest = hashlib.sha1()
            for name in sorted(os.listdir(folder)):
                if name.endswith(".py"):
                    with open(os.path.join(folder, name), "rb") as source:
                        digest.update(name.encode() + b"\0" + source.read())
            return w2vfast.__version__, digest.hexdigest()[:12], folder

        def named(version: str, digest: str, folder: str) -> str:
            return f"{version} ({digest}, {folder})"

        mine = code()
        try:  # Dask's run waits for every worker, a frozen one too, unless given a limit
            theirs = self.client.run(code, workers=self.addresses, on_error="return", callback_timeout=START_SECONDS)
        except TimeoutError:
            raise WorkerLost(f"a worker did not answer within {START_SECONDS:.0f} s when asked which w2vfast it "
                             "runs: it may be frozen or overloaded") from None
        except OSError as exc:
            raise WorkerLost(f"a worker was lost while checking its w2vfast ({_first_line(exc)})") from None
        for address in self.addresses:
            found = theirs.get(address)
            if isinstance(found, OSError):  # the connection, not the import: killed as it answered, say
                raise WorkerLost(f"worker {address} was lost while checking its w2vfast ({type(found).__name__}: "
                                 f"{found})", worker=address)
            if isinstance(found, Exception):
                raise W2VError(f"worker {address} cannot import w2vfast ({type(found).__name__}: {found}): install "
                               f"w2vfast {mine[0]} on every worker")
            if found is not None and found[:2] != mine[:2]:  # the folders may differ from machine to machine
                raise W2VError(f"worker {address} runs w2vfast {named(*found)}, this process {named(*mine)}: every "
                               "worker needs the same w2vfast")

    def _workers(self, when: str) -> dict[str, int]:
        """The workers in the cluster now, and their threads. Asked of the scheduler each time: the
        client's ``scheduler_info`` may answer from a cache that lists no worker. A client that lost
        its scheduler tries to reach it again for a minute, the question waiting (and Ctrl-C with it):
        one that is not connected, or a scheduler silent for ``STOP_SECONDS``, is a lost scheduler."""
        lost = WorkerLost(f"the Dask scheduler was lost {when}")
        if self.client.status != "running":
            raise lost
        try:
            return self.client.nthreads(callback_timeout=STOP_SECONDS)
        except (OSError, TimeoutError):
            raise lost from None

    def release(self) -> None:
        """Let the workers drop their replicas (and so their shards): the client may be used again."""
        with contextlib.suppress(Exception):  # a client or cluster already gone has nothing left to drop
            self.client.cancel(self.futures, force=True)

    def call(self, method: str, arguments: list[tuple], what: str, patience: float,
             replicas: list[int] | None = None, stop: StopRequest | None = None) -> list:
        """Call ``method`` of the replicas (by default all of them), replica i with ``arguments[i]``, all at
        once; returns their answers once all have come, within ``patience`` seconds each, or within
        ``STOP_SECONDS`` of the ``stop`` asked for, if one is."""
        replicas = list(range(len(self.replicas))) if replicas is None else replicas
        futures = []
        for i in replicas:
            try:
                futures.append(getattr(self.replicas[i], method)(*arguments[i]))
            except RuntimeError as exc:  # what Dask raises at once when it knows the replica's worker is gone
                raise self._lost(self.addresses[i], f"before {what}", exc) from None
        return [self._wait(future, self.addresses[i], what, patience, stop) for future, i in zip(futures, replicas)]

    def _wait(self, future, address: str, what: str, patience: float, stop: StopRequest | None = None):
        waited = 0.0
        while True:
            try:
                return future.result(timeout=POLL_SECONDS)
            except TimeoutError:
                waited += POLL_SECONDS
                if address not in self._workers(f"while {what}"):
                    raise self._lost(address, f"while {what}") from None
                if stop is not None and stop.signum is not None and time.monotonic() - stop.at > STOP_SECONDS:
                    raise WorkerLost(f"worker {address} did not answer within {STOP_SECONDS:.0f} s of the stop while "
                                     f"{what}", worker=address) from None
                if waited > patience:
                    raise WorkerLost(f"worker {address} did not answer within {patience:.0f} s while {what}",
                                     worker=address) from None
            except W2VError as exc:
                raise W2VError(f"worker {address}: {exc}") from None
            except MemoryError:
                raise W2VError(f"worker {address} ran out of memory while {what}") from None
            except (OSError, RuntimeError, CancelledError) as exc:  # what Dask raises for a worker gone, its
                raise self._lost(address, f"while {what}", exc) from None  # actor, or a scheduler lost

    def _lost(self, address: str, when: str, error: BaseException | None = None) -> WorkerLost:
        """Worker ``address`` gone ``when`` (as Dask's ``error`` says, in its first line); or the
        scheduler, when the client has lost it, since then every worker seems gone."""
        if self.client.status != "running":
            return WorkerLost(f"the Dask scheduler was lost {when}", worker=address)
        reason = "" if error is None else f" ({_first_line(error)})"
        return WorkerLost(f"worker {address} was lost {when}{reason}", worker=address)

    def read(self, paths: list[str], config: TrainConfig, saved: Checkpoint | None, budget: int | None,
             disk_dir: str | None, force: bool) -> Vocab:
        """Shard, count and encode the corpus on the workers; returns the vocabulary."""
        begin = time.perf_counter()
        absolute = _packed([os.path.abspath(path) for path in paths])  # as this process sees them
        answers = self.call("readable", [(absolute,)] * len(self.replicas), "checking the corpus paths", START_SECONDS)
        seen = [_unpacked(files) for files in answers]
        for address, files in zip(self.addresses, seen):
            if files != seen[0]:
                raise W2VError(f"worker {address} sees other corpus files than worker {self.addresses[0]}: "
                               "every worker must see the same files")
        if saved is not None:
            self.shards = resumed_shards(saved.header["cluster"]["shards"], seen[0], saved.path)
        else:
            files = _packed([path for path, _ in seen[0]])
            planned = self.call("plan", [(files, len(self.replicas))], "cutting the corpus into shards",
                                START_SECONDS, replicas=[0])
            self.shards = _unpacked(planned[0])
        holders = min(len(self.replicas), len(self.shards))
        self.replicas, self.addresses = self.replicas[:holders], self.addresses[:holders]
        self.owned = [list(range(i, len(self.shards), holders)) for i in range(holders)]
        patience = SETUP_SECONDS + max(map(shard_bytes, self.shards)) * len(self.owned[0]) / READ_BYTES_PER_SECOND
        self._count(config, budget, disk_dir, force, patience)
        ids = [None] * holders
        if saved is not None:
            vocab = saved.vocab
        else:
            by_shard = [None] * len(self.shards)
            for owned, words in zip(self.owned, self.call("words", [()] * holders, "sending its words", patience)):
                for s, shard in zip(owned, words):
                    by_shard[s] = shard
            if sum(len(counts) for _, counts in by_shard) == 0:
                raise W2VError("the corpus is empty: it holds no words")
            vocab, shard_ids = merge_counts(by_shard, config.min_count, config.max_vocab)
            if len(vocab) == 0:
                raise W2VError(f"the vocabulary is empty: no word occurs --min-count {config.min_count} times or more")
            ids = [np.concatenate([shard_ids[s] for s in owned]) for owned in self.owned]
        self.fingerprints = [None] * len(self.shards)
        words = _packed(vocab.words)
        encoded = self.call("encode", [(words, vocab.counts, ids[i]) for i in range(holders)], "encoding its shard",
                            patience)
        for owned, prints in zip(self.owned, encoded):
            for s, shard_print in zip(owned, prints):
                self.fingerprints[s] = shard_print
        self.corpus_words = sum(f["corpus_words"] for f in self.fingerprints)
        if self.corpus_words == 0:
            raise W2VError("no corpus word is in the vocabulary")
        if saved is not None and self.fingerprints != saved.header["cluster"]["fingerprints"]:
            raise W2VError(f"the corpus does not match the checkpoint {saved.path}: its shards do not hold the "
                           "same text")
        self.progress.say(f"corpus: {self.corpus_words:,} words in {len(self.shards)} shards on {holders} workers, "
                          f"vocabulary {len(vocab):,} words, read in {time.perf_counter() - begin:.2f} s")
        return vocab

    def _count(self, config: TrainConfig, budget: int | None, disk_dir: str | None, force: bool,
               patience: float) -> None:
        """Have every replica count its shards, a second time with the corpus's sketch if the distinct
        words outgrew a worker's budget or would outgrow the driver's (see the module's docstring)."""
        held = [(_packed([self.shards[s] for s in owned]), config.threads, budget, disk_dir, force)
                for owned in self.owned]
        counted = self.call("count", held, "counting its shard", patience)
        merging = budget if budget is not None else counting_budget(0)
        if all(needed is not None for _, needed in counted) and \
                (merging is None or sum(needed for _, needed in counted) <= merging):
            return
        outgrown = [given for given, needed in counted if needed is None]
        threshold = sketch_threshold(config.min_count, min(outgrown or [merging]))
        smallest = min((given for given, _ in counted if given is not None), default=merging or 1 << 30)
        compressed = any(end == WHOLE for shard in self.shards for _, _, end in shard)
        tokens = sum(map(shard_bytes, self.shards)) // TEXT_BYTES_PER_WORD
        slots = sketch_slots(smallest, None if compressed else tokens)
        total = np.zeros(slots, dtype=np.uint8)
        for sketch in self.call("sketch", [(slots,)] * len(self.owned), "sketching its shard", patience):
            add_sketches(total, sketch)
        counted = self.call("count", [arguments + (total, threshold) for arguments in held],
                            "counting its shard again", patience)
        if any(needed is None for _, needed in counted):
            raise not_fitting(config.min_count, smallest)
        if merging is not None and sum(needed for _, needed in counted) > merging:  # the driver merges them all
            raise not_fitting(config.min_count, merging)
        self.progress.say("counting: the shards' distinct words outgrew --vocab-memory, so the workers read them "
                          f"a second time, adding only words that may occur --min-count {config.min_count} times "
                          "in the whole corpus")

    def start(self, vocab: Vocab, config: TrainConfig, saved: Checkpoint | None, report_loss: bool, force: bool,
              every_epoch: bool):
        """Build the driver's model (or restore it from ``saved``) and every replica from it; returns the
        model, a trainer that never trains."""
        self.config = config
        model = new_trainer(vocab, config, self.corpus_words, force)
        holders = len(self.replicas)
        if saved is not None:
            saved.restore(model)
            kept = saved.arrays({})["rng_states"]
            kept_run = saved.header["cluster"]
            every_epoch, rounds = kept_run["every_epoch"], kept_run["rounds"]
            epoch, round_in_epoch = saved.header["epoch"], kept_run["round"]
            if round_in_epoch == rounds:
                epoch, round_in_epoch = epoch + 1, 0
            self.start_position = (epoch, round_in_epoch, saved.header["words_done"])
        else:
            kept = None
            rounds = max(1, math.ceil(self.corpus_words / ROUND_WORDS))
        if kept is not None and len(kept) == holders * config.threads:
            self.rng_states = list(kept.reshape(holders, config.threads))
        else:
            seeds = np.random.SeedSequence(config.seed if kept is None else kept.tolist()).spawn(holders)
            self.rng_states = [seed.generate_state(config.threads, np.uint64) for seed in seeds]
        tables = model.tables
        round_words = max(1, self.corpus_words // rounds)
        self.schedule = plan_sync(vocab.counts, tables.keep_prob, config, tables.hs_points, tables.hs_lengths,
                                  model.shared_rows, round_words, rounds, every_epoch, holders)
        # A fresh run's first weights are drawn from the seed: each replica draws them again rather than take
        # the model's (1.1 GB a worker, 9-14 s of a run's start, for 2.75M words of 50 dimensions).
        matrices = None if saved is None else \
            {name: np.ascontiguousarray(matrix) for name, matrix in model.matrices().items()}
        replica_config = replica_learning_rate(config, self.schedule.speedup)
        answers = self.call("start", [(replica_config, self.corpus_words, self.schedule, matrices,
                                       self.rng_states[i], report_loss, force) for i in range(holders)],
                            "building its replica", SETUP_SECONDS)
        expected = _rows_crc(model.matrices()["syn0"])
        for address, (_, crc, _) in zip(self.addresses, answers):
            if crc != expected:
                raise W2VError(f"worker {address} starts from other weights than this process: every worker needs "
                               "the same w2vfast, numpy and numba")
        self.round_sentences = sum(np.asarray(s) for shard_starts, _, _ in answers for s in shard_starts)
        self.reads = [np.unpackbits(reads, count=len(vocab)).astype(bool) for _, _, reads in answers]
        return model

    def train(self, model, keeper: Checkpointer | None, stats: ClusterStats, run: tuple) -> None:
        """Train every epoch in rounds from where the run is (its start, or its checkpoint's position),
        synchronising the replicas with ``model`` after each round; ``run`` is the corpus paths, the output
        and its format, which a checkpoint written when a worker is lost keeps."""
        config, rounds = self.config, self.schedule.rounds
        if keeper is not None:
            keeper.run.update(self._corpus_print())
        epoch, round_in_epoch, done = self.start_position
        epoch_began = done
        progress = Progress(config.epochs * self.corpus_words, quiet=self.progress.quiet, done=done)
        updates, slowest = [None] * len(self.replicas), 0.0

        def stopped(lost: WorkerLost, position: tuple[int, int], taken: list | None = None):
            """What stops the run once ``lost``, its checkpoint saved: a stop asked for, which may be what
            ended the worker (a batch system's SIGTERM reaches every process), or the lost worker."""
            lost = self._salvage(lost, model, keeper, done, position, run, taken)
            return lost if stop.signum is None else Interrupted(stop.signum, lost.checkpoint)

        with stop_at_safe_point() as stop:
            while epoch < config.epochs:
                last = round_in_epoch == rounds - 1
                stopping = stop.signum is not None
                tiers = self.schedule.due(round_in_epoch, stopping)
                began = time.perf_counter()
                steps = [(update, None, done, tiers, False) if stopping else (update, round_in_epoch, done, tiers, last)
                         for update in updates]
                try:
                    answers = self.call("step", steps,
                                        f"training round {round_in_epoch + 1} of epoch {epoch + 1}",
                                        max(ROUND_SECONDS, 20 * slowest), stop=stop)
                except WorkerLost as lost:
                    raise stopped(lost, (epoch, round_in_epoch)) from None
                slowest = max(slowest, time.perf_counter() - began)
                self.rng_states = [answer[3] for answer in answers]
                done += sum(answer[1] for answer in answers)
                rows = self.schedule.rows_of(tiers)
                updates = self._updates(rows, self._synchronise(model, rows, [answer[0] for answer in answers]))
                stats.sync_bytes = self.sync_bytes
                if stopping:
                    progress.close()
                    self._save(model, keeper, (epoch, round_in_epoch), done, stopping=True)
                    raise Interrupted(stop.signum, None if keeper is None else keeper.path)
                progress.update(done, model.alpha_at(done))
                if last:
                    self._end_epoch(model, epoch, done - epoch_began, answers, stats, progress)
                    epoch_began = done
                round_in_epoch += 1
                if keeper is not None and (keeper.due() or (last and epoch == config.epochs - 1)):
                    try:
                        self._save(model, keeper, (epoch, round_in_epoch), done, checked=last, synchronised=tiers,
                                   stop=stop)
                    except WorkerLost as lost:  # asked for its changes: the replicas have not taken this round's
                        raise stopped(lost, (epoch, round_in_epoch), updates) from None
                if round_in_epoch == rounds:
                    epoch, round_in_epoch = epoch + 1, 0
            if stop.signum is not None:  # it came in the last round or its save: the checkpoint holds the run done
                progress.close()
                raise Interrupted(stop.signum, None if keeper is None else keeper.path)
        progress.close()

    def _end_epoch(self, model, epoch: int, words: int, answers: list, stats: ClusterStats,
                   progress: Progress) -> None:
        """Keep the ``words`` and the loss of the epoch just ended, and refuse a model gone to NaN or infinity."""
        stats.epoch_words.append(words)
        if answers[0][2] is not None:
            stats.epoch_loss.append(sum(answer[2] for answer in answers))
            progress.say(f"epoch {epoch + 1}: loss {stats.epoch_loss[-1]:.6g}")
        model.check_finite(epoch, progress)

    def _synchronise(self, model, rows: list[np.ndarray | slice], changes: list) -> list[np.ndarray]:
        """Add the replicas' combined ``changes`` to the model's ``rows`` of each matrix (``rows_of`` the tiers
        synchronised); returns the combined change."""
        combined = self.schedule.combine(changes)
        for matrix, matrix_rows, change in zip(model.matrices().values(), rows, combined):
            add_to_rows(matrix, matrix_rows, change)
        self.sync_bytes += sum(c.nbytes for answer in changes for c in answer)
        return combined

    def _updates(self, rows: list[np.ndarray | slice], combined: list[np.ndarray]) -> list[list[np.ndarray | FewRows]]:
        """The ``combined`` change of each matrix's ``rows`` as it goes to each replica, which adds it to its
        rows as they were last synchronised: of ``syn0`` only the rows it reads (``syncing.rows_read``)."""
        updates = [[rows_read(combined[0], reads[rows[0]]), *combined[1:]] for reads in self.reads]
        self.sync_bytes += sum(change.nbytes for update in updates for change in update)
        return updates

    def _corpus_print(self) -> dict:
        """The corpus's fingerprint in a checkpoint's header: its size, and a CRC of its shards' CRCs."""
        crcs = np.array([f["corpus_crc32"] for f in self.fingerprints], dtype=np.uint32)
        return {"corpus_words": self.corpus_words, "corpus_sentences": int(self.round_sentences[-1]),
                "corpus_crc32": zlib.crc32(crcs.tobytes())}

    def _save(self, model, keeper: Checkpointer | None, position: tuple[int, int], done: int,
              stopping: bool = False, checked: bool = False, synchronised: list[int] | None = None,
              stop: StopRequest | None = None) -> None:
        """Write the model at ``position`` (epoch, round) to ``keeper``'s file, once sure it is finite unless
        ``checked`` already (at an epoch's end); a save that fails only warns, and training goes on, unless
        the run is stopping. The rows of the tiers not ``synchronised`` (by default all are) are saved with
        the replicas' changes since they last were, as a synchronisation would make them, but the run goes
        on as if there had been no save: a run with checkpoints writes the vectors of one without. A
        replica silent ``STOP_SECONDS`` after the ``stop`` asked for is lost."""
        if keeper is None:
            return
        epoch, round_in_epoch = position
        rest = [] if synchronised is None else sorted(set(range(len(self.schedule.rows))) - set(synchronised))
        rows = self.schedule.rows_of(rest)
        kept = [matrix[r].copy() for matrix, r in zip(model.matrices().values(), rows)] if rest else []
        where = {"epoch": epoch, "sentence": int(self.round_sentences[round_in_epoch]), "words_done": done,
                 "cluster": {"shards": self.shards, "fingerprints": self.fingerprints, "rounds": self.schedule.rounds,
                             "round": round_in_epoch, "every_epoch": self.schedule.every_epoch}}
        try:
            if rest:
                changes = self.call("pending", [(rest,)] * len(self.replicas), "sending its changes for a "
                                    "checkpoint", ROUND_SECONDS, stop=stop)
                self._synchronise(model, rows, changes)
            if not checked or rest:
                model.check_finite(epoch, self.progress)
            try:
                keeper.write(model, where, np.concatenate(self.rng_states))
            except W2VError as exc:
                if stopping:
                    raise
                self.progress.say(keeper.failed(exc), even_if_quiet=True)
        finally:
            for matrix, r, old in zip(model.matrices().values(), rows, kept):
                matrix[r] = old

    def _salvage(self, lost: WorkerLost, model, keeper: Checkpointer | None, done: int,
                 position: tuple[int, int], run: tuple, updates: list | None = None) -> WorkerLost:
        """After ``lost``: take into the model what the other replicas changed since their last
        synchronisation (after the combined change ``updates`` of the round synchronised last, if they
        have not taken it yet) and write a checkpoint at ``position``, the round under way, which a
        resumed run trains again (to ``keeper``'s file, else beside the output); returns the error to stop with."""
        paths, output, binary = run
        if keeper is None and output not in (None, STANDARD_OUTPUT):  # standard output has no place beside it
            keeper = Checkpointer(_free_name(output, ".ckpt"), CHECKPOINT_MINUTES, paths, output, binary)
            keeper.run.update(self._corpus_print())
        others = [i for i, address in enumerate(self.addresses) if address != lost.worker]
        everything = list(range(len(self.schedule.rows)))
        with contextlib.suppress(WorkerLost):
            answers = self.call("step", [(update, None, done, everything, False)
                                         for update in updates or [None] * len(self.replicas)],
                                "sending its changes", ROUND_SECONDS, replicas=others)
            self._synchronise(model, self.schedule.rows_of(everything), [answer[0] for answer in answers])
            for i, answer in zip(others, answers):
                self.rng_states[i] = answer[3]
        try:
            self._save(model, keeper, position, done, stopping=True)
        except W2VError:
            keeper = None
        return WorkerLost(lost.reason, None if keeper is None else keeper.path, lost.worker)


def _rows_crc(matrix: np.ndarray) -> int:
    """The CRC of ``matrix``'s values (a view of padded rows, read a block of rows at a time)."""
    crc = 0
    for start in range(0, len(matrix), INIT_ROWS):
        crc = zlib.crc32(np.ascontiguousarray(matrix[start:start + INIT_ROWS]), crc)
    return crc


def _packed(value) -> bytes:
    """``value`` pickled, to go to or from a worker as one block: Dask sends a list of strings, bytes or
    tuples a frame an item (1.4 s a worker for 68K words, 0.6 s for 20K paths) on the event loop that
    also answers for a local cluster's scheduler."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _unpacked(block: bytes):
    """The value that ``_packed`` made ``block`` of."""
    return pickle.loads(block)


def _first_line(error: BaseException) -> str:
    """What ``error`` says, in one line (Dask's cancellations take two), or its kind if it says nothing."""
    said = str(error).strip()
    return said.splitlines()[0].rstrip(".") if said else type(error).__name__


def _free_name(output: str, suffix: str) -> str:
    """``output + suffix``, or if a file holds that name (another run's checkpoint, say, which must not
    be lost) ``output.1`` + ``suffix`` and on: the first name that holds none."""
    path, number = output + suffix, 0
    while os.path.lexists(path):
        number += 1
        path = f"{output}.{number}{suffix}"
    return path
