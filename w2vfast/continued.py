"""Continued training: a run whose weights start from an earlier one's (``w2vfast train NEW --init OLD``,
and ``Word2Vec.build_vocab(..., update=True)`` followed by ``train``).

What carries over:

- OLD a vectors file (word2vec text or binary), as fastText's ``-pretrainedVectors``: the vocabulary
  and its counts come from the new corpus alone; each of its words that the file holds starts with
  the file's vector as its input vector (the dimension must be the run's). Every other input vector
  starts random and the output weights start at zero, as in a new run: a vectors file holds nothing else.
- OLD a checkpoint of a finished run (``--checkpoint``, or ``Word2Vec.save``): the counts merge as
  gensim's ``build_vocab(update=True)`` merges them. Every old word stays, its count raised by its
  occurrences in the new corpus; a word new to the vocabulary joins when the new corpus alone holds it
  ``min_count`` times. The vocabulary is then sorted by the merged counts again (the tables want the
  frequent words first), so a word's index can change. The old words' input vectors, and their
  negative-sampling output rows (when both runs use negative sampling), start as OLD's; new words
  start random (input) and at zero (output). The Huffman tree of hierarchical softmax is built again
  from the merged counts, so its inner nodes are not the old tree's and no old inner-node row belongs
  to a node of the new paths: ``syn1`` starts at zero (gensim keeps the old rows by position, which
  pairs them with unrelated nodes). Subsampling and negative sampling follow the merged counts, and
  the learning rate starts again from alpha.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .checkpoint import Checkpoint, load_checkpoint
from .config import TrainConfig
from .counting import WordCounter
from .errors import W2VError, unreadable
from .trainer import INIT_ROWS, Trainer, weight_rows
from .vectors import KeyedVectors
from .vocab import Vocab

_ZIP_MAGIC = b"PK\x03\x04"


def merge_vocab(old: Vocab, words: list[bytes], counts: np.ndarray, keep_new: np.ndarray) -> tuple[Vocab, np.ndarray]:
    """gensim's ``update=True`` on w2vfast's vocabulary: the old words with their counts plus those
    of ``words`` (all the words a new text holds, with their ``counts`` there), and the new words that
    ``keep_new`` marks, sorted by merged count (ties: old words first, each in their order). Returns
    the vocabulary and, for each of its words, its row in ``old`` (-1 for a new word)."""
    index = old.index
    rows = np.fromiter((index.get(word, -1) for word in words), dtype=np.int64, count=len(words))
    known = rows >= 0
    merged = old.counts.astype(np.int64)  # a copy
    merged[rows[known]] += counts[known]
    added = np.flatnonzero(~known & keep_new)
    all_words = old.words + [words[i] for i in added.tolist()]
    all_counts = np.concatenate([merged, counts[added].astype(np.int64)])
    source = np.concatenate([np.arange(len(old), dtype=np.int64), np.full(len(added), -1, dtype=np.int64)])
    order = np.argsort(-all_counts, kind="stable")
    return Vocab([all_words[i] for i in order.tolist()], all_counts[order]), source[order]


def carry_rows(target: np.ndarray, old: np.ndarray, source: np.ndarray) -> int:
    """Copy row ``source[i]`` of ``old`` into row ``i`` of ``target`` wherever ``source[i]`` is not -1,
    a block of rows at a time (no copy of the whole matrix); returns how many rows were copied."""
    carried = np.flatnonzero(source >= 0)
    for start in range(0, len(carried), INIT_ROWS):
        rows = carried[start:start + INIT_ROWS]
        target[rows] = old[source[rows]]
    return len(carried)


class FromVectors:
    """``--init`` from a word2vec vectors file: the input vectors of the words it shares with the run."""

    keep = None
    vocabulary = None  # the usual choice, from the new corpus
    phrases = None  # a vectors file names no phrase table

    def __init__(self, path: str) -> None:
        self.path = path
        self.vectors = KeyedVectors.load(path)

    def options(self, given: dict) -> dict:
        """The run's options: ``dim`` is the file's unless given."""
        return given if "dim" in given else {**given, "dim": self.vectors.vector_size}

    def check(self, config: TrainConfig) -> None:
        if config.dim != self.vectors.vector_size:
            raise W2VError(f"--init {self.path} holds vectors of dimension {self.vectors.vector_size}, "
                           f"but --dim is {config.dim}: they must be the same")

    def apply(self, trainer: Trainer) -> str:
        """Write the shared words' vectors into the trainer's input vectors; says how many."""
        known = self.vectors.key_to_index
        source = np.fromiter((known.get(word.decode("utf-8", "surrogateescape"), -1) for word in trainer.vocab.words),
                             dtype=np.int64, count=len(trainer.vocab))
        carried = carry_rows(trainer.matrices()["syn0"], self.vectors.vectors, source)
        self.vectors = None  # no longer needed while training
        return (f"--init: {carried:,} of the {len(source):,} words start from the vectors of {self.path}, "
                "the others and the output weights afresh")


class FromCheckpoint:
    """``--init`` from the checkpoint of a finished run: its vocabulary, counts and weights."""

    def __init__(self, saved: Checkpoint) -> None:
        if not saved.finished:
            epochs = saved.header["options"]["epochs"]
            raise W2VError(f"--init {saved.path}: the run it keeps stopped in epoch {saved.header['epoch'] + 1} of "
                           f"{epochs}; finish it first (w2vfast train --resume {saved.path})")
        model = saved.header.get("model")  # a Word2Vec.save's: its train() calls, 0 when saved after build_vocab
        if isinstance(model, dict) and model.get("train_count") == 0:
            raise W2VError(f"--init {saved.path}: the model it keeps was never trained (saved after build_vocab), so "
                           "its vectors are random: train it first, or train without --init")
        self.saved = saved
        self.old_config = TrainConfig(**saved.header["options"])
        self.phrases = saved.header.get("phrases")  # its --phrases table, which joins the new corpus too
        self.keep = saved.vocab.words  # counting in bounded memory keeps them, so their counts are whole
        self.source = None

    def options(self, given: dict) -> dict:
        """The run's options: the old run's unless given, but for ``max_vocab`` (see ``check``), and the
        learning rates take their defaults again when what they depend on is given (the model, alpha)."""
        old = {**dataclasses.asdict(self.old_config), "max_vocab": None}
        if "model" in given:
            old["alpha"] = None
        if "model" in given or "alpha" in given:
            old["min_alpha"] = None
        return {**old, **given}

    def check(self, config: TrainConfig) -> None:
        if config.dim != self.old_config.dim:
            raise W2VError(f"--dim {config.dim} differs from the --dim {self.old_config.dim} of the run in "
                           f"{self.saved.path}: a continued run keeps its dimension")
        if config.max_vocab is not None:
            raise W2VError("--max-vocab cannot be given with --init from a checkpoint: the old vocabulary is kept "
                           "whole, and new words join by --min-count")

    def vocabulary(self, counter: WordCounter, config: TrainConfig) -> Vocab:
        """The old vocabulary merged with the new corpus's words (see ``merge_vocab``)."""
        counts = counter.counts
        vocab, self.source = merge_vocab(self.saved.vocab, counter.words(range(counter.n_words)), counts,
                                         counts >= config.min_count)
        return vocab

    def apply(self, trainer: Trainer) -> str:
        """Write the old words' weights into the trainer (see the module's docstring); says what."""
        old_rows = weight_rows(len(self.saved.vocab), self.old_config)
        names = ["syn0"] + (["syn1neg"] if trainer.config.negative and self.old_config.negative else [])
        old = self.saved.arrays({name: (getattr(old_rows, name), self.old_config.dim) for name in names})
        matrices = trainer.matrices()
        carried = 0
        for name in names:
            carried = carry_rows(matrices[name], old[name], self.source)
        outputs = " and negative-sampling output rows" if len(names) > 1 else ""
        return (f"--init: {carried:,} of the {len(self.source):,} words start from the input vectors{outputs} of "
                f"{self.saved.path}, the others afresh" + ("; the Huffman tree is new" if trainer.config.hs else ""))


Start = FromVectors | FromCheckpoint


def start_from(path: str) -> Start:
    """What ``--init PATH`` starts from: a checkpoint (a zip file: its first bytes say so even when the
    file is cut short) or else a word2vec vectors file."""
    try:
        with open(path, "rb") as probe:
            head = probe.read(len(_ZIP_MAGIC))
    except OSError as exc:
        raise unreadable(f"cannot read --init {path}: {exc.strerror or exc}", exc) from None
    return FromCheckpoint(load_checkpoint(path)) if head == _ZIP_MAGIC else FromVectors(path)
