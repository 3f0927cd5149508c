"""The corpus cut into shards for the workers of a cluster, and the shards' counts merged into one.

A shard is a list of pieces ``(path, start, end)``: byte ranges of plain files, cut where a line ends
(a file's end ends one too; in text with no line break near the cut, like ``text8``, after any
whitespace byte, where the cut ends a sentence that one process would not end), so that no
word, and as far as the text allows no sentence, is split; a compressed file cannot be entered in
the middle and goes whole (``end`` is ``WHOLE``) to one shard. Each shard is a run of consecutive
pieces in the files' order, so shard after shard the words come in the corpus order, and merging
the shards' words in shard order keeps them in order of first appearance: the vocabulary, its
counts and its order are those one process counts (``merge_counts``).

The pieces are found from the files' sizes and a few bytes read at each cut, by a worker: every
worker must read the corpus, the driver need not.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np

from .counting import SENTENCE_END, WHITESPACE, WordCounter
from .errors import W2VError, unreadable
from .sources import BLOCK_BYTES, file_blocks, is_compressed, joined_when_small, open_corpus_file
from .vocab import Vocab

WHOLE = -1  # the end of a piece that is a whole compressed file
NEWLINE_REACH = 1 << 20  # how far past a cut a line end is looked for before any whitespace will do

Piece = tuple[str, int, int]


def plan_shards(files: list[str], count: int) -> list[list[Piece]]:
    """``count`` shards of ``files`` (paths a worker can read) of about equal bytes; a compressed file
    counts its compressed size. Shards may be empty when the corpus has fewer places to cut."""
    sizes = []
    for path in files:
        try:
            sizes.append((path, os.path.getsize(path), is_compressed(path)))
        except OSError as exc:
            raise unreadable(f"cannot read corpus {path}: {exc.strerror or exc}", exc) from None
    total = sum(size for _, size, _ in sizes)
    shards: list[list[Piece]] = [[] for _ in range(count)]
    before = 0  # bytes of the files before this one
    first = 0  # the first shard the text from here on may go to
    for path, size, compressed in sizes:
        if compressed:
            shards[max(first, min(count - 1, (before + size // 2) * count // max(total, 1)))].append((path, 0, WHOLE))
        else:
            start = 0
            while start < size:
                shard = max(first, min(count - 1, (before + start) * count // max(total, 1)))
                target = -(-(shard + 1) * total // count) - before  # where the next shard begins
                end = size if shard == count - 1 or target >= size else _cut_after(path, max(target, start + 1))
                if start == 0 and shards[shard] and target < end - target:  # the file's start is the nearer cut:
                    first = shard + 1  # the file begins the next shard (its one line would end this one late)
                    continue
                shards[shard].append((path, start, end))
                start = end
        before += size
    return shards


def resumed_shards(shards: list[list[Piece]], files: list[tuple[str, int]], checkpoint: str) -> list[list[Piece]]:
    """A checkpoint's ``shards`` on the corpus ``files`` (paths and sizes) given to the resumed run: the
    same number of files, in order, each of the size it had (its text is checked once read), may have
    moved, as one process's run may; the pieces are renamed to them. The pieces come in the files'
    order, and a file's first piece starts at byte 0: so a file given twice is two files here too."""
    now = [(path, size) for path, size in files if size > 0]  # an empty file holds no piece
    ends: list[int] = []  # where each file's last piece ends: its size, or WHOLE for a compressed file
    for _, start, end in (piece for shard in shards for piece in shard):
        if start == 0 or not ends:
            ends.append(end)
        else:
            ends[-1] = end
    mismatch = f"the corpus does not match the checkpoint {checkpoint}"
    if len(now) != len(ends):
        raise W2VError(f"{mismatch}: it was {len(ends)} files, not {len(now)}")
    for end, (path, size) in zip(ends, now):
        if end not in (WHOLE, size):
            raise W2VError(f"{mismatch}: {path} holds {size:,} bytes, where the run read {end:,}")
    resumed, file = [], -1
    for shard in shards:
        resumed.append([])
        for _, start, end in shard:
            file += start == 0 or file < 0
            resumed[-1].append((now[file][0], start, end))
    return resumed


def _cut_after(path: str, offset: int) -> int:
    """The offset just past the first line end at or after ``offset`` within ``NEWLINE_REACH`` bytes
    (the file's end ends a line too), else past the first whitespace byte there or later; the file's
    size if there is none."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        ahead = handle.read(NEWLINE_REACH)
        line_end = ahead.find(b"\n")
        if line_end >= 0:
            return offset + line_end + 1
        if len(ahead) < NEWLINE_REACH:
            return offset + len(ahead)
        at = offset
        while ahead:
            spaces = [found for found in map(ahead.find, WHITESPACE) if found >= 0]
            if spaces:
                return at + min(spaces) + 1
            at += len(ahead)
            ahead = handle.read(BLOCK_BYTES)
        return at


def shard_bytes(shard: list[Piece]) -> int:
    """The plain-text bytes of ``shard``: what is known of its size before reading it."""
    return sum(end - start for _, start, end in shard if end != WHOLE)


def read_shard(shard: list[Piece]) -> Iterator[tuple[bytes, bool]]:
    """Yield the text of ``shard`` as ``sources.read_blocks`` yields files': each piece ends as a file
    does (its last word is whole, a line may go on past it), and small pieces go together."""
    return joined_when_small(_piece_blocks(*piece) for piece in shard)


def _piece_blocks(path: str, start: int, end: int) -> Iterator[bytes]:
    if end == WHOLE:
        yield from file_blocks(path)
        return
    with open_corpus_file(path) as stream:
        stream.seek(start)
        left = end - start
        while left > 0:
            block = stream.read(min(BLOCK_BYTES, left))
            if not block:
                raise W2VError(f"cannot read corpus {path}: it is shorter than when it was cut into shards")
            left -= len(block)
            yield block


def shard_words(counter: WordCounter) -> tuple[bytes, np.ndarray]:
    """What a worker sends of its shard's count: the distinct words joined by spaces, in order of
    first appearance, and their counts."""
    return b" ".join(counter.words(range(counter.n_words))), counter.counts


def merge_counts(shards: list[tuple[bytes, np.ndarray]], min_count: int,
                 max_vocab: int | None) -> tuple[Vocab, list[np.ndarray]]:
    """The vocabulary of the shards' counts (``shard_words``, in shard order): the union of their words
    numbered in order of first appearance by the same counter as the text, each count the sum of the
    shards', then chosen as ``corpus.read_corpus`` chooses it; and for each shard the vocabulary id of
    each of its words (-1 for a word left out), which its worker encodes it with rather than looking
    every word up (2.75M words: 1.4-1.8 s a worker)."""
    union = WordCounter()
    for words, _ in shards:
        union.feed(words + b" ", False)
    union.feed(b"", True)
    union.finish()
    ids = union.ids[union.ids != SENTENCE_END]
    counts = np.zeros(union.n_words, dtype=np.int64)
    at = 0
    for _, shard_counts in shards:
        counts[ids[at:at + len(shard_counts)]] += shard_counts  # a shard names each word once
        at += len(shard_counts)
    order = Vocab.select(counts, min_count, max_vocab)
    vocab_id = np.full(union.n_words, -1, dtype=np.int32)
    vocab_id[order] = np.arange(len(order), dtype=np.int32)
    ends = np.cumsum([len(shard_counts) for _, shard_counts in shards])
    return Vocab(union.words(order), counts[order]), np.split(vocab_id[ids], ends[:-1])
