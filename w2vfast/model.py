"""``Word2Vec``: gensim 4's model class under its names, trained by w2vfast's kernels.

Code written for gensim runs once its import is changed (``from w2vfast import Word2Vec``). Every
parameter of gensim's constructor and methods is taken under its name. Those w2vfast implements
behave as in gensim; the others (``UNSUPPORTED``, and a few of the methods') take only gensim's default,
and any other value raises ``InvalidArgument`` naming the parameter. A value of the wrong kind raises
``WrongType``. Both are ``W2VError``s, and also the ``ValueError`` and ``TypeError`` gensim raises.

Where it differs from gensim, on purpose:
- each call reads its corpus once and trains every epoch on the encoded ids, so the constructor, which
  builds the vocabulary and trains, needs one pass and takes a generator; ``train`` on a generator that
  ``build_vocab`` has read to its end is refused, as gensim refuses it;
- the learning rate decays over the words actually read (``total_examples`` or ``total_words`` is still
  required, as in gensim, and a figure that disagrees with the corpus is warned about);
- ``train`` returns (in-vocabulary words trained, raw words): the first before subsampling, where gensim
  counts after it;
- sentences longer than 10,000 words are cut into pieces, not truncated;
- the vocabulary is always sorted by count, after ``build_vocab(update=True)`` too (see ``continued``);
- ``save`` writes w2vfast's checkpoint (no pickle), which ``Word2Vec.load`` and ``w2vfast train --init``
  read, and ``load`` reads a ``w2vfast train --checkpoint`` file too.
"""

from __future__ import annotations

import numbers
import os
import re
import time
import warnings
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .checkpoint import finished_header, load_checkpoint, write_checkpoint
from .config import MOST_WORDS, TrainConfig
from .continued import carry_rows, merge_vocab
from .corpus import count_corpus, encode, is_word, line_pieces, vocab_ids
from .counting import WordCounter
from .errors import InvalidArgument, NotReady, NotTrainedFor, W2VError, WrongType, check_defaults, is_switch
from .io import as_path
from .memory import ensure_fits, training_bytes
from .trainer import Trainer, TrainStats, compile_timer, fit, new_trainer, random_rows, weight_rows
from .vectors import KeyedVectors
from .vocab import Vocab

MAX_WORDS_IN_BATCH = 10_000  # gensim's batch_words
RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2  # what a trim_rule returns, as in gensim.utils
# gensim's parameters that w2vfast does not implement: the one value it takes (gensim's default), and why.
UNSUPPORTED = {
    "max_vocab_size": (None, "w2vfast counts every word in bounded memory; max_final_vocab caps the vocabulary"),
    "ns_exponent": (0.75, "negatives are drawn in proportion to count ** 0.75"),
    "hashfxn": (hash, "the first vectors come from the seed's random stream, not from hashes of the words"),
    "null_word": (0, "no padding word is added"),
    "sorted_vocab": (1, "the vocabulary is always sorted by count: its tables need that"),
    "batch_words": (MAX_WORDS_IN_BATCH, "the threads take blocks of w2vfast's own size"),
    "shrink_windows": (True, "each window's radius is always drawn from 1 to window"),
}
_GENSIM_3_NAMES = {"size": "vector_size", "iter": "epochs", "sentences": "corpus_iterable"}
_HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")


class CallbackAny2Vec:
    """gensim's callback interface: subclass it and override what you need; each method is given the
    model. Training calls them at its safe points between kernel calls: ``on_train_begin`` and
    ``on_epoch_begin`` before the first call, ``on_epoch_end`` at each epoch's end (then the next
    ``on_epoch_begin``), ``on_train_end`` after the last. One that raises stops training there."""

    def on_train_begin(self, model) -> None:
        """Before training starts."""

    def on_epoch_begin(self, model) -> None:
        """Before each epoch."""

    def on_epoch_end(self, model) -> None:
        """After each epoch: ``model.wv`` holds the vectors trained so far."""

    def on_train_end(self, model) -> None:
        """After the last epoch."""


@dataclass
class _Counted:
    """A corpus read once: its words counted (and their provisional ids), its size as gensim counts it,
    and the seconds the reading took."""

    counter: WordCounter
    sentences: int
    words: int
    seconds: float


class _Tally:
    """The sentences of an iterable, passed through and counted (gensim's ``corpus_count`` counts empty ones)."""

    def __init__(self, sentences: Iterable) -> None:
        self.sentences = sentences
        self.count = 0

    def __iter__(self):
        for sentence in self.sentences:
            self.count += 1
            yield sentence


class Word2Vec:
    """gensim's ``Word2Vec``: give a corpus to train at once, or call ``build_vocab`` then ``train``.

    ``model.wv`` holds the vectors (``w2vfast.KeyedVectors``, with gensim's query names);
    ``model.syn1neg`` and ``model.syn1`` the output weights of negative sampling and hierarchical
    softmax (``None`` when unused); ``model.stats`` the ``TrainStats`` of the latest training.
    """

    def __init__(self, sentences=None, corpus_file=None, vector_size=100, alpha=0.025, window=5, min_count=5,
                 max_vocab_size=None, sample=1e-3, seed=1, workers=3, min_alpha=0.0001, sg=0, hs=0, negative=5,
                 ns_exponent=0.75, cbow_mean=1, hashfxn=hash, epochs=5, null_word=0, trim_rule=None,
                 sorted_vocab=1, batch_words=MAX_WORDS_IN_BATCH, compute_loss=False, callbacks=(), comment=None,
                 max_final_vocab=None, shrink_windows=True, **unknown) -> None:
        _refuse_unknown("Word2Vec()", unknown)
        self.vector_size, self.alpha, self.min_alpha, self.window = vector_size, alpha, min_alpha, window
        self.min_count, self.max_final_vocab, self.sample, self.seed = min_count, max_final_vocab, sample, seed
        self.workers, self.sg, self.hs, self.negative, self.cbow_mean = workers, sg, hs, negative, cbow_mean
        self.epochs, self.compute_loss, self.comment = epochs, compute_loss, comment
        self.max_vocab_size, self.ns_exponent, self.hashfxn, self.null_word = (max_vocab_size, ns_exponent,
                                                                               hashfxn, null_word)
        self.sorted_vocab, self.batch_words, self.shrink_windows = sorted_vocab, batch_words, shrink_windows
        config = self._config(epochs)
        _check_loss(compute_loss)
        self.compute_loss = bool(compute_loss)  # gensim's 1 too, which save keeps and load takes as a bool
        callbacks = _callbacks(callbacks)
        _check_trim_rule(trim_rule)
        self.corpus_count = self.corpus_total_words = self.train_count = 0
        self.total_train_time = self.running_training_loss = 0.0
        self.effective_min_count = min_count
        self.stats: TrainStats | None = None
        self.wv = KeyedVectors([], np.zeros((0, config.dim), dtype=np.float32))
        self.syn1neg = self.syn1 = None
        self._vocab = Vocab([], np.zeros(0, dtype=np.int64))
        self._rng_states = None
        self._read_to_end = None  # a weak reference to the last iterator build_vocab consumed
        if sentences is not None or corpus_file is not None:
            counted = self._count(self._corpus(sentences, corpus_file), config)
            self._choose(counted.counter.counts, counted.counter.words, config, trim_rule, update=False)
            self.corpus_count, self.corpus_total_words = counted.sentences, counted.words
            self._train_counted(counted, config, compute_loss, callbacks)
        elif trim_rule is not None or callbacks:
            warnings.warn("trim_rule and callbacks act only when a corpus is given: give them to build_vocab() "
                          "and train()", stacklevel=2)

    def __str__(self) -> str:
        return f"Word2Vec<vocab={len(self.wv)}, vector_size={self.wv.vector_size}, alpha={self.alpha}>"

    # -----------------------------------------------------------------------------------------
    # The vocabulary
    # -----------------------------------------------------------------------------------------

    @property
    def layer1_size(self) -> int:
        """gensim's width of the output layer: the vector size."""
        return self.vector_size

    def build_vocab(self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000,
                    keep_raw_vocab=False, trim_rule=None, **kwargs) -> None:
        """Count a corpus and choose the vocabulary (gensim's ``min_count``, ``max_final_vocab`` and
        ``trim_rule``); ``update=True`` adds the corpus's words to the existing vocabulary and keeps the
        trained weights (see ``continued``). ``min_count`` and ``sample`` may be given here, as in gensim."""
        config, min_count = self._vocabulary_options("build_vocab()", progress_per, keep_raw_vocab, update, kwargs)
        _check_trim_rule(trim_rule)
        counted = self._count(self._corpus(corpus_iterable, corpus_file), config)
        if _is_iterator(corpus_iterable):
            self._read_to_end = _weak(corpus_iterable)
        self._choose(counted.counter.counts, counted.counter.words, config, trim_rule, update, min_count)
        self.corpus_count, self.corpus_total_words = counted.sentences, counted.words

    def build_vocab_from_freq(self, word_freq, keep_raw_vocab=False, corpus_count=None, trim_rule=None,
                              update=False) -> None:
        """Choose the vocabulary from a ``{word: count}`` mapping instead of a corpus."""
        config, min_count = self._vocabulary_options("build_vocab_from_freq()", 10000, keep_raw_vocab, update, {})
        _check_trim_rule(trim_rule)
        if not isinstance(word_freq, Mapping):
            raise WrongType(f"word_freq must be a mapping of words to counts, not a {type(word_freq).__name__}")
        words = [_word_bytes(word) for word in word_freq]
        counts = [_integer("a count in word_freq", count, low=0) for count in word_freq.values()]
        if sum(counts) > MOST_WORDS:
            raise InvalidArgument(f"the counts of word_freq add up to {sum(counts):,}, more than the "
                                  f"{MOST_WORDS:,} words a corpus may have")
        counts = np.array(counts, dtype=np.int64)
        self._choose(counts, lambda indices: [words[i] for i in indices], config, trim_rule, update, min_count)
        self.corpus_count = 0 if corpus_count is None else _integer("corpus_count", corpus_count, low=0)

    def _vocabulary_options(self, method: str, progress_per, keep_raw_vocab, update,
                            kwargs: dict) -> tuple[TrainConfig, int]:
        """Check the options of a vocabulary call, and give its min_count. As in gensim, ``min_count``
        and ``sample`` given here become the model's, but an update's ``min_count`` is for that call."""
        check_defaults(method, progress_per=(progress_per, 10000, "w2vfast's progress is its own"),
                       keep_raw_vocab=(keep_raw_vocab, False, "the raw counts are not kept"),
                       dry_run=(kwargs.pop("dry_run", False), False, "the vocabulary is always built"))
        min_count, sample = kwargs.pop("min_count", None) or self.min_count, kwargs.pop("sample", None) or self.sample
        _refuse_unknown(method, kwargs)
        updating, min_count = _flag("update", update), _integer("min_count", min_count, low=0)
        before = self.sample, self.min_count
        self.sample = sample
        if not updating:
            self.min_count = min_count
        try:
            return self._config(self.epochs), min_count
        except W2VError:
            self.sample, self.min_count = before  # a refused call leaves the model as it was
            raise

    def _choose(self, counts: np.ndarray, words_of, config: TrainConfig, trim_rule, update,
                min_count: int | None = None) -> None:
        """Choose the words to keep, as gensim's ``prepare_vocab``, from each counted word's ``counts``
        (``words_of(indices)`` gives their bytes), and set up the vocabulary and its weights."""
        min_count = _integer("min_count", self.min_count if min_count is None else min_count, low=0)
        self.effective_min_count = max(min_count, _count_for_final_vocab(counts, self.max_final_vocab))
        keep = counts >= max(self.effective_min_count, 1)  # a word counted 0 times (word_freq's) never occurs
        if trim_rule is not None:
            keep = _trimmed(words_of(range(len(counts))), counts, self.effective_min_count, trim_rule, keep)
        if update:
            if not len(self._vocab):
                raise NotReady("build_vocab(update=True) needs a vocabulary to update: build one first")
            if config.dim != self.wv.vector_size:
                raise InvalidArgument(f"vector_size is {config.dim} but the model's vectors have "
                                      f"{self.wv.vector_size}: an update keeps the dimension")
            vocab, source = merge_vocab(self._vocab, words_of(range(len(counts))), counts, keep)
        else:
            order = Vocab.select(counts, self.effective_min_count, None, keep)
            vocab, source = Vocab(words_of(order), counts[order].astype(np.int64)), None
        if not len(vocab):
            raise NotReady(f"the vocabulary is empty: no word occurs min_count={self.effective_min_count} times or "
                           "more (min_count=1 keeps every word)")
        self._set_vocabulary(vocab, source, config)

    def _set_vocabulary(self, vocab: Vocab, source: np.ndarray | None, config: TrainConfig) -> None:
        """Take ``vocab`` with new weights: the first vectors random, as ``w2vfast.train`` draws them from
        the seed, the output weights zero; with ``source`` (an update) the old words keep their rows of
        ``syn0`` and ``syn1neg``, and the new words' vectors come from the seed and the old vocabulary's size."""
        needed = training_bytes(len(vocab), config)  # the trainer's, then the model's copy of the weights
        needed["the model's weights"] = needed["weights"]
        ensure_fits("training this model", needed, "a smaller vector_size, a larger min_count or a smaller "
                    "max_final_vocab needs less", anyway=None)
        rows = weight_rows(len(vocab), config)
        syn0 = np.empty((len(vocab), config.dim), dtype=np.float32)
        syn1neg = np.zeros((rows.syn1neg, config.dim), dtype=np.float32) if config.negative else None
        if source is None:
            random_rows(syn0, np.random.default_rng(config.seed))
        else:
            fresh = np.flatnonzero(source < 0)
            first = np.empty((len(fresh), config.dim), dtype=np.float32)
            random_rows(first, np.random.default_rng([config.seed, len(self._vocab)]))
            syn0[fresh] = first
            carry_rows(syn0, self.wv.vectors, source)
            if syn1neg is not None and self.syn1neg is not None and len(self.syn1neg) == len(self._vocab):
                carry_rows(syn1neg, self.syn1neg, source)
        self.syn1neg = syn1neg
        self.syn1 = np.zeros((rows.syn1, config.dim), dtype=np.float32) if config.hs else None  # see continued
        self._vocab = vocab
        self.wv._hold([word.decode("utf-8", "surrogateescape") for word in vocab.words], syn0, vocab.counts)

    # -----------------------------------------------------------------------------------------
    # Training
    # -----------------------------------------------------------------------------------------

    def train(self, corpus_iterable=None, corpus_file=None, total_examples=None, total_words=None, epochs=None,
              start_alpha=None, end_alpha=None, word_count=0, queue_factor=2, report_delay=1.0,
              compute_loss=False, callbacks=(), **unknown) -> tuple[int, int]:
        """Train the vectors on a corpus for ``epochs`` epochs, the learning rate going from
        ``start_alpha`` (the model's ``alpha``) to ``end_alpha`` (``min_alpha``). As in gensim,
        ``total_examples`` or ``total_words`` and ``epochs`` must be given. Returns (in-vocabulary
        words trained, raw words read), over all epochs."""
        _refuse_unknown("train()", unknown)
        check_defaults("train()", word_count=(word_count, 0, "a call trains its whole corpus"),
                       queue_factor=(queue_factor, 2, "there is no job queue"),
                       report_delay=(report_delay, 1.0, "w2vfast's progress is its own"))
        if not len(self._vocab):
            raise NotReady("you must first build the vocabulary before training the model (build_vocab())")
        if total_examples is None and total_words is None:
            raise InvalidArgument("you must specify either total_examples or total_words, for the learning rate "
                                  "and progress; after build_vocab() on the same corpus, "
                                  "total_examples=model.corpus_count is right")
        if epochs is None or (isinstance(epochs, numbers.Integral) and epochs <= 0):
            raise InvalidArgument("you must specify an explicit epochs count; the usual value is epochs=model.epochs")
        for name, total in (("total_examples", total_examples), ("total_words", total_words)):
            if total is not None:
                _integer(name, total, low=0)
        _check_loss(compute_loss)
        callbacks = _callbacks(callbacks)
        config = self._config(epochs, start_alpha or self.alpha, end_alpha or self.min_alpha)
        self._check_vectors(config)
        corpus = self._corpus(corpus_iterable, corpus_file)
        if self._read_to_end is not None and self._read_to_end() is corpus:
            raise WrongType(_READ_ONCE.format(what="build_vocab() has read it to its end"))
        self.alpha, self.min_alpha, self.epochs = config.alpha, config.min_alpha, config.epochs
        counted = self._count(corpus, config, keep=self._vocab.words)
        _warn_if_other_size(counted, total_examples, total_words)
        return self._train_counted(counted, config, compute_loss, callbacks)

    def _train_counted(self, counted: _Counted, config: TrainConfig, compute_loss,
                       callbacks: list) -> tuple[int, int]:
        """Encode the counted corpus with the vocabulary and train on it, calling the callbacks."""
        begin = time.perf_counter()
        encoded = encode(counted.counter, vocab_ids(counted.counter, self._vocab))
        self.compute_loss, self.running_training_loss = bool(compute_loss), 0.0
        self.stats = stats = TrainStats(corpus_words=encoded.n_words, vocab_size=len(self._vocab),
                                        read_seconds=counted.seconds + time.perf_counter() - begin)
        _call(callbacks, "on_train_begin", self)
        _call(callbacks, "on_epoch_begin", self)
        if encoded.n_words == 0:  # no word of the corpus is in the vocabulary: nothing to train
            for epoch in range(config.epochs):
                self._epoch_end(None, epoch, config.epochs, callbacks)
        else:
            with compile_timer(stats):
                trainer = new_trainer(self._vocab, config, encoded.n_words, report_loss=bool(compute_loss))
                self._start(trainer)
                try:
                    fit(trainer, encoded, stats, quiet=True,
                        on_epoch_end=lambda epoch: self._epoch_end(trainer, epoch, config.epochs, callbacks))
                finally:  # stopped or not, the model keeps the weights of the last safe point
                    self._adopt(trainer)
        _call(callbacks, "on_train_end", self)
        self.train_count += 1
        self.total_train_time += stats.train_seconds
        return stats.words_trained, counted.words * config.epochs

    def _epoch_end(self, trainer: Trainer | None, epoch: int, epochs: int, callbacks: list) -> None:
        """At an epoch's safe point: the loss so far, then the callbacks, which see the weights trained so
        far and may change them, as gensim's may: the next epoch trains on from what they leave."""
        if trainer is not None:
            if trainer.epoch_loss:  # added to, as gensim adds: a callback that sets it to 0 gets each epoch's
                self.running_training_loss += trainer.epoch_loss[-1]
            if callbacks:
                self._adopt(trainer)
        _call(callbacks, "on_epoch_end", self)
        if epoch + 1 < epochs:
            _call(callbacks, "on_epoch_begin", self)
        if trainer is not None and callbacks:  # between kernel calls the trainer's shared rows are the model
            self._start(trainer)

    def _check_vectors(self, config: TrainConfig) -> None:
        """Refuse vectors changed by hand to another shape than the vocabulary and ``vector_size``
        make: training would start from other weights, and a save would keep none of them."""
        if self.wv.vectors.shape != (len(self._vocab), config.dim):
            raise InvalidArgument(f"vector_size is {config.dim} and the vocabulary {len(self._vocab):,} words, but "
                                  f"wv.vectors has shape {self.wv.vectors.shape}: build_vocab() again")

    def _start(self, trainer: Trainer) -> None:
        """Start the trainer from the model's weights and random states."""
        matrices = trainer.matrices()
        for name, ours in (("syn0", self.wv.vectors), ("syn1neg", self.syn1neg), ("syn1", self.syn1)):
            if ours is not None and ours.shape == matrices[name].shape:
                matrices[name][...] = ours
        if self._rng_states is not None:
            trainer.set_rng_states(self._rng_states)

    def _adopt(self, trainer: Trainer) -> None:
        """Take the trainer's weights and random states (between kernel calls they are consistent)."""
        matrices = trainer.matrices()
        self.wv.vectors[...] = matrices["syn0"]
        self.wv._norms = None
        self.syn1neg = np.array(matrices["syn1neg"]) if trainer.config.negative else None
        self.syn1 = np.array(matrices["syn1"]) if trainer.config.hs else None
        self._rng_states = trainer.rng_states.copy()

    def get_latest_training_loss(self) -> float:
        """The loss of the latest ``train()`` so far, summed over its finished epochs in float64 (gensim's
        running total, without its float32 that stops growing at 2**27); needs ``compute_loss=True``."""
        return self.running_training_loss

    def init_sims(self, replace=False) -> None:
        """gensim 3's name, which gensim 4's model keeps: ``wv.init_sims``."""
        self.wv.init_sims(replace)

    def predict_output_word(self, context_words_list, topn=10):
        """gensim's: the ``topn`` words likeliest at the centre of these context words (words or row
        numbers; unknown ones are skipped), as (word, probability) pairs, by a softmax over the negative
        sampling output layer of the context vectors' sum (mean with ``cbow_mean``), for SG models too.
        None, with a warning, when no context word is known; ``topn=None`` ranks every word. The softmax
        is taken stably: gensim's overflows to NaN where a score passes 88."""
        if not self.negative or self.syn1neg is None:
            raise NotTrainedFor("predict_output_word needs the output weights of negative sampling: train "
                                "with negative above 0")
        if isinstance(context_words_list, (str, bytes)) or not isinstance(context_words_list, Iterable):
            raise WrongType(f"context_words_list must be a list of words, not a {type(context_words_list).__name__}")
        if topn is not None and (isinstance(topn, bool) or not isinstance(topn, numbers.Integral) or topn < 0):
            raise WrongType(f"topn must be a whole number of words or None, not {topn!r}")
        rows = [self.wv.get_index(word) for word in context_words_list if word in self.wv]
        if not rows:
            warnings.warn("all the context words are out of the vocabulary", stacklevel=2)
            return None
        hidden = self.wv.vectors[rows].sum(axis=0, dtype=np.float64)
        if self.cbow_mean:
            hidden /= len(rows)
        scores = self.syn1neg[:len(self.wv)] @ hidden
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        top = np.argsort(-probabilities, kind="stable")[:topn]
        return [(self.wv.index_to_key[row], float(probabilities[row])) for row in top]

    def estimate_memory(self, vocab_size=None, report=None) -> dict:
        """gensim's: bytes by what holds them, and their ``total``, for training ``vocab_size`` words (by
        default the vocabulary's) with the model's settings: w2vfast's own allocation (the trainer's
        weights, tables and scratch, and the model's copy of the weights), not gensim's."""
        vocab_size = _integer("vocab_size", vocab_size if vocab_size else len(self.wv) or 1)
        report = {} if report is None else report
        needed = training_bytes(vocab_size, self._config(self.epochs))
        needed["the model's weights"] = needed["weights"]
        report.update(needed)
        report["total"] = sum(needed.values())
        return report

    # -----------------------------------------------------------------------------------------
    # The corpus
    # -----------------------------------------------------------------------------------------

    def _corpus(self, corpus_iterable, corpus_file):
        """The corpus as the reader takes it (a path, or the iterable), checked as gensim checks it."""
        if (corpus_iterable is None) == (corpus_file is None):
            raise WrongType("give either corpus_iterable (sentences) or corpus_file"
                            + (", not both" if corpus_iterable is not None else ""))
        if corpus_file is not None:
            if not isinstance(corpus_file, (str, os.PathLike)):
                raise WrongType(f"corpus_file must be a path, not a {type(corpus_file).__name__}")
            if not os.path.isfile(corpus_file):
                raise WrongType(f"corpus_file must be the path of a file; {os.fspath(corpus_file)!r} is not one")
            return os.fspath(corpus_file)
        if isinstance(corpus_iterable, (str, bytes, os.PathLike)):
            raise WrongType(f"sentences must be an iterable of token lists, not a {type(corpus_iterable).__name__} "
                            "(a file goes in corpus_file)")
        if not isinstance(corpus_iterable, Iterable):
            raise WrongType(f"sentences must be an iterable of token lists, not a {type(corpus_iterable).__name__}")
        return corpus_iterable

    def _count(self, corpus, config: TrainConfig, keep: list[bytes] | None = None) -> _Counted:
        """Read the corpus once: count its words, keeping those of ``keep`` when memory is short."""
        begin = time.perf_counter()
        if isinstance(corpus, str):
            counter = count_corpus(corpus, config, keep, keep_only=keep is not None)
            sentences, words = line_pieces(counter)
        else:
            tally = _Tally(corpus)
            counter = count_corpus(tally, config, keep)
            if tally.count == 0 and _is_iterator(corpus):
                raise WrongType(_READ_ONCE.format(what="it yielded no sentence"))
            sentences, words = tally.count, line_pieces(counter)[1]
        return _Counted(counter, sentences, words, time.perf_counter() - begin)

    # -----------------------------------------------------------------------------------------
    # Options
    # -----------------------------------------------------------------------------------------

    def _config(self, epochs, alpha=None, min_alpha=None) -> TrainConfig:
        """The model's options, checked under gensim's names, as the trainer takes them."""
        check_defaults("Word2Vec", **{name: (getattr(self, name), default, why)
                                      for name, (default, why) in UNSUPPORTED.items()})
        alpha = _number("alpha", self.alpha if alpha is None else alpha, positive=True)
        min_alpha = _number("min_alpha", self.min_alpha if min_alpha is None else min_alpha)
        if min_alpha > alpha:
            raise InvalidArgument(f"min_alpha ({min_alpha}) must not exceed alpha ({alpha})")
        negative, hs = _integer("negative", self.negative, low=0), _flag("hs", self.hs)
        if not negative and not hs:
            raise InvalidArgument("set hs=1 or negative above 0: with hs=0 and negative=0 nothing is trained")
        sample = _number("sample", self.sample)
        if sample >= 1:
            raise InvalidArgument(f"sample={sample:g} is not supported: give the fraction of the corpus above which "
                                  "words are downsampled (gensim's count threshold, 1 or more, is not)")
        seed = _integer("seed", self.seed, low=0)
        if seed >= 2**63:
            raise InvalidArgument(f"seed must be below 2**63, not {seed}")
        if self.max_final_vocab is not None:
            _integer("max_final_vocab", self.max_final_vocab)
        if not isinstance(self.comment, (str, type(None))):
            raise WrongType(f"comment must be a str, not a {type(self.comment).__name__}")
        try:
            return TrainConfig(model="sg" if _flag("sg", self.sg) else "cbow",
                               dim=_integer("vector_size", self.vector_size), window=_integer("window", self.window),
                               negative=negative, hs=hs, sample=sample,
                               min_count=max(_integer("min_count", self.min_count, low=0), 1), alpha=alpha,
                               min_alpha=min_alpha, epochs=_integer("epochs", epochs),
                               threads=_integer("workers", self.workers), cbow_mean=_flag("cbow_mean", self.cbow_mean),
                               seed=seed)
        except W2VError as exc:  # a TrainConfig check, worded for the command line
            raise type(exc)(_GENSIM_FLAG.sub(lambda flag: _GENSIM_NAMES.get(flag[1], flag[1].replace("-", "_")),
                                             str(exc))) from None

    # -----------------------------------------------------------------------------------------
    # Saving and loading, in the checkpoint format (no pickle)
    # -----------------------------------------------------------------------------------------

    def save(self, fname_or_handle, separately=None, sep_limit=10 * 1024**2, ignore=frozenset(),
             pickle_protocol=4) -> None:
        """Write the whole model (vocabulary, counts, every weight matrix, options) to a w2vfast checkpoint,
        atomically. ``Word2Vec.load`` reads it, and so does ``w2vfast train --init``."""
        check_defaults("save()", separately=(separately, None), sep_limit=(sep_limit, 10 * 1024**2),
                       ignore=(ignore, frozenset()), pickle_protocol=(pickle_protocol, 4, "nothing is pickled"))
        if not isinstance(fname_or_handle, (str, os.PathLike)):
            raise WrongType(f"save() takes a path, not a {type(fname_or_handle).__name__}")
        if not len(self._vocab):
            raise W2VError("nothing to save: build the vocabulary first")
        config = self._config(self.epochs)
        self._check_vectors(config)
        rows = weight_rows(len(self._vocab), config)
        matrices = {}
        for name, ours in (("syn0", self.wv.vectors), ("syn1neg", self.syn1neg), ("syn1", self.syn1)):
            shape = (getattr(rows, name), config.dim)
            matrices[name] = ours if ours is not None and ours.shape == shape else np.zeros(shape, np.float32)
        states = self._rng_states if self._rng_states is not None else \
            np.random.SeedSequence(config.seed).generate_state(config.threads, np.uint64)
        fields = {name: _plain(getattr(self, name)) for name in _SAVED}
        header = finished_header(config, len(self._vocab), self.corpus_total_words, self.corpus_count, model=fields)
        write_checkpoint(os.fspath(fname_or_handle), header, self._vocab, matrices, states)

    @classmethod
    def load(cls, fname, mmap=None, **unknown) -> "Word2Vec":
        """Read a model saved by ``save``, or the checkpoint of a ``w2vfast train`` run; nothing in the
        file is executed (no pickle), and a damaged file is a one-line ``W2VError``."""
        _refuse_unknown("Word2Vec.load()", unknown)
        check_defaults("Word2Vec.load()", mmap=(mmap, None, "a model is read into memory"))
        saved = load_checkpoint(as_path(fname, "fname"))
        config = TrainConfig(**saved.header["options"])
        if not saved.finished:  # as --init refuses it; a Python user may want it as it stands
            warnings.warn(f"{saved.path} keeps a run stopped in epoch {saved.header['epoch'] + 1} of {config.epochs}: "
                          f"loaded as it stands (w2vfast train --resume {saved.path} finishes it)", stacklevel=2)
        fields = _saved_fields(saved.header, config, saved.path)
        model = cls(vector_size=config.dim, alpha=config.alpha, window=config.window, sample=config.sample,
                    seed=config.seed, workers=config.threads, min_alpha=config.min_alpha, sg=int(config.model == "sg"),
                    hs=int(config.hs), negative=config.negative, cbow_mean=int(config.cbow_mean), epochs=config.epochs)
        for name, value in fields.items():
            setattr(model, name, value)
        rows = weight_rows(len(saved.vocab), config)
        arrays = saved.arrays({name: (count, config.dim) for name, count in rows._asdict().items()})
        model._vocab = saved.vocab
        model.wv._hold([word.decode("utf-8", "surrogateescape") for word in saved.vocab.words], arrays["syn0"],
                       saved.vocab.counts)
        model.syn1neg = arrays["syn1neg"] if config.negative else None
        model.syn1 = arrays["syn1"] if config.hs else None
        model._rng_states = arrays["rng_states"]
        return model


# The command line's names in TrainConfig's messages, and gensim's for them.
_GENSIM_FLAG = re.compile(r"--([a-z][a-z-]*)")
_GENSIM_NAMES = {"dim": "vector_size", "threads": "workers", "max-vocab": "max_final_vocab"}

# What ``save`` keeps besides the options and weights, and the kind of each (the checkpoint's own
# header holds the rest: a ``w2vfast train`` checkpoint has none of these, and they take their defaults).
_SAVED = {"min_count": int, "max_final_vocab": (int, type(None)), "compute_loss": bool, "comment": (str, type(None)),
          "corpus_count": int, "corpus_total_words": int, "train_count": int, "total_train_time": float,
          "running_training_loss": float, "effective_min_count": int}
_READ_ONCE = ("corpus_iterable is a generator or another iterator, which can be read only once, and {what}; "
              "training needs it again: give a list, or an object whose __iter__ starts over "
              "(such as gensim's LineSentence)")


def _saved_fields(header: dict, config: TrainConfig, path: str) -> dict:
    """The model's own fields in a checkpoint's header, checked; for a ``train`` checkpoint, from its options."""
    fields = header.get("model", {"min_count": config.min_count, "effective_min_count": config.min_count,
                                  "corpus_count": header["corpus_sentences"],
                                  "corpus_total_words": header["corpus_words"]})
    if not isinstance(fields, dict) or not set(fields) <= set(_SAVED) or \
            not all(_of_kind(value, _SAVED[name]) for name, value in fields.items()):
        raise W2VError(f"{path} is not a w2vfast checkpoint, or it is damaged: the model's fields are invalid")
    return fields


def _of_kind(value, kind) -> bool:
    """``isinstance``, but a bool is no int: JSON keeps them apart, so a swap means damage."""
    return isinstance(value, bool) if kind is bool else isinstance(value, kind) and not isinstance(value, bool)


def _plain(value):
    """A numpy number as the Python one JSON can write."""
    return value.item() if isinstance(value, np.generic) else value


def _refuse_unknown(method: str, unknown: dict) -> None:
    """A keyword gensim does not have either: name it, and gensim 4's name for a gensim 3 one."""
    for name in unknown:
        renamed = f" (gensim 4 calls it {_GENSIM_3_NAMES[name]})" if name in _GENSIM_3_NAMES else ""
        raise WrongType(f"{method} got an unexpected keyword argument {name!r}{renamed}")


def _check_loss(compute_loss) -> None:
    _flag("compute_loss", compute_loss)


def _check_trim_rule(trim_rule) -> None:
    if trim_rule is not None and not callable(trim_rule):
        raise WrongType(f"trim_rule must be a function (word, count, min_count), not {type(trim_rule).__name__}")


def _integer(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise WrongType(f"{name} must be an integer, not a {type(value).__name__} ({value!r:.40})")
    if value < low:
        raise InvalidArgument(f"{name} must be {low} or more, not {value}")
    return int(value)


def _number(name: str, value, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise WrongType(f"{name} must be a number, not a {type(value).__name__} ({value!r:.40})")
    if not (value > 0 if positive else value >= 0):  # NaN fails both
        raise InvalidArgument(f"{name} must be {'above 0' if positive else '0 or more'}, not {value}")
    return float(value)


def _flag(name: str, value) -> bool:
    """gensim's 0/1 switches (``sg``, ``hs``, ``cbow_mean``, ...); a bool does too."""
    if is_switch(value):
        return bool(value)
    kind = InvalidArgument if isinstance(value, numbers.Integral) else WrongType
    raise kind(f"{name} must be 0 or 1, not {value!r:.40}")


def _word_bytes(word) -> bytes:
    """A word of ``word_freq`` as bytes, refused as the sentences' tokens are if a file could not hold it."""
    if not isinstance(word, str):
        raise WrongType(f"a word must be a str, not a {type(word).__name__} ({word!r:.40})")
    if not is_word(word):
        raise InvalidArgument(f"word_freq holds the word {word!r:.60}, which is empty or holds whitespace: "
                              "a word cannot (join its parts with '_', say)")
    try:
        return word.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise InvalidArgument(f"word_freq holds the word {word!r:.60}, which holds a lone surrogate") from None


def _count_for_final_vocab(counts: np.ndarray, max_final_vocab) -> int:
    """gensim's min_count for ``max_final_vocab``: one above the count of the first word past it, by count."""
    if max_final_vocab is None or max_final_vocab >= len(counts):
        return 1
    past = len(counts) - 1 - max_final_vocab  # its place in ascending order
    return int(np.partition(counts, past)[past]) + 1


def _trimmed(words: list[bytes], counts: np.ndarray, min_count: int, rule, keep: np.ndarray) -> np.ndarray:
    """gensim's ``keep_vocab_item``: what ``rule(word, count, min_count)`` says, or ``keep`` where it
    says RULE_DEFAULT."""
    keep = keep.copy()
    for i, (word, count) in enumerate(zip(words, counts.tolist())):
        verdict = rule(word.decode("utf-8", "surrogateescape"), count, min_count)
        if verdict == RULE_KEEP:
            keep[i] = True
        elif verdict == RULE_DISCARD:
            keep[i] = False
    return keep


def _callbacks(callbacks) -> list:
    """The callbacks, checked: gensim's interface, without the per-batch methods w2vfast never calls."""
    if not isinstance(callbacks, (list, tuple)):
        raise WrongType(f"callbacks must be a list or tuple of callback objects, not a {type(callbacks).__name__}")
    for callback in callbacks:
        if not any(hasattr(callback, hook) for hook in _HOOKS):
            raise WrongType(f"a callback must have some of the methods {', '.join(_HOOKS)} (gensim's "
                            f"CallbackAny2Vec), and {callback!r:.60} has none")
        for hook in ("on_batch_begin", "on_batch_end"):
            owner = next((kind for kind in type(callback).__mro__ if hook in vars(kind)), None)
            if hook in vars(callback) or (owner is not None and not owner.__module__.startswith("gensim.")):
                raise InvalidArgument(f"{type(callback).__name__}.{hook} is not supported: w2vfast calls callbacks "
                                      "at the end of each epoch, not for each batch")
    return list(callbacks)


def _call(callbacks: list, hook: str, model: Word2Vec) -> None:
    for callback in callbacks:
        method = getattr(callback, hook, None)
        if method is not None:
            method(model)


def _is_iterator(corpus) -> bool:
    """Whether ``corpus`` can be read only once: an iterator is its own iterator."""
    try:
        return corpus is not None and iter(corpus) is corpus
    except TypeError:
        return False


def _weak(corpus):
    """A weak reference to ``corpus``, or none where it takes none (it is then caught when it yields nothing)."""
    try:
        return weakref.ref(corpus)
    except TypeError:
        return None


def _warn_if_other_size(counted: _Counted, total_examples, total_words) -> None:
    """gensim's warning when the size given to ``train`` is not the corpus's (w2vfast decays the
    learning rate over the words it read, so the figures only check)."""
    if total_examples is not None and total_examples != counted.sentences:
        warnings.warn(f"train(): total_examples={total_examples} but the corpus has {counted.sentences:,} sentences",
                      stacklevel=3)
    elif total_examples is None and total_words != counted.words:
        warnings.warn(f"train(): total_words={total_words} but the corpus has {counted.words:,} words", stacklevel=3)
