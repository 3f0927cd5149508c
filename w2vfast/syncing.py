"""When the replicas of a run on a cluster agree on each row, and how their changes are combined.

Every worker trains a replica of the weights on its shard, in rounds: each round every worker trains
the same share of its shard, about ``ROUND_WORDS`` words. After a round the rows that are due go
through the driver: each replica sends what it changed in them since they were last synchronised,
the driver adds the combined change to its model and sends it back, and every replica adds it to
the rows as they were last synchronised. Changes travel in 8 bits a value, each row scaled by its
largest value (``to_wire``, ``add_to_rows``), a quarter of float32's bytes; the driver adds to its
model the very change it sends, so the rows each replica reads stay the model's bit for bit. A replica's change
of many rows of which few moved (every row at an epoch's end, where a rare word's row moved in one
shard alone) goes as those rows and their places (``moved_rows``); and the combined change of
``syn0`` goes back to each replica only for the words of its shards when that is fewer bytes
(``rows_read``): it never reads the input vectors of other words, which stay as they were there. With
one thread per worker the run is deterministic.

Which rows are due follows the threads' hot rows (``sharing.py``): ``write_rates`` gives the writes
of every row per corpus word, and a row is synchronised about when the replicas together are expected
to have written it ``sync_writes`` times since the last time, rounded to a power of two of rounds:
the most written rows every round, rarer ones every 2, 4, 8, ... rounds, and every row at the end of
each epoch and before a checkpoint. Word counts falling about as one over their rank, each tier of
twice the period holds about twice the rows, so every tier sends about as many rows a round, and the
traffic grows with the logarithm of the vocabulary, not with it (pWord2Vec's schedule: its top 1,024
rows every time, larger sets of rarer rows exponentially less often).

How changes combine. Replica i sends its change d_i of a row. When the replicas' changes are
independent steps (different words of different shards moved the row), their sum is what one process
would have done. When each replica corrected the same error on its own (a frequent word's row, which
every shard asks the same of), the changes point the same way, and the sum goes m times too far for
m replicas: their mean is right. How far they agree is measured on the row itself: the sum is scaled
by sum |d_i|^2 / |sum d_i|^2, which is 1 for orthogonal changes and 1/m for equal ones (kept within
those bounds). A row only one replica changed keeps its whole change (but for the learning rate's
scaling, below).

Measured on wiki17m, SG+NS, 2 epochs (one process: 24.1% analogy): the plain sum gave 22.5% with 2
workers but sent the weights to NaN with 8; a model of each write's pull on its row (mean for rows
written often, sum for rare ones) gave 15.7% and 4.6%; this scaling 20.0% and 7.2%; Spark's mean
once an epoch 14.4% and 1.8%. None kept one process's quality alone: with more replicas each trains
further from the others' changes between synchronisations, which the learning rate (below) and rows
due sooner with more replicas (``sync_writes``) make up for.

The replicas learn faster than one process would (``replica_learning_rate``): where the changes
agree, the scaling keeps a 1/m share of each, so the most written rows move up to m times slower
than in one process. The learning rate times s = sqrt(2m) gave the best of those measured (5 epochs,
wiki17m, analogy, rounds of 512K words; one process 36.6%): 2 replicas 36.4% at 1x, 38.3% at 2x; 4
replicas 32.7% at 1x, 35.5% at 2x, 36.0% at 2.83x, 34.4% at 4x; 8 replicas 26.7% at 1x, 32.1% at 2x,
33.9% at 4x (8x, at 2 epochs: garbage). A row whose changes do not agree (a rare word's, which one
replica moved) needs no such help, and its change, made s times too fast, is scaled back by 1/s;
in between, the scale goes from the mean (agreement 1/m) to 1/s of the sum (agreement 1) linearly
in the agreement (``change_scale``). That took 8 replicas from 33.8% / 0.650 (WS-353) to 35.1% /
0.671 and 4 from 36.7% / 0.676 to 36.8% / 0.686, 2 from 38.0% / 0.677 to 37.4% / 0.685 (5 epochs,
rounds of 2M words; one process 37.4% / 0.681 on the mean of five seeds); the rate times 2.83 or
5.66 with it gave 34.4% and 32.3% at 8.

Hierarchical softmax wants a far slower replica (3 epochs of wiki17m, one thread a replica, analogy
at seeds 1 / 3; one process of one thread: skip-gram 32.0% / 32.9%, CBOW 26.5% / 25.5%). Skip-gram,
4 replicas: 27.1 / 25.3% at 4x, 30.4 / 29.5% at 2.83x, 31.8 / 32.1% at 2x, 33.3 / 32.6% at 1.41x,
33.0 / 32.2% at 1x (WS-353 0.641 at 1x, 0.653 / 0.664 at 1.41x); 2 replicas 31.3 / 30.5% at 2x, 32.0
/ 32.3% at 1.41x, 31.0% at 1x (seed 3); 8 replicas (seed 1 but at 1.41x) 26.1% at 4x, 31.0% at
2.83x, 32.4% at 2x, 32.2 / 33.7% at 1.41x. So s = sqrt(2) for skip-gram whatever the number of
replicas. CBOW, 4 replicas: 20.7% at 2.83x (seed 1), 23.8 / 24.2% at 1.41x, 24.9 / 26.0% at 1x; 2
replicas (seed 1 but at 1x) 21.8% at 2x, 25.0% at 1.41x, 25.7 / 25.2% at 1x: s = 1. With both
losses, skip-gram (one process 36.3% / 35.7%), 4 replicas: 31.2% at 2.83x (seed 1), 33.0% at 2x
(seed 1), 33.6 / 34.4% at 1.41x, 32.9% at 1x (seed 1); the tree's rate is the better, still 2.0
points short on the mean. CBOW with negative sampling alone keeps sqrt(2m) (one process 28.9% /
26.9%): 4 replicas 22.4% at 1x, 24.7% at 1.41x, 26.4 / 27.8% at 2.83x, 23.6% at 4x (seed 1 alone but
at 2.83x), and 26.2% at 2.83x with every row every round; 2 replicas 28.1% at 2x.

``every_epoch`` is the scheme of Spark's word2vec, kept to measure ours against: nothing is
synchronised but every row at the end of each epoch, as the plain mean of every replica, at the
learning rate one process would use, as Spark does.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from .sharing import write_rates

# Rounds of 2M words (all replicas together): rounds of 512K words gave analogy within 0.7 points of these
# (2, 4 and 8 replicas, 5 epochs) and twice the workers' waiting between rounds (benchmarks/README.md
# measures quality and traffic against other choices).
ROUND_WORDS = 1 << 21
WIRE_TYPE = np.uint8  # a value as an integer -LEVELS..LEVELS, plus LEVELS + 1
LEVELS = 127
SCALE_BYTES = 4  # a row's scale, a float32, after its values
COMBINE_ROWS = 4096  # rows combined at a time: 1.6 MB of float32 at 100 dimensions


@dataclass
class SyncSchedule:
    """The rows of each matrix (``Weights`` order) by tier: tier t is synchronised every 2**t rounds,
    and all of them at the end of an epoch. One replica has nothing to agree on with another: its rows
    go to the driver only when the driver needs the run's model (an epoch's end, a checkpoint, a stop)."""

    rounds: int
    rows: list[list[np.ndarray]]  # rows[t][m]
    every_epoch: bool
    replicas: int
    speedup: float  # how much faster than the run each replica learns (``learning_rate_scale``)

    def due(self, round_in_epoch: int, everything: bool) -> list[int]:
        """The tiers synchronised after round ``round_in_epoch`` of an epoch (counted from 0); all of
        them at the end of the epoch or when ``everything`` is asked for (a checkpoint, a stop)."""
        if everything or round_in_epoch == self.rounds - 1:
            return list(range(len(self.rows)))
        if self.every_epoch or self.replicas == 1:
            return []
        return [t for t in range(len(self.rows)) if (round_in_epoch + 1) % (1 << t) == 0]

    def rows_of(self, tiers: list[int]) -> list[np.ndarray | slice]:
        """The rows of each matrix in ``tiers``: one slice, in order, when they are one range of rows, else
        the rows tier after tier. The tiers due are always the first few (``due``), and the words' rows
        are sorted by count, so a round's rows of ``syn0`` and ``syn1neg`` are one range, which the
        replicas and the driver read and write in place, gathering and scattering no copies: for every
        row at an epoch's end that took a third of a second of a 1-epoch run of wiki17m on 2 workers,
        for a round's rows 3-4 ms. The tree's nodes (``syn1``) are not in that order, and go as rows."""
        ranges = []
        for m in range(len(self.rows[0])):
            rows = np.concatenate([self.rows[t][m] for t in tiers] or [np.zeros(0, np.int64)])
            if len(rows) == 0:
                ranges.append(slice(0, 0))
            elif rows.max() - rows.min() + 1 == len(rows):  # the tiers' rows are distinct
                ranges.append(slice(int(rows.min()), int(rows.max()) + 1))
            else:
                ranges.append(rows)
        return ranges

    def combine(self, changes: list[list[np.ndarray | FewRows]]) -> list[np.ndarray]:
        """The change to apply to each matrix's rows of the tiers synchronised (``rows_of``), from every
        replica's ``changes`` of them, both as they travel (``to_wire``, ``moved_rows``). The rows are
        combined ``COMBINE_ROWS`` at a time, in a block that stays in the cache, into the change as it
        travels: a float32 copy of every row at an epoch's end was 550 MB of fresh memory a matrix for
        2.75M words of 50 dimensions."""
        combined = []
        for m in range(len(self.rows[0])):
            rows, dim = wire_rows(changes[0][m])
            wire = np.empty((rows, dim + SCALE_BYTES), dtype=WIRE_TYPE)
            block = np.empty((min(rows, COMBINE_ROWS), dim), np.float32)
            block_own = np.empty(len(block), np.float32)
            firsts = np.arange(0, rows + COMBINE_ROWS, COMBINE_ROWS)
            # where each block's rows begin among a FewRows' places, which are in order (``moved_rows``)
            starts = [np.searchsorted(change[m].at, firsts) if isinstance(change[m], FewRows) else firsts
                      for change in changes]
            for b, first in enumerate(firsts[:-1]):
                end = min(first + COMBINE_ROWS, rows)
                total, own = block[:end - first], block_own[:end - first]
                total.fill(0)
                own.fill(0)
                for change, places in zip(changes, starts):
                    _add_change(change[m], first, end, places[b:b + 2], total, own)
                if self.every_epoch:
                    total /= len(changes)
                else:
                    together = np.einsum("ij,ij->i", total, total)
                    total *= change_scale(own, together, len(changes), self.speedup)[:, None]
                to_wire(total, wire[first:end])
            combined.append(wire)
        return combined


def learning_rate_scale(config, replicas: int, every_epoch: bool) -> float:
    """How much faster than the run each of ``replicas`` replicas of a run of ``config`` learns: with
    negative sampling alone sqrt(2 replicas), with hierarchical softmax sqrt(2) for skip-gram and 1 for
    CBOW, whatever their number (see the module's docstring); 1 for one replica, which has nothing to
    combine, and for Spark's scheme, which keeps the run's rate, as Spark does."""
    if every_epoch or replicas < 2:
        return 1.0
    if config.hs:
        return math.sqrt(2) if config.model == "sg" else 1.0
    return math.sqrt(2 * replicas)


def replica_learning_rate(config, scale: float):
    """The settings each replica trains with: ``config`` with its learning rates times ``scale``
    (``SyncSchedule.speedup``)."""
    if scale == 1.0:
        return config
    return dataclasses.replace(config, alpha=config.alpha * scale, min_alpha=config.min_alpha * scale)


def change_scale(own: np.ndarray, together: np.ndarray, replicas: int, speedup: float) -> np.ndarray:
    """What the sum of the ``replicas``' changes of each row is multiplied by, when they learnt ``speedup``
    times faster than the run: the mean where they agree, 1/speedup of the sum where they are
    independent, linearly in their agreement between (see the module's docstring). ``own`` is each
    row's sum |d_i|^2, ``together`` its |sum d_i|^2."""
    agreed = agreement(own, together, replicas)
    if speedup == 1.0:
        return agreed
    spread = 1 - 1 / replicas  # how far the agreement can fall below 1: none for one replica's changes
    towards_mean = (1 - agreed) / spread if spread > 0 else np.float32(0)
    return agreed * (1 / speedup + (1 - 1 / speedup) * towards_mean)


def agreement(own: np.ndarray, together: np.ndarray, replicas: int) -> np.ndarray:
    """What the sum of the ``replicas``' changes of each row is scaled by: sum |d_i|^2 / |sum d_i|^2
    (``own`` / ``together``), within [1/m, 1] (see the module's docstring)."""
    scale = np.divide(own, together, out=np.ones(len(own), dtype=np.float32), where=together > 0)
    return np.clip(scale, np.float32(1 / replicas), np.float32(1), out=scale)


def to_wire(change: np.ndarray, wire: np.ndarray | None = None) -> np.ndarray:
    """``change`` (float32 rows) in 8 bits a value, into ``wire`` if given: each row as integers -127..127
    times its largest value / 127, a float32 that follows them, rounded to the nearest: a change of a row
    kept to 1/254 of its largest value, whatever its magnitude."""
    if wire is None:
        wire = np.empty((change.shape[0], change.shape[1] + SCALE_BYTES), dtype=WIRE_TYPE)
    _encode_difference(change, np.zeros((1, change.shape[1]), np.float32), wire, False)
    return wire


def difference_to_wire(rows: np.ndarray, synced: np.ndarray) -> np.ndarray:
    """``to_wire(rows - synced)`` in one pass, with no float32 copy of the rows (the model's rows are
    views of longer, padded rows)."""
    wire = np.empty((rows.shape[0], rows.shape[1] + SCALE_BYTES), dtype=WIRE_TYPE)
    _encode_difference(rows, synced, wire, True)
    return wire


@dataclass
class FewRows:
    """Some of a change's many rows, at their places ``at`` among its ``rows``, as they travel: a replica's
    change where few rows moved (a vocabulary's rare words at an epoch's end: on 2 workers most of them
    are in one shard alone), or the combined change of the rows of ``syn0`` that a replica reads."""

    rows: int
    at: np.ndarray
    wire: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.at.nbytes + self.wire.nbytes


def moved_rows(wire: np.ndarray) -> np.ndarray | FewRows:
    """A replica's change ``wire`` as it travels best: whole, or its rows that hold a change (a row that did
    not move has a zero scale)."""
    return _fewer_bytes(wire, wire[:, -SCALE_BYTES:].any(axis=1))


def rows_read(wire: np.ndarray, reads: np.ndarray) -> np.ndarray | FewRows:
    """The combined change ``wire`` as it travels best to a replica that reads only the rows ``reads`` marks:
    whole, or those rows. The others it never reads, nor so moves: they stay as they were, and its change
    of them stays zero."""
    return _fewer_bytes(wire, reads)


def _fewer_bytes(wire: np.ndarray, keep: np.ndarray) -> np.ndarray | FewRows:
    """``wire`` whole, or only its rows that ``keep`` marks and their places, whichever is fewer bytes."""
    kept = np.flatnonzero(keep).astype(np.int32)
    if len(kept) * (wire.shape[1] + kept.itemsize) >= wire.nbytes:
        return wire
    return FewRows(len(wire), kept, wire[kept])


def _add_change(change: np.ndarray | FewRows, first: int, end: int, places: np.ndarray, total: np.ndarray,
                own: np.ndarray) -> None:
    """Add a replica's ``change`` of rows ``first`` to ``end``, as it travels, to ``total``, and each row's squared
    norm of it to ``own``; a ``FewRows``' places of those rows are its ``places[0]`` to ``places[1]``. The
    rows a ``FewRows`` leaves out hold no change, so the sums are those of the whole rows, bit for bit."""
    if isinstance(change, FewRows):
        begin, stop = places
        _add_decoded(change.wire[begin:stop], change.at[begin:stop] - np.int32(first), total, own)
    else:
        _add_decoded(change[first:end], IN_ORDER, total, own)


def wire_rows(wire: np.ndarray | FewRows) -> tuple[int, int]:
    """The shape of the float32 rows that ``wire`` holds."""
    if isinstance(wire, FewRows):
        return wire.rows, wire.wire.shape[1] - SCALE_BYTES
    return wire.shape[0], wire.shape[1] - SCALE_BYTES


def add_to_rows(matrix: np.ndarray, rows: np.ndarray | slice, wire: np.ndarray | FewRows) -> np.ndarray:
    """Add the changes ``wire`` (as they travel) to ``matrix[rows]``; returns those rows as they now are."""
    block = matrix[rows]  # a view of every row (a slice), else a copy of the rows listed
    if isinstance(wire, FewRows):
        _add_decoded(wire.wire, wire.at, block, np.zeros(0, dtype=np.float32))
    else:
        _add_decoded(wire, IN_ORDER, block, np.zeros(0, dtype=np.float32))
    if not isinstance(rows, slice):
        matrix[rows] = block
    return block


# The loops below are compiled for arrays of any layout (the model's rows are views of padded rows),
# when this module is first imported, before any training, or loaded from Numba's cache then.
@njit("void(float32[:, :], float32[:, :], uint8[:, :], boolean)", cache=True, nogil=True)
def _encode_difference(rows, synced, wire, each_row):
    """``rows - synced`` (``synced``'s row i, or its only row unless ``each_row``) as ``to_wire`` writes it.
    A row holding a NaN or an infinity gets a NaN scale, so the driver's model turns NaN and is
    refused. Each step is a loop of its own over the row, which the compiler vectorises: the largest
    size is found on the values' bits, whose order as integers is theirs (NaN and infinities last)."""
    dim = rows.shape[1]
    difference = np.empty(dim, dtype=np.float32)
    difference_bits = difference.view(np.uint32)
    scale = np.empty(1, dtype=np.float32)
    scale_bits = scale.view(np.uint32)
    for i in range(rows.shape[0]):
        k = i if each_row else 0
        for j in range(dim):
            difference[j] = rows[i, j] - synced[k, j]
        top_bits = np.uint32(0)
        for j in range(dim):
            top_bits = max(top_bits, difference_bits[j] & np.uint32(0x7FFFFFFF))
        scale_bits[0] = top_bits
        top = scale[0]
        finite = top_bits < np.uint32(0x7F800000)
        scale[0] = top / np.float32(LEVELS) if finite else np.float32(np.nan)
        inverse = np.float32(LEVELS) / top if finite and top > 0 else np.float32(0.0)
        for j in range(dim):
            level = np.int32(np.floor(difference[j] * inverse + np.float32(0.5)))
            wire[i, j] = np.uint8(min(max(level, -LEVELS), LEVELS) + LEVELS + 1)
        for b in range(SCALE_BYTES):
            wire[i, dim + b] = np.uint8((scale_bits[0] >> np.uint32(8 * b)) & np.uint32(0xFF))


IN_ORDER = np.zeros(0, dtype=np.int32)  # ``_add_decoded``'s places when row i of the changes is row i of the sums


NORM_ROWS = 8  # rows whose squared norms are summed side by side, each in its own order


@njit("void(uint8[:, :], int32[:], float32[:, :], float32[:])", cache=True, nogil=True)
def _add_decoded(wire, at, total, own):
    """Add the changes ``wire`` to the rows ``at`` of ``total`` (its first rows, in order, if ``at`` is empty),
    and each row's squared norm of them to ``own`` unless it is empty: a ``FewRows``' rows go straight
    where they belong (numpy's ``total[at] += rows`` took 1.0-1.8 s a replica for 1.5M rows). Decoding
    and adding are loops of their own, which the compiler vectorises, and the norms of ``NORM_ROWS`` rows
    are summed together, each value after value as one row's alone would be: 1.8 times faster."""
    dim = wire.shape[1] - SCALE_BYTES
    scale = np.empty(1, dtype=np.float32)
    scale_bits = scale.view(np.uint32)
    values = np.zeros((NORM_ROWS, dim), dtype=np.float32)
    norms = np.empty(NORM_ROWS, dtype=np.float32)
    places = np.empty(NORM_ROWS, dtype=np.int64)
    for first in range(0, wire.shape[0], NORM_ROWS):
        group = min(NORM_ROWS, wire.shape[0] - first)
        for g in range(group):
            n = first + g
            i = at[n] if at.shape[0] else n
            places[g] = i
            bits = np.uint32(0)
            for b in range(SCALE_BYTES):
                bits |= np.uint32(wire[n, dim + b]) << np.uint32(8 * b)
            scale_bits[0] = bits
            row = values[g]
            for j in range(dim):
                row[j] = np.float32(np.int32(wire[n, j]) - (LEVELS + 1)) * scale[0]
            for j in range(dim):
                total[i, j] += row[j]
        if own.shape[0]:
            norms[:] = 0
            for j in range(dim):
                for g in range(NORM_ROWS):
                    norms[g] += values[g, j] * values[g, j]
            for g in range(group):
                own[places[g]] += norms[g]


def sync_writes(replicas: int) -> float:
    """The writes of a row by all replicas together after which it is due: 1,024 for 2 replicas and a
    quarter as many for each doubling of them, since more replicas drift apart faster. Measured on
    wiki17m (SG+NS, 5 epochs, analogy; one process 37.4% on the mean of five seeds): 8 replicas 35.1%
    after 1,024 writes, 35.8% after 256, 36.5% after 64 (36.3% with every row every round); 4 replicas
    36.8% after 1,024, 37.1% after 256. Each replica then sends and receives about 38, 61 and 116 MiB
    an epoch of wiki17m with 2, 4 and 8 replicas, of which every row at the epoch's end is 27 MiB."""
    return 4096.0 / max(replicas, 2) ** 2


def plan_sync(counts: np.ndarray, keep_prob: np.ndarray, config, hs_points: np.ndarray, hs_lengths: np.ndarray,
              shared_rows: tuple[int, int, int], round_words: int, rounds: int, every_epoch: bool,
              replicas: int) -> SyncSchedule:
    """The schedule of a run whose ``replicas`` train ``round_words`` corpus words a round together, ``rounds`` a
    epoch; ``shared_rows`` are the rows of each matrix (``trainer.weight_rows``), those of a matrix the
    run does not use are never sent."""
    rates = write_rates(counts, keep_prob, config, hs_points, hs_lengths)
    used = (True, config.negative > 0, bool(config.hs))
    top = max(0, int(math.log2(rounds)))  # the rarest rows' period, within an epoch
    tiers = [[] for _ in range(top + 1)]
    for matrix_rates, rows, in_use in zip(rates, shared_rows, used):
        matrix_rates = matrix_rates[:rows] if in_use else np.zeros(0)
        per_round = matrix_rates * round_words
        with np.errstate(divide="ignore"):
            periods = np.floor(np.log2(sync_writes(replicas) / per_round))
        tier_of = np.clip(np.nan_to_num(periods, posinf=top), 0, top).astype(np.int64)
        for t in range(top + 1):
            rows_in_tier = np.flatnonzero(tier_of == t)
            tiers[t].append(rows_in_tier)
    return SyncSchedule(rounds, tiers, every_epoch, replicas, learning_rate_scale(config, replicas, every_epoch))
