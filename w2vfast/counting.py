"""Count the distinct words of a text, in bounded memory: the table behind ``corpus.read_corpus``.

A word is its exact bytes. Blocks of text (from ``sources.py``) go through one Numba pass that
hashes each token into an open-addressing table and appends a provisional id (the order of first
appearance) to a growing array; with two or more threads, the two halves of each block are scanned
at once and the later half merged in.

Everything that grows with the number of distinct tokens (the tables, the words' bytes and their
offsets) stays within a budget, ``--vocab-memory``. Text that reaches it is read again, exactly:

1. a sketch pass adds one to a saturating byte counter per hash bucket for every token, so a
   bucket's count is at least the count of each word hashed into it;
2. the scan then runs again, adding a new word to the table only if its bucket reached min-count
   (the rest are written as ``DROPPED``). Every word seen min-count times passes at its first
   occurrence and is counted exactly from there, so the vocabulary, its counts and its order (first
   appearance breaks ties) are those of an unbounded run; the few words that pass by sharing a bucket
   are dropped with the other rare ones when the vocabulary is chosen.

Standard input cannot be read twice: there, rare words are pruned under a rising floor, as the C
tool prunes its vocabulary, and the pruned words' occurrences stay in the ids by a 64-bit hash of
the word, so every occurrence of a word that is finally kept is still encoded.

Each compiled call chain stays inside this file, since Numba's cache does not see changes elsewhere.
"""

from __future__ import annotations

import os
import tempfile
import threading
from typing import Callable, Iterator

import numpy as np
from numba import njit

from .errors import W2VError
from .io import allocate
from .memory import TEXT_BYTES_PER_WORD, size_text
from .sources import changed_file, file_states, read_ahead, read_blocks, text_size

SENTENCE_END = -1
WHITESPACE = b" \t\n\v\f\r"  # what separates words: the bytes ``_is_space`` takes, for Python code that cuts text
WHITESPACE_BYTES = np.frombuffer(WHITESPACE, dtype=np.uint8)
DROPPED = -2  # a token whose word cannot be in the vocabulary (see the module's docstring)
FIRST_REFERENCE = -3  # ids from here down name a pruned word's hash: -3 - its index in the list
_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_NEED_TABLE, _NEED_WORDS, _NEED_POOL, _NEED_IDS, _DONE = 0, 1, 2, 3, 4
_EMPTY = -1  # a free table slot; a used one holds the word's hash's top 32 bits over its id
# The table grows when 7 slots in 10 are used: a probe reads 8-byte slots, 8 to a cache line, so
# the longer runs of a fuller table cost little, and its rows take 11-23 bytes a word.
_LOAD_NUMERATOR, _LOAD_DENOMINATOR = 7, 10
_MAX_TABLE_BITS = 32  # the home slot is the hash's top bits, which the slot keeps 32 of
# The later half's scanner starts afresh once it holds this many words, so that text full of
# words seen once does not keep a second copy of them all; ordinary text never reaches it.
_PART_WORDS = 1 << 19
_SMALLEST_PIECE = 1 << 16  # pruning halves a block whose new words overflow, down to this
_PROTECTED_SLOTS = 1 << 20  # the sketch that marks the words pruning must keep
_SATURATED = 255  # a sketch counter stops there, so a threshold above it passes every saturated bucket


class BudgetReached(Exception):
    """The distinct words would grow past the counting budget."""


def count_words(paths: list[str], disk_dir: str | None = None, threads: int = 1, budget: int | None = None,
                min_count: int = 1, keep: list[bytes] | None = None, keep_only: bool = False,
                sizes: tuple[int, bool] | None = None) -> WordCounter:
    """Count every word of the corpus files and keep its provisional id sequence.

    With ``disk_dir``, the id sequence (and so the encoded corpus) lives in a memory-mapped file
    there instead of in RAM. ``budget`` bounds the bytes of the distinct words; reaching it reads
    the files again, keeping only the words that may occur ``min_count`` times and those in ``keep``,
    or with ``keep_only`` those in ``keep`` alone (a given vocabulary). ``sizes`` is the files'
    ``text_size``, if the caller has it.
    """
    once_only = "-" in paths or not all(os.path.isfile(path) for path in paths)
    text_bytes, streamed = text_size(paths) if sizes is None else sizes
    before = file_states(paths)

    def read():
        return read_blocks(paths)

    try:
        return count_once(read, text_bytes, disk_dir, threads, budget, keep=keep if once_only else None,
                          prune=once_only)
    except BudgetReached:
        threshold = 1 if keep_only else sketch_threshold(min_count, budget)
    # As many counters as the text's words would want, even for a given vocabulary: a word outside it
    # passes where it shares a vocabulary word's counter, so few counters let too many pass.
    slots = sketch_slots(budget, None if streamed else text_bytes // TEXT_BYTES_PER_WORD)
    if keep_only:
        sketch = _sketch_of(keep, slots)
    else:
        sketch = sketch_text(read, slots)
        _sketch_add(sketch, keep or [])
    try:
        counter = count_once(read, text_bytes, disk_dir, threads, budget, sketch, threshold)
    except BudgetReached:
        if keep_only:
            raise W2VError(f"the words of the given vocabulary do not fit in --vocab-memory ({size_text(budget)}): "
                           "raise it") from None
        raise not_fitting(min_count, budget) from None
    changed = changed_file(paths, before)
    if changed is not None:  # the readings' counts would not add up to the text's
        raise W2VError(f"the corpus changed while it was read twice: {changed} is not what it was")
    counter.second_reading = True
    return counter


def not_fitting(min_count: int, budget: int) -> W2VError:
    """The error for a second reading whose candidate words still outgrow the budget."""
    return W2VError(f"the words that may occur --min-count {min_count} times do not fit in "
                    f"--vocab-memory ({size_text(budget)}): raise it, or --min-count")


def sketch_threshold(min_count: int, budget: int) -> int:
    """What a word's bucket of the corpus's sketch must reach for a second reading to add the word:
    ``min_count``, within what a bucket holds. With --min-count 1 every word seen passes, so a second
    reading would keep all the words that outgrew ``budget`` in the first: the run stops at once."""
    if min_count <= 1:
        raise not_fitting(min_count, budget)
    return min(min_count, _SATURATED)


def count_once(read: Callable[[], Iterator[tuple[bytes, bool]]], text_bytes: int, disk_dir: str | None,
               threads: int, budget: int | None, sketch: np.ndarray | None = None, threshold: int = 0,
               keep: list[bytes] | None = None, prune: bool = False) -> WordCounter:
    """One reading of the text that ``read()`` yields in blocks (see ``sources.read_blocks``), of
    about ``text_bytes`` bytes; raises ``BudgetReached`` when its distinct words outgrow ``budget``."""
    counter = WordCounter(text_bytes, disk_dir, threads, budget=budget, sketch=sketch,
                          threshold=threshold, prune=prune, keep=keep)
    blocks = read_ahead(read())
    try:
        for block, ends_file in blocks:
            counter.feed(block, ends_file)
    except BudgetReached:
        counter.discard()
        raise
    finally:
        blocks.close()
    counter.finish()
    return counter


def sketch_slots(budget: int, tokens: int | None) -> int:
    """Counters for the sketch: four per token expected, at most half the budget, a power of two; as
    many as half the budget holds when the tokens are not known (compressed text, whose size says
    little of its words: sized from its plain part alone, nearly every word passed a small sketch)."""
    slots = 1 << 16
    while (tokens is None or slots < 4 * tokens) and 2 * slots <= budget // 2:
        slots *= 2
    return slots


def sketch_text(read: Callable[[], Iterator[tuple[bytes, bool]]], slots: int) -> np.ndarray:
    """The sketch of ``slots`` saturating counters of the text ``read()`` yields (see ``count_once``)."""
    sketch = np.zeros(slots, dtype=np.uint8)
    carry: tuple[bytes, ...] = ()
    blocks = read_ahead(read())
    try:
        for block, ends_file in blocks:
            data, end, carry = whole_tokens(carry, block, ends_file)
            _sketch(np.frombuffer(data, dtype=np.uint8), end, sketch)
    finally:
        blocks.close()
    return sketch


def add_sketches(total: np.ndarray, sketch: np.ndarray) -> None:
    """Add ``sketch`` into ``total``, both of one size, saturating as the counters do: the sketch of
    two texts is then the sum of theirs."""
    np.minimum(total.astype(np.uint16) + sketch, _SATURATED, out=total, casting="unsafe")


def _sketch_of(words: list[bytes] | None, slots: int) -> np.ndarray:
    sketch = np.zeros(slots, dtype=np.uint8)
    _sketch_add(sketch, words or [])
    return sketch


def _sketch_add(sketch: np.ndarray, words: list[bytes]) -> None:
    """Saturate the buckets of ``words``, so that they pass whatever their count."""
    if words:
        text = np.frombuffer(b" ".join(words), dtype=np.uint8)
        _saturate(text, sketch)


def whole_tokens(carry: tuple[bytes, ...], block: bytes, ends_file: bool) -> tuple[bytes, int, tuple[bytes, ...]]:
    """The text to scan now (``carry``, what followed the last whitespace of the blocks before, then
    ``block``), the length of its whole tokens, and the carry for the next block. A block without
    whitespace only joins the carry, whose pieces are put together once whitespace ends their token:
    text without whitespace takes linear time to read, not quadratic (a 600 MB token took 39 s)."""
    if not ends_file:
        cut = _last_space(block)
        if cut < 0:
            return b"", 0, (*carry, block)
    data = b"".join((*carry, block)) if carry else block
    if ends_file:
        return data, len(data), ()
    end = len(data) - len(block) + cut + 1
    return data, end, ((data[end:],) if end < len(data) else ())


def _last_space(data: bytes) -> int:
    return max(data.rfind(b" "), data.rfind(b"\n"), data.rfind(b"\t"), data.rfind(b"\r"),
               data.rfind(b"\x0b"), data.rfind(b"\x0c"))


def _unlinked_file(directory: str):
    """A scratch file that has no name, so nothing is left behind however the process ends."""
    if not os.path.isdir(directory):
        there = "is not a directory" if os.path.exists(directory) else "does not exist"
        raise W2VError(f"directory for the on-disk corpus {there}: {directory}")
    try:
        return tempfile.TemporaryFile(dir=directory, prefix="w2vfast-corpus-")
    except OSError as exc:
        raise W2VError(f"cannot create the on-disk corpus in {directory}: {exc.strerror or exc}") from None


class WordCounter:
    """Streaming word counter and provisional encoder; ``feed`` blocks, then ``words``/``counts``/``ids``.

    With ``threads`` of 2 or more, a block of at least ``split_bytes`` is cut in two at a whitespace
    byte and its halves are scanned at once, the later one into a second table that is merged into
    the first afterwards (the random probes into a table of a few hundred thousand words are most of
    the scan's cost, so this nearly halves it). The result is the same as one scanner's.
    ``budget`` (bytes) bounds the distinct words' arrays: growing past it raises ``BudgetReached``,
    or with ``prune`` drops the rarest words instead (see ``_prune_rare``), but those in ``keep``.
    ``sketch`` and ``threshold`` make the scanners add only words whose bucket reached it.
    """

    def __init__(self, expected_bytes: int = 0, disk_dir: str | None = None, threads: int = 1,
                 split_bytes: int = 1 << 20, budget: int | None = None, sketch: np.ndarray | None = None,
                 threshold: int = 0, prune: bool = False, keep: list[bytes] | None = None) -> None:
        self._counts = None
        self._ids_file = None
        self._disk_dir = disk_dir
        self._prune = prune and budget is not None
        self._protected = _sketch_of(keep, _PROTECTED_SLOTS) if keep else np.zeros(1, dtype=np.uint8)
        self.floor = 0  # pruning drops words seen this often or less (since they were last added)
        self.pruned_words = 0  # distinct words pruned, counted again each time one is pruned again
        self._dropped = np.empty(0, dtype=np.uint64)  # the hash of each pruned word, by its reference
        self._resolved = None
        self._dropped_count = 0
        self._dropped_file = None
        self._budget = budget
        self._expected_bytes = expected_bytes
        self._fed = 0
        self.second_reading = False
        self.peak_footprint = 0  # the most the distinct words' arrays held, growth included
        self.sketch = np.zeros(1, dtype=np.uint8) if sketch is None else sketch
        if disk_dir is not None:
            self._ids_file = _unlinked_file(disk_dir)
        # A first guess at the words in the text, which it rarely has to grow past (see memory.py).
        guess = max(1 << 16, expected_bytes // TEXT_BYTES_PER_WORD)
        ids = self._grown_ids(np.empty(0, dtype=np.int32), guess)
        self._main = _Scanner(ids, self._grown_ids, self._room, self.sketch, threshold)
        self._threshold = threshold
        # The later half's words, which it keeps from block to block: few enough, under a small
        # budget, that its arrays (40-80 bytes a word) stay within an eighth of it.
        self._part_words = _PART_WORDS if budget is None else min(_PART_WORDS, max(1 << 12, budget // 640))
        self._part = self._fresh_part() if threads > 1 else None
        self._ours = np.empty(0, dtype=np.int32)  # the main scanner's id of each of the part's words
        self._split_bytes = max(split_bytes, 1)
        self._carry: tuple[bytes, ...] = ()  # see ``whole_tokens``

    def _fresh_part(self) -> _Scanner:
        return _Scanner(np.empty(1 << 16, dtype=np.int32), _grown, self._room, self.sketch, self._threshold)

    def footprint(self) -> int:
        """Bytes held for the distinct words, with the counts ``counts`` will need."""
        held = self.sketch.nbytes + self._ours.nbytes + 8 * self.n_words
        for scanner in (self._main, self._part):
            if scanner is not None:
                held += scanner.nbytes
        return held

    def _room(self, extra: int) -> None:
        """Raise ``BudgetReached`` if ``extra`` more bytes would take the distinct words past the
        budget, or, once they hold a quarter of it, if growing at the pace so far would by the end
        of the text: text full of words seen once then starts its second reading early, not last."""
        held = self.footprint() + extra
        if self._budget is not None:
            first_reading = self.sketch.shape[0] == 1
            pace = held * self._expected_bytes / max(self._fed, 1) if self._fed < self._expected_bytes else held
            if held > self._budget or (first_reading and 4 * held > self._budget and pace > self._budget):
                raise BudgetReached
        self.peak_footprint = max(self.peak_footprint, held)

    def feed(self, block: bytes, ends_file: bool) -> None:
        if not self._prune:
            return self._feed(block, ends_file)
        pieces = [(block, ends_file)]
        failed_small = False
        while pieces:
            piece, ends = pieces.pop()
            carry, fed, n_ids = self._carry, self._fed, int(self._main.state[2])
            try:
                self._feed(piece, ends)
                failed_small = False
            except BudgetReached:  # undo the piece (the words it added have no ids left), prune, retry
                self._carry, self._fed = carry, fed
                self._main.state[2] = n_ids
                if failed_small:
                    raise W2VError(f"the words to keep fill --vocab-memory ({size_text(self._budget)}): "
                                   "raise it") from None
                self._prune_rare()
                half = len(piece) // 2  # in halves, so that one piece's new words fit (a cut word is carried)
                if half < _SMALLEST_PIECE:
                    failed_small = True
                    pieces.append((piece, ends))
                else:
                    pieces += [(piece[half:], ends), (piece[:half], False)]

    def finish(self) -> None:
        """The text is all read: let go of what only more text would need (the tables, the sketch,
        the later half's scanner), before the counts and the vocabulary need memory of their own."""
        self._main.table = np.full(1, _EMPTY, dtype=np.int64)
        self.sketch = self._main.sketch = np.zeros(1, dtype=np.uint8)
        self._part = None
        self._ours = np.empty(0, dtype=np.int32)

    def discard(self) -> None:
        """Let go of everything now, not when the garbage collector finds the scanners' cycle back
        to this counter: a second reading must not hold the first one's ids, tables and text. The
        counter is of no use after it."""
        self._main = self._part = None
        self._carry = ()
        self._ours, self._dropped = np.empty(0, dtype=np.int32), np.empty(0, dtype=np.uint64)
        self.sketch = np.zeros(1, dtype=np.uint8)
        if self._ids_file is not None:
            self._ids_file.close()

    def _prune_rare(self) -> None:
        """Drop the words seen ``floor`` times or less since they were last added, the floor rising
        until the rest fill at most a quarter of the budget (its arrays then shrink to twice that),
        as the C tool prunes its vocabulary. Each dropped word's ids become a reference to its
        64-bit hash, so that its occurrences are still found if it is kept in the end (``counts``
        and ``resolved``)."""
        main = self._main
        counts = _count_ids(self.ids, self.n_words, np.empty(0, dtype=np.int32))
        # What a kept word costs in the main table's arrays: the later half's are renewed below,
        # and counted in, they made every word look dearer, which raised the floor prune by prune
        # until the most frequent words went too.
        per_word = (main.nbytes + 8 * self.n_words) / max(self.n_words, 1)
        seen = np.bincount(np.minimum(counts, 1 << 16))
        floor = max(self.floor, 1)
        while floor + 1 < seen.shape[0] and (per_word * int(seen[floor + 1:].sum()) > self._budget // 4
                                             or not seen[:floor + 1].any()):
            floor += 1
        self.floor = floor
        needed = self._dropped_count + self.n_words
        if self._dropped.shape[0] < needed:
            self._dropped = self._grown_dropped(needed)
        before = self._dropped_count
        self._dropped_count = _prune(counts, floor, self._protected, main.starts, main.lengths, main.pool,
                                     main.state, self.ids, self._dropped, self._dropped_count)
        self.pruned_words += self._dropped_count - before
        kept, used = self.n_words, int(main.state[1])
        slots = 1 << 18
        while _LOAD_DENOMINATOR * 2 * kept > _LOAD_NUMERATOR * slots:
            slots *= 2
        main.starts = main.starts[: max(1 << 16, 2 * kept)].copy()
        main.lengths = main.lengths[: max(1 << 16, 2 * kept)].copy()
        main.pool = main.pool[: max(1 << 20, 2 * used)].copy()
        main.table = _table_of(main.starts, main.lengths, main.pool, kept, slots)
        if self._part is not None:  # its words' ids in the main table changed
            self._part, self._ours = self._fresh_part(), np.empty(0, dtype=np.int32)
        self._counts = self._resolved = None

    def _grown_dropped(self, size: int) -> np.ndarray:
        """Room for more pruned words' hashes: in memory, or with ``disk_dir`` in a file there (they
        grow with the text, like the ids)."""
        if self._disk_dir is None:
            return _grown(self._dropped, size)
        if self._dropped_file is None:
            self._dropped_file = _unlinked_file(self._disk_dir)
        return _grown_file(self._dropped_file, self._dropped, size, "the pruned words' file")

    @property
    def resolved(self) -> np.ndarray:
        """For each pruned word's reference, the id of the word now in the table with its hash, or -1."""
        if self._resolved is None and self._dropped_count == 0:
            self._resolved = np.empty(0, dtype=np.int32)
        elif self._resolved is None:
            self._resolved = _resolve(self._dropped[:self._dropped_count], self._main.starts, self._main.lengths,
                                      self._main.pool, self.n_words)
        return self._resolved

    def _feed(self, block: bytes, ends_file: bool) -> None:
        self._fed += len(block)
        data, end, self._carry = whole_tokens(self._carry, block, ends_file)
        if not data and not ends_file:  # a block inside a token
            return
        buf = np.frombuffer(data, dtype=np.uint8)
        half = self._half(data, end)
        if half is None:
            self._main.scan(buf, 0, end)
        else:
            if self._part.state[0] >= self._part_words:  # a new one: clearing would keep its arrays' room
                self._part, self._ours = self._fresh_part(), np.empty(0, dtype=np.int32)
            part = self._part
            known = int(part.state[0])
            part.start_part()
            later = in_background(part.scan, buf, half, end)
            try:
                self._main.scan(buf, 0, half)
            finally:
                later()
            if self._ours.shape[0] < part.state[0]:
                self._room(4 * int(part.state[0]))
                self._ours = _grown(self._ours, int(part.state[0]))
            self._main.absorb(part, self._ours, known)
        ids, state = self._main.ids, self._main.state
        if ends_file and state[2] > 0 and ids[state[2] - 1] != SENTENCE_END:
            self._main.make_room(_NEED_IDS, 1)
            self._main.ids[state[2]] = SENTENCE_END
            state[2] += 1
        self._counts = None

    def _half(self, data: bytes, end: int) -> int | None:
        """Where the second scanner starts: just after the first space or newline past the middle."""
        if self._part is None or end < self._split_bytes:
            return None
        cuts = [at for at in (data.find(b" ", end // 2, end), data.find(b"\n", end // 2, end)) if at >= 0]
        return min(cuts) + 1 if cuts else None

    def _grown_ids(self, ids: np.ndarray, size: int) -> np.ndarray:
        """The id array enlarged to ``size``: in memory, or remapped onto the longer on-disk file."""
        if self._ids_file is None:
            return _grown(ids, size)
        return _grown_file(self._ids_file, ids, size, "the on-disk corpus")

    @property
    def n_words(self) -> int:
        return int(self._main.state[0])

    @property
    def counts(self) -> np.ndarray:
        """Occurrences of each provisional word, counted once from the ids."""
        if self._counts is None:
            self._counts = _count_ids(self.ids, self.n_words, self.resolved)
        return self._counts

    def words(self, indices) -> list[bytes]:
        """The bytes of the given provisional words, cut from one copy of the pool."""
        main = self._main
        indices = np.asarray(indices, dtype=np.int64)
        pool = main.pool[: int(main.state[1])].tobytes()
        starts = main.starts[indices]
        ends = starts + main.lengths[indices]
        return [pool[start:end] for start, end in zip(starts.tolist(), ends.tolist())]

    def words_containing(self, part: bytes) -> list[int]:
        """The provisional ids of the words that contain ``part``, found in the pool, not word by word."""
        main = self._main
        pool = main.pool[: int(main.state[1])].tobytes()
        found, at = set(), pool.find(part)
        while at >= 0:
            found.add(int(np.searchsorted(main.starts[: self.n_words], at, side="right")) - 1)
            at = pool.find(part, at + 1)
        candidates = sorted(found)
        return [w for w, word in zip(candidates, self.words(candidates)) if part in word]

    @property
    def ids(self) -> np.ndarray:
        return self._main.ids[: int(self._main.state[2])]

    def replace_ids(self, n_ids: int, new_words: list[bytes]) -> None:
        """The ids now end at ``n_ids`` (rewritten in place, as phrases do) and may name
        ``new_words``, words no scan met, after the others. The words are then numbered again in
        order of first appearance, those gone left out, just as if the scan had read the new text."""
        main = self._main
        main.state[2] = n_ids
        main.make_room(_NEED_WORDS, len(new_words))
        main.make_room(_NEED_POOL, sum(map(len, new_words)))
        for word in new_words:
            n_words, used = int(main.state[0]), int(main.state[1])
            main.starts[n_words] = used
            main.lengths[n_words] = len(word)
            main.pool[used:used + len(word)] = np.frombuffer(word, dtype=np.uint8)
            main.state[0] = n_words + 1
            main.state[1] = used + len(word)
        order = _renumber_by_first_appearance(self.ids, int(main.state[0]))
        main.starts[: len(order)] = main.starts[order]
        main.lengths[: len(order)] = main.lengths[order]
        main.state[0] = len(order)
        self._counts = self._resolved = None

    def release_ids(self) -> None:
        """Let go of the id array once ``encode`` has made the corpus out of it."""
        self._main.ids = np.empty(0, dtype=np.int32)


class _Scanner:
    """One thread's share of the scan: its table of distinct words, their bytes and the ids it wrote."""

    def __init__(self, ids: np.ndarray, grow_ids, room, sketch: np.ndarray, threshold: int) -> None:
        words_guess = 1 << 16
        self.table = np.full(4 * words_guess, _EMPTY, dtype=np.int64)
        self.starts = np.empty(words_guess, dtype=np.int64)
        self.lengths = np.empty(words_guess, dtype=np.int32)
        self.pool = np.empty(1 << 20, dtype=np.uint8)
        self.ids = ids
        self.sketch = sketch
        self.threshold = np.uint8(threshold)
        self._grow_ids = grow_ids
        self._room = room
        self.state = np.zeros(3, dtype=np.int64)

    @property
    def nbytes(self) -> int:
        """What its distinct words hold: the table, their starts, lengths and bytes (not the ids)."""
        return self.table.nbytes + self.starts.nbytes + self.lengths.nbytes + self.pool.nbytes

    def scan(self, buf: np.ndarray, pos: int, end: int) -> None:
        while True:
            pos, need = _scan(buf, pos, end, self.table, self.starts, self.lengths, self.pool,
                              self.ids, self.state, self.sketch, self.threshold)
            if need == _DONE:
                return
            self.make_room(need, end - pos if need == _NEED_POOL else 1)

    def make_room(self, need: int, size: int) -> None:
        """Grow what ``need`` names so that ``size`` more words, bytes or ids fit, within the budget."""
        if need == _NEED_TABLE:
            slots = self.table.shape[0]
            while _LOAD_DENOMINATOR * (int(self.state[0]) + size) > _LOAD_NUMERATOR * slots:
                slots *= 2
            if slots > self.table.shape[0]:
                if slots > 1 << _MAX_TABLE_BITS:
                    raise W2VError("the corpus has more than 2**31 distinct words")
                self._room(8 * slots)
                self.table = _rehash(self.table, slots)
        elif need == _NEED_WORDS:
            if int(self.state[0]) + size > self.starts.shape[0]:
                bigger = max(2 * self.starts.shape[0], int(self.state[0]) + size)
                self._room(12 * bigger)
                self.starts = _grown(self.starts, bigger)
                self.lengths = _grown(self.lengths, bigger)
        elif need == _NEED_POOL:
            if int(self.state[1]) + size > self.pool.shape[0]:
                bigger = max(2 * self.pool.shape[0], int(self.state[1]) + size)
                self._room(bigger)
                self.pool = _grown(self.pool, bigger)
        elif int(self.state[2]) + size > self.ids.shape[0]:
            self.ids = self._grow_ids(self.ids, int(self.state[2]) + size)

    def start_part(self) -> None:
        """Begin a new later half: ``ids[0]`` becomes a placeholder token (see ``_merge``)."""
        self.state[2] = 1
        self.ids[0] = 0

    def absorb(self, part: _Scanner, ours: np.ndarray, known: int) -> None:
        """Take in ``part``'s ids, which follow this scanner's in the text, and its new words."""
        new_words = int(part.state[0]) - known
        self.make_room(_NEED_TABLE, new_words)
        self.make_room(_NEED_WORDS, new_words)
        self.make_room(_NEED_POOL, int(part.state[1]) - int(part.starts[known]) if new_words else 0)
        self.make_room(_NEED_IDS, int(part.state[2]))
        _merge(self.table, self.starts, self.lengths, self.pool, self.state, self.ids,
               part.starts, part.lengths, part.pool, part.state, part.ids, ours, known)


def _grown(array: np.ndarray, minimum: int) -> np.ndarray:
    bigger = np.empty(max(2 * array.shape[0], minimum), dtype=array.dtype)
    bigger[: array.shape[0]] = array
    return bigger


def _grown_file(handle, array: np.ndarray, size: int, what: str) -> np.ndarray:
    """``array``, memory-mapped on the file ``handle``, enlarged to ``size`` (or twice its size)."""
    size = max(size, 2 * array.shape[0])
    try:
        allocate(handle, array.itemsize * size)
    except OSError as exc:
        raise W2VError(f"cannot grow {what}: {exc.strerror or exc}") from None
    return np.memmap(handle, dtype=array.dtype, mode="r+", shape=(size,))


def holds_whitespace(text: bytes) -> bool:
    """Whether ``text`` has a byte that separates words: a word that holds one does not read back whole."""
    return bool(np.isin(np.frombuffer(text, dtype=np.uint8), WHITESPACE_BYTES).any())


def in_background(function, *args):
    """Start ``function(*args)`` in a thread; the returned callable waits and re-raises its error."""
    failure = []

    def run():
        try:
            function(*args)
        except BaseException as exc:  # handed to the waiting thread
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()

    def wait():
        worker.join()
        if failure:  # taken out of the list: else the error's frames, which hold this function, and the
            raise failure.pop()  # list that holds the error form a cycle that keeps their arrays alive

    return wait


@njit(cache=True, nogil=True)
def _scan(buf, pos, end, table, starts, lengths, pool, ids, state, sketch, threshold):
    """Tokenise ``buf[pos:end]`` into the table; return ``(pos, need)`` when something must grow.

    ``state`` holds ``[n_words, pool_used, n_ids]``. ``buf[end-1]`` is whitespace or ``end`` is a
    file end, so no token is cut. A new word whose ``sketch`` bucket is below ``threshold`` is
    written as ``DROPPED`` and not added. Counting is left to one pass over the ids afterwards.
    """
    n_ids = state[2]
    need = _DONE
    shift = _home_shift(table)
    sketch_mask = np.uint64(sketch.shape[0] - 1)
    while pos < end:
        byte = buf[pos]
        if _is_space(byte):
            if byte == 10 and n_ids > 0 and ids[n_ids - 1] != SENTENCE_END:
                if n_ids >= ids.shape[0]:
                    need = _NEED_IDS
                    break
                ids[n_ids] = SENTENCE_END
                n_ids += 1
            pos += 1
            continue
        token_end = pos
        while token_end < end and not _is_space(buf[token_end]):
            token_end += 1
        length = token_end - pos
        if n_ids >= ids.shape[0]:
            need = _NEED_IDS
            break
        key = _hash(buf, pos, length)
        slot, word = _find(table, shift, starts, lengths, pool, key, buf, pos, length)
        if word < 0:
            if sketch[key & sketch_mask] < threshold:
                word = DROPPED
            else:
                if _LOAD_DENOMINATOR * (state[0] + 1) > _LOAD_NUMERATOR * table.shape[0]:
                    need = _NEED_TABLE
                    break
                if state[0] >= starts.shape[0]:
                    need = _NEED_WORDS
                    break
                if state[1] + length > pool.shape[0]:
                    need = _NEED_POOL
                    break
                word = _add(table, starts, lengths, pool, state, slot, key, buf, pos, length)
        ids[n_ids] = word
        n_ids += 1
        pos = token_end
    state[2] = n_ids
    return pos, need


@njit(cache=True, inline="always")
def _is_space(byte):
    return byte == 32 or (9 <= byte <= 13)


@njit(cache=True, inline="always")
def _hash(text, pos, length):
    h = _FNV_OFFSET
    for k in range(pos, pos + length):
        h = (h ^ np.uint64(text[k])) * _FNV_PRIME
    return h


@njit(cache=True, inline="always")
def _home_shift(table):
    """How far a hash shifts right to give its home slot: its top log2(slots) bits."""
    shift = 64
    slots = table.shape[0]
    while slots > 1:
        slots >>= 1
        shift -= 1
    return np.uint64(shift)


@njit(cache=True, inline="always")
def _find(table, shift, starts, lengths, pool, key, text, pos, length):
    """The slot of the word ``text[pos:pos + length]`` (hash ``key``) and its id, or -1 if absent.

    A slot holds the hash's top 32 bits over the word's id, so a probe reads 8 bytes and a table
    grows by copying slots in order: the home slot is the top bits of the hash (see ``_rehash``).
    """
    mask = np.uint64(table.shape[0] - 1)
    tag = key >> np.uint64(32)
    slot = key >> shift
    while True:
        entry = table[slot]
        if entry == _EMPTY:
            return slot, np.int64(-1)
        word = entry & 0xFFFFFFFF
        if np.uint64(entry) >> np.uint64(32) == tag and lengths[word] == length:
            start = starts[word]
            same = True
            for k in range(length):
                if pool[start + k] != text[pos + k]:
                    same = False
                    break
            if same:
                return slot, word
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True, inline="always")
def _slot_entry(key, word):
    """What a table slot holds for ``word``: its hash's top 32 bits over its id."""
    return np.int64((key >> np.uint64(32) << np.uint64(32)) | np.uint64(word))


@njit(cache=True, inline="always")
def _add(table, starts, lengths, pool, state, slot, key, text, pos, length):
    """Store a new word in ``slot`` (free) and the pool; room has been checked. Returns its id."""
    word = state[0]
    pool_used = state[1]
    table[slot] = _slot_entry(key, word)
    starts[word] = pool_used
    lengths[word] = length
    for k in range(length):  # a loop, not a slice copy, whose shape check cost 3.6 s of compiling
        pool[pool_used + k] = text[pos + k]
    state[0] = word + 1
    state[1] = pool_used + length
    return word


@njit(cache=True, nogil=True)
def _merge(table, starts, lengths, pool, state, ids, part_starts, part_lengths, part_pool, part_state,
           part_ids, ours, known):
    """Append a second scanner's ids (the later half of a block) to the first one's.

    ``ours[w]`` is the first scanner's id for the second's word ``w``; the ``known`` words before
    this call are mapped already, the others are looked up and, if new, added in the order the second
    scanner met them, after every word of the first half: so ids stay in order of first appearance,
    exactly as one scanner would have numbered them. Room in the first scanner's arrays has been
    made. ``part_ids[0]`` is a placeholder that let a leading newline end the sentence the first half
    left open; it is dropped here, as is a sentence end that would repeat one.
    """
    shift = _home_shift(table)
    for word in range(known, part_state[0]):
        start = part_starts[word]
        length = part_lengths[word]
        key = _hash(part_pool, start, length)
        slot, found = _find(table, shift, starts, lengths, pool, key, part_pool, start, length)
        if found < 0:
            found = _add(table, starts, lengths, pool, state, slot, key, part_pool, start, length)
        ours[word] = found
    n_ids = state[2]
    for i in range(1, part_state[2]):
        word = part_ids[i]
        if word == SENTENCE_END:
            if n_ids == 0 or ids[n_ids - 1] == SENTENCE_END:
                continue
            ids[n_ids] = SENTENCE_END
        else:
            ids[n_ids] = ours[word] if word >= 0 else word
        n_ids += 1
    state[2] = n_ids


@njit(cache=True)
def _rehash(table, size):
    """The same slots in a table of ``size``. Slots are visited in order and their home slots,
    the top bits of their hashes, come in the same order, so the new table is written front to back."""
    bigger = np.full(size, _EMPTY, dtype=np.int64)
    tag_shift = _home_shift(bigger) - np.uint64(32)
    mask = np.uint64(size - 1)
    for old in range(table.shape[0]):
        entry = table[old]
        if entry == _EMPTY:
            continue
        slot = (np.uint64(entry) >> np.uint64(32)) >> tag_shift
        while bigger[slot] != _EMPTY:
            slot = (slot + np.uint64(1)) & mask
        bigger[slot] = entry
    return bigger


@njit(cache=True, nogil=True)
def _sketch(buf, end, sketch):
    """Add every token of ``buf[:end]`` to its bucket's saturating counter."""
    mask = np.uint64(sketch.shape[0] - 1)
    pos = 0
    while pos < end:
        if _is_space(buf[pos]):
            pos += 1
            continue
        token_end = pos
        while token_end < end and not _is_space(buf[token_end]):
            token_end += 1
        bucket = _hash(buf, pos, token_end - pos) & mask
        if sketch[bucket] < _SATURATED:
            sketch[bucket] += 1
        pos = token_end


@njit(cache=True)
def _saturate(text, sketch):
    """Saturate the bucket of every space-separated word of ``text``."""
    mask = np.uint64(sketch.shape[0] - 1)
    start = 0
    for pos in range(text.shape[0] + 1):
        if pos == text.shape[0] or text[pos] == 32:
            if pos > start:
                sketch[_hash(text, start, pos - start) & mask] = _SATURATED
            start = pos + 1


@njit(cache=True, nogil=True)
def _renumber_by_first_appearance(ids, n_words):
    """Renumber ``ids`` in place in order of first appearance; returns the old id of each new one."""
    new = np.full(n_words, -1, dtype=np.int64)
    order = np.empty(n_words, dtype=np.int64)
    seen = 0
    for i in range(ids.shape[0]):
        word = ids[i]
        if word < 0:
            continue
        if new[word] < 0:
            new[word] = seen
            order[seen] = word
            seen += 1
        ids[i] = new[word]
    return order[:seen].copy()


@njit(cache=True)
def _count_ids(ids, n_words, resolved):
    """Occurrences of each word; a pruned word's reference counts for the word ``resolved`` names."""
    counts = np.zeros(n_words, dtype=np.int64)
    for word in ids:
        if word >= 0:
            counts[word] += 1
        elif word <= FIRST_REFERENCE and resolved.shape[0] > 0:
            found = resolved[FIRST_REFERENCE - word]
            if found >= 0:
                counts[found] += 1
    return counts


@njit(cache=True)
def _prune(counts, floor, protected, starts, lengths, pool, state, ids, dropped, n_dropped):
    """Keep the words seen more than ``floor`` times or whose ``protected`` bucket is saturated, in
    their order, compacting their bytes; give the others' ids a reference to their hash in
    ``dropped`` (from ``n_dropped``, returned grown). The table is rebuilt apart (``_table_of``)."""
    protect_mask = np.uint64(protected.shape[0] - 1)
    kept = 0
    used = 0
    for word in range(state[0]):
        start, length = starts[word], lengths[word]
        key = _hash(pool, start, length)
        if counts[word] > floor or (protected.shape[0] > 1 and protected[key & protect_mask] == _SATURATED):
            for k in range(length):  # forwards: a kept word never moves right
                pool[used + k] = pool[start + k]
            starts[kept] = used
            lengths[kept] = length
            used += length
            counts[word] = kept
            kept += 1
        elif counts[word] > 0:
            dropped[n_dropped] = key
            counts[word] = FIRST_REFERENCE - n_dropped
            n_dropped += 1
        else:  # added by a block that was undone: no id names it
            counts[word] = DROPPED
    state[0] = kept
    state[1] = used
    for i in range(ids.shape[0]):
        if ids[i] >= 0:
            ids[i] = counts[ids[i]]
    return n_dropped


@njit(cache=True)
def _table_of(starts, lengths, pool, n_words, slots):
    """A table of ``slots`` holding words ``0..n_words-1``."""
    table = np.full(slots, _EMPTY, dtype=np.int64)
    shift = _home_shift(table)
    mask = np.uint64(slots - 1)
    for word in range(n_words):
        key = _hash(pool, starts[word], lengths[word])
        slot = key >> shift
        while table[slot] != _EMPTY:
            slot = (slot + np.uint64(1)) & mask
        table[slot] = _slot_entry(key, word)
    return table


@njit(cache=True)
def _resolve(dropped, starts, lengths, pool, n_words):
    """The word (id) with each pruned word's hash, or -1: the hashes of the table's words, sorted,
    searched for each reference's."""
    hashes = np.empty(n_words, dtype=np.uint64)
    for word in range(n_words):
        hashes[word] = _hash(pool, starts[word], lengths[word])
    order = np.argsort(hashes)
    sorted_hashes = hashes[order]
    resolved = np.full(dropped.shape[0], -1, dtype=np.int32)
    if n_words == 0:
        return resolved
    at = np.searchsorted(sorted_hashes, dropped)
    for k in range(dropped.shape[0]):
        if at[k] < n_words and sorted_hashes[at[k]] == dropped[k]:
            resolved[k] = order[at[k]]
    return resolved
