"""Word vectors in memory and in the word2vec text/binary formats, with gensim's query names.

Words are ``str``; bytes that are not UTF-8 survive as surrogate escapes and are written back as the
exact bytes they came from.
"""

from __future__ import annotations

import numpy as np

from .errors import W2VError
from .word2vec_format import read_word2vec, write_word2vec


def _to_str(word: bytes) -> str:
    return word.decode("utf-8", "surrogateescape")


class KeyedVectors:
    """A vocabulary (most frequent first) and its float32 vectors, one row per word."""

    def __init__(self, keys: list[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise ValueError(f"{len(keys)} keys but vectors of shape {vectors.shape}")
        self.index_to_key = list(keys)
        self.key_to_index = {key: i for i, key in enumerate(self.index_to_key)}
        self.vectors = vectors
        self._unit = None
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
    def unit_vectors(self) -> np.ndarray:
        """Rows scaled to length 1 (zero rows stay zero), computed once."""
        if self._unit is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = self.vectors / np.where(norms > 0, norms, 1).astype(np.float32)
        return self._unit

    def most_similar(self, positive=(), negative=(), topn: int = 10) -> list[tuple[str, float]]:
        """Words nearest by cosine to the normalised sum of ``positive`` minus ``negative``."""
        if isinstance(positive, str):
            positive = [positive]
        if isinstance(negative, str):
            negative = [negative]
        unit = self.unit_vectors
        query = np.zeros(self.vector_size, dtype=np.float32)
        used = []
        for sign, words in ((1.0, positive), (-1.0, negative)):
            for word in words:
                index = self.get_index(word)
                query += np.float32(sign) * unit[index]
                used.append(index)
        if not used:
            raise ValueError("most_similar needs at least one word")
        norm = np.linalg.norm(query)
        scores = unit @ (query / norm if norm > 0 else query)
        scores[used] = -np.inf
        topn = min(topn, len(self) - len(set(used)))
        best = np.argpartition(-scores, topn - 1)[:topn] if topn > 0 else np.array([], dtype=np.int64)
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.index_to_key[i], float(scores[i])) for i in best]

    def similarity(self, a: str, b: str) -> float:
        unit = self.unit_vectors
        return float(unit[self.get_index(a)] @ unit[self.get_index(b)])

    def save(self, path: str, binary: bool = True) -> None:
        """Write the word2vec format (``binary`` float32 rows, else text) atomically."""
        write_word2vec(path, self.index_to_key, self.vectors, binary)

    @classmethod
    def load(cls, path: str, binary: bool | None = None, limit: int | None = None) -> "KeyedVectors":
        """Read a word2vec text or binary file (the format is detected from its bytes unless given),
        or its first ``limit`` words."""
        if limit is not None and limit < 0:
            raise W2VError(f"limit must be 0 or more, not {limit}")
        data = read_word2vec(path, binary, limit)
        return cls(data.words, data.vectors)
