"""Phrases: join frequent collocations into single tokens (new york -> new_york), as the C tool's
word2phrase and gensim's Phrases do.

A pass counts the words and the adjacent pairs of words of one line, scores every pair and joins,
from left to right, each pair that scores above the threshold; a word just joined to the word before
it does not join the word after it in the same pass (word2phrase's rule), so one pass builds
bigrams and a second one trigrams and 4-grams. The default score is word2phrase's,

    (count(ab) - min_count) / count(a) / count(b) * words,

in float32 and in that order, so that the same pairs pass the same threshold; ``npmi`` is gensim's
normalised pointwise mutual information, in [-1, 1].

The text is never decoded. The corpus scanner (``corpus.WordCounter``) gives every token an id; the
passes work on that id sequence, each one compacting it in place, and remember for every token of
the text whether it is joined to the token before it. Only then is the text read again and written
back byte for byte, but for the whitespace between joined tokens, which becomes the delimiter.

Memory: the id sequence (4 bytes a token) and two bytes a token for the joins (the marks, and the
tokens' alone for the rewrite), all on disk with ``disk_dir``; the scanner's table of distinct words;
and tables of pair counts that together never exceed ``PAIR_TABLE_BYTES``: the pairs are counted
in as many hash partitions as that takes, each a sweep over the ids, one partition per thread at a
time, and only the pairs that pass are kept.

Each compiled call chain stays inside this file, since Numba's cache does not see changes elsewhere.
"""

from __future__ import annotations

import codecs
import contextlib
import math
import os
import queue
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .config import MOST_THREADS, PHRASE_DELIMITER, PHRASE_MIN_COUNT, PHRASE_SCORINGS, PHRASE_THRESHOLD
from .counting import SENTENCE_END, WHITESPACE, WordCounter, in_background, whole_tokens
from .errors import W2VError, unreadable
from .io import (STANDARD_OUTPUT, WholeWrites, allocate, atomic_write, check_apart, check_writable, is_special,
                 output_name)
from .memory import TEXT_BYTES_PER_WORD, corpus_bytes, ensure_fits
from .progress import Progress
from .sources import (changed_file, corpus_files, file_states, read_ahead, read_blocks, read_decompressed,
                      standard_input, text_size)

PAIR_TABLE_BYTES = 1 << 28  # the pair-count tables of all threads together
_POLL_SECONDS = 0.1  # how soon the writing thread sees that it is no longer wanted
# Bytes written between flushes to disk: a block's text, so a large file's flushes overlap the next
# block's joining; each of a directory's small files flushed alone took 0.6 ms (60 s for 100,000 files).
_SYNC_BYTES = 1 << 24
MOST_PASSES = 64  # the default scoring's first threshold is 2^(passes - 1) times the last
_HIGHEST_COUNT = 1 << 62  # a --min-count above every count a corpus can have, within Numba's int64
TABLE_MAGIC = b"# w2vfast phrases 1"
_EMPTY = np.int64(-1)
_CHUNK = 1 << 24  # marks copied this many at a time, so that no temporary is as large
_SPLIT_BYTES = 1 << 20  # a block at least this long is rewritten in two halves at once
_SPLIT_IDS = 1 << 20  # a pass over at least this many ids joins them in two halves at once
_AHEAD = 16  # pairs between a table row's prefetch and its count: a power of two
_JOINED, _STARTS, _LINE_END = 1, 0, 2  # what each entry of the id sequence is to the text
_CHANGED = "the corpus changed between its two readings: it was counted as other text than was phrased"


@dataclass
class PhraseConfig:
    """How phrases are found: the counts a word and a pair need, the score a pair must beat, how
    many passes, and what joins the words."""

    min_count: int = PHRASE_MIN_COUNT
    threshold: float | None = None  # None: the scoring's default (``PHRASE_THRESHOLD``)
    scoring: str = "default"
    passes: int = 1
    delimiter: bytes = PHRASE_DELIMITER
    threads: int = 1

    def __post_init__(self) -> None:
        if self.scoring not in PHRASE_SCORINGS:
            raise W2VError(f"--scoring must be {' or '.join(map(repr, PHRASE_SCORINGS))}, not {self.scoring!r}")
        if self.threshold is None:
            self.threshold = PHRASE_THRESHOLD[self.scoring]
        if self.min_count < 1:
            raise W2VError(f"--min-count must be at least 1, not {self.min_count}")
        self.min_count = min(self.min_count, _HIGHEST_COUNT)  # no pair passes either way
        if self.scoring == "default" and not (0 <= self.threshold < math.inf):
            raise W2VError(f"--threshold must be a finite number, 0 or more, for the default scoring, not "
                           f"{self.threshold}")
        if self.scoring == "npmi" and not -1 <= self.threshold <= 1:
            raise W2VError(f"--threshold must lie between -1 and 1 for npmi scoring, not {self.threshold}")
        if not 1 <= self.passes <= MOST_PASSES:
            raise W2VError(f"--passes must lie between 1 and {MOST_PASSES}, not {self.passes}")
        if not self.delimiter or any(byte in WHITESPACE for byte in self.delimiter):
            raise W2VError(f"--delimiter must be one or more bytes and no whitespace, not {self.delimiter!r}")
        if not 1 <= self.threads <= MOST_THREADS:
            raise W2VError(f"--threads must lie between 1 and {MOST_THREADS}, not {self.threads}")

    def thresholds(self) -> list[float]:
        """The threshold of each pass. With the default scoring each pass halves it, ending at
        ``threshold``: 200 then 100 for two passes, as the word2vec demo scripts run word2phrase.
        An npmi threshold is a normalised score, and every pass keeps it."""
        if self.scoring == "npmi":
            return [self.threshold] * self.passes
        return [self.threshold * 2.0 ** (self.passes - 1 - k) for k in range(self.passes)]


@dataclass
class PhraseTable:
    """The pairs each pass joins: ``passes[k]`` lists ``(left, right, count, score)``, the two
    tokens as bytes (a later pass's tokens may be phrases themselves)."""

    delimiter: bytes
    passes: list[list[tuple[bytes, bytes, int, float]]] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(joined) for joined in self.passes)

    def join(self, counter: WordCounter, threads: int = 1, disk_dir: str | None = None) -> None:
        """Join this table's phrases in the text the counter has read, pass by pass (its ids end
        compacted, the phrases added to its words): ``train --phrases``."""
        _, _, n_ids, phrases = join_passes(counter, PhraseConfig(delimiter=self.delimiter, threads=threads), self,
                                           Progress(0, quiet=True), disk_dir)
        counter.replace_ids(n_ids, phrases)

    def words(self) -> list[bytes]:
        """Every token the table joins and every phrase it makes: the words whose counts joining
        can change, which bounded counting must keep (see ``counting.py``)."""
        return [word for joined in self.passes for left, right, _, _ in joined
                for word in (left, right, left + self.delimiter + right)]

    def phrases(self) -> list[bytes]:
        return [left + self.delimiter + right for joined in self.passes for left, right, _, _ in joined]

    def save(self, path: str) -> None:
        """Plain text: a header, then a line per phrase, ``phrase count score pass left-bytes``, the
        last field saying where the phrase splits (its tokens may hold the delimiter too)."""
        with atomic_write(path) as out:
            out.write(TABLE_MAGIC + b" delimiter=" + self.delimiter.hex().encode() +
                      f" passes={len(self.passes)}\n".encode())
            out.write(b"# phrase\tcount\tscore\tpass\tleft-bytes\n")
            for k, joined in enumerate(self.passes, 1):
                for left, right, count, score in joined:
                    out.write(left + self.delimiter + right +
                              f"\t{count}\t{score!r}\t{k}\t{len(left)}\n".encode())

    @classmethod
    def load(cls, path: str) -> PhraseTable:
        header, _, rest = read_decompressed(path, f"phrase table {path}").partition(b"\n")  # gzip too, as a vocabulary
        header = header.removeprefix(codecs.BOM_UTF8)  # an editor's, dropped as elsewhere
        lines = rest.split(b"\n")
        fields = header.split()
        if not header.startswith(TABLE_MAGIC + b" ") or len(fields) != 6:
            raise W2VError(f"{path} is not a w2vfast phrase table (see --save-phrases)")
        number = 1
        try:
            delimiter = bytes.fromhex(fields[4].removeprefix(b"delimiter=").decode())
            if not delimiter or any(byte in WHITESPACE for byte in delimiter):  # before a phrase's check blames a line
                raise W2VError(f"phrase table {path} is damaged: its delimiter is {delimiter!r}")
            if not (fields[4].startswith(b"delimiter=") and fields[5].startswith(b"passes=")):
                raise ValueError
            passes = _natural(fields[5].removeprefix(b"passes="))
            if not 1 <= passes <= MOST_PASSES:
                raise ValueError
            table = cls(delimiter, [[] for _ in range(passes)])
            for number, line in enumerate(lines, 2):
                if not line or line.startswith(b"# "):  # a comment: a phrase holds no space
                    continue
                phrase, count, score, k, split = line.split(b"\t")
                split, k, count, score = _natural(split), _natural(k), _natural(count), float(score)
                if not (phrase[split:split + len(delimiter)] == delimiter and 0 < split and
                        split + len(delimiter) < len(phrase) and 1 <= k <= len(table.passes) and
                        count > 0 and math.isfinite(score) and len(phrase.translate(None, WHITESPACE)) == len(phrase)):
                    raise ValueError  # what --save-phrases never writes: a token holds no whitespace
                table.passes[k - 1].append((phrase[:split], phrase[split + len(delimiter):], count, score))
        except (ValueError, IndexError, UnicodeDecodeError):
            raise W2VError(f"phrase table {path} is damaged near line {number}") from None
        return table


def _natural(digits: bytes) -> int:
    """A number as ``--save-phrases`` writes it: digits alone (``int`` also takes ``+1``, `` 1``, ``5_0``)."""
    if not digits.isdigit():
        raise ValueError
    return int(digits)


def phrase_corpus(corpus: list[str], output: str, config: PhraseConfig | None = None, *,
                  save_phrases: str | None = None, apply: str | None = None, disk_dir: str | None = None,
                  quiet: bool = True, force: bool = False) -> PhraseTable:
    """Write ``corpus`` (paths, ``-`` for standard input, compressed or not) to ``output`` (``-``:
    standard output) with its phrases joined: found by counting with ``config``, or those of the
    saved table ``apply``. ``save_phrases`` writes the table found. Returns the table."""
    config = config or PhraseConfig()
    progress = Progress(0, quiet=quiet)
    for path in (output, save_phrases):
        if path is not None:
            check_writable(path)
    files = corpus_files(corpus)
    check_apart({"-o": output, "--save-phrases": save_phrases}, files, {"the --apply table": apply})
    if apply == "-":  # it was "cannot read phrase table -: No such file or directory"
        raise W2VError("--apply needs a file, not - (standard input)")
    given = PhraseTable.load(apply) if apply is not None else None
    text_bytes, streamed = text_size(files)
    needed = {"pair tables": PAIR_TABLE_BYTES, **corpus_bytes(text_bytes, disk_dir is not None, streamed)}
    if disk_dir is None:
        needed["marks"] = 2 * (text_bytes // TEXT_BYTES_PER_WORD)
    ensure_fits("phrasing the corpus", needed, "--disk-corpus DIR keeps its ids and marks on disk", force)
    with _readable_twice(files) as copies:
        before = file_states(files)
        start = time.perf_counter()
        loaded = in_background(_load_kernels)
        counter = WordCounter(text_bytes, disk_dir, config.threads)
        for block, ends_file in read_ahead(read_blocks(files, copies=copies)):
            counter.feed(block, ends_file)
        loaded()
        if counter.n_words == 0:  # as train says: an empty output would replace the one there was
            raise W2VError("the corpus is empty: it holds no words")
        progress.say(f"read {int(np.count_nonzero(counter.ids >= 0)):,} words, {counter.n_words:,} distinct, "
                     f"in {time.perf_counter() - start:.2f} s")
        table, marks, _, _ = join_passes(counter, config, given, progress, disk_dir)
        start = time.perf_counter()
        sync = output != STANDARD_OUTPUT and not is_special(output)
        with atomic_write(output) as out:
            with _written_behind(out, sync) as write:
                _write_joined(files, copies, marks, table.delimiter, write, config.threads, disk_dir)
                if changed_file(files, before) is not None:  # one token for another of its length, say
                    raise W2VError(_CHANGED)
            written = time.perf_counter() - start
            if save_phrases is not None:  # before the text is renamed into place: a run that fails keeps both
                out.flush()  # files there were, not a new text beside an old table, so the text's last
                if sync:  # bytes fail first (a full disk, or one that a device or pipe meets at its flush)
                    os.fsync(out.fileno())
                table.save(save_phrases)
        if output != STANDARD_OUTPUT:
            progress.say(f"wrote {output} in {written:.2f} s")
    if save_phrases is not None:
        progress.say(f"wrote {len(table):,} phrases to {output_name(save_phrases)}")
    return table


def _load_kernels() -> None:
    """Call each compiled pass once on nothing, with the types of the real calls: in a fresh process
    a first call loads it from Numba's cache, 20-40 ms each, which this does while the scan, which
    lets go of the interpreter, reads the text. A failure here is left to the real calls to meet."""
    with contextlib.suppress(Exception):
        _call_each_kernel()


def _call_each_kernel() -> None:
    ids = np.zeros(2, dtype=np.int32)
    counts, eligible, _ = _candidates(ids, 1, 1, True, 1.0)
    _count_and_score(ids, eligible, 1, 0, np.empty((16, 2), dtype=np.int64), counts, 1, 1.0, False, 2)
    none = np.empty(0, dtype=np.int64)
    marks = np.zeros(2, dtype=np.uint8)
    _mark_line_ends(ids, marks)
    _join(ids, 0, 1, none, none, none, marks)
    _fresh_start(ids, 0, 1, none, none, marks)
    _close_gap(ids, 0, 0, 0)
    text = np.frombuffer(b"  ", dtype=np.uint8)
    _rewrite(text, True, np.zeros(1, dtype=np.uint8), np.zeros(1, dtype=np.int64), np.frombuffer(b"_", dtype=np.uint8),
             np.empty(4, dtype=np.uint8))
    _count_tokens(text)


def join_passes(counter: WordCounter, config: PhraseConfig, given: PhraseTable | None, progress: Progress,
                disk_dir: str | None = None) -> tuple[PhraseTable, np.ndarray, int, list[bytes]]:
    """Run the passes over the counter's ids, compacting them in place. Returns the table; for every
    id the scan wrote, whether its token joins the one before (``_JOINED``), starts a token
    (``_STARTS``) or is a line end (``_LINE_END``); how many ids are left; and the phrases that are
    new words, whose ids follow the counter's. With ``disk_dir`` the marks are kept on disk there."""
    ids = counter.ids
    marks = _scratch_bytes(ids.shape[0], disk_dir)
    _mark_line_ends(ids, marks)
    delimiter = config.delimiter if given is None else given.delimiter
    table = PhraseTable(delimiter)
    words = _Words(counter, delimiter, index_all=given is not None)
    n = ids.shape[0]
    passes = len(given.passes) if given is not None else config.passes
    for k in range(passes):
        start = time.perf_counter()
        if given is None:
            threshold = config.thresholds()[k]
            lefts, rights, counts, scores = _passing_pairs(ids[:n], len(words), config, threshold)
            chosen = list(zip(words.of(lefts), words.of(rights), counts.tolist(), scores.tolist()))
            detail = f"threshold {threshold:g}"
        else:
            chosen = [(left, right, count, score) for left, right, count, score in given.passes[k]
                      if left in words.index and right in words.index]
            lefts = np.array([words.index[left] for left, _, _, _ in chosen], dtype=np.int64)
            rights = np.array([words.index[right] for _, right, _, _ in chosen], dtype=np.int64)
            detail = "from the saved table"
        table.passes.append(chosen)
        phrase_ids = np.array(words.add([left + delimiter + right for left, right, _, _ in chosen]), dtype=np.int64)
        before = n
        n = _join_in_halves(ids, n, len(words), lefts, rights, phrase_ids, marks, config.threads)
        progress.say(f"pass {k + 1}: {detail}, {len(chosen):,} phrases, {before - n:,} joins, "
                     f"{time.perf_counter() - start:.2f} s")
    return table, marks, n, words.phrases


def _join_in_halves(ids, n, n_words, lefts, rights, phrases, marks, threads: int) -> int:
    """``_join``, with two threads or more on ``_SPLIT_IDS`` ids or more as two halves at once, cut
    where the pass starts afresh (``_fresh_start``); the later half's ids then move down to follow
    the earlier's."""
    cut, mark = _fresh_start(ids, n, n_words, lefts, rights, marks) if threads > 1 and n >= _SPLIT_IDS else (-1, -1)
    if cut < 0:
        return _join(ids, n, n_words, lefts, rights, phrases, marks)
    left = [0, 0]

    def half(k: int) -> None:
        if k == 0:
            left[0] = _join(ids[:cut], cut, n_words, lefts, rights, phrases, marks[:mark])
        else:
            left[1] = _join(ids[cut:n], n - cut, n_words, lefts, rights, phrases, marks[mark:])

    _run_threads(half, 2)
    _close_gap(ids, left[0], cut, left[1])
    return left[0] + left[1]


class _Words:
    """The words of the passes by id: the counter's, then the phrases the passes make. ``index``
    finds a word's id by its bytes: every word's when a saved table must be matched to the text,
    else only the counter's words that contain the delimiter, the only ones a phrase can equal."""

    def __init__(self, counter: WordCounter, delimiter: bytes, index_all: bool) -> None:
        self.counter = counter
        self.scanned = counter.n_words
        self.phrases: list[bytes] = []
        known = range(self.scanned) if index_all else counter.words_containing(delimiter)
        self.index = dict(zip(counter.words(known), known))

    def __len__(self) -> int:
        return self.scanned + len(self.phrases)

    def of(self, ids: np.ndarray) -> list[bytes]:
        scanned = ids < self.scanned
        if scanned.all():
            return self.counter.words(ids)
        found = iter(self.counter.words(ids[scanned]))
        return [next(found) if i < self.scanned else self.phrases[i - self.scanned] for i in ids.tolist()]

    def add(self, phrases: list[bytes]) -> list[int]:
        """The ids of ``phrases``: a word's already, or the next ones."""
        index, added, ids = self.index, self.phrases, []
        for phrase in phrases:
            found = index.get(phrase)
            if found is None:
                found = index[phrase] = self.scanned + len(added)
                added.append(phrase)
            ids.append(found)
        return ids


def _passing_pairs(ids: np.ndarray, n_words: int, config: PhraseConfig,
                   threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of adjacent tokens of one line whose score passes ``threshold``: their left and
    right ids, counts and scores, in the order of their ids."""
    counts, eligible, candidates = _candidates(ids, n_words, config.min_count, config.scoring == "default", threshold)
    tokens = int(counts.sum())
    # A power of two of partitions, at least one per thread, each counted on a table of half as
    # many slots as it has candidates (on wiki17m a third of them are distinct), within the budget;
    # if a partition fills its table, all are counted again on tables twice as large.
    parts = 1 << (config.threads - 1).bit_length()
    slots = max(16, 1 << (-(-candidates // (2 * parts)) - 1).bit_length())
    while True:
        while slots > 16 and 16 * slots * min(config.threads, parts) > PAIR_TABLE_BYTES:
            parts, slots = 2 * parts, slots // 2
        found = _count_in_parts(ids, counts, eligible, config, threshold, tokens, parts, slots)
        if found is not None:
            break
        slots *= 2
    keys = np.concatenate([f[0] for f in found])
    pair_counts = np.concatenate([f[1] for f in found])
    scores = np.concatenate([f[2] for f in found])
    order = np.argsort(keys)  # by the left word's first appearance, then the right one's
    keys = keys[order]
    return keys >> 32, keys & 0xFFFFFFFF, pair_counts[order], scores[order]


def _count_in_parts(ids, counts, eligible, config: PhraseConfig, threshold: float, tokens: int, parts: int,
                    slots: int) -> list | None:
    """Count and score the pairs partition by partition, each thread on its own table of ``slots``;
    ``None`` if a partition filled its table beyond three quarters."""
    npmi = config.scoring == "npmi"
    found: list = [None] * parts

    def count_parts(worker: int) -> None:
        table = np.empty((slots, 2), dtype=np.int64)
        for part in range(worker, parts, config.threads):
            fitted, *passing = _count_and_score(ids, eligible, parts, part, table, counts, config.min_count,
                                                threshold, npmi, tokens)
            if not fitted:
                return
            found[part] = passing

    _run_threads(count_parts, min(config.threads, parts))
    return None if any(f is None for f in found) else found


def _run_threads(work, threads: int) -> None:
    """``work(t)`` for each worker t, in threads (the kernels release the GIL); once all have ended,
    the first error is raised."""
    waits = [in_background(work, t) for t in range(threads)]
    failures = []
    for wait in waits:
        try:
            wait()
        except BaseException as exc:  # raised once every worker has ended
            failures.append(exc)
    if failures:
        raise failures[0]


@contextlib.contextmanager
def _readable_twice(files: list[str]) -> Iterator[dict[str, BinaryIO]]:
    """The text is read twice, and a pipe only once: standard input, and a FIFO or device given by
    name (a shell's ``<(zcat ...)``), are first copied into unnamed temporary files, which nothing
    can leave behind (a killed process's named copy stayed in the temporary directory). Yields the
    copies, keyed by the paths they stand for."""
    with contextlib.ExitStack() as stack:
        copies = {}
        for path in dict.fromkeys(files):
            if path != "-" and not is_special(path):
                continue
            copies[path] = stack.enter_context(tempfile.TemporaryFile(prefix="w2vfast-phrases-"))
            if path == "-":
                _spool(standard_input(), copies[path], "standard input")
                continue
            try:
                with open(path, "rb") as source:
                    _spool(source, copies[path], path)
            except OSError as exc:
                raise unreadable(f"cannot read corpus {path}: {exc.strerror or exc}", exc) from None
        yield copies


def _spool(source: BinaryIO, copy: BinaryIO, name: str) -> None:
    copy = WholeWrites(copy)
    try:
        while chunk := source.read(1 << 24):
            copy.write(chunk)
    except OSError as exc:
        raise W2VError(f"cannot keep {name} for the second reading: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _written_behind(out: BinaryIO, sync: bool) -> Iterator:
    """A ``write`` that hands its bytes to a thread, which writes them to ``out`` (and with ``sync``
    flushes them to disk every ``_SYNC_BYTES``, while the next piece is made), so that the ``fsync``
    that makes a file whole before its rename is mostly done by then. Errors reach the caller.

    The thread writes to the descriptor itself, so that it holds no lock of Python's file while it
    waits: a stop (Ctrl-C) while the reader of a pipe (``-o -``) holds its bytes back ends the command
    at once, leaving the thread behind, where waiting for it could take as long as the reader likes."""
    out.flush()
    descriptor = out.fileno()
    pending: queue.Queue = queue.Queue(maxsize=2)
    failure: list = []
    abandoned = threading.Event()

    def drain() -> None:
        unsynced = 0
        while not abandoned.is_set():
            try:
                piece = pending.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            if piece is None:
                return
            if failure:
                continue
            try:
                view = memoryview(piece).cast("B")
                unsynced += len(view)
                while view:
                    view = view[os.write(descriptor, view):]
                if sync and unsynced >= _SYNC_BYTES:
                    os.fdatasync(descriptor)
                    unsynced = 0
            except BaseException as exc:  # handed to the writing thread
                failure.append(exc)

    def write(piece: bytes) -> None:
        if failure:
            raise failure[0]
        pending.put(piece)

    writer = threading.Thread(target=drain, daemon=True)
    writer.start()
    try:
        yield write
    except BaseException:
        abandoned.set()
        if sync:  # a file on disk: its writes end soon, and must, before it is closed and removed
            writer.join()
        raise
    pending.put(None)
    writer.join()
    if failure:
        raise failure[0]


def _write_joined(files: list[str], copies: dict[str, BinaryIO], marks: np.ndarray, delimiter: bytes,
                  out, threads: int = 1, disk_dir: str | None = None) -> None:
    """Write the text again through ``out(bytes)``, each token marked ``_JOINED`` glued to the one
    before by ``delimiter``. A file that does not end in a newline is followed by one if another
    file's text follows: a file ends a line where it was counted (``WordCounter``), and its last
    line must not run into the next file's first."""
    glue = np.frombuffer(delimiter, dtype=np.uint8)
    joins = _token_joins(marks, disk_dir)
    at = np.zeros(1, dtype=np.int64)
    carry: tuple[bytes, ...] = ()
    open_line = False  # the file before ended inside a line
    for block, ends_file in read_ahead(read_blocks(files, copies=copies)):
        data, _, carry = whole_tokens(carry, block, ends_file)
        if not data:
            continue
        if open_line:
            out(b"\n")
            open_line = False
        used, pieces = _rewritten(data, ends_file, joins, at, glue, threads)
        for piece in pieces:
            out(piece)
        carry = (data[used:],) if used < len(data) else ()
        if ends_file:
            open_line = data[-1] != ord("\n")
    if at[0] != joins.shape[0] - 1:
        raise W2VError(_CHANGED)


def _scratch_bytes(n: int, disk_dir: str | None) -> np.ndarray:
    """``n`` zeroed bytes: in RAM, or with ``disk_dir`` in an unnamed memory-mapped file there."""
    if disk_dir is None or n == 0:
        return np.zeros(n, dtype=np.uint8)
    try:
        backing = tempfile.TemporaryFile(dir=disk_dir, prefix="w2vfast-phrases-")
        allocate(backing, n)
    except OSError as exc:
        raise W2VError(f"cannot keep the phrase marks in {disk_dir}: {exc.strerror or exc}") from None
    return np.memmap(backing, dtype=np.uint8, mode="r+", shape=(n,))


def _token_joins(marks: np.ndarray, disk_dir: str | None) -> np.ndarray:
    """``marks`` without its line ends, 1 for a token joined to the one before, then one 0 more;
    a piece at a time, so that no copy of the marks is made in RAM."""
    tokens = sum(int(np.count_nonzero(marks[start:start + _CHUNK] != _LINE_END))
                 for start in range(0, marks.shape[0], _CHUNK))
    joins = _scratch_bytes(tokens + 1, disk_dir)
    at = 0
    for start in range(0, marks.shape[0], _CHUNK):
        piece = marks[start:start + _CHUNK]
        joined = piece[piece != _LINE_END] == _JOINED
        joins[at:at + joined.shape[0]] = joined
        at += joined.shape[0]
    return joins


def _rewritten(data: bytes, ends_file: bool, joins: np.ndarray, at: np.ndarray, glue: np.ndarray,
               threads: int) -> tuple[int, list[bytes]]:
    """``_rewrite`` of one block: the bytes of ``data`` used and the pieces to write. With two or
    more threads, a block of ``_SPLIT_BYTES`` or more is cut at the run of whitespace after its
    middle, and the later half is rewritten at once with the earlier, from the earlier's token count."""
    buf = np.frombuffer(data, dtype=np.uint8)
    cut = _middle_gap(data) if threads > 1 and len(data) >= _SPLIT_BYTES else None
    if cut is None:
        used, piece = _rewrite_part(buf, ends_file, joins, at, glue)
        return used, [piece]
    later_at = np.array([at[0] + _count_tokens(buf[:cut])])
    later: list = []
    wait = in_background(lambda: later.append(_rewrite_part(buf[cut:], ends_file, joins, later_at, glue)))
    try:
        _, earlier = _rewrite_part(buf[:cut], True, joins, at, glue)
    finally:
        wait()
    at[0] = later_at[0]
    return cut + later[0][0], [earlier, later[0][1]]


def _rewrite_part(buf: np.ndarray, ends_file: bool, joins: np.ndarray, at: np.ndarray, glue: np.ndarray):
    # A join puts the glue in place of one byte of whitespace or more, and the part's joins are among
    # the next (bytes + 1) / 2 tokens': room for the text and that many glues (a long --delimiter
    # sized by the bytes alone asked for gigabytes).
    most_joins = int(np.count_nonzero(joins[at[0]:at[0] + (buf.shape[0] + 1) // 2]))
    written = np.empty(buf.shape[0] + most_joins * max(glue.shape[0] - 1, 0) + 1, dtype=np.uint8)
    used, size = _rewrite(buf, ends_file, joins, at, glue, written)
    if used < 0:
        raise W2VError(_CHANGED)
    return used, written[:size].tobytes()


def _middle_gap(data: bytes) -> int | None:
    """Where the first run of whitespace after the middle of ``data`` begins, if one does."""
    found = [at for at in (data.find(b" ", len(data) // 2), data.find(b"\n", len(data) // 2)) if at >= 0]
    if not found:
        return None
    cut = min(found)
    while cut > 0 and data[cut - 1] in WHITESPACE:
        cut -= 1
    return cut or None


# ---------------------------------------------------------------------------------------------
# Compiled passes over the ids and the text
# ---------------------------------------------------------------------------------------------

@njit(cache=True, inline="always")
def _pair_key(left, right):
    return (np.int64(left) << 32) | np.int64(right)


@njit(cache=True, inline="always")
def _mixed(key):
    """A well-mixed 64-bit hash of a pair key (splitmix64's finaliser)."""
    h = np.uint64(key)
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


@njit(cache=True, nogil=True)
def _candidates(ids, n_words, min_count, bounded, threshold):
    """Each word's count; whether it may be half of a phrase (1) or not (0); and how many adjacent
    pairs of one line join two such words, the only pairs counted.

    A pair may pass only if it occurs ``min_count`` times, and so then do its words. With the
    default score (``bounded``), count(ab) <= min(count(a), count(b)), so a pair scores at most
    words / max(count(a), count(b)): a word with threshold * count >= words joins nothing (the
    margin covers float32 rounding)."""
    counts = np.zeros(n_words, dtype=np.int64)
    for word in ids:
        if word >= 0:
            counts[word] += 1
    words = np.float64(counts.sum())
    eligible = np.zeros(n_words, dtype=np.uint8)
    for word in range(n_words):
        eligible[word] = counts[word] >= min_count and not (bounded and threshold * counts[word] >= 1.01 * words)
    n = 0
    for i in range(1, ids.shape[0]):
        a = ids[i - 1]
        b = ids[i]
        if a >= 0 and b >= 0 and eligible[a] and eligible[b]:
            n += 1
    return counts, eligible, n


@njit(cache=True, nogil=True)
def _count_and_score(ids, eligible, parts, part, table, counts, min_count, threshold, npmi, tokens):
    """Count partition ``part``'s pairs into ``table`` (``_count_part``) and return whether they fitted,
    and the keys, counts and scores of those that pass (``_scored``)."""
    if not _count_part(ids, eligible, parts, part, table):
        empty = np.empty(0, dtype=np.int64)
        return False, empty, empty, np.empty(0, dtype=np.float64)
    keys, pair_counts, scores = _scored(table, counts, min_count, threshold, npmi, tokens)
    return True, keys, pair_counts, scores


@njit(cache=True, nogil=True)
def _count_part(ids, eligible, parts, part, table):
    """Count the candidate pairs whose hash falls in partition ``part`` into an open-addressing
    table of (key, count) rows (key -1: empty); False if they fill more than three quarters of it.

    The table is far larger than the caches, so each pair's row is prefetched ``_AHEAD`` pairs
    before it is counted; a ring holds the pairs in between."""
    table[:, 0] = _EMPTY
    mask = np.uint64(table.shape[0] - 1)
    room = np.int64(table.shape[0] - table.shape[0] // 4)
    ring_keys = np.full(_AHEAD, _EMPTY, dtype=np.int64)
    ring_slots = np.zeros(_AHEAD, dtype=np.uint64)
    at = 0
    for i in range(1, ids.shape[0]):
        a = ids[i - 1]
        b = ids[i]
        if a < 0 or b < 0 or not eligible[a] or not eligible[b]:
            continue
        key = _pair_key(a, b)
        h = _mixed(key)
        if (h >> np.uint64(40)) & np.uint64(parts - 1) != np.uint64(part):  # parts: a power of two
            continue
        slot = h & mask
        _prefetch(table, slot)
        if ring_keys[at] != _EMPTY:
            room = _count_pair(table, ring_keys[at], ring_slots[at], mask, room)
            if room < 0:
                return False
        ring_keys[at] = key
        ring_slots[at] = slot
        at = (at + 1) & (_AHEAD - 1)
    for k in range(_AHEAD):
        if ring_keys[k] != _EMPTY:
            room = _count_pair(table, ring_keys[k], ring_slots[k], mask, room)
            if room < 0:
                return False
    return True


@njit(cache=True, inline="always")
def _count_pair(table, key, slot, mask, room):
    """One more occurrence of ``key``, whose probe starts at ``slot``; returns the room left for new
    keys, or -1 if there was none."""
    while True:
        if table[slot, 0] == key:
            table[slot, 1] += 1
            return room
        if table[slot, 0] == _EMPTY:
            if room == 0:
                return np.int64(-1)
            table[slot, 0] = key
            table[slot, 1] = 1
            return room - 1
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True, nogil=True, inline="always")
def _scored(table, counts, min_count, threshold, npmi, tokens):
    """The table's pairs of at least ``min_count`` occurrences that score above ``threshold``:
    their keys, counts and scores. Two sweeps: the first counts them, so only they take memory."""
    n = 0
    for slot in range(table.shape[0]):
        n += _passes(table, slot, counts, min_count, threshold, npmi, tokens) > -np.inf
    out_keys = np.empty(n, dtype=np.int64)
    out_counts = np.empty(n, dtype=np.int64)
    out_scores = np.empty(n, dtype=np.float64)
    n = 0
    for slot in range(table.shape[0]):
        score = _passes(table, slot, counts, min_count, threshold, npmi, tokens)
        if score > -np.inf:
            out_keys[n] = table[slot, 0]
            out_counts[n] = table[slot, 1]
            out_scores[n] = score
            n += 1
    return out_keys, out_counts, out_scores


@njit(cache=True, inline="always")
def _passes(table, slot, counts, min_count, threshold, npmi, tokens):
    """The score of the pair in ``slot`` if it passes, else -inf."""
    key = table[slot, 0]
    pair_count = table[slot, 1]
    if key == _EMPTY or pair_count < min_count:
        return -np.inf
    a_count = counts[key >> 32]
    b_count = counts[key & 0xFFFFFFFF]
    if npmi:
        score = _npmi(pair_count, a_count, b_count, tokens)
        return score if score > threshold else -np.inf
    single = _word2phrase_score(pair_count, a_count, b_count, min_count, tokens)
    return np.float64(single) if single > np.float32(threshold) else -np.inf


@njit(cache=True)
def _word2phrase_score(pair_count, a_count, b_count, min_count, tokens):
    """word2phrase's score, in float32 and in its order of operations, so that a pair on the edge
    of the threshold falls on the same side."""
    score = np.float32(pair_count - min_count) / np.float32(a_count)
    score = score / np.float32(b_count)
    return score * np.float32(tokens)


@njit(cache=True)
def _npmi(pair_count, a_count, b_count, tokens):
    """gensim's normalised pointwise mutual information (``npmi_scorer``), in float64, held to [-1, 1]:
    rounding took a pair whose words only ever occur together to 1.0000000000000002, which beat the
    largest threshold there is, 1."""
    total = np.float64(tokens)
    pa = a_count / total
    pb = b_count / total
    pab = pair_count / total
    return min(max(np.log(pab / (pa * pb)) / -np.log(pab), -1.0), 1.0)


@njit(cache=True, inline="always")
def _pair_lookup(lefts, rights, values):
    """An open-addressing table from the pairs ``(lefts[j], rights[j])`` to ``values[j]``: rows of
    (key, value), key -1 empty."""
    slots = 16
    while slots < 2 * lefts.shape[0]:
        slots *= 2
    table = np.full((slots, 2), _EMPTY, dtype=np.int64)
    mask = np.uint64(slots - 1)
    for j in range(lefts.shape[0]):
        key = _pair_key(lefts[j], rights[j])
        slot = _mixed(key) & mask
        while table[slot, 0] != _EMPTY and table[slot, 0] != key:
            slot = (slot + np.uint64(1)) & mask
        table[slot, 0] = key
        table[slot, 1] = values[j]
    return table


@njit(cache=True, inline="always")
def _looked_up(table, key):
    mask = np.uint64(table.shape[0] - 1)
    slot = _mixed(key) & mask
    while True:
        if table[slot, 0] == key:
            return table[slot, 1]
        if table[slot, 0] == _EMPTY:
            return _EMPTY
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True, nogil=True)
def _mark_line_ends(ids, marks):
    """The marks before the first pass: each id a line end or a token. A loop, where numpy's
    ``np.where`` made a temporary of eight bytes an id, whose fresh pages took 0.2 s on wiki17m."""
    for i in range(ids.shape[0]):
        marks[i] = _LINE_END if ids[i] == SENTENCE_END else _STARTS


@njit(cache=True, inline="always")
def _phrase_sides(n_words, lefts, rights):
    """Each word's part in the pairs: bit 1 the left word of one, bit 2 the right word of one."""
    sides = np.zeros(n_words, dtype=np.uint8)
    for j in range(lefts.shape[0]):
        sides[lefts[j]] |= 1
        sides[rights[j]] |= 2
    return sides


@njit(cache=True, nogil=True)
def _join(ids, n, n_words, lefts, rights, phrases, marks):
    """One pass, left to right: a token whose pair with the token before is ``(lefts[j], rights[j])``
    becomes, with it, ``phrases[j]``; the phrase then joins nothing more in this pass. ``ids[:n]``
    is compacted in place (returns its new length) and each joined token marked ``_JOINED`` in
    ``marks``, whose entries not yet so marked are, in order, this pass's ids."""
    lookup = _pair_lookup(lefts, rights, phrases)
    sides = _phrase_sides(n_words, lefts, rights)
    out = 0
    mark = 0
    previous = np.int64(0)
    may_start = False  # the token before may still be a phrase's left word: the two looked up alone
    for i in range(n):
        while marks[mark] == _JOINED:
            mark += 1
        word = ids[i]
        side = sides[word] if word >= 0 else np.uint8(0)
        if may_start and side & 2:
            phrase = _looked_up(lookup, _pair_key(previous, word))
            if phrase >= 0:
                ids[out - 1] = phrase
                marks[mark] = _JOINED
                mark += 1
                may_start = False
                continue
        ids[out] = word
        out += 1
        mark += 1
        previous = word
        may_start = (side & 1) != 0
    return out


@njit(cache=True, nogil=True)
def _fresh_start(ids, n, n_words, lefts, rights, marks):
    """The first token from the middle of ``ids[:n]`` on that no pair has as its right word (or a line
    end): it never joins the token before, so ``_join`` from it on gives what the whole pass gives
    there. Returns its index and its entry's in ``marks``, or (-1, -1) if there is none."""
    sides = _phrase_sides(n_words, lefts, rights)
    for cut in range(max(n // 2, 1), n):
        word = ids[cut]
        if word < 0 or not sides[word] & 2:
            seen = 0
            for mark in range(marks.shape[0]):
                if marks[mark] != _JOINED:
                    if seen == cut:
                        return cut, mark
                    seen += 1
    return -1, -1


@njit(cache=True, nogil=True)
def _close_gap(ids, to, start, count):
    """Move ``ids[start:start + count]`` down to ``to``, front first (``to`` <= ``start``)."""
    for k in range(count):
        ids[to + k] = ids[start + k]


@njit(cache=True, nogil=True)
def _rewrite(buf, ends_file, joins, at, glue, out):
    """Copy ``buf`` to ``out``, each token that ``joins`` marks (from token ``at[0]``, which advances)
    written after ``glue`` instead of the whitespace before it; ``joins`` ends with a 0 past its
    last token. Unless ``ends_file``, stops after the last token that surely ended. Returns (bytes
    of ``buf`` used, bytes written), or -1 for the first if ``buf`` holds more tokens than ``joins``.

    One branch-free sweep finds token starts (a branch on each would be mispredicted at every word)
    and the text between two joins is copied in one piece."""
    used = buf.shape[0]
    if not ends_file:
        while used > 0 and not _is_space(buf[used - 1]):  # a token that may go on in the next block
            used -= 1
        while used > 0 and _is_space(buf[used - 1]):  # and the whitespace before it
            used -= 1
    last = joins.shape[0] - 1
    token = at[0]
    copied = 0  # buf[:copied] is in out[:size]
    size = 0
    gap = 0  # where the latest run of whitespace began
    after_space = True
    for pos in range(used):
        space = _is_space(buf[pos])
        gap = pos if space & (not after_space) else gap
        starts = after_space & (not space)
        if starts & (joins[min(token, last)] != 0) & (gap < pos):
            size = _copy(out, size, buf, copied, gap)
            size = _copy(out, size, glue, 0, glue.shape[0])
            copied = pos
        token += starts
        after_space = space
    if token > last:
        return -1, size
    at[0] = token
    return used, _copy(out, size, buf, copied, used)


@njit(cache=True, nogil=True)
def _count_tokens(buf):
    """The tokens of ``buf``, which starts after whitespace: one branch-free sweep."""
    n = 0
    after_space = True
    for pos in range(buf.shape[0]):
        space = _is_space(buf[pos])
        n += after_space & (not space)
        after_space = space
    return n


@njit(cache=True, inline="always")
def _copy(out, size, source, start, end):
    """Append ``source[start:end]`` to ``out[:size]``; returns the new size."""
    for k in range(end - start):
        out[size + k] = source[start + k]
    return size + max(end - start, 0)


# This one and ``_prefetch`` have near twins in corpus.py and kernels.py: compiled code calls only
# into its own file, since Numba's cache would not see the other file change.
@njit(cache=True, inline="always")
def _is_space(byte):
    """ASCII whitespace, as the corpus scanner reads it: the two must find the same tokens."""
    return byte == 32 or (9 <= byte <= 13)


@intrinsic
def _prefetch(typingctx, table, row):
    """Start loading the cache line of ``table[row, 0]`` for writing: a hint, with no effect on results."""
    if not isinstance(table, types.Array) or table.ndim != 2 or not isinstance(row, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        table_type, row_type = signature.args
        array = context.make_array(table_type)(context, builder, args[0])
        index = context.cast(builder, args[1], row_type, types.intp)
        address = cgutils.get_item_pointer(context, builder, table_type, array,
                                           [index, context.get_constant(types.intp, 0)])
        i8_pointer, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        hint = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8_pointer, i32, i32, i32]), "llvm.prefetch.p0")
        builder.call(hint, [builder.bitcast(address, i8_pointer), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(table, row), codegen
