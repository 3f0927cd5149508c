"""How threads share the weights: the hot rows, which each thread trains on private copies.

Hogwild threads write the shared matrices without locks. Most rows are written so rarely that two
threads seldom meet on one, but a few are written by every thread all the time: the output rows of
the frequent words (the centre word, and negatives drawn from counts^0.75), the inner nodes at the
top of the Huffman tree (every path starts at the root), the input rows of the frequent context
words. Each write to such a row moves its cache lines from the other core. So each thread trains
private copies of the rows it is expected to write at least ``HOT_WRITES`` times between two merges,
and merges them every ``MERGE_WORDS`` corpus words (``kernels.merge_private_rows``); the rarer rows
it trains in place, as before.

The expected writes come from the counts alone, per corpus word trained:
- ``syn0`` row of word w: f(w) keep(w) (window + 1), the kept occurrences of w times the windows
  each is a context word of (a radius of 1 to ``window`` on either side);
- ``syn1neg`` row of w: f(w) keep(w) as a centre, plus negative q(w) per kept word as a negative;
- ``syn1`` row of an inner node: the sum of f(w) keep(w) over the words w below it.
Here f is a word's share of the corpus, keep its subsampling chance and q the negative-sampling
distribution. The frequent words are the first rows (the vocabulary is sorted by count) and the
nodes nearest the root the last ones, so each matrix's hot rows are one range.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .config import TrainConfig

# Measured on wiki17m with 2 threads, in one process, each setting on its own weights and trained
# call by call in turn (benchmarks/README.md): rows written at least once per 1,024 corpus words
# (about 600 syn0 rows, 300 syn1neg rows, 800 Huffman nodes) merged every 4,096 words did best; more
# rows, or rarer merges, cost more in merging than they saved.
MERGE_WORDS = 4096
HOT_WRITES = 4.0
MAX_HOT_ROWS = 1024  # per matrix: a thread's copies and their merged values stay within its core's caches
# At most a sixteenth of a matrix's rows: the shared rows must carry most of the model. When a small
# vocabulary made every row hot, the threads trained separate models between merges, whose summed
# changes overshot: on 7,200 planted words (40 words), 2 threads, the loss of the last of 5 epochs rose
# to 1.6x (CBOW) and 1.2x (SG) that of the third, where with a sixteenth it kept falling, as with none.
MAX_HOT_SHARE = 16


def write_rates(counts: np.ndarray, keep_prob: np.ndarray, config: TrainConfig,
                hs_points: np.ndarray, hs_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected writes per corpus word of every row of ``syn0``, ``syn1neg`` and ``syn1``."""
    share = counts.astype(np.float64) / max(float(counts.sum()), 1.0)
    kept = share * keep_prob
    syn0 = kept * (config.window + 1)
    syn1neg = np.zeros(len(counts))
    if config.negative > 0:
        noise = counts.astype(np.float64) ** 0.75
        syn1neg = kept + kept.sum() * config.negative * noise / noise.sum()
    syn1 = np.zeros(max(len(counts) - 1, 1))
    if config.hs:
        on_path = np.arange(hs_points.shape[1])[None, :] < hs_lengths[:, None]
        np.add.at(syn1, hs_points[on_path], np.repeat(kept, hs_lengths))  # row by row, as the mask lists them
    return syn0, syn1neg, syn1


def choose_sharing(counts: np.ndarray, keep_prob: np.ndarray, config: TrainConfig,
                   hs_points: np.ndarray, hs_lengths: np.ndarray) -> kernels.Sharing:
    """The hot rows of each matrix for a run of ``config.threads`` threads; none for one thread."""
    if config.threads == 1:
        return kernels.make_sharing((0, 0), (0, 0), (0, 0), MERGE_WORDS)
    rates = write_rates(counts, keep_prob, config, hs_points, hs_lengths)
    syn0, syn1neg, syn1 = (hot_count(matrix_rates) for matrix_rates in rates)
    return kernels.make_sharing((0, syn0), (0, syn1neg), (len(rates[2]) - syn1, syn1), MERGE_WORDS)


def hot_count(rates: np.ndarray) -> int:
    """How many rows a thread writes at least ``HOT_WRITES`` times in ``MERGE_WORDS`` corpus words,
    within ``MAX_HOT_ROWS`` and a ``MAX_HOT_SHARE``-th of the rows."""
    return min(int(np.count_nonzero(rates * MERGE_WORDS >= HOT_WRITES)), MAX_HOT_ROWS, len(rates) // MAX_HOT_SHARE)
