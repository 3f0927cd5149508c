"""Read a corpus: count its words, choose the vocabulary and encode the text as int32 ids.

The text is never decoded: a word is its exact bytes, so invalid UTF-8 cannot fail and every word is
written back as it was read. Tokens are separated by ASCII whitespace and a newline ends a sentence.
``counting.py`` counts the words and gives each token a provisional id, in bounded memory; once the
vocabulary is known, ``encode`` rewrites those ids in place into final ids with sentence boundaries,
capping sentences at ``MAX_SENTENCE_WORDS``.

Each compiled call chain stays inside this file, since Numba's cache does not see changes elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from numba import njit

from .config import MAX_SENTENCE_WORDS, TrainConfig
from .counting import FIRST_REFERENCE, SENTENCE_END, WordCounter, count_words
from .errors import W2VError
from .memory import corpus_bytes, counting_budget, ensure_fits, size_text
from .sources import corpus_files, plain_text_bytes
from .vocab import Vocab

_SENTENCES_BYTES = 1 << 22  # Python sentences are joined into blocks of about this many bytes


@dataclass
class EncodedCorpus:
    """The training corpus: ``words`` (int32 ids) split into sentences by ``sentence_starts``."""

    words: np.ndarray
    sentence_starts: np.ndarray

    @property
    def n_words(self) -> int:
        return int(self.words.shape[0])

    @property
    def n_sentences(self) -> int:
        return int(self.sentence_starts.shape[0] - 1)

    def words_before(self, epoch: int, sentence: int) -> int:
        """Corpus words trained before sentence ``sentence`` of epoch ``epoch``: where the learning
        rate has decayed to at that position."""
        return epoch * self.n_words + int(self.sentence_starts[sentence])


def corpus_paths(corpus) -> list[str] | None:
    """The corpus as a list of paths, or ``None`` for an iterable of token lists."""
    if isinstance(corpus, (str, os.PathLike)):
        return [os.fspath(corpus)]
    if isinstance(corpus, (list, tuple)) and len(corpus) > 0 and \
            all(isinstance(c, (str, os.PathLike)) for c in corpus):
        return [os.fspath(c) for c in corpus]
    return None


def read_corpus(corpus, config: TrainConfig, vocab: Vocab | None = None, disk_dir: str | None = None,
                force: bool = False, phrases=None, vocab_memory: int | None = None,
                say=None) -> tuple[Vocab, EncodedCorpus]:
    """Count, choose the vocabulary (unless given), and encode; the text is read once, or twice if
    its distinct words outgrow ``vocab_memory`` bytes (see ``counting.py``; by default half of the
    memory available).

    ``corpus`` is paths (see ``sources.corpus_files``) or an iterable of token lists. ``disk_dir``
    keeps the encoded corpus in a memory-mapped file there rather than in RAM; without it, a corpus
    too large for memory is refused before reading, unless ``force`` is set. ``phrases`` (a
    ``phrases.PhraseTable``) joins its phrases in the text before the words are chosen. ``say``
    is told how counting kept within its budget, when it had to.
    """
    paths = corpus_paths(corpus)
    files = corpus_files(paths) if paths is not None else None
    text = corpus_bytes(plain_text_bytes(files)) if files is not None and disk_dir is None else {}
    if vocab_memory is None:  # half of what is available: it fits by construction
        budget = counting_budget(sum(text.values()))
        ensure_fits("reading the corpus", text, "--disk-corpus DIR keeps it on disk", force)
    else:
        budget = vocab_memory
        ensure_fits("reading the corpus", dict(text, **{"counting budget": budget}),
                    "--disk-corpus DIR keeps the corpus on disk, a smaller --vocab-memory bounds the counting", force)
    keep = vocab.words if vocab is not None else phrases.words() if phrases is not None else None
    if files is not None:
        counter = count_words(files, disk_dir, config.threads, budget, config.min_count, keep,
                              keep_only=vocab is not None)
    else:
        counter = _count_sentences(corpus, config.threads, budget, keep)
    if say is not None and counter.second_reading:
        say(f"counting: the distinct words outgrew --vocab-memory ({size_text(budget)}), so the text was read "
            f"a second time, adding only words that may occur --min-count {config.min_count} times")
    if say is not None and counter.pruned_words:
        seen = "once" if counter.floor == 1 else f"{counter.floor} times"
        say(f"counting: {counter.pruned_words:,} distinct words seen at most {seen} were pruned to stay within "
            f"--vocab-memory ({size_text(budget)}); the occurrences of those seen again still count")
    if phrases is not None:
        phrases.join(counter, config.threads, disk_dir)
    if counter.n_words == 0:
        raise W2VError("the corpus is empty: it holds no words")
    if vocab is not None:
        index = vocab.index
        remap = np.array([index.get(w, -1) for w in counter.words(range(counter.n_words))], dtype=np.int32)
    else:
        order = Vocab.select(counter.counts, config.min_count, config.max_vocab)
        vocab = Vocab(counter.words(order), counter.counts[order].astype(np.int64))
        remap = np.full(counter.n_words, -1, dtype=np.int32)
        remap[order] = np.arange(len(order), dtype=np.int32)
    if len(vocab) == 0:
        raise W2VError(f"the vocabulary is empty: no word occurs --min-count {config.min_count} times or more")
    encoded = encode(counter, remap, MAX_SENTENCE_WORDS)
    if encoded.n_words == 0:
        raise W2VError("no corpus word is in the vocabulary")
    return vocab, encoded


def _count_sentences(sentences: Iterable, threads: int, budget: int | None, keep: list[bytes] | None) -> WordCounter:
    """Feed an iterable of token lists (str or bytes) through the same counter as files; it may not
    be iterable twice, so the counter prunes rare words to stay within ``budget``."""
    counter = WordCounter(threads=threads, budget=budget, prune=True, keep=keep)
    buffer, size = [], 0
    for sentence in sentences:
        line = b" ".join(t.encode("utf-8", "surrogateescape") if isinstance(t, str) else bytes(t)
                         for t in sentence) + b"\n"
        buffer.append(line)
        size += len(line)
        if size >= _SENTENCES_BYTES:
            counter.feed(b"".join(buffer), False)
            buffer, size = [], 0
    counter.feed(b"".join(buffer), True)
    counter.finish()
    return counter


def encode(counter: WordCounter, remap: np.ndarray, max_sentence: int = MAX_SENTENCE_WORDS) -> EncodedCorpus:
    """Turn the counter's provisional ids into the final corpus, reusing their memory."""
    ids = counter.ids
    bound = int(np.count_nonzero(ids == SENTENCE_END)) + ids.shape[0] // max_sentence + 2
    sentence_starts = np.zeros(bound, dtype=np.int64)
    n_kept, n_sentences = _encode_in_place(ids, remap.astype(np.int32), counter.resolved, max_sentence,
                                           sentence_starts)
    words = ids[:n_kept]
    counter.release_ids()
    return EncodedCorpus(words, sentence_starts[: n_sentences + 1].copy())


@njit(cache=True)
def _encode_in_place(ids, remap, resolved, max_sentence, sentence_starts):
    """Map provisional ids to final ones (dropping -1s and words never counted; a pruned word's
    reference maps as the word ``resolved`` names) and record where each sentence starts."""
    out = 0
    n_sentences = 0
    sentence_len = 0
    for i in range(ids.shape[0]):
        word = ids[i]
        if word == SENTENCE_END:
            if sentence_len > 0:
                n_sentences += 1
                sentence_starts[n_sentences] = out
                sentence_len = 0
            continue
        if word <= FIRST_REFERENCE:
            word = resolved[FIRST_REFERENCE - word]
        if word < 0:
            continue
        mapped = remap[word]
        if mapped < 0:
            continue
        ids[out] = mapped
        out += 1
        sentence_len += 1
        if sentence_len == max_sentence:
            n_sentences += 1
            sentence_starts[n_sentences] = out
            sentence_len = 0
    if sentence_len > 0:
        n_sentences += 1
        sentence_starts[n_sentences] = out
    return out, n_sentences
