"""Training on a Dask cluster: two worker processes learn what one process learns, count what one
process counts, stop with a checkpoint when a worker dies, and a cluster started for a run goes with it."""

import gzip
import itertools
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import w2vfast
from w2vfast import KeyedVectors, cluster, memory, syncing
from w2vfast.checkpoint import load_checkpoint
from w2vfast.errors import Interrupted, W2VError, WorkerLost
from w2vfast.corpus import vocab_ids
from w2vfast.counting import WordCounter
from w2vfast.shards import WHOLE, merge_counts, plan_shards, read_shard, resumed_shards, shard_words
from w2vfast.config import TrainConfig
from w2vfast.syncing import (SyncSchedule, add_to_rows, agreement, change_scale, difference_to_wire, moved_rows,
                             plan_sync, learning_rate_scale, replica_learning_rate, sync_writes, to_wire)
from conftest import neighbours_in_own_cluster
from test_counting import BUDGET, junk_text

distributed = pytest.importorskip("distributed")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPTIONS = dict(dim=16, window=3, epochs=1, sample=0, min_count=1, seed=3)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=logging.CRITICAL) as local, distributed.Client(local) as client:
        yield client


@pytest.fixture
def rounds_of(monkeypatch):
    """Rounds of about ``words`` words of all the workers together, so that a tiny corpus takes several."""
    return lambda words: monkeypatch.setattr(cluster, "ROUND_WORDS", words)


@pytest.mark.parametrize("loss", [{}, dict(hs=True, negative=0), dict(model="cbow", hs=True, negative=0)],
                         ids=["sg-ns", "sg-hs", "cbow-hs"])
def test_two_workers_learn_the_planted_clusters(client, planted_file, rounds_of, loss):
    rounds_of(3000)  # six rounds of the 18,000 words, the most frequent rows synchronised after each
    vectors = w2vfast.train(planted_file, client=client, **OPTIONS, **loss)
    stats = vectors.stats
    assert (stats.workers, stats.rounds_per_epoch) == (2, 6)
    assert stats.words_trained == stats.corpus_words == 18_000
    assert neighbours_in_own_cluster(vectors) > 0.9


def norms(changes):
    """Each row's sum |d_i|^2 and |sum d_i|^2 of the replicas' ``changes`` (replica, row, dim), and m."""
    changes = np.asarray(changes, dtype=np.float32)
    total = changes.sum(axis=0)
    return np.einsum("kij,kij->i", changes, changes), np.einsum("ij,ij->i", total, total), len(changes)


def test_changes_that_agree_are_averaged_and_independent_ones_summed():
    one, other = np.eye(2, 4, dtype=np.float32)  # orthogonal changes of one row
    changes = [[one, one, one, 2 * one], [other, one, 0 * one, one]]  # replica, row, dim
    assert agreement(*norms(changes)) == pytest.approx([1.0, 0.5, 1.0, 5 / 9])  # orthogonal, equal, one writer, between


def test_the_faster_learning_is_taken_back_from_changes_that_do_not_agree():
    one, other = np.eye(2, 4, dtype=np.float32)
    changes = [[one, one], [other, one]]  # orthogonal, equal
    assert change_scale(*norms(changes), speedup=2.0) == pytest.approx([0.5, 0.5])  # 1/speedup, the mean
    assert change_scale(*norms(changes), speedup=1.0) == pytest.approx([1.0, 0.5])  # the agreement alone
    three = [[one], [other], [one]]  # agreement 3/5, between 1/3 and 1
    assert change_scale(*norms(three), speedup=4.0) == pytest.approx(0.6 * (0.25 + 0.75 * 0.4 / (2 / 3)))
    assert change_scale(*norms(changes[:1]), speedup=2.0) == pytest.approx([0.5, 0.5])  # one left, a worker lost


def test_the_driver_combines_what_the_replicas_send():
    one, other = np.eye(2, 4, dtype=np.float32) / 8
    schedule = SyncSchedule(1, [[np.arange(2)]], False, 2, 2.0)
    sent = [[difference_to_wire(np.array([one, one]), np.zeros((2, 4), np.float32))],
            [difference_to_wire(np.array([other, one]), np.zeros((2, 4), np.float32))]]
    model = np.zeros((2, 4), dtype=np.float32)
    add_to_rows(model, slice(0, 2), schedule.combine(sent)[0])
    np.testing.assert_allclose(model, [(one + other) / 2, one], atol=0.5 / 8 / 254)  # the sum / speedup 2, the mean


def test_a_change_of_few_rows_goes_as_those_rows_and_combines_to_the_same_bits():
    """At an epoch's end every row went from every replica, those it never moved too (a rare word of
    another shard's): 2,291 MiB an epoch for 2.75M words on 4 workers, now 1,906."""
    rng = np.random.default_rng(1)
    schedule = SyncSchedule(1, [[np.arange(50)]], False, 2, 2.0)
    rows = rng.standard_normal((50, 4)).astype(np.float32)
    few = rows.copy()
    few[5:] = 0  # moved 5 rows of 50
    sent = [difference_to_wire(moved, np.zeros((50, 4), np.float32)) for moved in (rows, few)]
    travelling = [moved_rows(wire) for wire in sent]
    assert travelling[0] is sent[0] and travelling[1].at.tolist() == list(range(5))
    assert travelling[1].nbytes < sent[1].nbytes / 5
    whole, left_out = schedule.combine([[sent[0]], [sent[1]]])[0], schedule.combine([[t] for t in travelling])[0]
    np.testing.assert_array_equal(left_out, whole)


def test_the_driver_combines_rows_a_block_at_a_time_to_the_same_bits(monkeypatch):
    """Every row at an epoch's end was combined in float32 copies of them all (550 MB a matrix for 2.75M
    words of 50 dimensions); now a block at a time, wherever the blocks cut a FewRows' places."""
    rng = np.random.default_rng(2)
    schedule = SyncSchedule(1, [[np.arange(50)]], False, 3, 2.0)
    rows = [rng.standard_normal((50, 4)).astype(np.float32) for _ in range(3)]
    rows[1][rng.random(50) < 0.8] = 0
    rows[2][10:] = 0
    sent = [[moved_rows(difference_to_wire(moved, np.zeros((50, 4), np.float32)))] for moved in rows]
    assert [type(change[0]).__name__ for change in sent] == ["ndarray", "FewRows", "FewRows"]
    monkeypatch.setattr(syncing, "COMBINE_ROWS", 64)
    whole = schedule.combine(sent)[0]
    monkeypatch.setattr(syncing, "COMBINE_ROWS", 7)
    np.testing.assert_array_equal(schedule.combine(sent)[0], whole)
    decoded = [add_to_rows(np.zeros((50, 4), np.float32), slice(0, 50), to_wire(r)) for r in rows]  # as sent
    total = sum(decoded)
    scale = change_scale(sum((d * d).sum(axis=1) for d in decoded), (total * total).sum(axis=1), 3, 2.0)
    got = add_to_rows(np.zeros((50, 4), np.float32), slice(0, 50), whole)
    np.testing.assert_allclose(got, total * scale[:, None], rtol=1e-5, atol=np.abs(total).max() / 254)


def test_changes_travel_in_8_bits_a_value_scaled_by_row():
    def round_trip(rows):
        rows = np.asarray(rows, dtype=np.float32)
        wire = to_wire(rows)
        assert wire.nbytes == rows.size + 4 * len(rows)  # a byte a value, a float32 a row
        back = np.zeros_like(rows)
        add_to_rows(back, np.arange(len(rows)), wire)
        return back

    rng = np.random.default_rng(0)
    changes = rng.standard_normal((40, 10)).astype(np.float32) * np.logspace(-30, 30, 40)[:, None].astype(np.float32)
    largest = np.abs(changes).max(axis=1, keepdims=True)
    assert (np.abs(round_trip(changes) - changes) <= largest / 254 * (1 + 1e-6)).all()  # at any magnitude
    level = np.float32(1) / np.float32(127)  # the row's largest value / 127
    assert round_trip([[0.0, 0.0], [-1.0, 0.5]]).tolist() == [[0.0, 0.0], [-1.0, np.float32(64) * level]]  # nearest
    assert np.isnan(round_trip([[1.0, np.nan], [np.inf, 0.0]])).all()  # for the driver to refuse
    padded = np.ones((40, 12), dtype=np.float32)[:, :10]  # the model's rows are views of longer rows
    synced = np.ones((40, 10), dtype=np.float32)
    padded += changes
    assert (difference_to_wire(padded, synced) == to_wire(padded - synced)).all()


def test_rows_decoded_in_groups_add_and_sum_their_norms_as_one_row_alone_would():
    """The decoding loop sums the squared norms of ``NORM_ROWS`` rows side by side: each must still be its
    own row's values summed one after another, bit for bit, whatever the rows' count and places."""
    rng = np.random.default_rng(3)
    for count in (1, syncing.NORM_ROWS - 1, syncing.NORM_ROWS, 2 * syncing.NORM_ROWS + 3):
        wire = to_wire(rng.standard_normal((count, 13)).astype(np.float32) * rng.random((count, 1)).astype(np.float32))
        at = rng.permutation(40)[:count].astype(np.int32)
        total, own = np.full((40, 13), 0.5, np.float32), np.full(40, 0.25, np.float32)
        syncing._add_decoded(wire, at, total, own)
        values = (wire[:, :13].astype(np.float32) - np.float32(128)) * wire[:, 13:].copy().view(np.float32)
        expected_own = np.full(40, 0.25, np.float32)
        for row, place in zip(values, at):
            norm = np.float32(0)
            for value in row:
                norm = np.float32(norm + value * value)
            expected_own[place] += norm
        expected_total = np.full((40, 13), 0.5, np.float32)
        expected_total[at] += values
        assert np.array_equal(own, expected_own) and np.array_equal(total, expected_total)


def test_replicas_learn_faster_by_the_square_root_of_twice_their_number_but_less_with_the_tree():
    for config, scales in ((TrainConfig(), (2.0, 4.0)), (TrainConfig(model="cbow"), (2.0, 4.0)),
                           (TrainConfig(hs=True, negative=0), (2 ** 0.5, 2 ** 0.5)),
                           (TrainConfig(hs=True, negative=5), (2 ** 0.5, 2 ** 0.5)),
                           (TrainConfig(model="cbow", hs=True, negative=0), (1.0, 1.0))):
        assert [learning_rate_scale(config, m, False) for m in (2, 8)] == pytest.approx(scales)
        assert learning_rate_scale(config, 1, False) == 1.0  # nothing to combine
        assert learning_rate_scale(config, 8, True) == 1.0  # Spark's scheme, as Spark runs it
    counts, tree = (1e6 / np.arange(1, 11)).astype(np.int64), (np.zeros((10, 9), np.int32), np.ones(10, np.int32))
    for config in (TrainConfig(), TrainConfig(hs=True, negative=0)):
        schedule = plan_sync(counts, np.ones(10), config, *tree, (10, 10, 9), 1 << 16, 4, False, 2)
        assert schedule.speedup == learning_rate_scale(config, 2, False)
        faster = replica_learning_rate(config, schedule.speedup)
        assert (faster.alpha, faster.min_alpha) == pytest.approx((config.alpha * schedule.speedup,
                                                                  config.min_alpha * schedule.speedup))
    config = TrainConfig()
    assert replica_learning_rate(config, 1.0) == config


def test_a_lone_replica_is_synchronised_only_when_the_driver_needs_the_model():
    tiers = [[np.arange(2)], [np.arange(2, 4)]]  # tier 0 due every round, tier 1 every other
    alone, two = SyncSchedule(4, tiers, False, 1, 1.0), SyncSchedule(4, tiers, False, 2, 2.0)
    assert [two.due(r, everything=False) for r in range(4)] == [[0], [0, 1], [0], [0, 1]]
    assert [alone.due(r, everything=False) for r in range(4)] == [[], [], [], [0, 1]]  # the epoch's end
    assert alone.due(1, everything=True) == [0, 1]  # a checkpoint or a stop


def test_rows_that_form_one_range_go_as_one_slice_in_order():
    none = np.zeros(0, np.int64)  # the rows of a matrix the run does not use
    schedule = SyncSchedule(2, [[np.array([3, 0]), none], [np.array([1, 2]), none]], False, 2, 2.0)
    first, unused = schedule.rows_of([0])
    assert first.tolist() == [3, 0] and np.arange(4)[unused].tolist() == []  # rows 0 and 3 are no range
    assert schedule.rows_of([0, 1]) == [slice(0, 4), slice(0, 0)]
    hottest_first = SyncSchedule(2, [[np.array([0, 1]), none], [np.array([2, 3]), none]], False, 2, 2.0)
    assert hottest_first.rows_of([0]) == [slice(0, 2), slice(0, 0)]  # the rows due most rounds, as counted


def test_more_replicas_synchronise_each_row_more_often():
    assert [sync_writes(m) for m in (1, 2, 4, 8)] == [1024, 1024, 256, 64]
    counts = (1e6 / np.arange(1, 2001)).astype(np.int64)  # Zipf's law
    config, no_tree = TrainConfig(window=5, negative=5), (np.zeros((2000, 1), np.int32), np.zeros(2000, np.int32))

    def tiers(replicas):
        schedule = plan_sync(counts, np.ones(2000), config, *no_tree, (2000, 2000, 0), 1 << 16, 64, False, replicas)
        tier_of = np.empty(2000, np.int64)
        for t, rows in enumerate(schedule.rows):
            tier_of[rows[0]] = t  # syn0
        return tier_of

    two, four = tiers(2), tiers(4)
    middle = (two >= 2) & (two < 6)  # neither every round nor every epoch
    assert middle.sum() > 100 and (four[middle] == two[middle] - 2).all()  # due after a quarter of the writes
    assert (tiers(8) <= four).all() and (four <= two).all()


def test_shards_are_cut_between_lines_and_hold_the_text_once(tmp_path):
    lines = [b"w%d x%d y" % (i, i) for i in range(2_000)]
    plain, packed = tmp_path / "a.txt", tmp_path / "b.txt.gz"
    plain.write_bytes(b"\n".join(lines) + b"\n")
    packed.write_bytes(gzip.compress(b"z " * 10))
    shards = plan_shards([str(plain), str(packed)], 3)
    assert [len(shard) for shard in shards] == [1, 1, 2] and shards[2][1] == (str(packed), 0, WHOLE)
    text = b"".join(block for shard in shards for block, _ in read_shard(shard))
    assert text == plain.read_bytes() + b"z " * 10
    for shard in shards[:2]:
        assert shard[0][2] < plain.stat().st_size and b"".join(b for b, _ in read_shard(shard)).endswith(b"\n")


@pytest.mark.parametrize("final_newline", [b"", b"\n"])
def test_shards_keep_lines_whole_where_files_end_them(tmp_path, final_newline):
    """A file's end ends its last line, and a shard whose cut falls just inside a file of one line ends
    before that file: the shards' lines, and so the sentences, are one process's (a cut after a space
    made one more sentence, and a shard held two files where another held none)."""
    files = []
    for name, words in (("a", 200), ("b", 201), ("c", 203)):
        files.append(tmp_path / f"{name}.txt")
        files[-1].write_bytes(b" ".join(b"w%d" % (i % 40) for i in range(words)) + final_newline)
    shards = plan_shards([str(path) for path in files], 3)
    assert shards == [[(str(path), 0, path.stat().st_size)] for path in files]
    short = tmp_path / "short.txt"
    short.write_bytes(b"the cat sat on the mat")
    assert plan_shards([str(short)], 3) == [[(str(short), 0, 22)], [], []]


def test_words_and_paths_go_to_the_workers_and_back_in_blocks(client, planted_file, tmp_path, monkeypatch):
    """Lists of words or paths went as one Dask frame an item (1.4 s a worker for 68K words, 0.6 s for
    20K paths), on the event loop that answers for a local cluster's scheduler, so that a run on 8
    workers, or of 100K files on 4, took its scheduler for lost."""
    from distributed.protocol import dumps, to_serialize

    files = []
    for i, line in enumerate(open(planted_file, "rb")):
        files.append(tmp_path / f"{i:03d}.txt")
        files[-1].write_bytes(line)
    call, sent = cluster._ClusterRun.call, []

    def noting_what_goes(self, method, arguments, *args, **kwargs):
        answers = call(self, method, arguments, *args, **kwargs)
        if method in ("readable", "plan", "encode"):
            sent.extend([(method, arguments[0]), (method, (answers[0],))])
        return answers

    monkeypatch.setattr(cluster._ClusterRun, "call", noting_what_goes)
    vectors = w2vfast.train([str(f) for f in files], client=client, **OPTIONS)
    assert len(files) > 100 and len(vectors) == 40
    assert [method for method, _ in sent] == ["readable"] * 2 + ["plan"] * 2 + ["encode"] * 2
    frames = [len(dumps({"x": [to_serialize(x) for x in what]})) for _, what in sent]
    assert max(frames) < 10, frames


def test_a_replica_is_sent_only_the_input_vectors_it_reads(client, tmp_path, monkeypatch):
    """Every row of syn0 went back to every replica at an epoch's end, where a replica reads only the rows
    of its shards' words: with 2.75M words (a web-like corpus), 20% of the traffic on 4 workers."""
    rng = np.random.default_rng(0)
    files = []
    for name in ("a", "b"):  # a shard each, of words of their own and a few shared ones
        files.append(tmp_path / f"{name}.txt")
        files[-1].write_text("\n".join(" ".join(rng.choice([f"{name}{i}" for i in range(60)] + ["x", "y"], 12))
                                       for _ in range(400)) + "\n")
    call, updates = cluster._ClusterRun.call, []

    def noting_updates(self, method, arguments, *args, **kwargs):
        if method == "step" and arguments[0][0] is not None and arguments[0][1] == 0:  # an epoch's first round
            updates.append([(self.vocab_words, update[0]) for update, *_ in arguments])
        return call(self, method, arguments, *args, **kwargs)

    def keeping_words(self, vocab, *args, **kwargs):
        self.vocab_words = vocab.words
        return start(self, vocab, *args, **kwargs)

    start = cluster._ClusterRun.start
    monkeypatch.setattr(cluster._ClusterRun, "start", keeping_words)
    monkeypatch.setattr(cluster._ClusterRun, "call", noting_updates)
    options = dict(OPTIONS, epochs=2)
    vectors = w2vfast.train([str(f) for f in files], client=client, **options)
    (words, first), (_, second) = updates[-1]  # the first epoch's end, as the second epoch's first round takes it
    read = [{words[i].decode() for i in update.at} for update in (first, second)]
    assert read[0] == {f"a{i}" for i in range(60)} | {"x", "y"} and read[1] == {f"b{i}" for i in range(60)} | {"x", "y"}
    monkeypatch.setattr(cluster, "rows_read", lambda wire, reads: wire)
    every_row = w2vfast.train([str(f) for f in files], client=client, **options)
    np.testing.assert_array_equal(vectors.vectors, every_row.vectors)
    assert vectors.stats.sync_bytes < every_row.stats.sync_bytes


@pytest.mark.parametrize("bounded", [False, True])
def test_sharded_counting_is_one_process_counting(client, tmp_path, monkeypatch, capsys, bounded):
    """Two shards counted apart and merged give the vocabulary of one process: the same words, counts and
    order (ties by first appearance); with a budget the distinct words outgrow, by the corpus's sketch,
    here of compressed files, whose size says little of their words."""
    text = junk_text(words=200_000)
    halves = text.index(b"\n", len(text) // 3)
    pack = (lambda data: gzip.compress(data, compresslevel=1)) if bounded else (lambda data: data)
    first, second = tmp_path / "one.txt.gz", tmp_path / "two.txt.gz"
    first.write_bytes(pack(text[:halves + 1]))
    second.write_bytes(pack(text[halves + 1:]))
    corpus = [str(first), str(second)]
    alone, sharded = tmp_path / "alone.vocab", tmp_path / "sharded.vocab"
    w2vfast.train(corpus, save_vocab=str(alone), **dict(OPTIONS, min_count=3, epochs=1, dim=4))
    budget = None
    if bounded:
        monkeypatch.setattr(memory, "MIN_COUNTING_BUDGET", 1 << 20)
        budget = BUDGET
    w2vfast.train(corpus, client=client, save_vocab=str(sharded), vocab_memory=budget, quiet=False,
                  **dict(OPTIONS, min_count=3, epochs=1, dim=4))
    assert ("read them a second time" in capsys.readouterr().err) == bounded
    assert sharded.read_bytes() == alone.read_bytes()
    assert len(alone.read_bytes().splitlines()) > 1000


def test_the_merged_counts_give_each_shard_the_ids_its_words_would_be_looked_up_by():
    """The driver tells each worker the vocabulary id of every word of its shards (-1 for a word left
    out, here by --min-count and --max-vocab), where the worker looked each word up (1.4-1.8 s for
    2.75M words): the ids are those the lookup gives."""
    text = junk_text(words=30_000)
    cuts = [0, text.index(b" ", len(text) // 4) + 1, text.index(b" ", len(text) // 2) + 1, len(text)]
    counters = []
    for start, end in zip(cuts, cuts[1:]):
        counter = WordCounter()
        counter.feed(text[start:end], True)
        counter.finish()
        counters.append(counter)
    vocab, ids = merge_counts([shard_words(counter) for counter in counters], 3, 500)
    assert len(vocab) == 500
    for counter, shard_ids in zip(counters, ids):
        np.testing.assert_array_equal(shard_ids, vocab_ids(counter, vocab))
        assert (shard_ids == -1).any() and (shard_ids >= 0).any()


def test_a_fresh_run_s_replicas_draw_their_first_weights_rather_than_receive_them(client, planted_file,
                                                                                  monkeypatch):
    """The driver sent its model to every worker to start (1.1 GB a worker for 2.75M words of 50
    dimensions); a fresh run's weights come from the seed, so each replica draws them, and says which
    it drew."""
    call, sent = cluster._ClusterRun.call, []

    def noting_the_start(self, method, arguments, *args, **kwargs):
        if method == "start":
            sent.extend(matrices for _, _, _, matrices, *_ in arguments)
        return call(self, method, arguments, *args, **kwargs)

    monkeypatch.setattr(cluster._ClusterRun, "call", noting_the_start)
    assert neighbours_in_own_cluster(w2vfast.train(planted_file, client=client, **OPTIONS)) > 0.9
    assert sent == [None, None]
    new_trainer = cluster.new_trainer

    def another_draw(*args, **kwargs):  # in this process only: the driver's model, not the replicas'
        trainer = new_trainer(*args, **kwargs)
        trainer.matrices()["syn0"][0, 0] += 1
        return trainer

    monkeypatch.setattr(cluster, "new_trainer", another_draw)
    with pytest.raises(W2VError, match=r"^worker tcp://\S+ starts from other weights than this process"):
        w2vfast.train(planted_file, client=client, **OPTIONS)


def test_words_that_cannot_fit_are_refused_without_reading_the_shards_again(client, tmp_path, monkeypatch):
    """With --min-count 1 every word may occur once, so a second reading with the corpus's sketch kept
    them all: it read every shard again to fail, or to merge on the driver more than its budget."""
    (tmp_path / "junk.txt").write_bytes(junk_text(words=200_000))
    monkeypatch.setattr(memory, "MIN_COUNTING_BUDGET", 1 << 20)
    call, methods = cluster._ClusterRun.call, []

    def noting_each_call(self, method, *args, **kwargs):
        methods.append(method)
        return call(self, method, *args, **kwargs)

    monkeypatch.setattr(cluster._ClusterRun, "call", noting_each_call)
    with pytest.raises(W2VError, match=r"^the words that may occur --min-count 1 times do not fit in --vocab-memory "
                                       r"\(12\.0 MiB\): raise it, or --min-count$"):
        w2vfast.train(str(tmp_path / "junk.txt"), client=client, vocab_memory=BUDGET, **dict(OPTIONS, min_count=1))
    assert "count" in methods and "sketch" not in methods


def test_candidates_that_outgrow_the_driver_s_budget_stop_the_run(client, tmp_path, monkeypatch):
    """The second reading kept each shard's candidates within its worker's budget, and nothing checked
    that their union fits in the driver's, which merges them all."""
    (tmp_path / "junk.txt").write_bytes(junk_text(words=200_000))
    monkeypatch.setattr(cluster, "counting_budget", lambda text: 1 << 20)  # the driver's alone: 1 MiB
    with pytest.raises(W2VError, match=r"^the words that may occur --min-count 2 times do not fit in --vocab-memory "
                                       r"\(1\.0 MiB\)"):
        w2vfast.train(str(tmp_path / "junk.txt"), client=client, **dict(OPTIONS, min_count=2))


def _after_round_three(client, monkeypatch, act) -> tuple[str, int]:
    """Call ``act`` with the process id of one worker once the driver has synchronised round 3;
    returns that worker's address and process id."""
    pids = client.run(os.getpid)
    victim = sorted(pids)[1]
    synchronise, rounds = cluster._ClusterRun._synchronise, itertools.count(1)

    def acting_after_round_three(self, *args):
        if next(rounds) == 3:
            act(pids[victim])
        return synchronise(self, *args)

    monkeypatch.setattr(cluster._ClusterRun, "_synchronise", acting_after_round_three)
    return victim, pids[victim]


def test_a_worker_killed_mid_run_stops_it_with_a_checkpoint_to_resume_from(
        client, planted_file, tmp_path, monkeypatch, rounds_of):
    rounds_of(3000)
    victim, _ = _after_round_three(client, monkeypatch, lambda pid: os.kill(pid, signal.SIGKILL))
    # Without --checkpoint the run is saved beside the output, under a name that holds no file: it
    # replaced vectors.txt.ckpt, another run's checkpoint maybe.
    output, taken, checkpoint = tmp_path / "vectors.txt", tmp_path / "vectors.txt.ckpt", tmp_path / "vectors.txt.1.ckpt"
    taken.write_bytes(b"another run's\n")
    with pytest.raises(WorkerLost) as lost:
        w2vfast.train(planted_file, client=client, output=str(output), **OPTIONS)
    message = str(lost.value)
    assert f"worker {victim} was lost while training round 4 of epoch 1" in message
    assert f"the run so far is saved in {checkpoint}" in message and "\n" not in message
    assert not output.exists() and taken.read_bytes() == b"another run's\n"
    header = load_checkpoint(str(checkpoint)).header
    assert (header["epoch"], header["cluster"]["round"]) == (0, 3)  # the round under way is trained again
    monkeypatch.undo()
    client.wait_for_workers(2, timeout=60)  # the nanny starts the killed worker again
    text = open(planted_file, "rb").read()
    (tmp_path / "longer.txt").write_bytes(text + b"words added since\n")
    with pytest.raises(W2VError, match=f"^the corpus does not match the checkpoint {checkpoint}: .*longer.txt holds"):
        w2vfast.train(str(tmp_path / "longer.txt"), client=client, resume=str(checkpoint))
    (tmp_path / "moved.txt").write_bytes(text)  # the same text elsewhere, which one process resumes too
    vectors = w2vfast.train(str(tmp_path / "moved.txt"), client=client, resume=str(checkpoint))
    assert output.exists() and neighbours_in_own_cluster(vectors) > 0.9
    assert vectors.stats.words_trained == 18_000 - header["words_done"] > 0  # the rounds from the fourth on
    with pytest.raises(W2VError, match="trained on a Dask cluster: resume it with --dask"):
        w2vfast.train(resume=str(checkpoint))


def _in_two_tiers(monkeypatch) -> None:
    """Synchronise the 10 most frequent words' rows every round and the others every 2 rounds, so that
    a save after the first round takes rows that are not due (the planted corpus's 40 words are in one tier)."""
    plan_sync = cluster.plan_sync

    def in_two_tiers(*args):
        schedule = plan_sync(*args)
        rows = [np.sort(np.concatenate([tier[m] for tier in schedule.rows])) for m in range(len(schedule.rows[0]))]
        schedule.rows = [[r[:10] for r in rows], [r[10:] for r in rows]]
        return schedule

    monkeypatch.setattr(cluster, "plan_sync", in_two_tiers)


def test_checkpoints_within_an_epoch_leave_the_run_as_it_would_have_gone(client, planted_file, tmp_path,
                                                                         monkeypatch, rounds_of):
    """A save takes the rows not due from the replicas for the file alone: it synchronised every row,
    which a run without checkpoints does only at the epoch's end, so checkpoints changed the vectors
    (by default they come every 30 minutes, so a long run's vectors depended on the clock)."""
    def as_planned():
        rounds_of(3000)
        _in_two_tiers(monkeypatch)

    as_planned()
    options = dict(OPTIONS, epochs=2)
    alone = w2vfast.train(planted_file, client=client, **options)
    checkpoint, within, epoch_end = tmp_path / "run.ckpt", tmp_path / "within.ckpt", tmp_path / "epoch_end.ckpt"
    write = cluster.Checkpointer.write

    def keeping_one_within_the_epoch(self, trainer, position, rng_states=None):
        write(self, trainer, position, rng_states)
        if (position["epoch"], position["cluster"]["round"]) == (0, 1):  # the first round's rows 10-39 are not due
            shutil.copy(self.path, within)
        if (position["epoch"], position["cluster"]["round"]) == (0, 6):  # every row synchronised
            shutil.copy(self.path, epoch_end)

    monkeypatch.setattr(cluster.Checkpointer, "write", keeping_one_within_the_epoch)
    saved = w2vfast.train(planted_file, client=client, checkpoint=str(checkpoint), checkpoint_every=0, **options)
    np.testing.assert_array_equal(saved.vectors, alone.vectors)
    assert saved.stats.sync_bytes > alone.stats.sync_bytes  # the changes taken for the checkpoints
    monkeypatch.undo()
    as_planned()
    done = load_checkpoint(str(within)).header["words_done"]
    resumed = w2vfast.train(client=client, resume=str(shutil.copy(within, tmp_path / "resumed.ckpt")))
    assert resumed.stats.words_trained == 2 * 18_000 - done and 0 < done < 18_000
    assert neighbours_in_own_cluster(resumed) > 0.9
    with pytest.raises(AssertionError):  # it goes on from every row synchronised: not the same bits
        np.testing.assert_array_equal(resumed.vectors, alone.vectors)
    np.testing.assert_array_equal(w2vfast.train(client=client, resume=str(epoch_end)).vectors, alone.vectors)

    # A worker lost while the replicas send their changes for that checkpoint: the others are asked again,
    # once they have taken the round's combined change, and the model saved is the one of that checkpoint.
    save, call, at = cluster._ClusterRun._save, cluster._ClusterRun.call, []

    def noting_where(self, model, keeper, position, *args, **kwargs):
        at.append(position)
        return save(self, model, keeper, position, *args, **kwargs)

    def losing_one_there(self, method, *args, **kwargs):
        if method == "pending" and at[-1] == (0, 1):
            raise WorkerLost("a worker was lost while sending its changes for a checkpoint")
        return call(self, method, *args, **kwargs)

    monkeypatch.setattr(cluster._ClusterRun, "_save", noting_where)
    monkeypatch.setattr(cluster._ClusterRun, "call", losing_one_there)
    with pytest.raises(WorkerLost, match=f"the run so far is saved in {checkpoint}"):
        w2vfast.train(planted_file, client=client, checkpoint=str(checkpoint), checkpoint_every=0, **options)
    with np.load(checkpoint) as salvaged, np.load(within) as looked_at:
        for name in ("syn0", "syn1neg"):
            np.testing.assert_array_equal(salvaged[name], looked_at[name])


def test_a_stop_in_the_last_round_stops_the_run_as_one_process_does(client, planted_file, tmp_path, monkeypatch):
    """It was noted and forgotten: the run wrote its vectors and ended as if never asked to stop."""
    end_epoch = cluster._ClusterRun._end_epoch

    def end_epoch_with_ctrl_c(self, *args):
        os.kill(os.getpid(), signal.SIGINT)  # after the last round's step, before its save
        end_epoch(self, *args)

    monkeypatch.setattr(cluster._ClusterRun, "_end_epoch", end_epoch_with_ctrl_c)
    output, checkpoint = tmp_path / "vectors.txt", tmp_path / "run.ckpt"
    with pytest.raises(Interrupted) as stopped:
        w2vfast.train(planted_file, client=client, output=str(output), checkpoint=str(checkpoint), **OPTIONS)
    assert (stopped.value.signum, stopped.value.checkpoint, output.exists()) == (signal.SIGINT, str(checkpoint), False)
    monkeypatch.undo()
    finished = w2vfast.train(client=client, resume=str(checkpoint))  # the run was done: only its vectors are left
    assert finished.stats.words_trained == 0 and len(KeyedVectors.load(str(output))) == 40


def test_a_stop_does_not_wait_for_a_frozen_worker(client, planted_file, tmp_path, monkeypatch, rounds_of):
    """A worker stopped (SIGSTOP) mid-run held a Ctrl-C back for the round's 300 s."""
    rounds_of(3000)

    def freeze_it_and_press_ctrl_c(pid):
        os.kill(pid, signal.SIGSTOP)
        os.kill(os.getpid(), signal.SIGINT)

    _, frozen = _after_round_three(client, monkeypatch, freeze_it_and_press_ctrl_c)
    monkeypatch.setattr(cluster, "STOP_SECONDS", 1.0)
    checkpoint = tmp_path / "run.ckpt"
    began = time.monotonic()
    try:
        with pytest.raises(Interrupted) as stopped:
            w2vfast.train(planted_file, client=client, checkpoint=str(checkpoint), **OPTIONS)
    finally:
        os.kill(frozen, signal.SIGCONT)
    assert time.monotonic() - began < 60
    assert stopped.value.signum == signal.SIGINT and stopped.value.checkpoint == str(checkpoint)
    assert load_checkpoint(str(checkpoint)).header["cluster"]["round"] == 3


def test_a_stop_while_a_checkpoint_takes_the_changes_does_not_wait_for_a_frozen_worker(
        client, planted_file, tmp_path, monkeypatch, rounds_of):
    """The replicas asked for their changes for a checkpoint held a Ctrl-C back for the round's 300 s,
    and a worker lost then was said where the stop was asked for."""
    rounds_of(3000)
    _in_two_tiers(monkeypatch)
    pids = client.run(os.getpid)
    frozen = pids[sorted(pids)[1]]
    call, pressed = cluster._ClusterRun.call, []

    def freezing_one_and_pressing_ctrl_c(self, method, *args, **kwargs):
        if method == "pending" and not pressed:
            os.kill(frozen, signal.SIGSTOP)
            pressed.append(os.kill(os.getpid(), signal.SIGINT))
        return call(self, method, *args, **kwargs)

    monkeypatch.setattr(cluster._ClusterRun, "call", freezing_one_and_pressing_ctrl_c)
    monkeypatch.setattr(cluster, "STOP_SECONDS", 1.0)
    monkeypatch.setattr(cluster, "ROUND_SECONDS", 30.0)
    checkpoint = tmp_path / "run.ckpt"
    began = time.monotonic()
    try:
        with pytest.raises(Interrupted) as stopped:
            w2vfast.train(planted_file, client=client, checkpoint=str(checkpoint), checkpoint_every=0, **OPTIONS)
    finally:
        os.kill(frozen, signal.SIGCONT)
    assert time.monotonic() - began < 20
    assert stopped.value.signum == signal.SIGINT and stopped.value.checkpoint == str(checkpoint)
    assert load_checkpoint(str(checkpoint)).header["cluster"]["round"] == 1


def _group(leader: int) -> dict[int, str]:
    """The living processes of the process group ``leader`` started, with their command lines (a zombie,
    dead but not yet reaped, is not one)."""
    members = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
            if entry.isdigit() and state != "Z" and os.getpgid(int(entry)) == leader:
                with open(f"/proc/{entry}/cmdline") as cmdline:
                    members[int(entry)] = cmdline.read().replace("\0", " ")
        except (OSError, IndexError):  # not a process, or one that ended meanwhile
            pass
    return members


def _run_in_own_group(*args, interrupt_at=None, signum=signal.SIGINT, first=""):
    """``w2vfast ARGS`` in a process group of its own; returns its exit status, its stderr, the workers it
    started (processes spawned by multiprocessing) and those of them still alive once it ended.
    ``interrupt_at`` sends the group ``signum`` once a line of stderr starts so: Ctrl-C, as a terminal
    does, or SIGTERM, as a batch system or ``timeout`` does. ``first`` is Python code run before the tool."""
    run_cli = "import sys\nfrom w2vfast.cli import main\nsys.argv[0] = 'w2vfast'\nmain()\n"
    process = subprocess.Popen([sys.executable, "-c", first + run_cli, *map(str, args)], cwd=ROOT,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    workers = set()
    while process.poll() is None:
        workers |= {pid for pid, command in _group(process.pid).items() if "spawn_main" in command}
        if interrupt_at is not None and any(line.startswith(interrupt_at) for line in lines):
            os.killpg(process.pid, signum)
            interrupt_at = None
        time.sleep(0.05)
    reader.join(timeout=10)
    return process.returncode, "".join(lines), workers, workers & set(_group(process.pid))


def test_a_resumed_run_takes_the_corpus_it_is_given_if_it_is_the_same():
    shards = [[["/old/a.txt", 0, 10], ["/old/b.txt", 0, 4]], [["/old/b.txt", 4, 9], ["/old/c.gz", 0, WHOLE]]]
    files = [("/new/a.txt", 10), ("/new/empty.txt", 0), ("/new/b.txt", 9), ("/new/c.gz", 77)]
    assert resumed_shards(shards, files, "run.ckpt") == [[("/new/a.txt", 0, 10), ("/new/b.txt", 0, 4)],
                                                         [("/new/b.txt", 4, 9), ("/new/c.gz", 0, WHOLE)]]
    with pytest.raises(W2VError, match="^the corpus does not match the checkpoint run.ckpt: it was 3 files, not 4$"):
        resumed_shards(shards, files + [("/new/d.txt", 5)], "run.ckpt")
    twice = [[["/old/a.txt", 0, 6]], [["/old/a.txt", 6, 10], ["/old/a.txt", 0, 10]]]  # a.txt given twice
    assert resumed_shards(twice, [("/new/a.txt", 10), ("/new/a.txt", 10)], "run.ckpt") == [
        [("/new/a.txt", 0, 6)], [("/new/a.txt", 6, 10), ("/new/a.txt", 0, 10)]]  # was "it was 1 files, not 2"
    assert resumed_shards(twice, [("/x.txt", 10), ("/y.txt", 10)], "run.ckpt") == [
        [("/x.txt", 0, 6)], [("/x.txt", 6, 10), ("/y.txt", 0, 10)]]


def test_a_client_that_cannot_train_is_refused(planted_file):
    with pytest.raises(w2vfast.errors.WrongType, match="^client must be a distributed.Client, not str$"):
        w2vfast.train(planted_file, client="tcp://127.0.0.1:8786", **OPTIONS)
    closed = distributed.Client(processes=False, n_workers=1, dashboard_address=":0")
    closed.close()
    with pytest.raises(W2VError, match="^the Dask client is closed"):
        w2vfast.train(planted_file, client=closed, **OPTIONS)


@pytest.mark.parametrize("how", ["finished", "failed", "interrupted", "terminated"])
def test_a_local_cluster_started_for_a_run_is_gone_after_it(planted_file, tmp_path, how):
    output = tmp_path / "vectors.txt"
    corpus = tmp_path / "missing.txt" if how == "failed" else planted_file
    stopped = how in ("interrupted", "terminated")
    epochs = 1000 if stopped else 1  # long enough to be stopped while it trains
    signum = signal.SIGTERM if how == "terminated" else signal.SIGINT
    status, stderr, workers, left = _run_in_own_group(
        "train", corpus, "-o", output, "--dask", "local:2", "--dim", "8", "--epochs", epochs, "--min-count", "1",
        interrupt_at="corpus:" if stopped else None, signum=signum)
    assert len(workers) >= 2 and left == set(), stderr  # a worker the nanny restarted under load counts too
    lines = stderr.strip().splitlines()
    if how == "finished":
        assert status == 0 and output.exists(), stderr
    elif how == "failed":
        assert status == 1 and len(lines) == 1 and lines[0].startswith("w2vfast: error: worker tcp://"), stderr
        assert lines[0].endswith(f"corpus not found: {corpus}")
    elif how == "interrupted":  # the workers ignore Ctrl-C: the driver stops them
        assert status == 130 and lines[-1] == "w2vfast: stopped by SIGINT", stderr
    else:  # the workers end at once, and the driver stops with what the run had
        assert status == 143 and lines[-1].startswith("w2vfast: stopped by SIGTERM"), stderr
        assert not output.exists()


CTRL_C_AS_THE_CLUSTER_STARTS = """
import os, signal
import distributed
start = distributed.LocalCluster.__init__
def start_and_press_ctrl_c(self, *args, **kwargs):
    start(self, *args, **kwargs)
    os.killpg(0, signal.SIGINT)  # to the workers too, as a terminal sends it
distributed.LocalCluster.__init__ = start_and_press_ctrl_c
"""


def test_ctrl_c_while_a_local_cluster_starts_stops_the_run(planted_file, tmp_path):
    """The driver ignored Ctrl-C while its workers started, as they must: the run went on."""
    output = tmp_path / "vectors.txt"
    status, stderr, workers, left = _run_in_own_group(
        "train", planted_file, "-o", output, "--dask", "local:2", "--dim", "8", "--epochs", 1, "--min-count", "1",
        first=CTRL_C_AS_THE_CLUSTER_STARTS)
    assert (status, stderr.strip().splitlines()[-1:]) == (130, ["w2vfast: stopped by SIGINT"]), stderr
    assert len(workers) >= 2 and left == set() and not output.exists()


SEMAPHORE_LEFT_AS_THE_CLUSTER_STARTS = """
import multiprocessing, os
from w2vfast import cluster
with cluster._ctrl_c_held():
    lock = multiprocessing.get_context("spawn").Lock()  # the tracker keeps it, as a starting worker's
os._exit(143)  # SIGTERM before the workers were up: nothing released it
"""


def test_a_run_stopped_while_its_local_cluster_starts_ends_in_its_one_line():
    """multiprocessing's resource tracker removed the semaphores a stopped start left, and warned of each
    in two lines of Python's after w2vfast's one (in 11 of 30 runs stopped by timeout 0.8-1.6 s in)."""
    done = subprocess.run([sys.executable, "-c", SEMAPHORE_LEFT_AS_THE_CLUSTER_STARTS], capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stderr) == (143, "")


CTRL_C_AS_THE_CLUSTER_CLOSES = """
import os, signal
from w2vfast import cluster
close = cluster._close
def press_ctrl_c_and_close(local_cluster):
    os.killpg(0, signal.SIGINT)
    close(local_cluster)
cluster._close = press_ctrl_c_and_close
"""


def test_ctrl_c_once_the_vectors_are_written_closes_the_cluster_and_says_they_are_complete(planted_file, tmp_path):
    """It stopped the closing cluster midway: Python's resource tracker then warned of leaked semaphores,
    and the one line said only 'stopped by SIGINT', as if the vectors were lost."""
    output = tmp_path / "vectors.txt"
    status, stderr, workers, left = _run_in_own_group(
        "train", planted_file, "-o", output, "--dask", "local:2", "--dim", "8", "--epochs", 1, "--min-count", "1",
        first=CTRL_C_AS_THE_CLUSTER_CLOSES)
    lines = stderr.strip().splitlines()
    assert (status, lines[-2][:6], lines[-1]) == (130, "wrote ", f"w2vfast: stopped by SIGINT once the run had "
                                                               f"ended: {output} is complete"), stderr
    assert len(workers) >= 2 and left == set() and len(KeyedVectors.load(str(output))) == 40


def test_workers_that_run_another_w2vfast_are_refused(client, planted_file):
    def set_version(version):
        w2vfast.__version__ = version

    client.run(set_version, "9.9.9")
    try:
        with pytest.raises(W2VError, match=r"^worker tcp://\S+ runs w2vfast 9\.9\.9 \(\w+, .+\), this process "
                                           rf"{w2vfast.__version__} \(.+\): every worker needs the same w2vfast$"):
            w2vfast.train(planted_file, client=client, **OPTIONS)
    finally:
        client.run(set_version, w2vfast.__version__)


def test_a_scheduler_file_names_the_cluster_to_join(client, tmp_path):
    scheduler_file = tmp_path / "scheduler.json"  # as `dask scheduler --scheduler-file` writes it
    scheduler_file.write_text(json.dumps({"type": "Scheduler", "address": client.scheduler.address}))
    with cluster.connect(str(scheduler_file)) as joined:
        assert sorted(joined.nthreads()) == sorted(client.nthreads())
    with pytest.raises(W2VError, match=f"^no Dask scheduler file at {tmp_path / 'missing.json'}$"):
        with cluster.connect(str(tmp_path / "missing.json")):
            pass
    for wrong, message in ((tmp_path, f"--dask {tmp_path} is a directory, not a Dask scheduler file"),
                           ("", "--dask needs an address: tcp://host:8786, a scheduler file or local:N")):
        with pytest.raises(W2VError, match=f"^{re.escape(message)}$"):  # a directory was 'no ... file at'
            with cluster.connect(str(wrong)):
                pass
    for damaged in ("{}", "[1]", "not json", '{"address": ""}'):  # an empty one said 'missing port number
        scheduler_file.write_text(damaged)
        with pytest.raises(W2VError, match=f"^{scheduler_file} is not a Dask scheduler file: no scheduler address"):
            with cluster.connect(str(scheduler_file)):
                pass


def test_a_server_that_never_answers_is_given_up_on(monkeypatch):
    """Dask's own timeout covers connecting, not a server that accepts and stays silent."""
    monkeypatch.setattr(cluster, "START_SECONDS", 1.0)
    monkeypatch.setattr(cluster, "CONNECT_MARGIN_SECONDS", 1.0)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        began = time.monotonic()
        with pytest.raises(W2VError, match=f"^cannot reach the Dask scheduler at {address}: no answer within 2 s$"):
            with cluster.connect(address):
                pass
        assert time.monotonic() - began < 10


def test_a_scheduler_slow_to_answer_is_said_to_be_waited_for(monkeypatch, capsys):
    """Dask tries a refused connection again until its timeout: a mistyped port is not a silent minute."""
    monkeypatch.setattr(cluster, "START_SECONDS", 1.0)
    monkeypatch.setattr(cluster, "CONNECT_NOTICE_SECONDS", 0.2)
    with socket.create_server(("127.0.0.1", 0)) as closed:
        address = f"tcp://127.0.0.1:{closed.getsockname()[1]}"
    for quiet in (False, True):
        with pytest.raises(W2VError, match=f"^cannot reach the Dask scheduler at {address}: "):
            with cluster.connect(address, quiet=quiet):
                pass
        said = capsys.readouterr().err.splitlines()
        assert said == ([] if quiet else [f"waiting for the Dask scheduler at {address} to answer (up to 1 s)"])


def test_a_lost_scheduler_is_named_rather_than_the_worker_it_seems_to_take():
    run = cluster._ClusterRun.__new__(cluster._ClusterRun)  # the state _lost looks at, without a cluster
    run.client = type("Client", (), {"status": "running"})()
    assert run._lost("tcp://w:1", "while training").reason == "worker tcp://w:1 was lost while training"
    run.client.status = "connecting"  # what a client that lost its scheduler tries to do
    assert run._lost("tcp://w:1", "while training").reason == "the Dask scheduler was lost while training"


def test_dask_s_client_logs_nothing_while_a_joined_cluster_trains():
    """A scheduler lost mid-run made Dask's client log 37 lines of tracebacks before the run's one line
    (``distributed.client`` has a level and a handler of its own)."""
    client_log = logging.getLogger("distributed.client")
    with cluster._dask_logs_silenced():
        assert not client_log.isEnabledFor(logging.ERROR)
    assert client_log.isEnabledFor(logging.ERROR)


@pytest.mark.parametrize("args, message", [
    (["--read-vocab", "{corpus}"], "--read-vocab cannot be used with --dask"),
    (["--init", "{corpus}"], "--init cannot be used with --dask"),
    (["-"], "--dask trains on files that every worker can read, not on standard input"),
])
def test_what_a_cluster_cannot_train_is_refused_before_a_local_one_starts(planted_file, monkeypatch, args, message):
    """It was refused once the local cluster had started, 2-3 s later."""
    from click.testing import CliRunner
    from w2vfast.cli import main

    def no_cluster(*args, **kwargs):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(cluster, "connect", no_cluster)
    result = CliRunner().invoke(main, ["train", planted_file, *[a.format(corpus=planted_file) for a in args],
                                       "--dask", "local:2"])
    assert result.exit_code == 1 and result.stderr.startswith(f"w2vfast: error: {message}"), result.output


@pytest.mark.parametrize("address", ["local:0", "local:x", "local:-1", "local:", "LOCAL:x"])
def test_a_local_cluster_needs_a_whole_number_of_workers(address):
    with pytest.raises(W2VError, match=f"needs a whole number of workers, at least one, not {address}$"):
        with cluster.connect(address):
            pass


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:99999", "127.0.0.1:0", "tcp://[::1]:65536/"])
def test_a_port_that_cannot_be_is_refused_at_once(address):
    """It was tried again and again for a minute, as a scheduler not yet started is."""
    began = time.monotonic()
    with pytest.raises(W2VError, match=r"^--dask .*: a port is a number from 1 to 65535$"):
        with cluster.connect(address):
            pass
    assert time.monotonic() - began < 5


def test_a_local_cluster_of_more_workers_than_the_machine_can_hold_is_refused(monkeypatch):
    """local:99999999999 grew Dask's memory without end as it built the workers' specs, deaf to Ctrl-C."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.raises(W2VError, match=r"^--dask local:17: a local cluster takes at most 16 workers on this "
                                       r"machine's 2 cores \(8 a core\)"):
        with cluster.connect("local:17"):
            pass


def test_a_relative_corpus_path_is_taken_from_the_driver_s_directory(client, planted_file, tmp_path, monkeypatch):
    """Each worker looked the path up in its own directory: not found, or another file of that name."""
    shutil.copy(planted_file, tmp_path / "corpus.txt")
    monkeypatch.chdir(tmp_path)  # the workers stay where the cluster started them
    vectors = w2vfast.train("corpus.txt", client=client, **OPTIONS)
    assert len(vectors) == len(w2vfast.train(planted_file, **OPTIONS))


def test_a_worker_frozen_before_the_run_is_given_up_on(client, planted_file, monkeypatch):
    """Asking the workers which w2vfast they run waited for a frozen one without end."""
    frozen = next(iter(client.run(os.getpid).values()))
    monkeypatch.setattr(cluster, "START_SECONDS", 2.0)
    os.kill(frozen, signal.SIGSTOP)
    try:
        with pytest.raises(WorkerLost, match="^a worker did not answer within 2 s when asked which w2vfast it runs"):
            w2vfast.train(planted_file, client=client, **OPTIONS)
    finally:
        os.kill(frozen, signal.SIGCONT)


def test_a_worker_lost_while_saying_which_w2vfast_it_runs_is_not_called_uninstalled(client, planted_file,
                                                                                      monkeypatch):
    """A worker killed as it answered was reported as one that cannot import w2vfast."""
    asked = client.run

    def run(function, *args, **kwargs):
        answers = asked(function, *args, **kwargs)
        if function.__name__ == "code":
            first = next(iter(answers))
            answers[first] = distributed.comm.core.CommClosedError("in <TCP (closed) ...>: Stream is closed")
        return answers

    monkeypatch.setattr(client, "run", run)
    with pytest.raises(WorkerLost, match=r"^worker tcp://\S+ was lost while checking its w2vfast \(CommClosedError"):
        w2vfast.train(planted_file, client=client, **OPTIONS)


def test_a_local_cluster_spends_little_on_watching_itself():
    with cluster.connect("local:1") as client:
        profiled = client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
        every = {name: [*client.run(lambda dask_worker: dask_worker.periodic_callbacks[name].callback_time).values(),
                        client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.periodic_callbacks[name]
                                                .callback_time)]
                 for name in ("monitor", "tick")}
    assert list(profiled.values()) == [False]
    assert min(every["monitor"]) >= 60_000  # milliseconds: once a minute, not twice a second
    assert min(every["tick"]) >= 1_000  # once a second, not every 20 ms


def test_the_printed_command_to_resume_a_cluster_run_is_taken(planted_file, tmp_path):
    """A stopped cluster run says to go on with 'train --resume CKPT --dask ADDRESS', no corpus: that was
    refused as if the corpus were standard input. Without a corpus the checkpoint's own is checked, and
    a run trained in one process is refused before a local cluster starts."""
    cluster.check_cluster_run([], {}, ("run.ckpt", {"cluster": {}, "corpus": [planted_file]}))
    with pytest.raises(W2VError, match="^--dask trains on files"):
        cluster.check_cluster_run([], {}, ("run.ckpt", {"cluster": {}, "corpus": None}))
    checkpoint = tmp_path / "alone.ckpt"
    w2vfast.train(planted_file, output=str(tmp_path / "v.bin"), checkpoint=str(checkpoint), **OPTIONS)
    result = subprocess.run([sys.executable, "-m", "w2vfast", "train", "--resume", str(checkpoint), "--dask",
                             "local:1"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (1, f"w2vfast: error: the run in {checkpoint} was trained in one "
                                                     "process: resume it without --dask\n")


def test_a_scheduler_lost_while_the_run_waits_for_a_worker_is_said_at_once(planted_file, tmp_path):
    """Dask's wait_for_workers waited out its minute of reconnecting, and the run then said that no
    worker had joined."""
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "dask"), "scheduler", "--port", "0",
                                  "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (scheduler_file.exists() and scheduler_file.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.1)
        with cluster.connect(str(scheduler_file)) as empty:  # no worker, ever
            threading.Timer(2.0, scheduler.kill).start()
            began = time.monotonic()
            with pytest.raises(WorkerLost, match="^the Dask scheduler was lost while the run waited for a worker; no checkpoint"):
                w2vfast.train(planted_file, client=empty, **OPTIONS)
            assert time.monotonic() - began < 30
    finally:
        scheduler.kill()
        scheduler.wait()


def test_a_replica_cancelled_by_dask_is_a_lost_worker_in_one_line():
    """A scheduler lost or restarted as the replicas started cancelled their futures: a traceback."""
    class Cancelled:
        def result(self, timeout):
            raise distributed.client.FutureCancelledError("Replica-1", "scheduler-restart")

    run = object.__new__(cluster._ClusterRun)
    run.client = type("Connected", (), {"status": "running"})()
    with pytest.raises(WorkerLost) as lost:
        run._wait(Cancelled(), "tcp://w:1", "starting its replica", 10)
    assert str(lost.value).splitlines() == [str(lost.value)]
    assert str(lost.value).startswith("worker tcp://w:1 was lost while starting its replica (Replica-1 cancelled")
