"""Checkpoints: a run stopped anywhere and resumed ends exactly where an unstopped run does."""

import io
import json
import os
import pickle
import shutil
import signal
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import w2vfast
from w2vfast import KeyedVectors, trainer
from w2vfast.checkpoint import Checkpointer, load_checkpoint
from w2vfast.errors import Interrupted, W2VError
from w2vfast.safepoint import SafePoint
from conftest import FAST, neighbours_in_own_cluster, planted_sentences, signal_at_call, write_corpus


# Small blocks, so that a run makes many kernel calls (18 an epoch with one thread) to stop between.
SMALL_BLOCKS = 1000
EXACT = {**FAST, "threads": 1, "seed": 11, "dim": 12}  # 12: rows padded to 16, saved as views
CALLS = 3 * 18


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(trainer, "BLOCK_WORDS", SMALL_BLOCKS)
    monkeypatch.setattr(trainer, "CALL_BLOCKS_PER_THREAD", 1)


def stop_once(corpus, checkpoint, call, **options) -> dict:
    """Train until SIGINT after kernel call ``call`` stops the run; returns its checkpoint's header."""
    with pytest.MonkeyPatch.context() as patch:
        signal_at_call(patch, call)
        with pytest.raises(Interrupted):
            w2vfast.train(corpus, checkpoint=checkpoint, **options)
    return load_checkpoint(checkpoint).header


def run_stopping_at(corpus, checkpoint, stops, **options):
    """Train, stopped by SIGINT at each of ``stops`` (calls counted from each start), then finish."""
    resume = None
    for call in stops:
        with pytest.MonkeyPatch.context() as patch:
            signal_at_call(patch, call)
            try:
                return w2vfast.train(corpus, checkpoint=checkpoint, resume=resume, **options)
            except Interrupted as stopped:
                assert stopped.signum == signal.SIGINT and stopped.checkpoint == checkpoint
        resume = checkpoint
    return w2vfast.train(corpus, resume=resume, **options)


@pytest.fixture(scope="module")
def corpus_and_reference(tmp_path_factory):
    """The planted corpus and the vectors of an uninterrupted single-thread run on it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trainer, "BLOCK_WORDS", SMALL_BLOCKS)
        patch.setattr(trainer, "CALL_BLOCKS_PER_THREAD", 1)
        corpus = write_corpus(tmp_path_factory.mktemp("corpus") / "planted.txt", planted_sentences())
        return corpus, w2vfast.train(corpus, **EXACT)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stops=st.lists(st.integers(1, CALLS), min_size=1, max_size=3))
def test_stopped_and_resumed_single_thread_run_is_identical(corpus_and_reference, tmp_path, stops):
    corpus, reference = corpus_and_reference
    checkpoint = str(tmp_path / f"run-{'-'.join(map(str, stops))}.ckpt")
    vectors = run_stopping_at(corpus, checkpoint, stops, **EXACT)
    assert vectors.index_to_key == reference.index_to_key
    assert vectors.vectors.tobytes() == reference.vectors.tobytes()


def test_every_word_is_trained_once_across_stops(corpus_and_reference, tmp_path):
    corpus, _ = corpus_and_reference
    checkpoint = str(tmp_path / "run.ckpt")
    header = stop_once(corpus, checkpoint, 25, **EXACT)
    assert header["epoch"] == 1 and 18000 < header["words_done"] < 2 * 18000
    resumed = w2vfast.train(corpus, resume=checkpoint, **EXACT)
    assert resumed.stats.epoch_words == [2 * 18000 - header["words_done"], 18000]


def test_periodic_checkpoints_resume_identically(corpus_and_reference, tmp_path):
    corpus, reference = corpus_and_reference
    checkpoint = str(tmp_path / "run.ckpt")
    w2vfast.train(corpus, checkpoint=checkpoint, checkpoint_every=0, **EXACT)
    header = load_checkpoint(checkpoint).header
    assert (header["epoch"], header["sentence"], header["corpus"]) == (2, 1500, [corpus])
    finished = w2vfast.train(resume=checkpoint)  # corpus and options from the checkpoint
    assert finished.vectors.tobytes() == reference.vectors.tobytes()
    assert finished.stats.words_trained == 0


def test_a_resumed_run_writes_the_output_its_checkpoint_names(corpus_and_reference, tmp_path):
    corpus, reference = corpus_and_reference
    checkpoint, output, text = str(tmp_path / "run.ckpt"), tmp_path / "v.bin", tmp_path / "v.txt"
    stop_once(corpus, checkpoint, 25, output=str(output), **EXACT)
    assert not output.exists()
    finished = w2vfast.train(resume=checkpoint)
    assert output.read_bytes()[:5] == b"40 12" and KeyedVectors.load(str(output)).vectors.tobytes() == \
        finished.vectors.tobytes() == reference.vectors.tobytes()
    w2vfast.train(resume=checkpoint, output=str(text))  # another output, in its own format
    assert KeyedVectors.load(str(text)).index_to_key == reference.index_to_key and b"\0" not in text.read_bytes()
    # standard output stays standard output, not a file named - in the first run's directory
    assert stop_once(corpus, checkpoint, 25, output="-", **EXACT)["output"]["path"] == "-"


def test_a_signal_during_the_last_save_still_stops_the_run(corpus_and_reference, tmp_path, monkeypatch):
    """Ctrl-C after the last call's check (as while its checkpoint is written) is not lost."""
    corpus, reference = corpus_and_reference
    checkpoint = str(tmp_path / "run.ckpt")

    class SignalAfterLastCheck(SafePoint):
        def __call__(self, position):
            super().__call__(position)
            if position == (EXACT["epochs"] - 1, 1500):
                os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(trainer, "SafePoint", SignalAfterLastCheck)
    with pytest.raises(Interrupted) as stopped:
        w2vfast.train(corpus, checkpoint=checkpoint, **EXACT)
    assert stopped.value.checkpoint == checkpoint
    monkeypatch.undo()
    finished = w2vfast.train(resume=checkpoint)
    assert finished.vectors.tobytes() == reference.vectors.tobytes()


@pytest.mark.parametrize("threads_after", [2, 1])
def test_several_threads_resume_to_the_same_quality(corpus_and_reference, tmp_path, threads_after):
    corpus, _ = corpus_and_reference
    checkpoint = str(tmp_path / "run.ckpt")
    words_done = stop_once(corpus, checkpoint, 13, **FAST)["words_done"]
    assert 0 < words_done < 3 * 18000
    vectors = w2vfast.train(corpus, resume=checkpoint, threads=threads_after)
    assert vectors.stats.words_trained == 3 * 18000 - words_done
    assert neighbours_in_own_cluster(vectors) >= 0.9


def test_stop_without_checkpoint_says_so(corpus_and_reference, monkeypatch):
    corpus, _ = corpus_and_reference
    signal_at_call(monkeypatch, 3)
    with pytest.raises(Interrupted) as stopped:
        w2vfast.train(corpus, **EXACT)
    assert stopped.value.checkpoint is None and str(stopped.value) == "stopped by SIGINT"


@pytest.fixture
def saved_run(corpus_and_reference, tmp_path):
    corpus, _ = corpus_and_reference
    checkpoint = str(tmp_path / "run.ckpt")
    w2vfast.train(corpus, checkpoint=checkpoint, **EXACT)
    return corpus, checkpoint


@pytest.mark.parametrize("options,message", [
    ({"dim": 32}, "--dim 32 differs from the checkpoint's --dim 12"),
    ({"model": "cbow"}, "--model cbow differs"),
    ({"epochs": 4}, "--epochs 4 differs"),
    ({"cbow_mean": False}, "^--cbow-sum differs from the checkpoint's --cbow-mean: "),  # was "--cbow-mean False"
    ({"hs": True, "negative": 5}, "^--hs differs from the checkpoint's --no-hs: "),
    ({"max_vocab": 100}, "^--max-vocab 100 differs from the checkpoint's no --max-vocab: "),  # was "--max-vocab None"
    ({"read_vocab": "vocab.txt"}, "--read-vocab and --resume exclude each other"),
    ({"checkpoint_every": -1}, "--checkpoint-every must be 0 or more"),
])
def test_options_that_shape_the_run_cannot_change(saved_run, options, message):
    corpus, checkpoint = saved_run
    with pytest.raises(W2VError, match=message):
        w2vfast.train(corpus, resume=checkpoint, **options)


@pytest.mark.parametrize("every, error", [(-1, ValueError), (float("nan"), ValueError), ("5", TypeError),
                                          (True, TypeError)])
def test_an_interval_that_is_no_number_of_minutes_is_refused_as_python_refuses_it(tmp_path, every, error):
    """A Python caller catches TypeError and ValueError; these were a bare W2VError."""
    with pytest.raises(error, match="--checkpoint-every must be"):
        w2vfast.train(str(tmp_path / "never-read.txt"), checkpoint=str(tmp_path / "c.ckpt"),
                      checkpoint_every=every)


def test_a_checkpoint_replaced_while_the_run_starts_is_refused(corpus_and_reference, tmp_path, monkeypatch):
    """The header (the position) was read from one file and the weights from the one there later: a
    run still saving the checkpoint gave a resumed run the old position with newer weights, silently."""
    corpus, _ = corpus_and_reference
    checkpoint, other = str(tmp_path / "run.ckpt"), str(tmp_path / "other.ckpt")
    stop_once(corpus, checkpoint, 2, **EXACT)
    stop_once(corpus, other, 4, **EXACT)  # the same run, saved later
    read_corpus = trainer.read_corpus

    def replaced_while_reading(*args, **kwargs):
        os.replace(other, checkpoint)
        return read_corpus(*args, **kwargs)

    monkeypatch.setattr(trainer, "read_corpus", replaced_while_reading)
    with pytest.raises(W2VError, match=f"^the checkpoint {checkpoint} was replaced while the run started, by another "
                                       "run saving it: stop that run, then resume from it$"):
        w2vfast.train(corpus, resume=checkpoint, threads=1)


def test_a_run_does_not_replace_a_checkpoint_another_run_wrote(corpus_and_reference, tmp_path, monkeypatch, capsys):
    """Two runs given one checkpoint took turns in it, silently: each save replaced the other run's."""
    corpus, _ = corpus_and_reference
    checkpoint, other = tmp_path / "run.ckpt", tmp_path / "other.ckpt"
    w2vfast.train(corpus, checkpoint=str(other), **{**EXACT, "seed": 12})
    write = Checkpointer.write
    saves = []

    def then_another_run_saves(self, *args, **kwargs):
        write(self, *args, **kwargs)
        saves.append(1)
        if len(saves) == 1:
            shutil.copyfile(other, str(checkpoint) + ".tmp")
            os.replace(str(checkpoint) + ".tmp", checkpoint)

    monkeypatch.setattr(Checkpointer, "write", then_another_run_saves)
    w2vfast.train(corpus, checkpoint=str(checkpoint), checkpoint_every=0, **EXACT)
    assert checkpoint.read_bytes() == other.read_bytes() and len(saves) == 1
    assert (f"w2vfast: warning: another run has written the checkpoint {checkpoint} since this one saved it, so this "
            "one does not replace it; the run goes on, and the previous checkpoint is kept") in capsys.readouterr().err


def test_resuming_on_another_corpus_is_refused(saved_run, tmp_path):
    _, checkpoint = saved_run
    shorter = write_corpus(tmp_path / "shorter.txt", planted_sentences(1000))
    with pytest.raises(W2VError, match="it holds 12,000 occurrences of the run's vocabulary, where the run's held 18,000"):
        w2vfast.train(shorter, resume=checkpoint)
    same_size = write_corpus(tmp_path / "other.txt", planted_sentences(seed=5))
    with pytest.raises(W2VError, match="as many words but not the same text"):
        w2vfast.train(same_size, resume=checkpoint)


def test_a_run_on_python_sentences_needs_them_again(tmp_path):
    checkpoint = str(tmp_path / "run.ckpt")
    w2vfast.train(planted_sentences(), checkpoint=checkpoint, **EXACT)
    with pytest.raises(W2VError, match="give that corpus again"):
        w2vfast.train(resume=checkpoint)
    assert len(w2vfast.train(planted_sentences(), resume=checkpoint)) == 40


def rewrite_member(path, name, data):
    """Copy the checkpoint with member ``name`` replaced by ``data`` (raw bytes)."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = data
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)


def npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_another_format_version_is_a_clear_error(saved_run):
    _, checkpoint = saved_run
    header = json.loads(np.load(checkpoint, allow_pickle=False)["header"].tobytes())
    header["version"] = 2
    rewrite_member(checkpoint, "header.npy", npy_bytes(np.frombuffer(json.dumps(header).encode(), np.uint8)))
    with pytest.raises(W2VError, match=f"^{checkpoint} is a version 2 checkpoint; this w2vfast reads version 1$"):
        load_checkpoint(checkpoint)
    header["version"] = "1"  # was "a version 1 checkpoint; this w2vfast reads version 1"
    rewrite_member(checkpoint, "header.npy", npy_bytes(np.frombuffer(json.dumps(header).encode(), np.uint8)))
    with pytest.raises(W2VError, match="or it is damaged: its version is not a number$"):
        load_checkpoint(checkpoint)


@pytest.mark.parametrize("start", ["resume", "init"])
def test_weights_that_are_not_finite_are_damage(saved_run, tmp_path, start):
    """A NaN in the weights trained a whole epoch, then blamed --alpha for diverging. Found as the
    weights are read, it came after --save-vocab had replaced its file."""
    corpus, checkpoint = saved_run
    syn0 = np.load(checkpoint, allow_pickle=False)["syn0"].copy()
    syn0[3, 1] = np.nan
    rewrite_member(checkpoint, "syn0.npy", npy_bytes(syn0))
    vocab = tmp_path / "my.vocab"
    vocab.write_text("precious\n")
    with pytest.raises(W2VError, match="or it is damaged: syn0 holds NaN or infinity$"):
        w2vfast.train(corpus if start == "init" else None, save_vocab=str(vocab), **{start: checkpoint})
    assert vocab.read_text() == "precious\n"


def test_a_new_run_keeps_off_the_checkpoint_of_a_stopped_one(corpus_and_reference, tmp_path):
    """The first command run again, where --resume was meant, replaced the checkpoint and lost its epochs."""
    corpus, _ = corpus_and_reference
    checkpoint = str(tmp_path / "run.ckpt")
    stop_once(corpus, checkpoint, 25, **EXACT)
    kept = open(checkpoint, "rb").read()
    with pytest.raises(W2VError, match=rf"^--checkpoint {checkpoint} keeps a run stopped in epoch 2 of 3: go on "
                                       rf"with it \(w2vfast train --resume {checkpoint}\), or remove the file"):
        w2vfast.train(corpus, checkpoint=checkpoint, **EXACT)
    assert open(checkpoint, "rb").read() == kept
    on_cluster = str(tmp_path / "cluster.ckpt")  # a cluster run's is resumed with --dask, which the hint says
    shutil.copy(checkpoint, on_cluster)
    header = json.loads(np.load(on_cluster, allow_pickle=False)["header"].tobytes())
    cluster = {"shards": [[[corpus, 0, os.path.getsize(corpus)]]], "fingerprints": [None], "rounds": 8, "round": 3,
               "every_epoch": False}
    rewrite_member(on_cluster, "header.npy", npy_bytes(np.frombuffer(json.dumps(dict(header, cluster=cluster)).encode(),
                                                                     np.uint8)))
    with pytest.raises(W2VError, match=rf"\(w2vfast train --resume {on_cluster} --dask ADDRESS\)"):
        w2vfast.train(corpus, checkpoint=on_cluster, **EXACT)
    w2vfast.train(corpus, checkpoint=checkpoint, resume=checkpoint, **EXACT)
    w2vfast.train(corpus, checkpoint=checkpoint, **EXACT)  # a finished run's may be replaced


def test_a_resumed_run_kept_under_another_name_keeps_off_another_run_and_other_files(corpus_and_reference, tmp_path):
    """--resume with --checkpoint naming another file skipped the check: notes, or another stopped
    run's checkpoint, were replaced without a word."""
    corpus, _ = corpus_and_reference
    first, second, notes = str(tmp_path / "first.ckpt"), str(tmp_path / "second.ckpt"), tmp_path / "notes.txt"
    stop_once(corpus, first, 25, **EXACT)
    stop_once(corpus, second, 10, **EXACT)
    notes.write_text("my notes\n")
    kept = open(second, "rb").read()
    with pytest.raises(W2VError, match=rf"^--checkpoint {second} keeps a run stopped in epoch 1 of 3"):
        w2vfast.train(corpus, resume=first, checkpoint=second)
    with pytest.raises(W2VError, match=rf"^--checkpoint {notes} is not a w2vfast checkpoint, or it is damaged"):
        w2vfast.train(corpus, resume=first, checkpoint=str(notes))
    assert open(second, "rb").read() == kept and notes.read_text() == "my notes\n"
    w2vfast.train(corpus, resume=first, checkpoint=os.path.join(str(tmp_path), ".", "first.ckpt"))  # its own


def test_numpy_numbers_as_options_are_kept_in_the_checkpoint(corpus_and_reference, tmp_path):
    """A checkpoint's header is JSON, which holds no NumPy number: the run trained to its end, then
    failed with a TypeError writing it, and wrote neither the checkpoint nor the vectors."""
    corpus, _ = corpus_and_reference
    checkpoint, output = str(tmp_path / "run.ckpt"), str(tmp_path / "v.bin")
    options = dict(EXACT, epochs=np.int64(1), dim=np.int64(12), seed=np.int64(11), alpha=np.float32(0.025),
                   sample=np.float64(1e-3))
    w2vfast.train(corpus, output=output, checkpoint=checkpoint, checkpoint_every=np.float32(0.5), **options)
    header = load_checkpoint(checkpoint).header
    assert header["options"]["epochs"] == 1 and type(header["options"]["dim"]) is int
    assert header["checkpoint_every"] == 0.5 and os.path.getsize(output) > 0


def test_a_new_run_keeps_off_a_file_that_is_not_a_checkpoint(corpus_and_reference, tmp_path):
    """Notes, or vectors named as the checkpoint by mistake, were replaced without a word."""
    corpus, _ = corpus_and_reference
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    with pytest.raises(W2VError, match=rf"^--checkpoint {notes} is not a w2vfast checkpoint, or it is damaged: "
                                       "the run would replace it"):
        w2vfast.train(corpus, checkpoint=str(notes), **EXACT)
    assert notes.read_text() == "my notes\n"
    empty = tmp_path / "empty.ckpt"  # nothing to lose: made by mktemp, say
    empty.touch()
    w2vfast.train(corpus, checkpoint=str(empty), **EXACT)
    assert empty.stat().st_size > 0


def test_a_vocabulary_edited_into_nonsense_is_damage(saved_run):
    """Counts of 0 passed the checks and failed deep in training (ZeroDivisionError)."""
    _, checkpoint = saved_run
    counts = np.load(checkpoint, allow_pickle=False)["vocab_counts"]
    rewrite_member(checkpoint, "vocab_counts.npy", npy_bytes(np.zeros_like(counts)))
    with pytest.raises(ValueError, match="damaged: the vocabulary has a word counted less than once"):
        load_checkpoint(checkpoint)
    rewrite_member(checkpoint, "vocab_counts.npy", npy_bytes(counts))
    words = np.load(checkpoint, allow_pickle=False)["vocab_words"].copy()
    words[0] = ord(" ")
    rewrite_member(checkpoint, "vocab_words.npy", npy_bytes(words))
    with pytest.raises(ValueError, match="damaged: the vocabulary has a word with whitespace"):
        load_checkpoint(checkpoint)


def test_a_vocabulary_with_a_word_twice_is_damage(saved_run, tmp_path):
    """It trained the whole run, then failed to write the vectors, and kept the word twice in new checkpoints."""
    _, checkpoint = saved_run
    saved = np.load(checkpoint, allow_pickle=False)
    lengths, pool = saved["vocab_lengths"].copy(), saved["vocab_words"].tobytes()
    first = pool[:lengths[0]]
    lengths[1] = lengths[0]
    pool = first + first + pool[int(saved["vocab_lengths"][:2].sum()):]
    rewrite_member(checkpoint, "vocab_lengths.npy", npy_bytes(lengths))
    rewrite_member(checkpoint, "vocab_words.npy", npy_bytes(np.frombuffer(pool, np.uint8)))
    with pytest.raises(ValueError, match="damaged: the vocabulary has a word twice$"):
        w2vfast.train(init=checkpoint, checkpoint=str(tmp_path / "again.ckpt"), **EXACT)
    assert not (tmp_path / "again.ckpt").exists()


@pytest.mark.parametrize("count", [0, 2, 17])
def test_random_states_of_another_count_are_damage(saved_run, count):
    """Any count was taken and new states derived from it: the resumed run quietly drew other samples."""
    _, checkpoint = saved_run
    rewrite_member(checkpoint, "rng_states.npy", npy_bytes(np.arange(count, dtype=np.uint64)))
    with pytest.raises(W2VError, match=rf"damaged: its random states are {count}, not one a thread \(1\)$"):
        w2vfast.train(resume=checkpoint)


@pytest.mark.parametrize("field, value, message", [
    ("checkpoint_every", True, "the checkpoint interval is invalid"),  # was "--checkpoint-every must be a number"
    ("cluster", {"shards": "x"}, "the cluster run's shards, rounds or words done are invalid"),  # a KeyError
    ("cluster", [], "the cluster run's shards, rounds or words done are invalid"),
])
def test_header_fields_of_the_wrong_kind_are_damage(saved_run, field, value, message):
    _, checkpoint = saved_run
    header = json.loads(np.load(checkpoint, allow_pickle=False)["header"].tobytes())
    header[field] = value
    rewrite_member(checkpoint, "header.npy", npy_bytes(np.frombuffer(json.dumps(header).encode(), np.uint8)))
    with pytest.raises(W2VError, match=f"or it is damaged: {message}$"):
        load_checkpoint(checkpoint)


def test_options_of_the_wrong_kind_are_damage(saved_run):
    """``"dim": 12.0`` passed the checks and failed in the kernels with a TypeError."""
    _, checkpoint = saved_run
    header = json.loads(np.load(checkpoint, allow_pickle=False)["header"].tobytes())
    header["options"]["dim"] = 12.0
    rewrite_member(checkpoint, "header.npy", npy_bytes(np.frombuffer(json.dumps(header).encode(), np.uint8)))
    with pytest.raises(W2VError, match=r"the options are invalid \(--dim must be an integer, not 12.0\)"):
        w2vfast.train(resume=checkpoint)
    header["options"]["dim"] = 12
    header["options"]["hs"] = "false"  # a string, which was true to Python, and failed in the memory estimate
    rewrite_member(checkpoint, "header.npy", npy_bytes(np.frombuffer(json.dumps(header).encode(), np.uint8)))
    with pytest.raises(W2VError, match=r"the options are invalid \(--hs must be True or False, not 'false'\)"):
        w2vfast.train(resume=checkpoint)


@pytest.mark.parametrize("every, kept", [(0.0, True), (30.0, False)])
def test_a_save_that_fails_at_a_stop_still_says_the_stop(corpus_and_reference, tmp_path, monkeypatch, every, kept):
    """It ended as an error (exit 1) that neither named the signal nor said the checkpoint before was whole."""
    corpus, _ = corpus_and_reference
    checkpoint = str(tmp_path / "run.ckpt")
    real_save, calls, stop_at = Checkpointer.save, [], 5 if kept else 1

    def save_failing_at_the_stop(keeper, *args):
        calls.append(1)
        if len(calls) == stop_at:
            raise W2VError(f"cannot write {checkpoint}: File too large")
        real_save(keeper, *args)

    monkeypatch.setattr(Checkpointer, "save", save_failing_at_the_stop)
    signal_at_call(monkeypatch, stop_at)
    with pytest.raises(Interrupted) as stopped:
        w2vfast.train(corpus, checkpoint=checkpoint, checkpoint_every=every, **EXACT)
    failure = f"stopped by SIGINT, but the run could not be saved (cannot write {checkpoint}: File too large)"
    if kept:
        assert str(stopped.value) == f"{failure}; {checkpoint} keeps it as of its last save"
        assert load_checkpoint(checkpoint).header["sentence"] > 0
    else:
        assert str(stopped.value) == failure and not os.path.exists(checkpoint)
    assert stopped.value.exit_status == 130


def test_a_failed_save_says_whether_a_checkpoint_is_kept(tmp_path):
    keeper = Checkpointer(str(tmp_path / "run.ckpt"), 1.0, None, None, None)
    failure = W2VError("cannot write it: No space left on device")
    assert keeper.failed(failure).endswith("the run goes on, and no checkpoint is kept")
    (tmp_path / "run.ckpt").write_bytes(b"kept")
    assert keeper.failed(failure).endswith("the run goes on, and the previous checkpoint is kept")
    full = Checkpointer("/dev/full", 1.0, None, None, None)  # a device that refuses every save keeps none
    assert full.failed(failure).endswith("the run goes on, and no checkpoint is kept")


class Trap:
    """Unpickling this creates a file: proof that loading ran code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_loading_never_unpickles(saved_run, tmp_path):
    _, checkpoint = saved_run
    trap = tmp_path / "trap-sprung"
    payload = np.array([Trap(str(trap))], dtype=object)
    for member in ("header.npy", "syn0.npy"):
        rewrite_member(checkpoint, member, npy_bytes(payload, allow_pickle=True))
        with pytest.raises(W2VError, match="not a w2vfast checkpoint, or it is damaged"):
            w2vfast.train(resume=checkpoint)
    with open(checkpoint, "wb") as handle:
        pickle.dump(Trap(str(trap)), handle)
    with pytest.raises(W2VError, match="not a w2vfast checkpoint"):
        load_checkpoint(checkpoint)
    assert not trap.exists()
    pickle.loads(pickle.dumps(Trap(str(trap))))  # the trap works: unpickling would have sprung it
    assert trap.exists()


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(W2VError, match="cannot read checkpoint .*No such file"):
        w2vfast.train(resume=str(tmp_path / "nothing.ckpt"))


@pytest.fixture(scope="module")
def checkpoint_bytes(corpus_and_reference, tmp_path_factory):
    corpus, _ = corpus_and_reference
    path = str(tmp_path_factory.mktemp("ckpt") / "run.ckpt")
    w2vfast.train(corpus, checkpoint=path, **{**EXACT, "dim": 4})
    with open(path, "rb") as handle:
        return handle.read()


def arrays_of(path):
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_checkpoints_are_refused_or_read_intact(checkpoint_bytes, tmp_path, data):
    """A flipped byte or a cut anywhere: a clear error, or (metadata zip ignores) the same content."""
    original = str(tmp_path / "original.ckpt")
    with open(original, "wb") as handle:
        handle.write(checkpoint_bytes)
    where = data.draw(st.integers(0, len(checkpoint_bytes) - 1))
    if data.draw(st.booleans()):
        damaged = checkpoint_bytes[:where]
    else:
        flip = data.draw(st.integers(1, 255))
        damaged = checkpoint_bytes[:where] + bytes([checkpoint_bytes[where] ^ flip]) + checkpoint_bytes[where + 1:]
    path = str(tmp_path / "damaged.ckpt")
    with open(path, "wb") as handle:
        handle.write(damaged)
    try:
        loaded = load_checkpoint(path)
        restored = trainer.Trainer(loaded.vocab, w2vfast.TrainConfig(**loaded.header["options"]), 1)
        loaded.restore(restored)
    except W2VError:
        return
    expected = arrays_of(original)
    assert loaded.header == json.loads(expected["header"].tobytes())
    assert loaded.vocab.counts.tolist() == expected["vocab_counts"].tolist()
    for name, matrix in restored.matrices().items():
        assert matrix.tobytes() == expected[name].tobytes()
    assert restored.rng_states.tolist() == expected["rng_states"].tolist()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(max_size=400))
def test_arbitrary_bytes_are_not_a_checkpoint(tmp_path, junk):
    path = tmp_path / "junk.ckpt"
    path.write_bytes(junk)
    with pytest.raises(W2VError, match="not a w2vfast checkpoint"):
        load_checkpoint(str(path))


def test_divergence_is_reported_and_keeps_the_last_good_checkpoint(saved_run):
    corpus, checkpoint = saved_run
    with pytest.raises(W2VError, match="training diverged in epoch 1.*smaller --alpha"):
        w2vfast.train(corpus, checkpoint=checkpoint, checkpoint_every=0, **{**EXACT, "alpha": 1e30})
    saved = arrays_of(checkpoint)
    assert all(np.isfinite(saved[name]).all() for name in ("syn0", "syn1neg", "syn1"))


def test_a_resumed_epochs_loss_says_it_is_the_part_since_the_resume(corpus_and_reference, tmp_path, capsys):
    """It was printed, and kept, as if it were the whole epoch's: a checkpoint keeps no loss."""
    corpus, _ = corpus_and_reference
    checkpoint = str(tmp_path / "run.ckpt")
    header = stop_once(corpus, checkpoint, 25, **EXACT)
    assert header["epoch"] == 1 and header["sentence"] > 0  # stopped inside the second of 3 epochs
    capsys.readouterr()
    vectors = w2vfast.train(resume=checkpoint, report_loss=True, quiet=False)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] + (" since" if " since the resume " in line else "") for line in lines] == \
        ["epoch 2 since", "epoch 3"]
    assert len(vectors.stats.epoch_loss) == 2
