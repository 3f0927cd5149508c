"""Continued training: ``w2vfast train NEW --init OLD`` from a vectors file or a finished run's
checkpoint, what carries over, and one-line errors."""

import numpy as np
import pytest
from click.testing import CliRunner

from w2vfast import KeyedVectors
from w2vfast.cli import main
from w2vfast.continued import merge_vocab
from w2vfast.vocab import Vocab
from conftest import planted_sentences, signal_at_call, write_corpus

OPTIONS = ["--dim", "8", "--min-count", "1", "--sample", "0", "--threads", "1", "--quiet"]
STILL = ["--alpha", "1e-9", "--min-alpha", "0", "--epochs", "1"]  # training that moves nothing visibly


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def corpora(tmp_path):
    """An old corpus and a new one that shares most of its words and brings a few of its own."""
    old = write_corpus(tmp_path / "old.txt", planted_sentences(300, seed=1))
    new_sentences = planted_sentences(300, seed=2)
    new_sentences = [[w for w in s if not w.startswith("c4_")] + ["fresh", "fresh"] for s in new_sentences]
    return old, write_corpus(tmp_path / "new.txt", new_sentences), tmp_path


def vocab_counts(path):
    """A saved vocabulary's counts, without the C tool's sentence end that leads it."""
    return {line.split()[0]: int(line.split()[1]) for line in open(path) if not line.startswith("</s> ")}


def test_merge_vocab_merges_counts_as_gensims_update_does():
    old = Vocab([b"a", b"b", b"c"], np.array([5, 3, 1]))
    vocab, source = merge_vocab(old, [b"d", b"b", b"e", b"x"], np.array([4, 3, 1, 9]), np.array([1, 1, 0, 0], bool))
    assert vocab.words == [b"b", b"a", b"d", b"c"] and vocab.counts.tolist() == [6, 5, 4, 1]
    assert source.tolist() == [1, 0, -1, 2]


def test_init_from_vectors_starts_the_shared_words_there(corpora):
    old, new, folder = corpora
    assert run("train", old, "-o", folder / "old.txt.vec", *OPTIONS).exit_code == 0
    result = run("train", new, "-o", folder / "new.vec", "--init", folder / "old.txt.vec", *OPTIONS, *STILL)
    assert result.exit_code == 0, result.output
    before, after = KeyedVectors.load(str(folder / "old.txt.vec")), KeyedVectors.load(str(folder / "new.vec"))
    assert "c4_w0" not in after and "fresh" in after  # the vocabulary is the new corpus's alone
    shared = [w for w in after.index_to_key if w in before]
    assert len(shared) == 32
    np.testing.assert_allclose(after[shared], before[shared], atol=1e-5)
    assert np.abs(after["fresh"]).max() <= 0.5 / 8  # a new word starts random, as in a new run
    assert run("train", new, "-o", folder / "alone.vec", *OPTIONS, *STILL).exit_code == 0
    assert not np.allclose(KeyedVectors.load(str(folder / "alone.vec"))[shared], before[shared], atol=1e-3)


def test_init_from_a_finished_run_carries_its_vocabulary_counts_and_weights(corpora):
    old, new, folder = corpora
    checkpoint = folder / "old.ckpt"
    assert run("train", old, "-o", folder / "old.vec", "--checkpoint", checkpoint, "--save-vocab",
               folder / "old.vocab", "--hs", *OPTIONS).exit_code == 0
    assert run("train", new, "-o", folder / "alone.vec", "--save-vocab", folder / "new.vocab", *OPTIONS).exit_code == 0
    result = run("train", new, "-o", folder / "continued.vec", "--init", checkpoint, "--save-vocab",
                 folder / "merged.vocab", *STILL, "--quiet")
    assert result.exit_code == 0, result.output
    old_counts, new_counts = vocab_counts(folder / "old.vocab"), vocab_counts(folder / "new.vocab")
    merged = vocab_counts(folder / "merged.vocab")
    assert merged == {w: old_counts.get(w, 0) + new_counts.get(w, 0) for w in old_counts.keys() | new_counts.keys()}
    assert list(merged.values()) == sorted(merged.values(), reverse=True)
    before, after = KeyedVectors.load(str(folder / "old.vec")), KeyedVectors.load(str(folder / "continued.vec"))
    assert after.vector_size == 8  # the old run's options, --dim among them
    np.testing.assert_allclose(after[before.index_to_key], before.vectors, atol=1e-5)  # c4_* kept, not trained


def test_init_errors_are_one_line(corpora, monkeypatch):
    old, new, folder = corpora
    assert run("train", old, "-o", folder / "v.vec", *OPTIONS).exit_code == 0
    signal_at_call(monkeypatch, 1)
    stopped = run("train", old, "-o", folder / "s.vec", "--checkpoint", folder / "s.ckpt", *OPTIONS, "--epochs", "3")
    assert stopped.exit_code == 130
    monkeypatch.undo()
    assert run("train", old, "-o", folder / "f.vec", "--checkpoint", folder / "f.ckpt", *OPTIONS).exit_code == 0
    (folder / "damaged.ckpt").write_bytes((folder / "f.ckpt").read_bytes()[:2000])
    cases = [
        (["--init", folder / "v.vec", "--dim", "9"], "--init {}/v.vec holds vectors of dimension 8, but --dim is 9"),
        (["--init", folder / "f.ckpt", "--dim", "9"], "--dim 9 differs from the --dim 8 of the run in"),
        (["--init", folder / "f.ckpt", "--max-vocab", "5"], "--max-vocab cannot be given with --init from a"),
        (["--init", folder / "s.ckpt"], "the run it keeps stopped in epoch 1 of 3; finish it first"),
        (["--init", folder / "damaged.ckpt"], "is not a w2vfast checkpoint, or it is damaged"),
        (["--init", folder / "missing"], "cannot read --init {}/missing: No such file or directory"),
        (["--init", folder / "v.vec", "--resume", folder / "f.ckpt"], "--init and --resume exclude each other"),
        (["--init", folder / "v.vec", "--read-vocab", folder / "v.vec"], "--init and --read-vocab exclude each other"),
    ]
    for arguments, message in cases:
        result = run("train", new, "-o", folder / "out.vec", *arguments, "--quiet")
        assert result.exit_code == 1, (arguments, result.output)
        assert result.output.count("\n") == 1 and message.format(folder) in result.output
        assert not (folder / "out.vec").exists()


def test_init_refuses_a_model_saved_before_it_was_ever_trained(corpora):
    """Word2Vec.save after build_vocab alone keeps a 'finished' run of random vectors, which --init took
    as trained ones."""
    from w2vfast import Word2Vec

    old, new, folder = corpora
    model = Word2Vec(vector_size=8, min_count=1)
    model.build_vocab(corpus_file=old)
    model.save(str(folder / "untrained.model"))
    result = run("train", new, "-o", folder / "v.bin", "--init", folder / "untrained.model", *OPTIONS)
    assert result.exit_code == 1
    assert result.stderr == (f"w2vfast: error: --init {folder / 'untrained.model'}: the model it keeps was never "
                             "trained (saved after build_vocab), so its vectors are random: train it first, or train "
                             "without --init\n")
