"""Threads train private copies of the hot rows and merge them into the shared rows: the same model."""

import numpy as np
import pytest

import w2vfast
from w2vfast import TrainConfig, kernels, sharing, trainer
from w2vfast.vocab import huffman_tree, keep_probabilities
from conftest import FAST, neighbours_in_own_cluster

BOTH_LOSSES = dict(model="cbow", negative=3, hs=True, alpha=0.02)  # all three matrices are trained


def force_hot_rows(monkeypatch, fraction: float, merge_words: int) -> None:
    """Make the first ``fraction`` of syn0's and syn1neg's rows and the last of syn1's hot."""
    def choose(counts, keep_prob, config, points, lengths):
        v = len(counts)
        hot, inner = int(v * fraction), int((v - 1) * fraction)
        return kernels.make_sharing((0, hot), (0, hot), (v - 1 - inner, inner), merge_words)
    monkeypatch.setattr(trainer, "choose_sharing", choose)


def test_one_thread_on_private_rows_trains_the_model_it_trains_in_place(planted_file, monkeypatch):
    """Every read and write of a hot row must go to the thread's copy, and every merge must carry its
    changes over: then one thread's model is the in-place one, but for the merges' rounding."""
    options = {**FAST, **BOTH_LOSSES, "threads": 1}
    in_place = w2vfast.train(planted_file, **options).vectors
    force_hot_rows(monkeypatch, 0.5, merge_words=100)
    private = w2vfast.train(planted_file, **options).vectors
    np.testing.assert_allclose(private, in_place, rtol=0, atol=2e-5)


@pytest.mark.parametrize("merge_words", [1, 10 ** 12])
@pytest.mark.parametrize("options", [dict(model="sg", negative=5), BOTH_LOSSES], ids=["sg-ns", "cbow-ns-hs"])
def test_threads_on_private_copies_of_every_row_learn_together(planted_file, monkeypatch, options, merge_words):
    """Merging after every sentence, or only at the ends of kernel calls: the shared rows learn."""
    force_hot_rows(monkeypatch, 1.0, merge_words)
    vectors = w2vfast.train(planted_file, **{**FAST, **options, "threads": 2})
    assert neighbours_in_own_cluster(vectors) >= 0.9


def zipf_vocabulary(n=5000):
    return (10 ** 7 / np.arange(1, n + 1)).astype(np.int64)


@pytest.mark.parametrize("hs", [False, True])
def test_the_hot_rows_are_those_written_most(hs):
    counts = zipf_vocabulary()
    config = TrainConfig(threads=2, hs=hs, negative=0 if hs else 5, sample=1e-4)
    keep = keep_probabilities(counts, config.sample)
    points, _, lengths = huffman_tree(counts)
    rates = sharing.write_rates(counts, keep, config, points, lengths)
    chosen = sharing.choose_sharing(counts, keep, config, points, lengths)
    for matrix, (first, count), rate in zip(("syn0", "syn1neg"), chosen.hot, rates):  # frequent words first
        assert first == 0 and count <= sharing.MAX_HOT_ROWS
        if count:
            assert rate[:count].min() >= rate[count:].max(initial=0.0), matrix
    kept = float((counts * keep).sum() / counts.sum())
    if hs:
        assert rates[2][len(counts) - 2] == pytest.approx(kept)  # every path starts at the root
        first, count = chosen.hot[2]  # the nodes nearest the root, which the last ids are
        assert first + count == len(counts) - 1 and 0 < count <= sharing.MAX_HOT_ROWS
        assert set(np.argsort(rates[2])[-count // 2:]) <= set(range(first, first + count))
    else:
        assert rates[1].sum() == pytest.approx(kept * (1 + config.negative))  # the centre and the negatives
        assert chosen.hot[1, 1] > 0
    assert rates[0].sum() == pytest.approx(kept * (config.window + 1))


def test_one_thread_keeps_no_private_rows():
    counts = zipf_vocabulary()
    config = TrainConfig(threads=1, hs=True)
    points, _, lengths = huffman_tree(counts)
    chosen = sharing.choose_sharing(counts, keep_probabilities(counts, config.sample), config, points, lengths)
    assert chosen.hot[:, 1].tolist() == [0, 0, 0]
