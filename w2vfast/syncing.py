"""When the replicas of a run on a cluster agree on each row, and how their changes are combined.

Every worker trains a replica of the weights on its shard, in rounds: each round every worker trains
the same share of its shard, about ``ROUND_WORDS`` words. After a round the rows that are due go
through the driver: each replica sends what it changed in them since they were last synchronised,
the driver adds the combined change to its model and sends the rows back, and every replica takes
them. With one thread per worker the run is deterministic.

Which rows are due follows the threads' hot rows (``sharing.py``): ``write_rates`` gives the writes
of every row per corpus word, and a row is synchronised about when each replica is expected to have
written it ``SYNC_WRITES`` times, rounded to a power of two of rounds: the most written rows every
round, rarer ones every 2, 4, 8, ... rounds, and every row at the end of each epoch and before a
checkpoint. Word counts falling about as one over their rank, each tier of twice the period holds
about twice the rows, so every tier sends about as many rows a round, and the traffic grows with the
logarithm of the vocabulary, not with it (pWord2Vec's schedule: its top 1,024 rows every time, larger
sets of rarer rows exponentially less often).

How changes combine. When each replica wrote a row a few times since its last synchronisation, each
write is a step one process would have taken too, and the sum of the replicas' changes is what one
process would have done. When each wrote it many times, each replica moved it most of the way to what
its own shard asks of it, and so did the others: the sum goes m times too far, for m replicas that
changed it (the overshoot of ``sharing.MAX_HOT_SHARE``), and their mean is right. In between, take
each write to close a share ``WRITE_PULL`` of the distance to where the row is going: one process
writing it K times closes 1 - (1 - p)^K of it, m replicas writing it K/m times each close
m (1 - (1 - p)^(K/m)), so the sum is scaled by the ratio of the two, 1 for few writes and 1/m for many.
K is the expected writes from the rates; m is counted, so a row that one replica alone wrote (a
word of its shard only) keeps its whole change.

``every_epoch`` is the scheme of Spark's word2vec, kept to measure ours against: nothing is
synchronised but every row at the end of each epoch, as the plain mean of every replica.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .sharing import write_rates

ROUND_WORDS = 1 << 18
SYNC_WRITES = 16.0
WRITE_PULL = 1 / 64


@dataclass
class SyncSchedule:
    """The rows of each matrix (``Weights`` order) by tier: tier t is synchronised every 2**t rounds,
    and all of them at the end of an epoch; ``rates`` are their expected writes per corpus word."""

    rounds: int
    rows: list[list[np.ndarray]]  # rows[t][m]
    rates: list[list[np.ndarray]]
    every_epoch: bool = False

    def due(self, round_in_epoch: int, everything: bool) -> list[int]:
        """The tiers synchronised after round ``round_in_epoch`` of an epoch (counted from 0); all of
        them at the end of the epoch or when ``everything`` is asked for (a checkpoint, a stop)."""
        if everything or round_in_epoch == self.rounds - 1:
            return list(range(len(self.rows)))
        if self.every_epoch:
            return []
        return [t for t in range(len(self.rows)) if (round_in_epoch + 1) % (1 << t) == 0]

    def rows_of(self, tiers: list[int]) -> list[np.ndarray]:
        """The rows of each matrix in ``tiers``, tier after tier."""
        return [np.concatenate([self.rows[t][m] for t in tiers] or [np.zeros(0, np.int64)])
                for m in range(len(self.rows[0]))]

    def combine(self, tiers: list[int], changes: list[list[np.ndarray]], words_since: list[int]) -> list[np.ndarray]:
        """The change to apply to each matrix's rows of ``tiers`` (``rows_of``), from every replica's
        ``changes`` of them; ``words_since[t]`` is the corpus words all replicas trained since tier t
        was last synchronised."""
        combined = []
        for m in range(len(self.rows[0])):
            stacked = np.stack([change[m] for change in changes])
            total = stacked.sum(axis=0)
            if self.every_epoch:
                total /= len(changes)
            else:
                writes = np.concatenate([self.rates[t][m] * words_since[t] for t in tiers] or [np.zeros(0)])
                writers = np.count_nonzero(np.any(stacked != 0, axis=2), axis=0)
                total *= shrink(writers, writes)[:, None].astype(np.float32)
            combined.append(total)
        return combined


def shrink(writers: np.ndarray, writes: np.ndarray) -> np.ndarray:
    """What the sum of ``writers`` replicas' changes to a row is scaled by when all of them together
    were expected to write it ``writes`` times (see the module's docstring)."""
    pull = -math.log1p(-WRITE_PULL)
    writers = np.maximum(writers, 1)
    alone = np.expm1(-pull * writes)
    shared = writers * np.expm1(-pull * writes / writers)
    return np.divide(alone, shared, out=np.ones(len(writes)), where=shared != 0)


def plan_sync(counts: np.ndarray, keep_prob: np.ndarray, config, hs_points: np.ndarray, hs_lengths: np.ndarray,
              shared_rows: tuple[int, int, int], round_words: int, rounds: int, every_epoch: bool) -> SyncSchedule:
    """The schedule of a run whose replicas train ``round_words`` corpus words a round together, ``rounds`` a
    epoch; ``shared_rows`` are the rows of each matrix (``trainer.weight_rows``), those of a matrix the
    run does not use are never sent."""
    rates = write_rates(counts, keep_prob, config, hs_points, hs_lengths)
    used = (True, config.negative > 0, bool(config.hs))
    top = max(0, int(math.log2(rounds)))  # the rarest rows' period, within an epoch
    tiers = [[] for _ in range(top + 1)]
    tier_rates = [[] for _ in range(top + 1)]
    for matrix_rates, rows, in_use in zip(rates, shared_rows, used):
        matrix_rates = matrix_rates[:rows] if in_use else np.zeros(0)
        per_round = matrix_rates * round_words
        with np.errstate(divide="ignore"):
            periods = np.floor(np.log2(SYNC_WRITES / per_round))
        tier_of = np.clip(np.nan_to_num(periods, posinf=top), 0, top).astype(np.int64)
        for t in range(top + 1):
            rows_in_tier = np.flatnonzero(tier_of == t)
            tiers[t].append(rows_in_tier)
            tier_rates[t].append(matrix_rates[rows_in_tier])
    return SyncSchedule(rounds, tiers, tier_rates, every_epoch)
