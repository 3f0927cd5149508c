"""Read a corpus once: count its words, choose the vocabulary and encode the text as int32 ids.

The text is never decoded: a word is its exact bytes, so invalid UTF-8 cannot fail and every word is
written back as it was read. Tokens are separated by ASCII whitespace and a newline ends a sentence.
Blocks of text (from ``sources.py``) go through a single Numba pass that hashes each token into an
open-addressing table and appends a provisional id (the order of first appearance) to a growing
array; with two or more threads, the two halves of each block are scanned at once and the later half
merged in. Once the vocabulary is known, ``encode`` rewrites that array in place into final ids with
sentence boundaries, capping sentences at ``MAX_SENTENCE_WORDS``.

Each compiled call chain stays inside this file, since Numba's cache does not see changes elsewhere.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from numba import njit

from .config import MAX_SENTENCE_WORDS, TrainConfig
from .errors import W2VError
from .memory import TEXT_BYTES_PER_WORD, corpus_bytes, ensure_fits
from .sources import corpus_files, plain_text_bytes, read_ahead, read_blocks
from .vocab import Vocab

SENTENCE_END = -1
_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_NEED_TABLE, _NEED_WORDS, _NEED_POOL, _NEED_IDS, _DONE = 0, 1, 2, 3, 4
_SENTENCES_BYTES = 1 << 22  # Python sentences are joined into blocks of about this many bytes


@dataclass
class EncodedCorpus:
    """The training corpus: ``words`` (int32 ids) split into sentences by ``sentence_starts``."""

    words: np.ndarray
    sentence_starts: np.ndarray

    @property
    def n_words(self) -> int:
        return int(self.words.shape[0])

    @property
    def n_sentences(self) -> int:
        return int(self.sentence_starts.shape[0] - 1)

    def words_before(self, epoch: int, sentence: int) -> int:
        """Corpus words trained before sentence ``sentence`` of epoch ``epoch``: where the learning
        rate has decayed to at that position."""
        return epoch * self.n_words + int(self.sentence_starts[sentence])


def corpus_paths(corpus) -> list[str] | None:
    """The corpus as a list of paths, or ``None`` for an iterable of token lists."""
    if isinstance(corpus, (str, os.PathLike)):
        return [os.fspath(corpus)]
    if isinstance(corpus, (list, tuple)) and len(corpus) > 0 and \
            all(isinstance(c, (str, os.PathLike)) for c in corpus):
        return [os.fspath(c) for c in corpus]
    return None


def read_corpus(corpus, config: TrainConfig, vocab: Vocab | None = None, disk_dir: str | None = None,
                force: bool = False, phrases=None) -> tuple[Vocab, EncodedCorpus]:
    """Count, choose the vocabulary (unless given), and encode: the corpus text is read exactly once.

    ``corpus`` is paths (see ``sources.corpus_files``) or an iterable of token lists. ``disk_dir``
    keeps the encoded corpus in a memory-mapped file there rather than in RAM; without it, a corpus
    too large for memory is refused before reading, unless ``force`` is set. ``phrases`` (a
    ``phrases.PhraseTable``) joins its phrases in the text before the words are chosen.
    """
    paths = corpus_paths(corpus)
    if paths is not None:
        files = corpus_files(paths)
        if disk_dir is None:
            ensure_fits("reading the corpus", corpus_bytes(plain_text_bytes(files)),
                        "--disk-corpus DIR keeps it on disk", force)
        counter = count_words(files, disk_dir, config.threads)
    else:
        counter = _count_sentences(corpus, config.threads)
    if phrases is not None:
        phrases.join(counter, config.threads, disk_dir)
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


def count_words(paths: list[str], disk_dir: str | None = None, threads: int = 1) -> WordCounter:
    """One pass over the corpus files: count every word and keep its provisional id sequence.

    With ``disk_dir``, the id sequence (and so the encoded corpus) lives in a memory-mapped file
    there instead of in RAM, for corpora larger than memory.
    """
    counter = WordCounter(plain_text_bytes(paths), disk_dir, threads)
    for block, ends_file in read_ahead(read_blocks(paths)):
        counter.feed(block, ends_file)
    return counter


def _count_sentences(sentences: Iterable, threads: int) -> WordCounter:
    """Feed an iterable of token lists (str or bytes) through the same counter as files."""
    counter = WordCounter(threads=threads)
    buffer, size = [], 0
    for sentence in sentences:
        line = b" ".join(t.encode("utf-8", "surrogateescape") if isinstance(t, str) else bytes(t)
                         for t in sentence) + b"\n"
        buffer.append(line)
        size += len(line)
        if size >= _SENTENCES_BYTES:
            counter.feed(b"".join(buffer), False)
            buffer, size = [], 0
    counter.feed(b"".join(buffer), True)
    return counter


def encode(counter: WordCounter, remap: np.ndarray, max_sentence: int = MAX_SENTENCE_WORDS) -> EncodedCorpus:
    """Turn the counter's provisional ids into the final corpus, reusing their memory."""
    ids = counter.ids
    bound = int(np.count_nonzero(ids == SENTENCE_END)) + ids.shape[0] // max_sentence + 2
    sentence_starts = np.zeros(bound, dtype=np.int64)
    n_kept, n_sentences = _encode_in_place(ids, remap.astype(np.int32), max_sentence, sentence_starts)
    words = ids[:n_kept]
    counter.release_ids()
    return EncodedCorpus(words, sentence_starts[: n_sentences + 1].copy())


def _unlinked_file(directory: str):
    """A scratch file that has no name, so nothing is left behind however the process ends."""
    if not os.path.isdir(directory):
        raise W2VError(f"directory for the on-disk corpus does not exist: {directory}")
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
    """

    def __init__(self, expected_bytes: int = 0, disk_dir: str | None = None, threads: int = 1,
                 split_bytes: int = 1 << 20) -> None:
        self._counts = None
        self._ids_file = None
        if disk_dir is not None:
            self._ids_file = _unlinked_file(disk_dir)
        # A first guess at the words in the text, which it rarely has to grow past (see memory.py).
        guess = max(1 << 16, expected_bytes // TEXT_BYTES_PER_WORD)
        ids = self._grown_ids(np.empty(0, dtype=np.int32), guess)
        self._main = _Scanner(ids, self._grown_ids)
        self._part = _Scanner(np.empty(1 << 16, dtype=np.int32), _grown) if threads > 1 else None
        self._ours = np.empty(0, dtype=np.int32)  # the main scanner's id of each of the part's words
        self._split_bytes = max(split_bytes, 1)
        self._carry = b""

    def feed(self, block: bytes, ends_file: bool) -> None:
        data = self._carry + block if self._carry else block
        if ends_file:
            end, self._carry = len(data), b""
        else:
            cut = max(data.rfind(b" "), data.rfind(b"\n"), data.rfind(b"\t"), data.rfind(b"\r"))
            end = cut + 1
            self._carry = data[end:]
        buf = np.frombuffer(data, dtype=np.uint8)
        half = self._half(data, end)
        if half is None:
            self._main.scan(buf, 0, end)
        else:
            part = self._part
            known = int(part.state[0])
            part.start_part()
            later = in_background(part.scan, buf, half, end)
            try:
                self._main.scan(buf, 0, half)
            finally:
                later()
            if self._ours.shape[0] < part.state[0]:
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
        size = max(size, 2 * ids.shape[0])
        try:
            self._ids_file.truncate(4 * size)
        except OSError as exc:
            raise W2VError(f"cannot grow the on-disk corpus: {exc.strerror or exc}") from None
        return np.memmap(self._ids_file, dtype=np.int32, mode="r+", shape=(size,))

    @property
    def n_words(self) -> int:
        return int(self._main.state[0])

    @property
    def counts(self) -> np.ndarray:
        """Occurrences of each provisional word, counted once from the ids."""
        if self._counts is None:
            self._counts = _count_ids(self.ids, self.n_words)
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
        self._counts = None

    def release_ids(self) -> None:
        """Let go of the id array once ``encode`` has made the corpus out of it."""
        self._main.ids = np.empty(0, dtype=np.int32)


class _Scanner:
    """One thread's share of the scan: its table of distinct words, their bytes and the ids it wrote."""

    def __init__(self, ids: np.ndarray, grow_ids) -> None:
        words_guess = 1 << 16
        self.table = np.full((4 * words_guess, 2), -1, dtype=np.int64)
        self.starts = np.empty(words_guess, dtype=np.int64)
        self.lengths = np.empty(words_guess, dtype=np.int32)
        self.pool = np.empty(1 << 20, dtype=np.uint8)
        self.ids = ids
        self._grow_ids = grow_ids
        self.state = np.zeros(3, dtype=np.int64)

    def scan(self, buf: np.ndarray, pos: int, end: int) -> None:
        while True:
            pos, need = _scan(buf, pos, end, self.table, self.starts, self.lengths, self.pool,
                              self.ids, self.state)
            if need == _DONE:
                return
            self.make_room(need, end - pos if need == _NEED_POOL else 1)

    def make_room(self, need: int, size: int) -> None:
        """Grow what ``need`` names so that ``size`` more words, bytes or ids fit."""
        if need == _NEED_TABLE:
            slots = self.table.shape[0]
            while slots < 2 * (int(self.state[0]) + size):
                slots *= 2
            if slots > self.table.shape[0]:
                self.table = _rehash(self.table, slots)
        elif need == _NEED_WORDS:
            if int(self.state[0]) + size > self.starts.shape[0]:
                self.starts = _grown(self.starts, int(self.state[0]) + size)
                self.lengths = _grown(self.lengths, int(self.state[0]) + size)
        elif need == _NEED_POOL:
            if int(self.state[1]) + size > self.pool.shape[0]:
                self.pool = _grown(self.pool, int(self.state[1]) + size)
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
        if failure:
            raise failure[0]

    return wait


@njit(cache=True, nogil=True)
def _scan(buf, pos, end, table, starts, lengths, pool, ids, state):
    """Tokenise ``buf[pos:end]`` into the table; return ``(pos, need)`` when something must grow.

    ``table`` rows are ``(hash, word)`` pairs (word -1: empty), so a probe reads one cache line.
    ``state`` holds ``[n_words, pool_used, n_ids]``. ``buf[end-1]`` is whitespace or ``end`` is a
    file end, so no token is cut. Counting is left to one ``bincount`` over the ids afterwards.
    """
    n_ids = state[2]
    need = _DONE
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
        slot, word = _find(table, starts, lengths, pool, key, buf, pos, length)
        if word < 0:
            if 2 * (state[0] + 1) > table.shape[0]:
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
    return np.int64(h)


@njit(cache=True, inline="always")
def _find(table, starts, lengths, pool, key, text, pos, length):
    """The slot of the word ``text[pos:pos + length]`` (hash ``key``) and its id, or -1 if absent."""
    mask = np.uint64(table.shape[0] - 1)
    slot = np.uint64(key) & mask
    while True:
        word = table[slot, 1]
        if word < 0:
            return slot, word
        if table[slot, 0] == key and lengths[word] == length:
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
def _add(table, starts, lengths, pool, state, slot, key, text, pos, length):
    """Store a new word in ``slot`` (free) and the pool; room has been checked. Returns its id."""
    word = state[0]
    pool_used = state[1]
    table[slot, 0] = key
    table[slot, 1] = word
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
    for word in range(known, part_state[0]):
        start = part_starts[word]
        length = part_lengths[word]
        key = _hash(part_pool, start, length)
        slot, found = _find(table, starts, lengths, pool, key, part_pool, start, length)
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
            ids[n_ids] = ours[word]
        n_ids += 1
    state[2] = n_ids


@njit(cache=True)
def _rehash(table, size):
    """The same ``(hash, word)`` pairs in a table of ``size`` slots."""
    bigger = np.full((size, 2), -1, dtype=np.int64)
    mask = np.uint64(size - 1)
    for old in range(table.shape[0]):
        if table[old, 1] < 0:
            continue
        slot = np.uint64(table[old, 0]) & mask
        while bigger[slot, 1] >= 0:
            slot = (slot + np.uint64(1)) & mask
        bigger[slot, 0] = table[old, 0]
        bigger[slot, 1] = table[old, 1]
    return bigger


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
def _count_ids(ids, n_words):
    counts = np.zeros(n_words, dtype=np.int64)
    for word in ids:
        if word >= 0:
            counts[word] += 1
    return counts


@njit(cache=True)
def _encode_in_place(ids, remap, max_sentence, sentence_starts):
    """Map provisional ids to final ones (dropping -1s) and record where each sentence starts."""
    out = 0
    n_sentences = 0
    sentence_len = 0
    for i in range(ids.shape[0]):
        word = ids[i]
        if word == SENTENCE_END:
            if sentence_len > 0:
                n_sentences += 1
                sentence_starts[n_sentences] = out
                sentence_len = 0
            continue
        mapped = remap[word]
        if mapped < 0:
            continue
        ids[out] = mapped
        out += 1
        sentence_len += 1
        if sentence_len == max_sentence:
            n_sentences += 1
            sentence_starts[n_sentences] = out
            sentence_len = 0
    if sentence_len > 0:
        n_sentences += 1
        sentence_starts[n_sentences] = out
    return out, n_sentences
