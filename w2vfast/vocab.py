"""The vocabulary and the tables derived from its counts: subsampling, negative sampling, Huffman codes."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .config import MOST_WORDS
from .errors import W2VError
from .io import atomic_write
from .sources import read_decompressed

MAX_CODE_LENGTH = 64
SENTENCE_END = b"</s>"  # the C tool's word for a line end, first in its vocabulary files


@dataclass
class Vocab:
    """Words (exact bytes) in descending count order, most frequent first; ties keep first appearance."""

    words: list[bytes]
    counts: np.ndarray
    _index: dict[bytes, int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.words)

    @property
    def index(self) -> dict[bytes, int]:
        if self._index is None:
            self._index = {word: i for i, word in enumerate(self.words)}
        return self._index

    @staticmethod
    def select(counts: np.ndarray, min_count: int, max_vocab: int | None, keep: np.ndarray | None = None) -> np.ndarray:
        """Indices of the kept words, by descending count; ties keep their original order. The words
        kept are those seen ``min_count`` times, or those the mask ``keep`` marks."""
        kept = np.flatnonzero(counts >= min_count if keep is None else keep)  # first: most words are rare
        order = kept[np.argsort(-counts[kept], kind="stable")]
        return order if max_vocab is None else order[:max_vocab]

    @classmethod
    def from_counts(cls, words: list[bytes], counts: np.ndarray, min_count: int,
                    max_vocab: int | None) -> "Vocab":
        """Keep words seen ``min_count`` times or more, the ``max_vocab`` most frequent of them."""
        order = cls.select(counts, min_count, max_vocab)
        return cls([words[i] for i in order], counts[order].astype(np.int64))

    def save(self, path: str) -> None:
        """Write ``word count`` lines, the C tool's ``-save-vocab`` format: first its sentence end,
        ``</s>``, which its ``-read-vocab`` takes the first line for whatever that line holds (the most
        frequent word was never trained there, and line ends no longer ended sentences). w2vfast has no
        such word, and keeps no count of line ends: it writes 0, which ``read`` drops."""
        with atomic_write(path) as out:
            out.write(SENTENCE_END + b" 0\n")
            for word, count in zip(self.words, self.counts.tolist()):
                out.write(b"%s %d\n" % (word, count))

    @classmethod
    def read(cls, path: str, min_count: int = 1, max_vocab: int | None = None) -> "Vocab":
        """Read a ``word count`` file (C tool ``-read-vocab``; gzip, bzip2 or xz compressed too), applying
        ``min_count``/``max_vocab``."""
        text = read_decompressed(path, f"vocabulary {path}")  # gzip, bzip2 or xz, as a corpus may be
        # An editor's byte order mark would join the first word and drop it, often the most frequent.
        lines = text.removeprefix(codecs.BOM_UTF8).split(b"\n")
        words, counts, seen = [], [], set()
        first = True
        for number, line in enumerate(lines, 1):
            parts = line.split()
            if not parts:
                continue
            if first:
                first = False
                if parts[0] == SENTENCE_END:  # the C tool's marker, and w2vfast's (see ``save``): no word
                    continue
            if len(parts) != 2 or not parts[1].isdigit():
                raise W2VError(f"{path}:{number}: expected 'word count', got {line[:60]!r}")
            if parts[0] in seen:
                raise W2VError(f"{path}:{number}: word {parts[0][:60]!r} listed twice")
            seen.add(parts[0])
            words.append(parts[0])
            counts.append(int(parts[1]))
        if not words:
            raise W2VError(f"{path}: the vocabulary file lists no word")
        if sum(counts) > MOST_WORDS:
            raise W2VError(f"{path}: the counts add up to {sum(counts):,}, more than the {MOST_WORDS:,} words "
                           "a corpus may have")
        return cls.from_counts(words, np.array(counts, dtype=np.int64), min_count, max_vocab)


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Chance of keeping each occurrence of a word: the C tool's subsampling of frequent words."""
    if sample <= 0:
        return np.ones(len(counts), dtype=np.float32)
    threshold = sample * float(counts.sum())
    freq = counts.astype(np.float64)
    with np.errstate(over="ignore"):
        keep = (np.sqrt(freq / threshold) + 1.0) * threshold / freq
    # A sample so small that freq / threshold overflows: the same formula written without the ratio.
    keep = np.where(np.isfinite(keep), keep, np.sqrt(threshold / freq) + threshold / freq)
    return np.minimum(keep, 1.0).astype(np.float32)


@njit(cache=True)
def _alias_table(weights):
    """Vose's alias method: sampling is one uniform index plus one coin, from two small arrays."""
    n = weights.shape[0]
    scale = n / weights.sum()
    scaled = np.empty(n, dtype=np.float64)
    prob = np.ones(n, dtype=np.float32)
    alias = np.empty(n, dtype=np.int32)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    n_small = n_large = 0
    for i in range(n):  # loops, not array expressions: they compile in a fraction of the time
        scaled[i] = weights[i] * scale
        alias[i] = i
        if scaled[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        lo = small[n_small]
        hi = large[n_large - 1]
        prob[lo] = scaled[lo]
        alias[lo] = hi
        scaled[hi] = (scaled[hi] + scaled[lo]) - 1.0
        if scaled[hi] < 1.0:
            n_large -= 1
            small[n_small] = hi
            n_small += 1
    return prob, alias


def negative_sampling_table(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Alias table for drawing negatives with probability proportional to ``count ** power``.

    Row ``w`` is ``(keep, alias)`` as uint32: a draw picks ``w`` uniformly with a 32-bit coin ``c``
    and gives ``w`` if ``c <= keep``, else ``alias``. Both halves share a cache line, and the coin is
    compared as an integer without a branch (see ``kernels.draw_negatives``).
    """
    prob, alias = _alias_table(counts.astype(np.float64) ** power)
    keep = np.rint(prob.astype(np.float64) * 2.0 ** 32) - 1
    return np.stack([np.clip(keep, 0, 2 ** 32 - 1).astype(np.uint32), alias.astype(np.uint32)], axis=1)


@njit(cache=True)
def _huffman(counts):
    """The C tool's two-queue Huffman construction over counts sorted in descending order."""
    n = counts.shape[0]
    weight = np.full(2 * n, np.iinfo(np.int64).max, dtype=np.int64)
    for w in range(n):  # a loop, not a slice copy: its shape check took seconds to compile
        weight[w] = counts[w]
    parent = np.zeros(2 * n, dtype=np.int64)
    branch = np.zeros(2 * n, dtype=np.uint8)
    leaf = n - 1
    node = n
    for a in range(n - 1):
        picks = np.empty(2, dtype=np.int64)
        for p in range(2):
            if leaf >= 0 and weight[leaf] < weight[node]:
                picks[p] = leaf
                leaf -= 1
            else:
                picks[p] = node
                node += 1
        weight[n + a] = weight[picks[0]] + weight[picks[1]]
        parent[picks[0]] = n + a
        parent[picks[1]] = n + a
        branch[picks[1]] = 1
    lengths = np.zeros(n, dtype=np.int32)
    root = 2 * n - 2
    max_len = 1
    for w in range(n):
        d = 0
        b = w
        while b != root:
            d += 1
            b = parent[b]
        lengths[w] = d
        max_len = max(max_len, d)
    points = np.zeros((n, max_len), dtype=np.int32)
    codes = np.zeros((n, max_len), dtype=np.uint8)
    for w in range(n):
        b = w
        d = lengths[w]
        while b != root:
            d -= 1
            codes[w, d] = branch[b]
            points[w, d] = parent[b] - n
            b = parent[b]
    return points, codes, lengths


def huffman_tree(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per word: inner-node rows from the root down, their 0/1 branch codes, and the path length."""
    if len(counts) < 2:
        raise W2VError("hierarchical softmax needs at least 2 words in the vocabulary")
    points, codes, lengths = _huffman(np.ascontiguousarray(counts, dtype=np.int64))
    if points.shape[1] > MAX_CODE_LENGTH:
        raise W2VError(f"Huffman codes longer than {MAX_CODE_LENGTH}: the word counts are too skewed")
    return points, codes, lengths
