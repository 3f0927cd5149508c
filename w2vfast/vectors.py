"""Word vectors in memory and the questions asked of them, under gensim's ``KeyedVectors`` names.

Words are ``str``; bytes that are not UTF-8 survive as surrogate escapes and are written back as the
exact bytes they came from. Cosines divide by norms computed once instead of keeping a normalised
copy of the matrix, so a large (or memory-mapped) file costs no second matrix. The modules with
compiled code (the format's parser, the evaluations, the vocabulary) are imported when first used:
a query of cached vectors (``w2vfast similar``) then never imports Numba, 0.3-0.7 s of its start.
"""

from __future__ import annotations

import difflib
import numbers
import os
import warnings

import numpy as np

from . import cache as vectors_cache
from .config import RESTRICT_VOCAB
from .errors import InvalidArgument, UndecodableWord, W2VError, WrongType, check_count, check_defaults
from .io import as_path, check_writable

_NORM_ROWS = 1 << 16
_SPELLING_POOL = 100_000
_LONGEST_EDITED = 40  # a word's one-edit variants grow with its length squared: a pasted URL skips them
_TINY = np.finfo(np.float32).smallest_subnormal  # a row's length is divided by, so that zero rows stay zero
_LONGEST = float(np.finfo(np.float32).max)  # a length float32 holds


def _as_list(words) -> list:
    """A query's terms: one word, row number or vector alone, else the terms it holds."""
    if words is None:
        return []
    if isinstance(words, (bytes, bytearray)):  # else read as the row numbers of its bytes, as gensim refuses it
        raise WrongType(f"a query is words (str), row numbers or vectors, not {type(words).__name__} {words!r:.40}")
    if isinstance(words, (str, numbers.Integral)) or _is_vector(words):
        return [words]
    try:
        return list(words)
    except TypeError:
        raise WrongType(f"a query is words, row numbers or vectors, not {type(words).__name__}") from None


def _is_vector(term) -> bool:
    """Whether a query term is a vector: a 1-D array of numbers (an array of strings is words)."""
    return isinstance(term, np.ndarray) and term.ndim == 1 and term.dtype.kind not in "USO"


def _weighted(items: list, sign: float) -> list[tuple]:
    """gensim's query terms as ``(word or vector, weight)``: a bare term weighs ``sign`` (1 for a
    positive term, -1 for a negative one), and a ``(term, weight)`` pair (or ``[term, weight]``) weighs
    what it says, as in gensim, where ``negative=[("man", -1.0)]`` is ``negative=["man"]``."""
    terms = []
    for item in items:
        if isinstance(item, (tuple, list)) and len(item) == 2 and not isinstance(item[1], str):
            item, weight = item
            try:
                weight = float(weight)
            except (TypeError, ValueError):
                raise InvalidArgument(f"a query term's weight must be a number, not {weight!r:.40}") from None
            terms.append((item, weight))
        else:
            terms.append((item, sign))
    return terms


def _lengths(rows: np.ndarray) -> np.ndarray:
    """Each row's length, its squares summed in float64 (no float64 copy of the rows is made): a float32
    sum overflows for values past 1.8e19 and vanishes below 1e-19."""
    return np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float64))


def _unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` scaled to length 1 in float64 (a zero vector stays zero)."""
    vector = np.asarray(vector, dtype=np.float64)
    return vector / max(float(np.linalg.norm(vector)), _TINY)


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


def _checked_words(keys: list) -> list[str]:
    odd = next((key for key in keys if not isinstance(key, str)), None)
    if odd is not None:
        raise WrongType(f"a word must be a string, not {type(odd).__name__} {odd!r:.40}")
    return keys


def _checked_counts(counts, words: int) -> np.ndarray:
    """Occurrences as given to the constructor: one whole number, 0 or more, a word (they are saved with
    ``fvocab`` and read back by ``get_vecattr``)."""
    try:
        given = np.asarray(counts)
    except (TypeError, ValueError) as exc:
        raise WrongType(f"counts must be whole numbers, one a word: {exc}") from None
    if given.shape != (words,):
        raise InvalidArgument(f"{words} keys but counts of shape {given.shape}")
    whole = given.dtype.kind in "iu" or (given.dtype.kind == "f" and bool(np.all(np.isfinite(given)))
                                         and bool(np.all(given == np.round(given))))
    if not whole:
        raise WrongType(f"counts must be whole numbers, not {given.dtype} values")
    if words and given.min() < 0:
        raise InvalidArgument(f"counts must be 0 or more, not {given.min()}")
    return given.astype(np.int64)


class KeyedVectors:
    """A vocabulary (most frequent first) and its float32 vectors, one row per word; ``counts``, the
    words' occurrences, where they are known (vectors of a model, not of a file)."""

    def __init__(self, keys: list[str] | int, vectors: np.ndarray | int | None = None,
                 counts: np.ndarray | None = None, *, count: int = 0, dtype=np.float32) -> None:
        """``keys`` and their ``vectors`` (and ``counts``); or, as gensim's ``KeyedVectors(vector_size)``,
        none yet, of ``keys`` values each, which ``add_vectors`` adds."""
        if isinstance(keys, numbers.Integral) and not isinstance(keys, bool):
            count = vectors if vectors is not None else count  # gensim's second argument
            check_defaults("KeyedVectors(vector_size)", count=(count, 0, "add_vectors adds the words"),
                           dtype=(np.dtype(dtype), np.dtype(np.float32)))
            if keys < 1:
                raise InvalidArgument(f"vector_size must be 1 or more, not {keys}")
            keys, vectors = [], np.zeros((0, int(keys)), dtype=np.float32)
        if vectors is None:
            raise WrongType("KeyedVectors needs the words and their vectors, or gensim's vector_size alone")
        keys = _checked_words(list(keys))
        self._hold(keys, vectors, None if counts is None else _checked_counts(counts, len(keys)))
        self.stats = None

    def _hold(self, keys: list[str], vectors: np.ndarray, counts: np.ndarray | None,
              source: str | None = None, distinct: bool = False) -> None:
        """Take the rows; a word given twice is refused, except in the file ``source``, where its first
        row is kept, as gensim does, and a warning says so. Words known to be ``distinct`` (a vocabulary's)
        are not looked at until a query needs ``key_to_index``."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise InvalidArgument(f"{len(keys)} keys but vectors of shape {vectors.shape}")
        self.index_to_key = list(keys)
        self._key_to_index = None
        if not distinct and len(self.key_to_index) < len(keys):
            first, seen, again = [], set(), []
            for i, key in enumerate(self.index_to_key):
                (again if key in seen else first).append(i)
                seen.add(key)
            twice = self.index_to_key[again[0]]
            if source is None:
                raise InvalidArgument(f"the word {twice!r:.60} is given twice: a word has one vector")
            rows = "a row that repeats" if len(again) == 1 else f"{len(again):,} rows that repeat"
            warnings.warn(f"{source}: left out {rows} a word given before (the first: {twice!r:.60}); each "
                          "word keeps its first row, as gensim's reader does")
            keys, vectors = [keys[i] for i in first], vectors[first]
            counts = None if counts is None else np.asarray(counts)[first]
            self.index_to_key = keys
            self._key_to_index = None
        self.vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self._norms = None

    @property
    def key_to_index(self) -> dict[str, int]:
        """gensim's row of each word, made when first asked for: 1.8 s for 2.75M words, which a run that
        only writes its vectors never needs."""
        if self._key_to_index is None:
            self._key_to_index = {key: i for i, key in enumerate(self.index_to_key)}
        return self._key_to_index

    @key_to_index.setter
    def key_to_index(self, rows: dict[str, int]) -> None:  # gensim's is a plain attribute, which code may set
        self._key_to_index = rows

    @classmethod
    def from_bytes_words(cls, words: list[bytes], vectors: np.ndarray) -> "KeyedVectors":
        """The vectors of a vocabulary's words (distinct bytes, so distinct once decoded)."""
        vectors_of = cls.__new__(cls)
        vectors_of._hold([word.decode("utf-8", "surrogateescape") for word in words], vectors, None, distinct=True)
        vectors_of.stats = None
        return vectors_of

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: str) -> bool:
        return self.has_index_for(key)

    def has_index_for(self, key: str) -> bool:
        return self.get_index(key, -1) >= 0

    def __getitem__(self, key_or_keys) -> np.ndarray:
        """A word's vector, or for a list of words the matrix of theirs (gensim's ``wv[["a", "b"]]``)."""
        if isinstance(key_or_keys, (list, tuple, np.ndarray)):
            return self.vectors[[self.get_index(key) for key in key_or_keys]]
        return self.vectors[self.get_index(key_or_keys)]

    def __setitem__(self, key_or_keys, vectors) -> None:
        """Set a word's vector, or for a list of words theirs (gensim's ``wv["a"] = v``): a known word's
        is replaced, a new word added (``add_vectors``)."""
        self.add_vectors(key_or_keys, vectors, replace=True)

    def add_vectors(self, keys, weights, extras: dict | None = None, replace: bool = False) -> None:
        """gensim's: add the words of ``keys`` not here yet with their rows of ``weights`` (and their
        ``extras["count"]``, else a count of 0 where the vectors have counts); a word here keeps its
        vector unless ``replace``. The vectors of a model that gain words no longer match its vocabulary:
        training and saving it refuse them, as they refuse any other shape."""
        keys = _checked_words(keys if isinstance(keys, list) else [keys])
        if len(set(keys)) < len(keys):
            raise InvalidArgument("a word is given twice: a word has one vector")
        rows = np.asarray(weights, dtype=np.float32)
        if rows.size != len(keys) * self.vector_size:
            raise InvalidArgument(f"{len(keys)} vector(s) of {self.vector_size} values are needed, not an array of "
                                  f"shape {rows.shape}")
        rows = rows.reshape(len(keys), self.vector_size)
        unknown = set(extras or {}) - {"count"}
        if unknown:
            raise InvalidArgument(f"extras: w2vfast keeps only 'count', not {sorted(unknown)[0]!r}")
        known = [i for i, key in enumerate(keys) if key in self]
        if replace and known:
            self.vectors[[self.get_index(keys[i]) for i in known]] = rows[known]
        new = [i for i, key in enumerate(keys) if key not in self]
        if new:
            given = (extras or {}).get("count")
            counts = self.counts
            if given is not None or counts is not None:
                old = np.zeros(len(self), dtype=np.int64) if counts is None else counts
                added = np.zeros(len(keys), dtype=np.int64) if given is None else _checked_counts(given, len(keys))
                counts = np.concatenate([old, added[new]])
            self._hold(self.index_to_key + [keys[i] for i in new], np.concatenate([self.vectors, rows[new]]), counts)
        self._norms = None

    def get_vector(self, key: str, norm: bool = False) -> np.ndarray:
        """The word's vector, scaled to length 1 with ``norm`` (a zero vector stays zero)."""
        index = self.get_index(key)
        return self.unit_rows([index])[0].astype(np.float32) if norm else self.vectors[index]

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def get_index(self, key: str, default: int | None = None) -> int:
        """The row of the word ``key``; as in gensim, a whole number in range is a row already."""
        try:
            return self.key_to_index[key]
        except KeyError:
            if isinstance(key, numbers.Integral) and not isinstance(key, bool) and 0 <= key < len(self):
                return int(key)
            if default is not None:
                return default
            raise KeyError(f"word {key!r} not in vocabulary") from None
        except TypeError:  # unhashable: a list where a word was meant, say
            raise WrongType(f"a word must be a string, not {type(key).__name__}") from None

    def get_vecattr(self, key: str, attr: str) -> int:
        """gensim's per-word attributes; w2vfast keeps one, ``count``, for the vectors of a model."""
        if attr != "count":
            raise KeyError(f"no attribute {attr!r}: w2vfast keeps only 'count'")
        if self.counts is None:  # gensim's save() pickles them; the word2vec format has no place for them
            raise KeyError("no 'count': these vectors were read from a word2vec file, which holds no counts "
                           "(save_word2vec_format(fvocab=...) writes them, load_word2vec_format(fvocab=...) reads "
                           "them)")
        return int(self.counts[self.get_index(key)])

    @property
    def vectors_lockf(self):
        raise AttributeError("w2vfast has no vectors_lockf: its training updates every vector")

    @vectors_lockf.setter
    def vectors_lockf(self, value) -> None:  # gensim's recipe to freeze vectors: silently ignored, it misled
        raise NotImplementedError("w2vfast cannot freeze vectors (gensim's vectors_lockf): its training "
                                  "updates every vector")

    def set_vecattr(self, key: str, attr: str, value: int) -> None:
        """Set a word's ``count`` (gensim's setter; vectors read from a file get counts of 0 first)."""
        if attr != "count":
            raise KeyError(f"no attribute {attr!r}: w2vfast keeps only 'count'")
        index = self.get_index(key)
        if self.counts is None:
            self.counts = np.zeros(len(self), dtype=np.int64)
        self.counts[index] = value

    def vectors_for_all(self, keys, allow_inference: bool = True, copy_vecattrs: bool = False) -> "KeyedVectors":
        """A new ``KeyedVectors`` of the given words that are known, each once, in the order given
        (gensim's; only fastText infers vectors for unknown words)."""
        known = list(dict.fromkeys(key for key in keys if key in self))
        rows = [self.get_index(key) for key in known]
        counts = self.counts[rows] if copy_vecattrs and self.counts is not None else None
        return KeyedVectors(known, self.vectors[rows], counts)

    @staticmethod
    def cosine_similarities(vector_1, vectors_all) -> np.ndarray:
        """The cosine of ``vector_1`` with each row of ``vectors_all`` (gensim's)."""
        vectors_all = np.asarray(vectors_all)
        unit = _unit(vector_1)
        return vectors_all @ unit / np.maximum(_lengths(np.atleast_2d(vectors_all)), _TINY)

    @property
    def norms(self) -> np.ndarray:
        """Each row's length (float32), computed once, a block of rows at a time (see ``_lengths``). A
        row longer than float32 holds is refused: its cosines, taken in float32, would be 0 or NaN."""
        if self._norms is None:
            norms = np.empty(len(self), dtype=np.float32)
            for start in range(0, len(self), _NORM_ROWS):
                lengths = _lengths(self.vectors[start:start + _NORM_ROWS])
                self._check_lengths(lengths, start)
                norms[start:start + _NORM_ROWS] = lengths
            self._norms = norms
        return self._norms

    def _check_lengths(self, lengths: np.ndarray, start: int) -> None:
        """Refuse a length past float32's largest value (``lengths`` are those of the rows from ``start`` on)."""
        too_long = np.flatnonzero(lengths > _LONGEST)
        if len(too_long):
            word = self.index_to_key[start + too_long[0]]
            raise InvalidArgument(f"the vector of {word!r:.60} is {lengths[too_long[0]]:.3g} long, more than float32 "
                                  f"holds ({_LONGEST:.3g}): no cosine can be taken of it; scale the vectors down")

    def unit_rows(self, indices) -> np.ndarray:
        """The given rows scaled to length 1 (zero rows stay zero), in float64."""
        return self.vectors[indices].astype(np.float64) / np.maximum(self.norms[indices], _TINY)[:, None]

    def unit_mean(self, indices, weights) -> np.ndarray:
        """The normalised weighted sum of the given rows' unit vectors, as a float32 query."""
        total = np.asarray(weights, dtype=np.float64) @ self.unit_rows(indices)
        length = np.linalg.norm(total)
        return (total / length if length > 0 else total).astype(np.float32)

    def cosines(self, queries: np.ndarray, start: int = 0, end: int | None = None) -> np.ndarray:
        """Cosine of each unit-length query (a row of ``queries``) with the rows ``start:end``."""
        return (queries @ self.vectors[start:end].T) / np.maximum(self.norms[start:end], _TINY)

    def _searched(self, restrict_vocab, clip_start=0, clip_end=None) -> tuple[int, int]:
        """The rows a query searches, as gensim chooses them: the first ``restrict_vocab``, else
        ``clip_start:clip_end``; 0 and None mean every row, as there."""
        for name, value in (("restrict_vocab", restrict_vocab), ("clip_start", clip_start), ("clip_end", clip_end)):
            check_count(name, value)
        if restrict_vocab:
            return 0, min(int(restrict_vocab), len(self))
        end = min(int(clip_end), len(self)) if clip_end else len(self)
        return min(int(clip_start or 0), end), end

    def _ranked(self, scores: np.ndarray, topn: int, exclude, start: int = 0) -> list[tuple[str, float]]:
        """The ``topn`` best-scoring words, best first, other than those at the ``exclude`` indices;
        ``scores`` are those of the rows from ``start`` on."""
        if not isinstance(topn, numbers.Integral) or isinstance(topn, bool):
            raise WrongType(f"topn must be a whole number or None, not {topn!r:.40}")
        scores[[i - start for i in exclude if start <= i < start + len(scores)]] = -np.inf
        topn = min(topn, int(np.count_nonzero(scores > -np.inf)))
        if topn < 1:
            return []
        best = np.argpartition(-scores, topn - 1)[:topn]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.index_to_key[start + i], float(scores[i])) for i in best]

    def _query(self, positive, negative) -> tuple[np.ndarray, list[int]]:
        """The unit-length weighted sum of ``positive`` and ``negative`` (words or vectors, each alone
        or as gensim's ``(item, weight)``), and the indices of the words among them (left out of the
        answers). As in gensim, a word counts by its unit vector and a vector as it is given."""
        terms = _weighted(_as_list(positive), 1.0) + _weighted(_as_list(negative), -1.0)
        if not terms:
            raise ValueError("most_similar needs at least one word")
        total = np.array([weight for _, weight in terms]) @ self._term_rows([item for item, _ in terms])
        length = np.linalg.norm(total)
        indices = [self.get_index(item) for item, _ in terms if not isinstance(item, np.ndarray)]
        return (total / length if length > 0 else total).astype(np.float32), indices

    def _term_rows(self, items: list) -> np.ndarray:
        """A query's terms as rows (float64): a word's unit vector, or a vector as it is given, which
        must have the vectors' size."""
        for item in items:
            if isinstance(item, np.ndarray) and item.shape != (self.vector_size,):
                raise InvalidArgument(f"a query vector must have {self.vector_size} values, not shape {item.shape}")
        indices = [self.get_index(item) for item in items if not isinstance(item, np.ndarray)]
        units = iter(self.unit_rows(indices))
        return np.array([item.astype(np.float64) if isinstance(item, np.ndarray) else next(units) for item in items])

    def most_similar(self, positive=None, negative=None, topn: int | None = 10, clip_start: int = 0,
                     clip_end: int | None = None, restrict_vocab: int | None = None, indexer=None):
        """Words nearest by cosine to the normalised sum of ``positive`` minus ``negative`` (words or
        vectors: 3CosAdd), leaving out the query words; ``restrict_vocab`` searches only the first that
        many words, else ``clip_start:clip_end``. ``topn=None`` gives the cosines of every word searched,
        as gensim does. The search is always exact: no ``indexer``."""
        check_defaults("most_similar", indexer=(indexer, None, "the search is exact"))
        query, indices = self._query(positive, negative)
        start, end = self._searched(restrict_vocab, clip_start, clip_end)
        scores = self.cosines(query, start, end)
        return scores if topn is None else self._ranked(scores, topn, indices, start)

    def similar_by_key(self, key: str, topn: int | None = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_word = similar_by_key

    def similar_by_vector(self, vector: np.ndarray, topn: int | None = 10, restrict_vocab: int | None = None):
        """``most_similar`` of one vector; a word or a row number is taken too, as gensim takes them (and
        left out of the answer)."""
        is_key = isinstance(vector, (str, numbers.Integral)) and not isinstance(vector, bool)
        term = vector if is_key else np.asarray(vector, dtype=np.float32)
        return self.most_similar(positive=[term], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn: int | None = 10,
                            restrict_vocab: int | None = None):
        """3CosMul (Levy and Goldberg 2014): the product of the positive words' cosines, shifted to
        [0, 1], over that of the negative words' (plus 1e-6), leaving out the query words;
        ``topn=None`` gives every word's score, as gensim does."""
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive:
            raise ValueError("most_similar_cosmul needs at least one positive word")
        indices = [self.get_index(w) for w in positive + negative if not isinstance(w, np.ndarray)]
        end = self._searched(restrict_vocab)[1]
        shifted = (1 + self.cosines(self._term_rows(positive + negative).astype(np.float32), 0, end)) / 2
        scores = shifted[:len(positive)].prod(axis=0) / (shifted[len(positive):].prod(axis=0) + 1e-6)
        return scores if topn is None else self._ranked(scores, topn, indices)

    def similarity(self, a: str, b: str) -> float:
        """Cosine of the two words' vectors (0 if either is all zeros), of the vectors as they are now,
        as gensim takes it: not of the lengths kept for searches, which vectors changed by hand outdate."""
        return float(_unit(self.vectors[self.get_index(a)]) @ _unit(self.vectors[self.get_index(b)]))

    def distance(self, a: str, b: str) -> float:
        """1 - ``similarity``: gensim's cosine distance."""
        return 1.0 - self.similarity(a, b)

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        """Cosine distances from a word or a vector to ``other_words``, or to every word if none are given."""
        if isinstance(word_or_vector, (str, numbers.Integral)):  # a word or a row number, as in gensim
            start = self.get_vector(word_or_vector)
        else:
            start = np.asarray(word_or_vector, np.float32)
        everyone = other_words is None or not len(other_words)  # None too, as in gensim
        indices = slice(None) if everyone else [self.get_index(word) for word in other_words]
        towards = _unit(start).astype(np.float32)  # float32 holds a unit vector's values, whatever the length was
        return 1 - (self.vectors[indices] @ towards) / np.maximum(self.norms[indices], _TINY)

    def closer_than(self, key1, key2) -> list[str]:
        """The words nearer to ``key1`` than ``key2`` is (gensim's)."""
        distances = self.distances(self.get_vector(key1))
        first, second = self.get_index(key1), self.get_index(key2)
        return [self.index_to_key[i] for i in np.flatnonzero(distances < distances[second]) if i != first]

    def words_closer_than(self, word1, word2) -> list[str]:
        """``closer_than``, under gensim's older name."""
        return self.closer_than(word1, word2)

    def rank(self, key1, key2) -> int:
        """Where ``key2`` comes among the words nearest to ``key1``, 1 for the nearest (gensim's)."""
        return len(self.closer_than(key1, key2)) + 1

    def most_similar_to_given(self, key1, keys_list):
        """The one of ``keys_list`` nearest to ``key1`` (gensim's)."""
        return keys_list[int(np.argmax([self.similarity(key1, key) for key in keys_list]))]

    def fill_norms(self, force: bool = False) -> None:
        """Compute the rows' lengths now (gensim's; ``norms`` computes them when first asked)."""
        if force:
            self._norms = None
        _ = self.norms

    def init_sims(self, replace: bool = False) -> None:
        """gensim 3's name: ``fill_norms``, or with ``replace`` ``unit_normalize_all``."""
        if replace:
            self.unit_normalize_all()
        else:
            self.fill_norms()

    def unit_normalize_all(self) -> None:
        """Scale every row to length 1 for good (zero rows stay zero), as gensim's does: the lengths are
        lost, and with them any training that would go on from these vectors."""
        self.vectors = self.get_normed_vectors().astype(np.float32, copy=False)
        self._norms = (self.norms > 0).astype(np.float32)

    def get_normed_vectors(self) -> np.ndarray:
        """Every row scaled to length 1 (zero rows stay zero), a new array."""
        return self.vectors / np.maximum(self.norms, _TINY)[:, None]

    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True, post_normalize: bool = False,
                        ignore_missing: bool = True) -> np.ndarray:
        """gensim's weighted mean of words (their unit vectors with ``pre_normalize``) and vectors,
        divided by the sum of the absolute weights; missing words are left out unless not ``ignore_missing``."""
        if not len(keys):
            raise InvalidArgument("cannot compute mean with no input")
        weights = np.ones(len(keys)) if weights is None else np.asarray(weights, dtype=np.float64)
        if weights.shape != (len(keys),):
            raise InvalidArgument("keys and weights array must have same number of elements")
        total, weight_sum = np.zeros(self.vector_size), 0.0
        for key, weight in zip(keys, weights):
            if isinstance(key, np.ndarray):
                row = key
            elif key in self:
                row = self.get_vector(key, norm=pre_normalize)
            elif ignore_missing:
                continue
            else:
                raise KeyError(f"word {key!r} not in vocabulary")
            total += weight * row
            weight_sum += abs(weight)
        mean = total / weight_sum if weight_sum > 0 else total
        if post_normalize:
            mean = mean / max(np.linalg.norm(mean), _TINY)
        return mean.astype(np.float32)

    def n_similarity(self, first, second) -> float:
        """Cosine between the means of two lists of words' vectors (gensim's ``n_similarity``); as in
        gensim, words not in the vocabulary are left out, and a list of none known gives 0."""
        if not len(first) or not len(second):
            raise ZeroDivisionError("n_similarity needs at least one word in each list")
        means = (self.get_mean_vector(list(words), pre_normalize=False) for words in (first, second))
        return float(np.dot(*map(_unit, means)))

    def rank_by_centrality(self, words, use_norm: bool = True) -> list[tuple[float, str]]:
        """``(score, word)`` for each known word, most central first: the dot product of its vector
        (unit with ``use_norm``, so the score is a cosine) with the unit-length mean of those vectors,
        as in gensim; unknown words are left out with a warning."""
        words = _as_list(words)
        known = [w for w in words if w in self]
        if len(known) < len(words):
            left_out = sorted({repr(w) for w in words if w not in self})
            warnings.warn(f"left out words not in the vocabulary: {', '.join(left_out)}")
        if not known:
            raise InvalidArgument("cannot select a word from an empty list: no word given is in the vocabulary")
        indices = [self.get_index(w) for w in known]
        rows = self.unit_rows(indices) if use_norm else self.vectors[indices].astype(np.float64)
        mean = rows.mean(axis=0)
        centre = mean / max(np.linalg.norm(mean), _TINY)
        return sorted(zip((rows @ centre).tolist(), known), reverse=True)

    def doesnt_match(self, words) -> str:
        """The word furthest by cosine from the normalised mean of the words' unit vectors (the last
        of ``rank_by_centrality``: unknown words are left out, as in gensim)."""
        return self.rank_by_centrality(words)[-1][1]

    def similar_spellings(self, word: str, n: int = 3) -> list[str]:
        """Vocabulary words spelled like ``word``, for "did you mean" messages: other cases first,
        then words one edit away (most frequent first), and only if those are too few, difflib's
        closest among the most frequent words of about the same length (a bounded search, so
        that a huge vocabulary still answers at once)."""
        cases = [w for w in (word.lower(), word.capitalize(), word.upper()) if w != word and w in self]
        nearby = _one_edit_away(word) if len(word) <= _LONGEST_EDITED else ()
        edits = sorted((w for w in nearby if w in self), key=self.get_index)
        found = list(dict.fromkeys(cases + edits))
        if len(found) < n:
            pool = [w for w in self.index_to_key[:_SPELLING_POOL] if abs(len(w) - len(word)) <= 2]
            found += [w for w in difflib.get_close_matches(word, pool, n=n) if w not in found]
        return found[:n]

    def evaluate_word_analogies(self, analogies: str, restrict_vocab: int | None = RESTRICT_VOCAB,
                                case_insensitive: bool = True, dummy4unknown: bool = False,
                                similarity_function: str = "most_similar"):
        """gensim's return shape: ``(total accuracy, sections)``, each section a dict with 'section',
        'correct' and 'incorrect' (question tuples), the last one 'Total accuracy'. See ``evaluate``."""
        check_defaults("evaluate_word_analogies", similarity_function=(
            similarity_function, "most_similar", "the answer is 3CosAdd's, gensim's most_similar"))
        from .evaluate import evaluate_analogies

        result = evaluate_analogies(self, as_path(analogies, "analogies"), restrict_vocab, case_insensitive,
                                    dummy4unknown)  # a number would be read as a file descriptor, and closed
        sections = [{"section": s.name, "correct": s.correct, "incorrect": s.incorrect}
                    for s in result.sections + [result.total]]
        return result.total.accuracy or 0.0, sections

    def evaluate_word_pairs(self, pairs: str, delimiter: str = "\t", encoding: str = "utf8",
                            restrict_vocab: int | None = RESTRICT_VOCAB, case_insensitive: bool = True,
                            dummy4unknown: bool = False):
        """gensim's return shape: ``((pearson, nan), (spearman, nan), percent of pairs out of
        vocabulary)``; p-values are not computed. See ``evaluate``."""
        from .evaluate import evaluate_word_pairs

        result = evaluate_word_pairs(self, as_path(pairs, "pairs"), delimiter, restrict_vocab, case_insensitive,
                                     dummy4unknown, encoding)
        return (result.pearson, float("nan")), (result.spearman, float("nan")), result.oov_percent

    def save(self, path: str, binary: bool = True) -> None:
        """Write the word2vec format (``binary`` float32 rows, else text) atomically; ``-`` is standard output."""
        from .word2vec_format import write_word2vec

        write_word2vec(as_path(path, "path"), self.index_to_key, self.vectors, binary)

    @classmethod
    def load(cls, path: str, binary: bool | None = None, limit: int | None = None,
             cache: bool = False, mmap: str | None = None) -> "KeyedVectors":
        """Read a word2vec text or binary file (the format is detected from its bytes unless given),
        or its first ``limit`` words (0: all). ``cache=True`` maps ``path + '.w2vcache'`` instead of parsing
        when it is up to date, and writes it after parsing the whole file in the format detected (see
        ``cache``); gensim's ``mmap='r'`` asks for the same."""
        if mmap not in (None, "r"):
            raise InvalidArgument(f"mmap must be None or 'r' (read-only), not {mmap!r}")
        path = as_path(path, "path")
        cache = cache or mmap == "r"
        check_count("limit", limit)
        limit = limit or None  # 0 is gensim's "no limit", as restrict_vocab's is
        cached = vectors_cache.load_cache(path, binary, limit) if cache else None
        if cached is not None:
            words, rows, norms = cached
            vectors = cls(words, rows)
            vectors._norms = norms
            return vectors
        from .word2vec_format import read_word2vec

        stamp = vectors_cache.source_stamp(path) if cache else None
        data = read_word2vec(path, binary, limit)
        vectors = cls.__new__(cls)
        vectors._hold(data.words, data.vectors, None, source=path)
        vectors.stats = None
        repeats = len(vectors) < len(data.words)  # a limit counts the file's rows, which a cache would not keep
        data.words, data.vectors = vectors.index_to_key, vectors.vectors
        if cache and binary is None and data.complete and stamp is not None and not repeats:  # a forced format
            # may read a text file as binary: its rows would then be every later detecting load's
            vectors_cache.write_cache(path, stamp, data, vectors.norms)
        return vectors

    def save_word2vec_format(self, fname: str, fvocab: str | None = None, binary: bool = False,
                             total_vec: int | None = None, write_header: bool = True, prefix: str = "",
                             append: bool = False, sort_attr: str = "count") -> None:
        """gensim's name for ``save``, text by default as there, but with six decimals a value as the C
        tool writes them (gensim writes each float whole: a value under 5e-7 is 0 here; binary keeps
        every bit); ``fvocab`` also writes the counts as ``word count`` lines. The other arguments take
        only gensim's defaults."""
        if total_vec == len(self):  # what the header says anyway
            total_vec = None
        check_defaults("save_word2vec_format", total_vec=(total_vec, None), write_header=(write_header, True),
                       prefix=(prefix, ""), append=(append, False), sort_attr=(sort_attr, "count"))
        fvocab = None if fvocab is None else as_path(fvocab, "fvocab")
        if fvocab is not None and self.counts is None:
            raise InvalidArgument("fvocab: these vectors have no counts to write (they were read from a file)")
        if fvocab is not None:  # before the vectors replace what there was
            check_writable(fvocab)
        self.save(as_path(fname, "fname"), binary=bool(binary))
        if fvocab is not None:
            from .vocab import Vocab
            from .word2vec_format import encode_words

            Vocab(encode_words(self.index_to_key), self.counts).save(fvocab)

    @classmethod
    def load_word2vec_format(cls, fname: str, fvocab: str | None = None, binary: bool = False,
                             encoding: str = "utf8", unicode_errors: str = "strict", limit: int | None = None,
                             datatype=np.float32, no_header: bool = False) -> "KeyedVectors":
        """gensim's reader: the text format unless ``binary``, UTF-8 words (``unicode_errors`` 'strict'
        refuses other bytes, 'replace' and 'ignore' mend them, 'surrogateescape' keeps them as w2vfast
        does), counts from a ``word count`` file ``fvocab``, the first ``limit`` words (0: all, as in
        gensim; without ``fvocab``, gensim's made-up counts: the number of words down to 1). float32 only,
        and a header line."""
        check_defaults("load_word2vec_format", datatype=(np.dtype(datatype), np.dtype(np.float32)),
                       no_header=(no_header, False))
        if not isinstance(encoding, str) or encoding.lower().replace("-", "") != "utf8":
            raise InvalidArgument(f"encoding: w2vfast reads UTF-8 words only, not {encoding!r}")
        if unicode_errors not in ("strict", "replace", "ignore", "surrogateescape"):
            raise InvalidArgument(f"unicode_errors must be 'strict', 'replace', 'ignore' or 'surrogateescape', "
                                  f"not {unicode_errors!r}")
        vectors = cls.load(fname, binary=bool(binary), limit=limit)
        if fvocab is not None:  # matched by the words' bytes, before they are decoded again
            from .vocab import Vocab

            listed = Vocab.read(as_path(fvocab, "fvocab"))
            counts = dict(zip(listed.words, listed.counts.tolist()))
            missing = next((w for w in vectors.index_to_key
                            if w.encode("utf-8", "surrogateescape") not in counts), None)
            if missing is not None:
                raise W2VError(f"{fvocab} has no count for {missing!r}")
            vectors.counts = np.array([counts[w.encode("utf-8", "surrogateescape")] for w in vectors.index_to_key],
                                      dtype=np.int64)
        else:  # gensim makes counts up, in descending order, that code reading get_vecattr(w, "count") finds
            vectors.counts = np.arange(len(vectors), 0, -1, dtype=np.int64)
        if unicode_errors != "surrogateescape":
            vectors._redecode(os.fspath(fname), unicode_errors)
        return vectors

    def intersect_word2vec_format(self, fname: str, lockf: float = 0.0, binary: bool = False,
                                  encoding: str = "utf8", unicode_errors: str = "strict") -> None:
        """gensim's way to start a model from pretrained vectors, as ``train --init`` a vectors file does:
        each word here that ``fname`` also holds takes the file's vector, and no word is added. Training
        then goes on from them, so only ``lockf=1.0`` is taken: w2vfast cannot freeze vectors, as
        gensim's default ``lockf=0.0`` asks."""
        if not isinstance(lockf, numbers.Real) or lockf != 1.0:
            raise NotImplementedError(f"intersect_word2vec_format: lockf={lockf!r:.40} would freeze or slow the merged "
                                      "vectors, which w2vfast cannot do (its training updates every vector alike): "
                                      "pass lockf=1.0 to train on from them")
        if not self.vectors.flags.writeable:
            raise InvalidArgument("intersect_word2vec_format: these vectors are read-only (loaded with mmap='r'): "
                                  "load them without mmap to change them")
        given = KeyedVectors.load_word2vec_format(fname, binary=binary, encoding=encoding,
                                                  unicode_errors=unicode_errors)
        if given.vector_size != self.vector_size:
            raise InvalidArgument(f"incompatible vector size {given.vector_size} in file {os.fspath(fname)}: these "
                                  f"vectors have {self.vector_size}")
        from .continued import carry_rows

        known = given.key_to_index
        carry_rows(self.vectors, given.vectors,
                   np.fromiter((known.get(key, -1) for key in self.index_to_key), dtype=np.int64, count=len(self)))
        self._norms = None

    def _redecode(self, path: str, errors: str) -> None:
        """Decode again the words that are not UTF-8, as ``errors`` says; 'strict' refuses them."""
        try:
            "".join(self.index_to_key).encode("utf-8")
            return
        except UnicodeEncodeError:
            pass
        keys = []
        for key in self.index_to_key:
            raw = key.encode("utf-8", "surrogateescape")
            try:
                keys.append(raw.decode("utf-8", errors))
            except UnicodeDecodeError as exc:
                raise UndecodableWord(f"{path}: the word {raw[:60]!r} is not UTF-8 (unicode_errors='replace' or "
                                      "'ignore' mends it)", exc) from None
        self._hold(keys, self.vectors, self.counts, source=path)  # words mended alike: the first row is kept

    def to_gensim(self):
        """The same words, vectors (and counts) as a gensim ``KeyedVectors``; needs gensim installed."""
        try:
            from gensim.models import KeyedVectors as GensimKeyedVectors
        except ImportError:
            raise W2VError("to_gensim() needs gensim, which is not installed (pip install gensim)") from None
        converted = GensimKeyedVectors(self.vector_size, count=0, dtype=np.float32)
        converted.add_vectors(list(self.index_to_key), np.array(self.vectors))
        if self.counts is not None:
            converted.allocate_vecattrs(["count"], [np.int64])
            converted.expandos["count"][:] = self.counts
        return converted
