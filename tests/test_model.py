"""gensim's ``Word2Vec`` under w2vfast: gensim's documented usage with only the import changed, what each
parameter does, continued training, callbacks, saving without pickle, and clear errors; checked against
real gensim where it is installed."""

import pickle
import warnings

import numpy as np
import pytest

import w2vfast
from w2vfast import CallbackAny2Vec, KeyedVectors, W2VError, Word2Vec, memory, trainer
from conftest import neighbours_in_own_cluster, planted_sentences, signal_at_call, write_corpus

# gensim.test.utils.common_texts, written out so that these tests need no gensim.
COMMON_TEXTS = [
    ["human", "interface", "computer"], ["survey", "user", "computer", "system", "response", "time"],
    ["eps", "user", "interface", "system"], ["system", "human", "system", "eps"],
    ["user", "response", "time"], ["trees"], ["graph", "trees"], ["graph", "minors", "trees"],
    ["graph", "minors", "survey"],
]
SMALL = dict(vector_size=16, window=3, min_count=1, sample=0, workers=2, seed=3, epochs=3)


@pytest.fixture(scope="module")
def planted():
    return planted_sentences(600)


# ---------------------------------------------------------------------------------------------
# gensim's documented usage, as written in its docstrings, with only the import changed
# ---------------------------------------------------------------------------------------------

def test_the_module_docstring_of_gensim_word2vec_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = Word2Vec(sentences=COMMON_TEXTS, vector_size=100, window=5, min_count=1, workers=4)
    model.save("word2vec.model")
    model = Word2Vec.load("word2vec.model")
    assert model.train([["hello", "world"]], total_examples=1, epochs=1) == (0, 2)
    vector = model.wv["computer"]
    sims = model.wv.most_similar("computer", topn=10)
    assert vector.shape == (100,) and len(sims) == 10 and "computer" not in dict(sims)
    word_vectors = model.wv
    word_vectors.save("word2vec.wordvectors")
    wv = KeyedVectors.load("word2vec.wordvectors", mmap="r")
    np.testing.assert_array_equal(wv["computer"], vector)
    model = Word2Vec(COMMON_TEXTS, vector_size=100, window=5, min_count=1, workers=4)
    word_vectors = model.wv
    del model
    assert len(word_vectors) == 12


def test_build_vocab_then_train_as_in_gensims_train_docstring():
    sentences = [["cat", "say", "meow"], ["dog", "say", "woof"]]
    model = Word2Vec(min_count=1)
    model.build_vocab(sentences)
    trained, raw = model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    assert raw == 30 and trained == 30  # gensim's first figure counts after subsampling (1 there)
    assert (model.corpus_count, model.corpus_total_words) == (2, 6)
    assert model.wv.index_to_key[0] == "say" and model.wv.get_vecattr("say", "count") == 2


def test_online_update_as_in_gensims_tutorial(tmp_path):
    model = Word2Vec(COMMON_TEXTS, min_count=1, vector_size=16, workers=2)
    path = str(tmp_path / "model")
    model.save(path)
    model = Word2Vec.load(path)
    more_sentences = [["Advanced", "users", "can", "load", "a", "model", "and", "continue", "training", "it", "with",
                       "more", "sentences"]]
    model.build_vocab(more_sentences, update=True)
    model.train(more_sentences, total_examples=model.corpus_count, epochs=model.epochs)
    assert "Advanced" in model.wv and "computer" in model.wv and len(model.wv) == 12 + 13


def test_vectors_files_as_gensim_writes_and_reads_them(tmp_path):
    model = Word2Vec(COMMON_TEXTS, **SMALL)
    model.wv.save_word2vec_format(str(tmp_path / "v.txt"))
    model.wv.save_word2vec_format(str(tmp_path / "v.bin"), fvocab=str(tmp_path / "vocab.txt"), binary=True)
    from_text = KeyedVectors.load_word2vec_format(str(tmp_path / "v.txt"), binary=False)
    from_bin = KeyedVectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=True, limit=5,
                                                 fvocab=str(tmp_path / "vocab.txt"))
    assert from_text.index_to_key == model.wv.index_to_key
    np.testing.assert_allclose(from_text.vectors, model.wv.vectors, atol=5e-7)
    np.testing.assert_array_equal(from_bin.vectors, model.wv.vectors[:5])
    assert from_bin.get_vecattr("system", "count") == 4
    # without fvocab, gensim's made-up counts, the number of words (as limited) down to 1
    assert [from_text.get_vecattr(w, "count") for w in from_text.index_to_key] == list(range(12, 0, -1))
    limited = KeyedVectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=True, limit=3)
    assert [limited.get_vecattr(w, "count") for w in limited.index_to_key] == [3, 2, 1]
    gensim = pytest.importorskip("gensim")
    theirs = gensim.models.KeyedVectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=True, limit=3)
    assert [theirs.get_vecattr(w, "count") for w in theirs.index_to_key] == [3, 2, 1]
    with pytest.raises(W2VError, match="expected a word and 16 numbers"):  # binary read as text, as gensim fails
        KeyedVectors.load_word2vec_format(str(tmp_path / "v.bin"))


def test_the_callbacks_of_gensims_callbacks_docstring_run(tmp_path, capsys):
    class EpochSaver(CallbackAny2Vec):
        """Callback to save model after each epoch."""

        def __init__(self, path_prefix):
            self.path_prefix = path_prefix
            self.epoch = 0

        def on_epoch_end(self, model):
            output_path = str(tmp_path / "{}_epoch{}.model".format(self.path_prefix, self.epoch))
            model.save(output_path)
            self.epoch += 1

    class EpochLogger(CallbackAny2Vec):
        """Callback to log information about training"""

        def __init__(self):
            self.epoch = 0

        def on_epoch_begin(self, model):
            print("Epoch #{} start".format(self.epoch))

        def on_epoch_end(self, model):
            print("Epoch #{} end".format(self.epoch))
            self.epoch += 1

    epoch_logger = EpochLogger()
    w2v_model = Word2Vec(COMMON_TEXTS, epochs=5, vector_size=10, min_count=0, seed=42,
                         callbacks=[epoch_logger, EpochSaver("w2v")])
    assert capsys.readouterr().out == "".join(f"Epoch #{n} start\nEpoch #{n} end\n" for n in range(5))
    last = Word2Vec.load(str(tmp_path / "w2v_epoch4.model"))
    np.testing.assert_array_equal(last.wv.vectors, w2v_model.wv.vectors)
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"w2v_epoch{n}.model" for n in range(5)]


# ---------------------------------------------------------------------------------------------
# What the parameters do
# ---------------------------------------------------------------------------------------------

def test_the_facade_trains_exactly_what_w2vfast_train_trains(planted):
    """One thread, the same seed: the facade hands the trainer the same vocabulary, first vectors,
    learning rates and epochs as ``w2vfast.train``, so the vectors are identical."""
    for sg, hs, negative in ((1, 0, 5), (0, 1, 0)):
        model = Word2Vec(planted, vector_size=12, window=4, min_count=2, sample=1e-3, workers=1, seed=9,
                         epochs=2, sg=sg, hs=hs, negative=negative, alpha=0.03, min_alpha=0.001)
        direct = w2vfast.train(planted, dim=12, window=4, min_count=2, sample=1e-3, threads=1, seed=9, epochs=2,
                               model="sg" if sg else "cbow", hs=bool(hs), negative=negative, alpha=0.03,
                               min_alpha=0.001)
        assert model.wv.index_to_key == direct.index_to_key
        np.testing.assert_array_equal(model.wv.vectors, direct.vectors)


def test_train_called_again_goes_on_where_the_last_call_stopped(planted):
    """At a constant learning rate, two calls of one epoch are one run of two: the second call starts
    from the first one's weights (output rows included) and random states."""
    options = dict(window=4, min_count=2, sample=1e-3, seed=9, alpha=0.02, min_alpha=0.02)
    model = Word2Vec(planted, vector_size=12, workers=1, epochs=1, **options)
    model.train(planted, total_examples=model.corpus_count, epochs=1)
    direct = w2vfast.train(planted, model="cbow", dim=12, threads=1, epochs=2, **options)
    np.testing.assert_array_equal(model.wv.vectors, direct.vectors)


def test_planted_structure_is_learned(planted):
    model = Word2Vec(planted, sg=1, **SMALL)
    assert neighbours_in_own_cluster(model.wv) >= 0.9
    assert model.stats.epoch_words == [len(planted) * 12] * 3 and model.train_count == 1


def test_corpus_file_reads_like_the_sentences(planted, tmp_path):
    path = write_corpus(tmp_path / "corpus.txt", planted)
    from_file = Word2Vec(corpus_file=path, **{**SMALL, "workers": 1})
    from_list = Word2Vec(planted, **{**SMALL, "workers": 1})
    np.testing.assert_array_equal(from_file.wv.vectors, from_list.wv.vectors)
    assert (from_file.corpus_count, from_file.corpus_total_words) == (len(planted), len(planted) * 12)


def test_min_count_max_final_vocab_and_trim_rule_choose_as_gensim_does():
    text = [["a"] * 6 + ["b"] * 5 + ["c"] * 5 + ["d"] * 3 + ["e"] * 2 + ["f"]]
    assert Word2Vec(text, min_count=3, vector_size=4).wv.index_to_key == ["a", "b", "c", "d"]
    # gensim raises min_count past the count of the word at max_final_vocab: ties are all dropped
    capped = Word2Vec(text, min_count=1, max_final_vocab=2, vector_size=4)
    assert capped.wv.index_to_key == ["a"] and capped.effective_min_count == 6
    kept = Word2Vec(text, min_count=3, vector_size=4,
                    trim_rule=lambda word, count, min_count: {"f": 2, "a": 1}.get(word, 0))
    assert kept.wv.index_to_key == ["b", "c", "d", "f"]


def test_build_vocab_update_merges_counts_and_keeps_the_old_rows():
    model = Word2Vec([["a", "b", "a", "c"], ["a", "b"]], min_count=1, vector_size=8, workers=1, negative=3, hs=1)
    old = {word: model.wv[word].copy() for word in model.wv.index_to_key}
    old_output = {word: model.syn1neg[model.wv.get_index(word)].copy() for word in model.wv.index_to_key}
    new_text = [["d", "d", "d", "d", "b", "b", "e"]]
    model.build_vocab(new_text, update=True, min_count=2)
    counts = {word: model.wv.get_vecattr(word, "count") for word in model.wv.index_to_key}
    assert counts == {"a": 3, "b": 4, "c": 1, "d": 4}  # e: once in the new text, below min_count
    assert model.wv.index_to_key == ["b", "d", "a", "c"]  # by merged count; ties: old words first
    for word, vector in old.items():
        np.testing.assert_array_equal(model.wv[word], vector)
        np.testing.assert_array_equal(model.syn1neg[model.wv.get_index(word)], old_output[word])
    assert not model.syn1neg[model.wv.get_index("d")].any() and not model.syn1.any()
    assert model.corpus_count == 1 and model.min_count == 1  # an update's min_count is for that call


def test_callbacks_are_called_at_each_epoch_and_see_the_weights_so_far(planted):
    calls, seen = [], []

    class Recorder(CallbackAny2Vec):
        def on_train_begin(self, model):
            calls.append("train_begin")

        def on_epoch_begin(self, model):
            calls.append("epoch_begin")

        def on_epoch_end(self, model):
            calls.append("epoch_end")
            seen.append(model.wv[model.wv.index_to_key[0]].copy())

        def on_train_end(self, model):
            calls.append("train_end")

    Word2Vec(planted, callbacks=[Recorder()], **SMALL)
    assert calls == ["train_begin"] + ["epoch_begin", "epoch_end"] * 3 + ["train_end"]
    assert not np.array_equal(seen[0], seen[1]) and not np.array_equal(seen[1], seen[2])


def test_what_a_callback_changes_in_the_weights_is_trained_on(planted):
    """The changes were lost: the next epoch, and the model, took the trainer's weights back. With
    every input and output row zero, skip-gram's updates stay zero, as in gensim."""
    class ZeroAfterFirst(CallbackAny2Vec):
        def __init__(self):
            self.epochs = 0

        def on_epoch_end(self, model):
            self.epochs += 1
            if self.epochs == 1:
                model.wv.vectors[:] = 0
                model.syn1neg[:] = 0

    model = Word2Vec(planted, callbacks=[ZeroAfterFirst()], **{**SMALL, "epochs": 3})
    assert not model.wv.vectors.any() and not model.syn1neg.any()

    class Normalise(CallbackAny2Vec):
        def on_epoch_end(self, model):
            model.wv.vectors /= np.linalg.norm(model.wv.vectors, axis=1, keepdims=True)

    normalised = Word2Vec(planted, callbacks=[Normalise()], **SMALL)
    np.testing.assert_allclose(np.linalg.norm(normalised.wv.vectors, axis=1), 1.0, rtol=1e-5)


def test_a_callback_that_raises_stops_training_at_its_safe_point(planted):
    class StopAfterOne(CallbackAny2Vec):
        def on_epoch_end(self, model):
            self.vectors = model.wv.vectors.copy()
            raise RuntimeError("enough")

    model = Word2Vec(planted, **SMALL)
    before = model.wv.vectors.copy()
    stopper = StopAfterOne()
    with pytest.raises(RuntimeError, match="enough"):
        model.train(planted, total_examples=model.corpus_count, epochs=4, callbacks=[stopper])
    np.testing.assert_array_equal(model.wv.vectors, stopper.vectors)  # the weights of that safe point
    assert not np.array_equal(model.wv.vectors, before) and model.train_count == 1
    model.train(planted, total_examples=model.corpus_count, epochs=1)
    assert model.train_count == 2


def test_ctrl_c_stops_training_at_a_safe_point_and_keeps_its_weights(planted, monkeypatch):
    model = Word2Vec(planted, **SMALL)
    before = model.wv.vectors.copy()
    signal_at_call(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt, match="stopped by SIGINT"):
        model.train(planted, total_examples=model.corpus_count, epochs=3)
    assert not np.array_equal(model.wv.vectors, before) and np.isfinite(model.wv.vectors).all()
    assert model.train_count == 1


def test_a_refused_build_vocab_leaves_the_model_as_it_was():
    """Its sample or min_count stayed set, and every later train() and save() was refused for it."""
    model = Word2Vec(COMMON_TEXTS, vector_size=8, min_count=1, workers=1, epochs=1)
    for wrong in (dict(sample="x"), dict(min_count=-3), dict(min_count=2.5)):
        with pytest.raises(W2VError):
            model.build_vocab(COMMON_TEXTS, **wrong)
        assert (model.sample, model.min_count) == (1e-3, 1)
    model.train(COMMON_TEXTS, total_examples=model.corpus_count, epochs=1)


def test_gensims_compute_loss_of_1_saves_a_model_that_loads(tmp_path):
    """It was kept as 1, which save wrote and load refused as damage ("the model's fields are invalid")."""
    model = Word2Vec(vector_size=8, min_count=1, workers=1, epochs=1, compute_loss=1)
    model.build_vocab(COMMON_TEXTS)
    model.save(str(tmp_path / "m.model"))
    assert Word2Vec.load(str(tmp_path / "m.model")).compute_loss is True
    with pytest.raises(TypeError, match="^fname must be a path, not 0$"):
        Word2Vec.load(0)


def test_loading_the_checkpoint_of_a_stopped_run_says_it_is_unfinished(planted, tmp_path, monkeypatch):
    """It loaded without a word, and save() then wrote it as finished, which --init takes."""
    corpus = write_corpus(tmp_path / "c.txt", planted)
    checkpoint = str(tmp_path / "run.ckpt")
    signal_at_call(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        w2vfast.train(corpus, checkpoint=checkpoint, dim=8, epochs=3, min_count=1, threads=1)
    with pytest.warns(UserWarning, match=rf"^{checkpoint} keeps a run stopped in epoch 2 of 3: loaded as it stands "
                                         rf"\(w2vfast train --resume {checkpoint} finishes it\)$"):
        Word2Vec.load(checkpoint)


def test_saved_and_loaded_models_train_on_identically(planted, tmp_path):
    """Everything that shapes further training is in the file: weights, counts, options, random states."""
    options = dict(SMALL, workers=1, hs=1, negative=3, sg=1, window=2, comment="kept")
    model = Word2Vec(planted, **options)
    path = tmp_path / "m.w2v"
    model.save(path)
    loaded = Word2Vec.load(str(path))
    assert loaded.wv.index_to_key == model.wv.index_to_key and loaded.comment == "kept"
    assert (loaded.sg, loaded.hs, loaded.negative, loaded.window, loaded.corpus_count) == (1, 1, 3, 2, 600)
    for name in ("syn1neg", "syn1", "_rng_states"):  # the random states go on where training left them
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    assert not np.array_equal(model._rng_states, np.random.SeedSequence(3).generate_state(1, np.uint64))
    for each in (model, loaded):
        each.train(planted[:200], total_examples=200, epochs=1)
    np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)


def test_a_saved_model_continues_on_the_command_line_and_a_checkpoint_loads_as_a_model(planted, tmp_path):
    from click.testing import CliRunner
    from w2vfast.cli import main

    model = Word2Vec(planted, **{**SMALL, "vector_size": 8})
    model.save(str(tmp_path / "model"))
    new = write_corpus(tmp_path / "new.txt", planted_sentences(100, seed=5) + [["fresh"]])
    arguments = ["train", new, "-o", tmp_path / "continued.vec", "--init", tmp_path / "model", "--alpha", "1e-9",
                 "--epochs", "1", "--min-count", "1", "--checkpoint", tmp_path / "run.ckpt", "--quiet"]
    result = CliRunner().invoke(main, [str(a) for a in arguments])
    assert result.exit_code == 0, result.output
    after = KeyedVectors.load(str(tmp_path / "continued.vec"))
    np.testing.assert_allclose(after[model.wv.index_to_key], model.wv.vectors, atol=1e-5)
    loaded = Word2Vec.load(str(tmp_path / "run.ckpt"))
    np.testing.assert_allclose(loaded.wv.vectors, after.vectors, atol=6e-7)  # the text format keeps 6 decimals
    assert loaded.wv.get_vecattr("fresh", "count") == 1 and (loaded.vector_size, loaded.epochs) == (8, 1)
    # --resume was the wrong door: it blamed the corpus ("it holds 144,714 occurrences of the run's
    # vocabulary, where the run's held 165,757"), which no corpus could match
    result = CliRunner().invoke(main, ["train", new, "--resume", str(tmp_path / "model"), "--quiet"])
    assert (result.exit_code, result.output) == (1, f"w2vfast: error: {tmp_path / 'model'} is a model that "
                                                    f"Word2Vec.save wrote, not a stopped run: train on from it with "
                                                    f"--init {tmp_path / 'model'}\n")


def test_a_generator_trains_in_the_constructor_but_not_twice(planted):
    model = Word2Vec((sentence for sentence in planted), **SMALL)
    assert len(model.wv) == 40
    once = (sentence for sentence in planted)
    model.build_vocab(once)
    with pytest.raises(TypeError, match="can be read only once, and build_vocab"):
        model.train(once, total_examples=model.corpus_count, epochs=1)
    with pytest.raises(TypeError, match="can be read only once, and it yielded no sentence"):
        model.train(iter([]), total_examples=model.corpus_count, epochs=1)


def test_train_warns_when_the_size_given_is_not_the_corpus_size(planted):
    model = Word2Vec(planted, **SMALL)
    with pytest.warns(UserWarning, match="total_examples=5 but the corpus has 600 sentences"):
        model.train(planted, total_examples=5, epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.train(planted, total_words=model.corpus_total_words, epochs=1)


# ---------------------------------------------------------------------------------------------
# The loss: summed by the kernels per thread, by the driver per epoch in float64
# ---------------------------------------------------------------------------------------------

def test_the_driver_sums_each_epochs_loss_in_float64(planted, monkeypatch):
    """A stand-in kernel adds 2**27 + 0.5 per word to its thread's accumulator (where float32 would
    stop counting): each epoch's sum, the running total and the cleared accumulators must follow."""
    real = trainer.kernels.train_blocks

    def with_loss(*arguments):
        *others, loss = arguments
        block_words = others[3]
        real(*others, None)  # the real kernel trains; the stand-in gives the loss
        loss.totals[0, 0] += float(block_words.sum()) * (2.0**27 + 0.5)

    monkeypatch.setattr(trainer.kernels, "train_blocks", with_loss)
    model = Word2Vec(planted, compute_loss=True, **SMALL)
    per_epoch = len(planted) * 12 * (2.0**27 + 0.5)
    assert model.stats.epoch_loss == [per_epoch] * 3
    assert model.get_latest_training_loss() == 3 * per_epoch
    model.train(planted[:100], total_examples=100, epochs=1, compute_loss=True)
    assert model.get_latest_training_loss() == 100 * 12 * (2.0**27 + 0.5)


def test_a_callback_that_resets_the_loss_gets_each_epochs_loss_as_in_gensim(planted):
    """gensim's maintainers' recipe for a loss by epoch: the total was rebuilt from the epochs' sums at
    each epoch's end, so the reset was lost and the callback saw the running total."""
    class EpochLoss(CallbackAny2Vec):
        def __init__(self):
            self.losses = []

        def on_epoch_end(self, model):
            self.losses.append(model.get_latest_training_loss())
            model.running_training_loss = 0.0

    seen = EpochLoss()
    model = Word2Vec(planted, compute_loss=True, callbacks=[seen], **{**SMALL, "epochs": 4})
    assert seen.losses == model.stats.epoch_loss and seen.losses[-1] < seen.losses[0]


def test_a_model_whose_vectors_gained_a_word_is_refused_training_and_saving(tmp_path):
    model = Word2Vec(COMMON_TEXTS, **SMALL)
    model.wv["not_in_the_vocabulary"] = np.zeros(16, dtype=np.float32)
    assert model.wv.most_similar("computer", topn=1)[0][0] != "not_in_the_vocabulary"
    for act in (lambda: model.train(COMMON_TEXTS, total_examples=model.corpus_count, epochs=1),
                lambda: model.save(str(tmp_path / "m.w2v"))):
        with pytest.raises(ValueError, match=r"wv.vectors has shape \(13, 16\): build_vocab\(\) again"):
            act()


def test_the_model_keeps_gensim_3s_init_sims():
    model = Word2Vec(COMMON_TEXTS, **SMALL)
    model.init_sims()
    model.init_sims(replace=True)
    np.testing.assert_allclose(np.linalg.norm(model.wv.vectors, axis=1), 1.0, rtol=1e-5)


def test_the_loss_falls_over_epochs_on_planted_data(planted):
    model = Word2Vec(planted, compute_loss=True, **{**SMALL, "epochs": 5})
    losses = model.stats.epoch_loss
    assert len(losses) == 5 and all(np.isfinite(losses)) and losses[-1] < 0.8 * losses[0]
    assert model.get_latest_training_loss() == pytest.approx(sum(losses))


# ---------------------------------------------------------------------------------------------
# Bad input: clear errors, never silently ignored
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arguments,kind,message", [
    (dict(size=100), TypeError, "unexpected keyword argument 'size' \\(gensim 4 calls it vector_size\\)"),
    (dict(ns_exponent=0.5), ValueError, "ns_exponent=0.5 is not supported, only 0.75"),
    (dict(max_vocab_size=1000), ValueError, "max_vocab_size=1000 is not supported"),
    (dict(shrink_windows=False), ValueError, "shrink_windows=False is not supported"),
    (dict(null_word=1), ValueError, "null_word=1 is not supported"),
    (dict(hashfxn=id), ValueError, "hashfxn=<built-in function id> is not supported"),
    (dict(batch_words=500), ValueError, "batch_words=500 is not supported"),
    (dict(sorted_vocab=0), ValueError, "sorted_vocab=0 is not supported"),
    (dict(vector_size="100"), TypeError, "vector_size must be an integer, not a str"),
    (dict(vector_size=0), ValueError, "vector_size must be 1 or more, not 0"),
    (dict(alpha=-1), ValueError, "alpha must be above 0, not -1"),
    # checked by TrainConfig, whose messages name the command line's flags (--alpha, --dim)
    (dict(alpha=float("inf")), ValueError, "^alpha must be a positive number that float32 holds, not inf$"),
    (dict(vector_size=3 * 10**9), ValueError, "^vector_size must be at most 2,147,483,647"),
    (dict(alpha=0.01, min_alpha=0.1), ValueError, "min_alpha .* must not exceed alpha"),
    (dict(sample=5), ValueError, "sample=5 is not supported"),
    (dict(sg=2), ValueError, "sg must be 0 or 1, not 2"),
    (dict(hs=0, negative=0), ValueError, "nothing is trained"),
    (dict(workers=1.5), TypeError, "workers must be an integer, not a float"),
    (dict(callbacks=print), TypeError, "callbacks must be a list or tuple"),
    (dict(sentences=[["a"]], callbacks=[print]), TypeError, "a callback must have some of the methods"),
    (dict(sentences=[["a"]], trim_rule="keep"), TypeError, "trim_rule must be a function"),
    (dict(sentences="human interface computer"), TypeError, "sentences must be an iterable of token lists, not a str"),
    (dict(sentences=["human interface", "computer"]), TypeError, "sentence 1 is a str, not a list of tokens"),
    (dict(sentences=[["human", 3]]), TypeError, "sentence 1 holds a token that is a int"),
    (dict(sentences=[["a", "b"], ["new york"]]), ValueError, "sentence 2 holds the token 'new york'"),
    (dict(sentences=[["a", ""]]), ValueError, "sentence 1 holds the token ''"),
    # An empty token and one with whitespace made as many words as tokens: they passed, retokenized.
    (dict(sentences=[["", "a b"]] * 2), ValueError, "sentence 1 holds the token ''"),
    (dict(sentences=[["alpha  beta", "", "gamma"]]), ValueError, "sentence 1 holds the token 'alpha  beta'"),
    (dict(sentences=[["", "", "x\ny"], ["x", "y"]]), ValueError, "sentence 1 holds the token ''"),
    (dict(sentences=[["a\ud800b", "c"]]), ValueError, "holds '\\\\ud800', a lone surrogate"),
    (dict(sentences=[["a"]], corpus_file="x.txt"), TypeError, "not both"),
    (dict(corpus_file="missing.txt"), TypeError, "'missing.txt' is not one"),
    (dict(sentences=[["a"]], min_count=5), RuntimeError, "the vocabulary is empty: no word occurs min_count=5 times"),
])
def test_bad_arguments_are_clear_errors(arguments, kind, message):
    with pytest.raises(kind, match=message) as raised:
        Word2Vec(**{"min_count": 1, "vector_size": 4, **arguments})
    assert isinstance(raised.value, W2VError) and "\n" not in str(raised.value)


@pytest.mark.parametrize("word_freq,message", [
    ({"new york": 5, "city": 3}, "word_freq holds the word 'new york', which is empty or holds whitespace"),
    ({"": 5}, "word_freq holds the word '', which is empty"),
    ({"a\nb": 5}, "word_freq holds the word 'a\\\\nb'"),
    ({"a\ud800": 5}, "holds a lone surrogate"),
    ({"a": 2 ** 70}, "add up to 1,180,591,620,717,411,303,424, more than"),
    ({"\xff": 5, "\udcc3\udcbf": 3}, "the word '\xff' is given twice"),  # both are the bytes c3 bf
])
def test_build_vocab_from_freq_refuses_what_sentences_would(word_freq, message):
    """Such a word was taken, and the model saved afterwards could not be read back."""
    model = Word2Vec(vector_size=4, min_count=1, workers=1)
    with pytest.raises(ValueError, match=message) as raised:
        model.build_vocab_from_freq(word_freq)
    assert isinstance(raised.value, W2VError)


@pytest.mark.parametrize("min_count", [0, 1, 2])
def test_build_vocab_from_freq_leaves_out_a_word_counted_0_times(min_count):
    """As gensim does (a Counter after a subtraction holds zeros); it was refused."""
    model = Word2Vec(vector_size=4, min_count=min_count, workers=1)
    model.build_vocab_from_freq({"a": 0, "b": 6, "c": 2})
    assert model.wv.index_to_key == ["b", "c"]


def test_train_asks_for_what_gensim_asks_for(planted):
    model = Word2Vec(vector_size=4, min_count=1)
    with pytest.raises(W2VError, match="first build the vocabulary"):
        model.train(planted, total_examples=600, epochs=1)
    model.build_vocab(planted)
    with pytest.raises(ValueError, match="total_examples or total_words"):
        model.train(planted, epochs=1)
    with pytest.raises(ValueError, match="explicit epochs count"):
        model.train(planted, total_examples=model.corpus_count)
    with pytest.raises(TypeError, match="unexpected keyword argument 'sentences' \\(gensim 4 calls it corpus_iterable"):
        model.train(sentences=planted, total_examples=600, epochs=1)
    with pytest.raises(ValueError, match="queue_factor=4 is not supported"):
        model.train(planted, total_examples=600, epochs=1, queue_factor=4)

    class PerBatch(CallbackAny2Vec):
        def on_batch_end(self, model):
            pass

    with pytest.raises(ValueError, match="PerBatch.on_batch_end is not supported"):
        model.train(planted, total_examples=600, epochs=1, callbacks=[PerBatch()])
    with pytest.raises(RuntimeError, match="needs a vocabulary to update"):  # gensim's kind; was a W2VError alone
        Word2Vec(vector_size=4).build_vocab(planted, update=True)
    with pytest.raises(RuntimeError, match="must first build the vocabulary"):
        Word2Vec(vector_size=4).train(planted, total_examples=600, epochs=1)


def test_a_setting_changed_after_construction_is_checked_too(planted):
    model = Word2Vec(planted, **SMALL)
    model.ns_exponent = 1.0
    with pytest.raises(ValueError, match="ns_exponent=1.0 is not supported"):
        model.train(planted, total_examples=600, epochs=1)


def test_vectors_changed_by_hand_to_another_shape_are_refused(planted, tmp_path):
    """save() wrote zeros in their place, and train() started from other weights without a word."""
    model = Word2Vec(planted, **SMALL)
    model.vector_size = SMALL["vector_size"] * 2
    with pytest.raises(ValueError, match=r"but wv.vectors has shape \(40, 16\): build_vocab\(\) again"):
        model.save(str(tmp_path / "model"))
    model.vector_size = SMALL["vector_size"]
    model.wv.vectors = model.wv.vectors[:30]
    with pytest.raises(ValueError, match=r"the vocabulary 40 words, but wv.vectors has shape \(30, 16\)"):
        model.train(planted, total_examples=600, epochs=1)
    assert not (tmp_path / "model").exists()


def test_a_model_too_large_for_memory_is_refused_before_its_weights_are_made(monkeypatch):
    """Its vectors were made and filled first, and the process was killed for memory."""
    monkeypatch.setattr(memory, "available_bytes", lambda: 10 << 20)
    with pytest.raises(W2VError, match="^training this model needs about .* is available: a smaller vector_size, "
                                       "a larger min_count or a smaller max_final_vocab needs less$"):
        Word2Vec([["a", "b", "c"]] * 10, vector_size=100_000, min_count=1, workers=1)


def test_damaged_or_foreign_model_files_are_clear_errors(planted, tmp_path):
    path = tmp_path / "model"
    Word2Vec(planted, **SMALL).save(str(path))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "damaged").write_bytes(bytes(data))
    with pytest.raises(W2VError, match="damaged"):
        Word2Vec.load(str(tmp_path / "damaged"))
    (tmp_path / "pickled").write_bytes(pickle.dumps({"gensim": "model"}))
    with pytest.raises(W2VError, match="is a Python pickle .* not a w2vfast checkpoint: gensim's "
                                       r"wv.save_word2vec_format\(\) writes"):
        Word2Vec.load(str(tmp_path / "pickled"))
    with pytest.raises(FileNotFoundError, match="cannot read checkpoint"):
        Word2Vec.load(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="damaged"):
        Word2Vec.load(str(tmp_path / "damaged"))


# ---------------------------------------------------------------------------------------------
# Against real gensim, where it is installed
# ---------------------------------------------------------------------------------------------

def test_vocabularies_and_merged_counts_match_gensims(planted):
    gensim_models = pytest.importorskip("gensim.models")
    text = planted[:300] + [["rare", "once"], ["rare"]]
    update = [["rare", "new", "new", "c0_w1"], ["new", "newer"]]
    for options in (dict(min_count=2), dict(min_count=1, max_final_vocab=30),
                    dict(min_count=1, trim_rule=lambda word, count, min_count: 1 if word.startswith("c1") else 0)):
        trim_rule = options.pop("trim_rule", None)
        ours, theirs = Word2Vec(vector_size=4, **options), gensim_models.Word2Vec(vector_size=4, **options)
        for model in (ours, theirs):
            model.build_vocab(text, trim_rule=trim_rule)
            model.build_vocab(update, update=True, min_count=2)
        counts = [{w: m.wv.get_vecattr(w, "count") for w in m.wv.index_to_key} for m in (ours, theirs)]
        assert counts[0] == counts[1]
        assert (ours.corpus_count, ours.corpus_total_words) == (theirs.corpus_count, theirs.corpus_total_words)


def test_to_gensim_and_gensims_queries_agree(planted):
    pytest.importorskip("gensim")
    ours = Word2Vec(planted, **SMALL).wv
    theirs = ours.to_gensim()
    np.testing.assert_array_equal(theirs.vectors, ours.vectors)
    assert theirs.index_to_key == ours.index_to_key and theirs.get_vecattr("c0_w1", "count") == \
        ours.get_vecattr("c0_w1", "count")
    words = ours.index_to_key
    assert [w for w, _ in ours.most_similar(positive=words[:2], negative=words[2:3], topn=5)] == \
        [w for w, _ in theirs.most_similar(positive=words[:2], negative=words[2:3], topn=5)]
    assert ours.n_similarity(words[:3], words[3:5]) == pytest.approx(theirs.n_similarity(words[:3], words[3:5]))
    np.testing.assert_allclose(ours.distances(words[0], words[1:6]), theirs.distances(words[0], words[1:6]),
                               atol=1e-6)
    assert ours.doesnt_match(words[:4]) == theirs.doesnt_match(words[:4])


@pytest.mark.parametrize("binary", [False, True])
def test_pretrained_vectors_merge_as_gensims_intersect_word2vec_format_merges_them(planted, tmp_path, binary):
    """gensim's recipe to start from pretrained vectors: the words both hold take the file's vectors,
    and training goes on from them. gensim 4.4 reads only the text format here (its binary reader calls
    ``np.fromstring``, which NumPy 2 removed)."""
    vocabulary = sorted({word for sentence in planted for word in sentence})
    shared = vocabulary[::3]
    pretrained = KeyedVectors(shared + ["not_in_the_corpus"],
                              np.random.default_rng(5).normal(size=(len(shared) + 1, 8)).astype(np.float32))
    path = str(tmp_path / ("pretrained.bin" if binary else "pretrained.txt"))
    pretrained.save_word2vec_format(path, binary=binary)
    model = Word2Vec(vector_size=8, min_count=1, seed=2)
    model.build_vocab(planted)
    before = model.wv.vectors.copy()
    model.wv.intersect_word2vec_format(path, binary=binary, lockf=1.0)
    for word in vocabulary:
        expected = pretrained[word] if word in shared else before[model.wv.get_index(word)]
        np.testing.assert_allclose(model.wv[word], expected, atol=5e-7)  # the text format keeps six decimals
    assert "not_in_the_corpus" not in model.wv and len(model.wv) == len(vocabulary)
    if not binary:
        gensim_models = pytest.importorskip("gensim.models")
        theirs = gensim_models.Word2Vec(vector_size=8, min_count=1)
        theirs.build_vocab(planted)
        theirs.wv.vectors_lockf = np.ones(len(theirs.wv), dtype=np.float32)  # gensim's recipe needs it
        theirs.wv.intersect_word2vec_format(path, lockf=1.0)
        for word in shared:
            np.testing.assert_array_equal(model.wv[word], theirs.wv[word])
    model.train(planted, total_examples=model.corpus_count, epochs=1, start_alpha=1e-7, end_alpha=1e-8)
    np.testing.assert_allclose(model.wv[shared[0]], pretrained[shared[0]], atol=1e-4)  # trained on from them
    with pytest.raises(NotImplementedError, match="lockf=0.0 would freeze or slow"):  # gensim's default
        model.wv.intersect_word2vec_format(path, binary=binary)
    KeyedVectors(["c0_w1"], np.ones((1, 4), dtype=np.float32)).save_word2vec_format(str(tmp_path / "four.txt"))
    with pytest.raises(ValueError, match="incompatible vector size 4"):  # gensim's error
        model.wv.intersect_word2vec_format(str(tmp_path / "four.txt"), lockf=1.0)
    model.wv.save(str(tmp_path / "model.bin"))
    KeyedVectors.load(str(tmp_path / "model.bin"), mmap="r")  # writes the cache that the next load maps
    mapped = KeyedVectors.load(str(tmp_path / "model.bin"), mmap="r")
    with pytest.raises(ValueError, match="read-only"):
        mapped.intersect_word2vec_format(path, binary=binary, lockf=1.0)


def test_gensims_own_callbacks_and_files_work_with_the_facade(planted, tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    from gensim.models.callbacks import CallbackAny2Vec as GensimCallback

    class Count(GensimCallback):
        epochs = 0

        def on_epoch_end(self, model):
            Count.epochs += 1

    Word2Vec(planted, callbacks=[Count()], **SMALL)
    assert Count.epochs == 3
    gensim_model = gensim_models.Word2Vec(planted, vector_size=8, min_count=1, workers=1, epochs=1)
    gensim_model.wv.save_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    ours = KeyedVectors.load_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    np.testing.assert_array_equal(ours.vectors, gensim_model.wv.vectors)


def test_the_same_arguments_fail_the_same_way_in_gensim(planted):
    gensim_models = pytest.importorskip("gensim.models")
    for cls in (Word2Vec, gensim_models.Word2Vec):
        model = cls(vector_size=4, min_count=1)
        model.build_vocab(planted)
        with pytest.raises(ValueError):
            model.train(planted, epochs=1)
        with pytest.raises(ValueError):
            model.train(planted, total_examples=600)
        with pytest.raises(TypeError):
            cls(size=4)
        with pytest.raises(TypeError):
            model.build_vocab(planted, corpus_file="x.txt")


def test_both_learn_the_planted_structure(planted):
    gensim_models = pytest.importorskip("gensim.models")
    for cls in (Word2Vec, gensim_models.Word2Vec):
        model = cls(planted, sg=1, **SMALL)
        assert neighbours_in_own_cluster(model.wv) >= 0.9, cls


def test_predict_output_word_gives_gensims_answer_on_the_same_weights(planted):
    """gensim's own method on a gensim model holding our weights (rows matched by word)."""
    gensim_models = pytest.importorskip("gensim.models")
    ours = Word2Vec(planted, **{**SMALL, "sg": 1})
    theirs = gensim_models.Word2Vec(planted, **{**SMALL, "sg": 1, "epochs": 1})
    rows = [ours.wv.get_index(word) for word in theirs.wv.index_to_key]
    theirs.wv.vectors[:] = ours.wv.vectors[rows]
    theirs.syn1neg[:] = ours.syn1neg[rows]
    for context in (["c0_w0", "c0_w1"], ["c3_w2", "unknown", "c3_w4", "c3_w5"], [ours.wv.get_index("c1_w1")]):
        for cbow_mean in (0, 1):
            ours.cbow_mean = theirs.cbow_mean = cbow_mean
            mine, gensims = ours.predict_output_word(context, topn=5), theirs.predict_output_word(context, topn=5)
            assert [word for word, _ in mine] == [word for word, _ in gensims]
            np.testing.assert_allclose([p for _, p in mine], [p for _, p in gensims], rtol=1e-4)
    assert ours.predict_output_word(["c0_w0"], topn=5)[0][0].startswith("c0_")  # its own cluster


def test_predict_output_word_is_a_probability_and_says_when_it_cannot(planted):
    model = Word2Vec(planted, **SMALL)
    answer = model.predict_output_word(["c2_w0", "c2_w1"], topn=len(model.wv))
    assert sum(p for _, p in answer) == pytest.approx(1.0) and len(answer) == len(model.wv)
    assert model.predict_output_word(["c2_w0", "c2_w1"], topn=None) == answer  # gensim's every word; was refused
    model.wv.vectors[0] = 1e3  # scores far past exp's range, where gensim's softmax gives NaN
    assert all(np.isfinite(p) for _, p in model.predict_output_word([model.wv.index_to_key[0]]))
    with pytest.warns(UserWarning, match="out of the vocabulary"):
        assert model.predict_output_word(["nope", "neither"]) is None
    with pytest.raises(TypeError, match="list of words"):
        model.predict_output_word("c2_w0")
    with pytest.raises(TypeError, match="topn"):
        model.predict_output_word(["c2_w0"], topn=2.5)
    with pytest.raises(RuntimeError, match="negative sampling"):
        Word2Vec(planted, **{**SMALL, "hs": 1, "negative": 0}).predict_output_word(["c2_w0"])


def test_estimate_memory_is_what_training_allocates(planted):
    model = Word2Vec(planted, **{**SMALL, "hs": 1})
    report = {"earlier": 1}
    estimate = model.estimate_memory(report=report)
    assert estimate is report and estimate["earlier"] == 1  # gensim fills the dict it is given
    assert estimate["total"] == sum(memory.training_bytes(len(model.wv), model._config(model.epochs)).values()) \
        + estimate["weights"]
    assert estimate["weights"] >= 3 * len(model.wv) * 16 * 4  # syn0, syn1neg, syn1
    assert model.estimate_memory(vocab_size=1000)["weights"] > estimate["weights"]


def test_layer1_size_is_the_vector_size_as_in_gensim():
    assert Word2Vec(vector_size=12).layer1_size == 12  # it was an AttributeError
