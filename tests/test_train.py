"""Training learns planted structure in every model/loss combination, covers every epoch, repeats."""

import os

import numpy as np
import pytest

import w2vfast
from w2vfast import KeyedVectors, TrainConfig, trainer
from w2vfast.errors import W2VError
from w2vfast.vocab import Vocab
from conftest import ROOT, CLUSTERS, FAST, WORDS_PER_CLUSTER, neighbours_in_own_cluster, planted_sentences, write_corpus

COMBINATIONS = {
    "sg-ns": dict(model="sg", negative=5),
    "sg-hs": dict(model="sg", negative=0, hs=True),
    "cbow-ns": dict(model="cbow", negative=5),
    "cbow-hs": dict(model="cbow", negative=0, hs=True),
    "cbow-sum-ns-hs": dict(model="cbow", negative=3, hs=True, cbow_mean=False, alpha=0.02),
}


@pytest.mark.parametrize("name", COMBINATIONS)
def test_planted_clusters_are_learned(planted_file, name):
    vectors = w2vfast.train(planted_file, **{**FAST, **COMBINATIONS[name]})
    assert len(vectors) == CLUSTERS * WORDS_PER_CLUSTER
    assert neighbours_in_own_cluster(vectors) >= 0.9


@pytest.mark.parametrize("rows, dim, private", [(1, 1, 0), (50, 3, 0), (1000, 50, 0), (333, 100, 0), (300, 20, 7)])
def test_a_finished_run_s_vectors_are_moved_to_the_front_of_their_padded_rows(monkeypatch, rows, dim, private):
    """The returned vectors are the padded rows' first columns moved in place, 16 rows at a time (where
    a block's rows overlap their places), not copied: the same values, contiguous, in the same memory;
    also where threads' private rows follow the words' rows."""
    monkeypatch.setattr(trainer, "INIT_ROWS", 16)
    padded = np.random.default_rng(rows).standard_normal((rows + private, -(-dim // 8) * 8)).astype(np.float32)
    wanted = padded[:rows, :dim].copy()
    moved = trainer.compacted(padded[:rows, :dim])
    assert moved.flags.c_contiguous and np.shares_memory(moved, padded)
    np.testing.assert_array_equal(moved, wanted)
    if rows > 1:  # rows that are not the first ones are copied
        every_other = trainer.compacted(padded[::2, :dim])
        assert not np.shares_memory(every_other, padded)
        np.testing.assert_array_equal(every_other, padded[::2, :dim])


@pytest.mark.parametrize("threads", [1, 2])
def test_the_vectors_a_run_returns_are_its_rows_moved_not_copied(planted_file, threads):
    vectors = w2vfast.train(planted_file, **{**FAST, "threads": threads})
    assert vectors.vectors.base is not None and vectors.vectors.flags.c_contiguous
    assert neighbours_in_own_cluster(vectors) >= 0.9


@pytest.mark.parametrize("name", ["sg-ns", "cbow-hs"])
def test_shuffled_control_shows_no_clusters(tmp_path, name):
    corpus = write_corpus(tmp_path / "shuffled.txt", planted_sentences(shuffled=True))
    vectors = w2vfast.train(corpus, **{**FAST, **COMBINATIONS[name]})
    chance = (WORDS_PER_CLUSTER - 1) / (CLUSTERS * WORDS_PER_CLUSTER - 1)
    assert neighbours_in_own_cluster(vectors) < chance + 0.2


@pytest.mark.parametrize("block_words", [None, 500])
def test_every_epoch_covers_the_whole_corpus(planted_file, monkeypatch, block_words):
    """Threads claim blocks as they go (36 blocks an epoch with 500 words each): each is trained once."""
    if block_words is not None:
        monkeypatch.setattr(trainer, "BLOCK_WORDS", block_words)
    vectors = w2vfast.train(planted_file, **{**FAST, "epochs": 5, "threads": 2})
    stats = vectors.stats
    assert stats.corpus_words == 1500 * 12
    assert stats.epoch_words == [stats.corpus_words] * 5


def test_progress_shows_the_learning_rate_where_each_call_ended(planted_file, monkeypatch):
    """It showed the rate where the call began: 0.025000 at 43% done, 0.0125 at 93%."""
    shown = []
    monkeypatch.setattr(trainer, "BLOCK_WORDS", 500)
    monkeypatch.setattr(trainer.Progress, "update", lambda self, done, alpha: shown.append((done, alpha)))
    w2vfast.train(planted_file, **{**FAST, "threads": 1, "alpha": 0.025, "min_alpha": 0.0})
    total = 3 * 1500 * 12
    assert len(shown) >= 6 and shown[-1][0] == total
    for done, alpha in shown:
        assert alpha == pytest.approx(0.025 * (1 - done / total), abs=1e-9)


def test_costly_settings_train_in_calls_no_costlier_than_ordinary_ones():
    """A call is the time between safe points (Ctrl-C, progress, checkpoints): SG with --window 20
    and --negative 50 costs 30 times a default word, which made calls of 5 s here."""
    ordinary = (trainer.BLOCK_WORDS, trainer.CALL_BLOCKS_PER_THREAD)
    for options, code_length in ((dict(), 0), (dict(hs=True, negative=0), 15), (dict(hs=True), 15),
                                 (dict(model="cbow", window=10, hs=True), 15)):
        assert trainer.call_shape(trainer.work_per_word(TrainConfig(**options), code_length)) == ordinary, options
    budget = trainer.BLOCK_WORDS * trainer.CALL_BLOCKS_PER_THREAD * trainer.ORDINARY_WORK
    for window, negative, blocks in ((10, 20, 16), (20, 50, 16), (50, 500, 2)):
        work = trainer.work_per_word(TrainConfig(window=window, negative=negative), 0)
        words, blocks_per_thread = trainer.call_shape(work)
        assert blocks_per_thread == blocks and budget * 0.99 <= words * blocks * work <= budget
    assert trainer.call_shape(1e12) == (trainer.MIN_BLOCK_WORDS, 1)


@pytest.mark.parametrize("min_block_words, calls", [(10, 29), (100, 30)])
def test_calls_shrunk_for_costly_settings_still_cover_every_epoch(planted_file, monkeypatch, min_block_words,
                                                                  calls):
    """A word's work is 24 times the ordinary here: blocks of about 20 words, cut at the 12-word
    sentences, 16 a thread in each call; or, as they may not be under 100 words, 3 of those a
    thread in each call. The ordinary blocks make 2 calls an epoch."""
    monkeypatch.setattr(trainer, "BLOCK_WORDS", 500)
    monkeypatch.setattr(trainer, "ORDINARY_WORK", 1)
    monkeypatch.setattr(trainer, "MIN_BLOCK_WORDS", min_block_words)
    made = []
    kernel_call = trainer.Trainer._call
    monkeypatch.setattr(trainer.Trainer, "_call", lambda self, *args: made.append(1) or kernel_call(self, *args))
    vectors = w2vfast.train(planted_file, **{**FAST, "epochs": 3, "threads": 2})
    assert vectors.stats.epoch_words == [1500 * 12] * 3
    assert len(made) == 1 + calls * 3  # the warm-up call, then the epochs'
    assert neighbours_in_own_cluster(vectors) >= 0.9


def test_learning_continues_in_the_last_epochs(planted_file):
    """A run whose later epochs were skipped would leave the final vectors equal to earlier ones."""
    three = w2vfast.train(planted_file, **{**FAST, "threads": 1, "epochs": 3, "min_alpha": 0.025})
    four = w2vfast.train(planted_file, **{**FAST, "threads": 1, "epochs": 4, "min_alpha": 0.025})
    assert not np.allclose(three.vectors, four.vectors)


def test_same_seed_single_thread_is_byte_identical(planted_file, tmp_path):
    for name in ("a", "b"):
        w2vfast.train(planted_file, **{**FAST, "threads": 1, "seed": 7}).save(str(tmp_path / f"{name}.bin"))
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    other = w2vfast.train(planted_file, **{**FAST, "threads": 1, "seed": 8})
    assert not np.array_equal(other.vectors, w2vfast.KeyedVectors.load(str(tmp_path / "a.bin")).vectors)


def test_a_dimension_off_whole_vectors_trains_every_column(planted_file):
    """dim 13 is trained padded to 16: the vectors come back 13 wide and contiguous, they learn the
    clusters, and every column has moved far from where it started (a column left untrained would not)."""
    options = {**FAST, "dim": 13}
    vectors = w2vfast.train(planted_file, **options)
    assert vectors.vectors.shape == (len(vectors), 13) and vectors.vectors.flags.c_contiguous
    assert neighbours_in_own_cluster(vectors) >= 0.9
    words = [w.encode() for w in vectors.index_to_key]
    start = trainer.Trainer(Vocab(words, np.ones(len(words), np.int64)), TrainConfig(**options), 1).matrices()["syn0"]
    assert np.abs(start).max() <= 0.5 / 13
    assert (np.abs(vectors.vectors - start).max(axis=0) > 0.3).all()


@pytest.mark.parametrize("name", COMBINATIONS)
def test_planted_clusters_are_learned_with_the_default_subsampling(planted_file, name):
    """The default --sample 1e-3 keeps about a quarter of these words (each is 2.5% of the corpus), so
    the kernel's subsampling path trains here; the clusters must still come out."""
    options = {**FAST, **COMBINATIONS[name]}
    del options["sample"]
    vectors = w2vfast.train(planted_file, **options)
    assert neighbours_in_own_cluster(vectors) >= 0.9


def test_both_losses_train_their_own_output_matrix(planted_file, tmp_path):
    """With --negative and --hs together, every row of both output matrices (which start at zero) is
    trained: each word is a centre word for negative sampling, each inner node lies on some path."""
    checkpoint = tmp_path / "run.ckpt"
    w2vfast.train(planted_file, checkpoint=str(checkpoint), **{**FAST, **COMBINATIONS["cbow-sum-ns-hs"]})
    with np.load(checkpoint, allow_pickle=False) as saved:
        syn1neg, syn1 = saved["syn1neg"], saved["syn1"]
    assert syn1neg.shape == (40, 16) and syn1.shape == (39, 16)
    assert np.abs(syn1neg).max(axis=1).min() > 0.01 and np.abs(syn1).max(axis=1).min() > 0.01


def test_one_line_corpus_is_split_and_fully_trained(tmp_path):
    words = [w for s in planted_sentences(n_sentences=2500) for w in s]
    path = tmp_path / "one-line.txt"
    path.write_text(" ".join(words))
    vectors = w2vfast.train(str(path), **{**FAST, **COMBINATIONS["sg-ns"]})
    assert vectors.stats.corpus_words == len(words) == 30000
    assert vectors.stats.epoch_words == [len(words)] * FAST["epochs"]
    # Sentences carry no boundary here, so neighbours mix clusters only at the sentence joins.
    assert neighbours_in_own_cluster(vectors) >= 0.8


def test_iterable_of_sentences_trains_like_a_file(planted_file):
    from_file = w2vfast.train(planted_file, **{**FAST, "threads": 1})
    from_list = w2vfast.train(planted_sentences(), **{**FAST, "threads": 1})
    assert from_file.index_to_key == from_list.index_to_key
    np.testing.assert_array_equal(from_file.vectors, from_list.vectors)


def test_min_count_and_max_vocab(tmp_path):
    path = tmp_path / "counts.txt"
    path.write_text("a a a a b b b c c d\n" * 3)
    vectors = w2vfast.train(str(path), **{**FAST, "min_count": 6})
    assert vectors.index_to_key == ["a", "b", "c"]
    vectors = w2vfast.train(str(path), **{**FAST, "max_vocab": 2})
    assert vectors.index_to_key == ["a", "b"]


def test_vocabulary_ties_keep_first_appearance(tmp_path):
    path = tmp_path / "ties.txt"
    path.write_text("zeta alpha mid zeta alpha mid top top top\n")
    vectors = w2vfast.train(str(path), **FAST)
    assert vectors.index_to_key == ["top", "zeta", "alpha", "mid"]


def test_file_arguments_may_be_pathlib_paths(tmp_path):
    """An output given as a pathlib.Path failed with an AttributeError after the training."""
    path = tmp_path / "ties.txt"
    path.write_text("zeta alpha mid zeta alpha mid top top top\n")
    vectors = w2vfast.train(path, output=tmp_path / "v.bin", save_vocab=tmp_path / "v.voc", **FAST)
    assert KeyedVectors.load(tmp_path / "v.bin").index_to_key == vectors.index_to_key
    assert (tmp_path / "v.voc").read_text().split("\n")[:2] == ["</s> 0", "top 3"]


def test_corpus_on_disk_trains_exactly_like_in_memory(planted_file, tmp_path):
    in_memory = w2vfast.train(planted_file, **{**FAST, "threads": 1})
    on_disk = w2vfast.train(planted_file, disk_corpus=str(tmp_path), **{**FAST, "threads": 1})
    np.testing.assert_array_equal(in_memory.vectors, on_disk.vectors)
    assert list(tmp_path.iterdir()) == [tmp_path / "planted.txt"]  # the mapped file has no name


@pytest.mark.parametrize("arguments, error, message", [
    (dict(resume=0), TypeError, "resume must be a path, not 0"),  # was opened as standard input, and closed
    (dict(init=2), TypeError, "init must be a path, not 2"),
    (dict(output=b"v.bin"), TypeError, "output must be a path, not b'v.bin'"),
    (dict(dimension=5), TypeError, "train() has no option 'dimension'"),
    (dict(hs="no"), TypeError, "--hs must be True or False, not 'no'"),
    (dict(cbow_mean="x"), TypeError, "--cbow-mean must be True or False, not 'x'"),
    (dict(alpha="0.1"), TypeError, "--alpha must be a number, not '0.1'"),
    (dict(dim=0), ValueError, "--dim must be a positive integer, not 0"),  # a W2VError that was not a ValueError
    (dict(checkpoint_every="x"), TypeError, "--checkpoint-every must be a number of minutes, not 'x'"),
    (dict(output="v.txt", binary="false"), TypeError, "binary must be True or False, not 'false'"),  # wrote binary
    (dict(report_loss="no"), TypeError, "report_loss must be True or False, not 'no'"),
    (dict(quiet=None), TypeError, "quiet must be True or False, not None"),
    (dict(model=np.array("sg")), TypeError, "--model must be 'sg' or 'cbow', not array('sg', dtype='<U2')"),
])
def test_arguments_of_the_wrong_kind_are_refused_before_reading(tmp_path, arguments, error, message):
    with pytest.raises(error) as raised:
        w2vfast.train(str(tmp_path / "not-read.txt"), **arguments)
    assert isinstance(raised.value, W2VError) and str(raised.value) == message
    with pytest.raises(TypeError, match=r"^the corpus must be paths or an iterable of token lists, not 5$"):
        w2vfast.train(5)


def test_gensim_switches_of_0_and_1_are_taken():
    assert (TrainConfig(hs=1, cbow_mean=0).hs, TrainConfig(hs=1, cbow_mean=0).cbow_mean) == (True, False)
    assert TrainConfig(hs=np.bool_(True)).hs is True  # kept as a bool: the checkpoint's header is JSON


FORKED_POOL = """
import multiprocessing
import w2vfast

SENTENCES = [["human", "interface", "computer"], ["survey", "user", "computer", "system"]] * 20


def train(threads):
    try:
        return len(w2vfast.train(SENTENCES, min_count=1, dim=8, epochs=1, threads=threads))
    except w2vfast.W2VError as error:
        return str(error)


if __name__ == "__main__":
    train(2)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        print(pool.map_async(train, [2]).get(timeout=60)[0])
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        print(pool.map_async(train, [2]).get(timeout=120)[0])
"""


def test_a_process_forked_after_training_is_told_how_to_start_instead_of_dying(tmp_path):
    """GNU OpenMP, Numba's threads here, does not survive a fork: the forked child's first kernel call
    killed it, and the pool waited for it for good (gensim's grid searches use such pools)."""
    import subprocess
    import sys

    script = tmp_path / "forked_pool.py"
    script.write_text(FORKED_POOL)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240,
                          env={**os.environ, "PYTHONPATH": ROOT})
    forked, spawned = done.stdout.splitlines()
    assert forked.startswith("this process was forked from one that had trained already") and "'spawn'" in forked
    assert spawned == "6" and done.returncode == 0, done.stderr
