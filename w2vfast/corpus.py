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
from typing import Callable, Iterable

import numpy as np
from numba import njit

from .config import MAX_SENTENCE_WORDS, TrainConfig
from .counting import FIRST_REFERENCE, SENTENCE_END, WHITESPACE, WordCounter, count_words
from .errors import InvalidArgument, W2VError, WrongType
from .memory import corpus_bytes, counting_budget, ensure_fits, size_text
from .sources import corpus_files, text_size
from .vocab import Vocab

_BLOCK_TOKENS = 1 << 19  # Python sentences are joined into blocks of about this many tokens (a few MB)
_WHITESPACE = frozenset(WHITESPACE.decode())


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
                force: bool = False, phrases=None, vocab_memory: int | None = None, say=None,
                choose: Callable[[WordCounter, TrainConfig], Vocab] | None = None,
                keep: list[bytes] | None = None) -> tuple[Vocab, EncodedCorpus]:
    """Count, choose the vocabulary (unless given), and encode; the text is read once, or twice if
    its distinct words outgrow ``vocab_memory`` bytes (see ``counting.py``; by default half of the
    memory available).

    ``corpus`` is paths (see ``sources.corpus_files``) or an iterable of token lists. ``disk_dir``
    keeps the encoded corpus in a memory-mapped file there rather than in RAM; without it, a corpus
    too large for memory is refused before reading, unless ``force`` is set. ``phrases`` (a
    ``phrases.PhraseTable``) joins its phrases in the text before the words are chosen. ``say``
    is told how counting kept within its budget, when it had to. ``choose`` picks the vocabulary
    from the counted words instead of ``--min-count`` and ``--max-vocab``, and counting in bounded
    memory keeps the words ``keep`` lists whatever their count.
    """
    kept = list(vocab.words) if vocab is not None else keep
    if phrases is not None:  # a given vocabulary's too: a phrase's word outside it must be there to join
        kept = (kept or []) + phrases.words()
    counter = count_corpus(corpus, config, kept, vocab is not None, disk_dir, force, vocab_memory, say)
    if phrases is not None:
        phrases.join(counter, config.threads, disk_dir)
    if counter.n_words == 0 and not (counter.second_reading or counter.pruned_words):
        raise W2VError("the corpus is empty: it holds no words")
    if vocab is None and choose is None:
        order = Vocab.select(counter.counts, config.min_count, config.max_vocab)
        vocab = Vocab(counter.words(order), counter.counts[order].astype(np.int64))
        remap = np.full(counter.n_words, -1, dtype=np.int32)
        remap[order] = np.arange(len(order), dtype=np.int32)
    else:
        vocab = choose(counter, config) if vocab is None else vocab
        remap = vocab_ids(counter, vocab)
    if len(vocab) == 0:
        raise W2VError(f"the vocabulary is empty: no word occurs --min-count {config.min_count} times or more")
    encoded = encode(counter, remap, MAX_SENTENCE_WORDS)
    if encoded.n_words == 0:
        raise W2VError("no corpus word is in the vocabulary")
    return vocab, encoded


def count_corpus(corpus, config: TrainConfig, keep: list[bytes] | None = None, keep_only: bool = False,
                 disk_dir: str | None = None, force: bool = False, vocab_memory: int | None = None,
                 say=None) -> WordCounter:
    """Count the words of ``corpus`` and keep their provisional ids (see ``read_corpus``); counting
    in bounded memory keeps the words in ``keep``, or with ``keep_only`` those alone (a given vocabulary)."""
    paths = corpus_paths(corpus)
    files = corpus_files(paths) if paths is not None else None
    sizes = None if files is None else text_size(files)
    text = {} if sizes is None else corpus_bytes(sizes[0], disk_dir is not None, sizes[1])
    if vocab_memory is None:  # half of what is available: it fits by construction
        budget = counting_budget(sum(text.values()))
        ensure_fits("reading the corpus", text, "--disk-corpus DIR keeps it on disk", force)
    else:
        budget = vocab_memory
        ensure_fits("reading the corpus", dict(text, **{"counting budget": budget}),
                    "--disk-corpus DIR keeps the corpus on disk, a smaller --vocab-memory bounds the counting", force)
    if files is not None:
        counter = count_words(files, disk_dir, config.threads, budget, config.min_count, keep, keep_only=keep_only,
                              sizes=sizes)
    else:
        counter = _count_sentences(corpus, config.threads, budget, keep)
    if say is not None and counter.second_reading:
        added = ("the given vocabulary's words" if keep_only else
                 f"words that may occur --min-count {config.min_count} times")
        say(f"counting: the distinct words outgrew --vocab-memory ({size_text(budget)}), so the text was read "
            f"a second time, adding only {added}")
    if say is not None and counter.pruned_words:
        seen = "once" if counter.floor == 1 else f"{counter.floor} times"
        say(f"counting: words seen at most {seen} were pruned to stay within --vocab-memory ({size_text(budget)}), "
            f"{counter.pruned_words:,} times (a word pruned again counts again); the occurrences of those seen "
            "again still count")
    return counter


def vocab_ids(counter: WordCounter, vocab: Vocab) -> np.ndarray:
    """The vocabulary id of each word the counter met, -1 for those outside ``vocab``."""
    index = vocab.index
    return np.array([index.get(w, -1) for w in counter.words(range(counter.n_words))], dtype=np.int32)


_IS_WHITESPACE = np.zeros(256, dtype=bool)
_IS_WHITESPACE[np.frombuffer(WHITESPACE, dtype=np.uint8)] = True


def _count_sentences(sentences: Iterable, threads: int, budget: int | None, keep: list[bytes] | None) -> WordCounter:
    """Feed an iterable of token lists (str or bytes) through the same counter as files; it may not
    be iterable twice, so the counter prunes rare words to stay within ``budget``.

    Sentences go to the counter in blocks of about ``_BLOCK_TOKENS`` tokens, each joined and encoded
    by a few C-level calls (``str.join``, ``str.encode``) rather than token by token in Python.
    """
    if isinstance(sentences, (str, bytes, bytearray)):
        raise WrongType(f"the corpus must be an iterable of token lists, not a {type(sentences).__name__}")
    counter = WordCounter(threads=threads, budget=budget, prune=True, keep=keep)
    block, tokens, before = [], 0, 0
    for sentence in sentences:
        block.append(sentence)
        try:
            tokens += len(sentence)
        except TypeError:
            raise WrongType(f"sentence {before + len(block)} is a {type(sentence).__name__}, not a list of "
                            "tokens") from None
        if tokens >= _BLOCK_TOKENS:
            _feed_sentences(counter, block, tokens, before)
            before += len(block)
            block, tokens = [], 0
    _feed_sentences(counter, block, tokens, before)
    counter.feed(b"", True)
    counter.finish()
    return counter


def _feed_sentences(counter: WordCounter, block: list, tokens: int, before: int) -> None:
    """Hand ``block`` (sentences ``before + 1`` on) to the counter as one piece of text, checking that
    it read back exactly the tokens it was given: a token that is empty or holds whitespace would
    silently become other words."""
    kinds = set(map(type, block))
    for kind in (str, bytes, bytearray):
        if kind in kinds:
            number = before + 1 + next(i for i, sentence in enumerate(block) if type(sentence) is kind)
            raise WrongType(f"sentence {number} is a {kind.__name__}, not a list of tokens: split the text "
                            "into words first (text.split())")
    try:
        text = "\n".join(map(" ".join, block)).encode("utf-8", "surrogateescape")
    except TypeError:  # tokens that are bytes, or not text at all
        text = b"\n".join(_sentence_bytes(sentence, before + n) for n, sentence in enumerate(block, 1))
    except UnicodeEncodeError as exc:  # a lone surrogate, which no bytes stand for
        raise InvalidArgument(f"a token of sentences {before + 1} to {before + len(block)} holds "
                              f"{exc.object[exc.start:exc.end]!r}, a lone surrogate, which no text can hold") from None
    ids_before = len(counter.ids)
    counter.feed(text + b"\n", False)
    ended = len(block) - list(map(len, block)).count(0)  # every sentence with tokens ends with a marker
    # As many words as tokens, and no whitespace but the joins': either alone let an empty token and
    # one that holds a space (["", "a b"]) pass as two words.
    joins = tokens - ended + max(len(block) - 1, 0)
    if len(counter.ids) - ids_before != tokens + ended or _whitespace_bytes(text) != joins:
        raise _token_not_a_word(block, before)


def _whitespace_bytes(text: bytes) -> int:
    return int(np.count_nonzero(_IS_WHITESPACE[np.frombuffer(text, dtype=np.uint8)]))


def _sentence_bytes(sentence, number: int) -> bytes:
    """One sentence of str or bytes tokens as UTF-8 bytes (the slow way, token by token)."""
    parts = []
    for token in sentence:
        if isinstance(token, str):
            try:
                parts.append(token.encode("utf-8", "surrogateescape"))
            except UnicodeEncodeError:
                raise InvalidArgument(f"sentence {number} holds the token {token!r:.60}, which holds a lone "
                                      "surrogate, which no text can hold") from None
        elif isinstance(token, (bytes, bytearray, memoryview)):
            parts.append(bytes(token))
        else:
            raise WrongType(f"sentence {number} holds a token that is a {type(token).__name__} ({token!r:.40}), "
                            "not a str")
    return b" ".join(parts)


def is_word(token: str) -> bool:
    """Whether ``token`` reads back whole from text: it is not empty and holds no whitespace."""
    return bool(token) and _WHITESPACE.isdisjoint(token)


def _token_not_a_word(block: list, before: int) -> InvalidArgument:
    """The error for the first token of ``block`` that is empty or holds whitespace."""
    for number, sentence in enumerate(block, before + 1):
        for token in sentence:
            text = token if isinstance(token, str) else bytes(token).decode("utf-8", "surrogateescape")
            if not is_word(text):
                return InvalidArgument(f"sentence {number} holds the token {text!r:.60}, which is empty or holds "
                                       "whitespace: a word cannot (join its parts with '_', say)")
    return InvalidArgument(f"sentences {before + 1} to {before + len(block)} did not read back as the tokens given")


def line_pieces(counter: WordCounter, max_sentence: int = MAX_SENTENCE_WORDS) -> tuple[int, int]:
    """The sentences and words of a corpus file as gensim's ``LineSentence`` yields them: each line
    with words, cut into pieces of ``max_sentence`` words; call it before ``encode``."""
    sentences, words = _line_pieces(counter.ids, max_sentence)
    return int(sentences), int(words)


@njit(cache=True)
def _line_pieces(ids, max_sentence):
    sentences = 0
    words = 0
    in_line = 0
    for word in ids:
        if word == SENTENCE_END:
            sentences += (in_line + max_sentence - 1) // max_sentence
            in_line = 0
        else:
            in_line += 1
            words += 1
    sentences += (in_line + max_sentence - 1) // max_sentence
    return sentences, words


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
