"""Word vectors in memory and the questions asked of them, under gensim's ``KeyedVectors`` names.

Words are ``str``; bytes that are not UTF-8 survive as surrogate escapes and are written back as the
exact bytes they came from. Cosines divide by norms computed once instead of keeping a normalised
copy of the matrix, so a large (or memory-mapped) file costs no second matrix.
"""

from __future__ import annotations

import difflib

import numpy as np

from . import cache as vectors_cache
from .errors import W2VError
from .evaluate import RESTRICT_VOCAB, evaluate_analogies, evaluate_word_pairs
from .word2vec_format import read_word2vec, write_word2vec

_NORM_ROWS = 1 << 16
_SPELLING_POOL = 100_000
_TINY = np.finfo(np.float32).tiny


def _to_str(word: bytes) -> str:
    return word.decode("utf-8", "surrogateescape")


def _as_list(words) -> list:
    if words is None:
        return []
    return [words] if isinstance(words, str) else list(words)


def _one_edit_away(word: str) -> set[str]:
    """Every string one deletion, swap of neighbours, replacement or insertion away from ``word``."""
    letters = set("abcdefghijklmnopqrstuvwxyz" + word)
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {head + tail[1:] for head, tail in cuts if tail}
    edits |= {head + tail[1] + tail[0] + tail[2:] for head, tail in cuts if len(tail) > 1}
    edits |= {head + c + tail[1:] for head, tail in cuts if tail for c in letters}
    edits |= {head + c + tail for head, tail in cuts for c in letters}
    edits.discard(word)
    return edits


class KeyedVectors:
    """A vocabulary (most frequent first) and its float32 vectors, one row per word."""

    def __init__(self, keys: list[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise ValueError(f"{len(keys)} keys but vectors of shape {vectors.shape}")
        self.index_to_key = list(keys)
        self.key_to_index = {key: i for i, key in enumerate(self.index_to_key)}
        self.vectors = vectors
        self._norms = None
        self.stats = None

    @classmethod
    def from_bytes_words(cls, words: list[bytes], vectors: np.ndarray) -> "KeyedVectors":
        return cls([_to_str(w) for w in words], vectors)

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: str) -> bool:
        return key in self.key_to_index

    def __getitem__(self, key: str) -> np.ndarray:
        return self.vectors[self.get_index(key)]

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def get_index(self, key: str) -> int:
        try:
            return self.key_to_index[key]
        except KeyError:
            raise KeyError(f"word {key!r} not in vocabulary") from None

    @property
    def norms(self) -> np.ndarray:
        """Each row's length (float32), computed once, a block of rows at a time."""
        if self._norms is None:
            norms = np.empty(len(self), dtype=np.float32)
            for start in range(0, len(self), _NORM_ROWS):
                norms[start:start + _NORM_ROWS] = np.linalg.norm(self.vectors[start:start + _NORM_ROWS], axis=1)
            self._norms = norms
        return self._norms

    def unit_rows(self, indices) -> np.ndarray:
        """The given rows scaled to length 1 (zero rows stay zero), in float64."""
        return self.vectors[indices].astype(np.float64) / np.maximum(self.norms[indices], _TINY)[:, None]

    def unit_mean(self, indices, weights) -> np.ndarray:
        """The normalised weighted sum of the given rows' unit vectors, as a float32 query."""
        total = np.asarray(weights, dtype=np.float64) @ self.unit_rows(indices)
        length = np.linalg.norm(total)
        return (total / length if length > 0 else total).astype(np.float32)

    def cosines(self, queries: np.ndarray, restrict_vocab: int | None = None) -> np.ndarray:
        """Cosine of each unit-length query (a row of ``queries``) with the first ``restrict_vocab`` rows."""
        end = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        return (queries @ self.vectors[:end].T) / np.maximum(self.norms[:end], _TINY)

    def _ranked(self, scores: np.ndarray, topn: int, exclude) -> list[tuple[str, float]]:
        """The ``topn`` best-scoring words, best first, other than those at the ``exclude`` indices."""
        scores[[i for i in exclude if i < len(scores)]] = -np.inf
        topn = min(topn, int(np.count_nonzero(scores > -np.inf)))
        if topn < 1:
            return []
        best = np.argpartition(-scores, topn - 1)[:topn]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.index_to_key[i], float(scores[i])) for i in best]

    def most_similar(self, positive=None, negative=None, topn: int = 10,
                     restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Words nearest by cosine to the normalised sum of ``positive`` minus ``negative`` (3CosAdd),
        leaving out the query words; ``restrict_vocab`` searches only the first that many words."""
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one word")
        indices = [self.get_index(w) for w in positive + negative]
        query = self.unit_mean(indices, [1.0] * len(positive) + [-1.0] * len(negative))
        return self._ranked(self.cosines(query, restrict_vocab), topn, indices)

    def most_similar_cosmul(self, positive=None, negative=None, topn: int = 10,
                            restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """3CosMul (Levy and Goldberg 2014): the product of the positive words' cosines, shifted to
        [0, 1], over that of the negative words' (plus 1e-6), leaving out the query words."""
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive:
            raise ValueError("most_similar_cosmul needs at least one positive word")
        indices = [self.get_index(w) for w in positive + negative]
        units = self.unit_rows(indices).astype(np.float32)
        shifted = (1 + self.cosines(units, restrict_vocab)) / 2
        scores = shifted[:len(positive)].prod(axis=0) / (shifted[len(positive):].prod(axis=0) + 1e-6)
        return self._ranked(scores, topn, indices)

    def similarity(self, a: str, b: str) -> float:
        """Cosine of the two words' vectors (0 if either is all zeros)."""
        first, second = self.unit_rows([self.get_index(a), self.get_index(b)])
        return float(first @ second)

    def doesnt_match(self, words) -> str:
        """The word furthest by cosine from the normalised mean of all the words' unit vectors."""
        words = _as_list(words)
        if not words:
            raise ValueError("doesnt_match needs at least one word")
        indices = [self.get_index(w) for w in words]
        centre = self.unit_mean(indices, [1.0] * len(indices))
        return words[int(np.argmin(self.unit_rows(indices) @ centre))]

    def similar_spellings(self, word: str, n: int = 3) -> list[str]:
        """Vocabulary words spelled like ``word``, for "did you mean" messages: other cases first,
        then words one edit away (most frequent first), and only if those are too few, difflib's
        closest among the most frequent words of about the same length (a bounded search, so
        that a huge vocabulary still answers at once)."""
        cases = [w for w in (word.lower(), word.capitalize(), word.upper()) if w != word and w in self]
        edits = sorted((w for w in _one_edit_away(word) if w in self), key=self.get_index)
        found = list(dict.fromkeys(cases + edits))
        if len(found) < n:
            pool = [w for w in self.index_to_key[:_SPELLING_POOL] if abs(len(w) - len(word)) <= 2]
            found += [w for w in difflib.get_close_matches(word, pool, n=n) if w not in found]
        return found[:n]

    def evaluate_word_analogies(self, analogies: str, restrict_vocab: int | None = RESTRICT_VOCAB,
                                case_insensitive: bool = True):
        """gensim's return shape: ``(total accuracy, sections)``, each section a dict with 'section',
        'correct' and 'incorrect' (question tuples), the last one 'Total accuracy'. See ``evaluate``."""
        result = evaluate_analogies(self, analogies, restrict_vocab, case_insensitive)
        sections = [{"section": s.name, "correct": s.correct, "incorrect": s.incorrect}
                    for s in result.sections + [result.total]]
        return result.total.accuracy or 0.0, sections

    def evaluate_word_pairs(self, pairs: str, delimiter: str = "\t", restrict_vocab: int | None = RESTRICT_VOCAB,
                            case_insensitive: bool = True):
        """gensim's return shape: ``((pearson, nan), (spearman, nan), percent of pairs out of
        vocabulary)``; p-values are not computed. See ``evaluate``."""
        result = evaluate_word_pairs(self, pairs, delimiter, restrict_vocab, case_insensitive)
        return (result.pearson, float("nan")), (result.spearman, float("nan")), result.oov_percent

    def save(self, path: str, binary: bool = True) -> None:
        """Write the word2vec format (``binary`` float32 rows, else text) atomically."""
        write_word2vec(path, self.index_to_key, self.vectors, binary)

    @classmethod
    def load(cls, path: str, binary: bool | None = None, limit: int | None = None,
             cache: bool = False) -> "KeyedVectors":
        """Read a word2vec text or binary file (the format is detected from its bytes unless given),
        or its first ``limit`` words. ``cache=True`` maps ``path + '.w2vcache'`` instead of parsing
        when it is up to date, and writes it after parsing the whole file (see ``cache``)."""
        if limit is not None and limit < 0:
            raise W2VError(f"limit must be 0 or more, not {limit}")
        cached = vectors_cache.load_cache(path, binary, limit) if cache else None
        if cached is not None:
            data, norms = cached
            vectors = cls(data.words, data.vectors)
            vectors._norms = norms
            return vectors
        stamp = vectors_cache.source_stamp(path) if cache else None
        data = read_word2vec(path, binary, limit)
        vectors = cls(data.words, data.vectors)
        if cache and data.complete:
            vectors_cache.write_cache(path, stamp, data, vectors.norms)
        return vectors
