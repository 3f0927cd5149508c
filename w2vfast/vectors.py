"""Word vectors in memory and in the word2vec text/binary formats, with gensim's query names.

Words are ``str``; bytes that are not UTF-8 survive as surrogate escapes and are written back as the
exact bytes they came from.
"""

from __future__ import annotations

import numpy as np

from .errors import W2VError
from .io import atomic_write


def _to_bytes(word: str) -> bytes:
    return word.encode("utf-8", "surrogateescape")


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
        with atomic_write(path) as out:
            out.write(b"%d %d\n" % self.vectors.shape)
            if binary:
                for key, row in zip(self.index_to_key, self.vectors):
                    out.write(_to_bytes(key) + b" " + row.tobytes() + b"\n")
            else:
                for key, row in zip(self.index_to_key, self.vectors.tolist()):
                    out.write(_to_bytes(key) + b" " + " ".join("%.6f" % x for x in row).encode() + b"\n")

    @classmethod
    def load(cls, path: str, binary: bool | None = None, limit: int | None = None) -> "KeyedVectors":
        """Read a word2vec text or binary file; the format is detected from the file unless given."""
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise W2VError(f"cannot read vectors {path}: {exc.strerror or exc}") from None
        header_end = data.find(b"\n")
        try:
            n_words, dim = (int(x) for x in data[:header_end].split())
        except ValueError:
            raise W2VError(f"{path}: the first line must be 'words dimensions'") from None
        if limit is not None:
            n_words = min(n_words, limit)
        if binary is None:
            binary = _looks_binary(data, header_end + 1, dim)
        reader = _read_binary if binary else _read_text
        words, vectors = reader(data, header_end + 1, n_words, dim, path)
        return cls.from_bytes_words(words, vectors)


def _looks_binary(data: bytes, pos: int, dim: int) -> bool:
    """A text row is the word then ``dim`` numbers on one line; anything else is taken as binary."""
    line_end = data.find(b"\n", pos)
    fields = data[pos:line_end if line_end >= 0 else len(data)].split()
    if len(fields) != dim + 1:
        return True
    try:
        [float(x) for x in fields[1:]]
    except ValueError:
        return True
    return False


def _read_binary(data: bytes, pos: int, n_words: int, dim: int, path: str):
    width = 4 * dim
    words = []
    vectors = np.empty((n_words, dim), dtype=np.float32)
    for i in range(n_words):
        while pos < len(data) and data[pos] in b"\n\r":
            pos += 1
        space = data.find(b" ", pos)
        if space < 0 or space + 1 + width > len(data):
            raise W2VError(f"{path}: file ends inside word {i + 1} of {n_words}")
        words.append(data[pos:space])
        vectors[i] = np.frombuffer(data, dtype=np.float32, count=dim, offset=space + 1)
        pos = space + 1 + width
    return words, vectors


def _read_text(data: bytes, pos: int, n_words: int, dim: int, path: str):
    lines = data[pos:].split(b"\n")
    words = []
    vectors = np.empty((n_words, dim), dtype=np.float32)
    row = 0
    for number, line in enumerate(lines, 2):
        if row == n_words:
            break
        fields = line.split()
        if not fields:
            continue
        if len(fields) != dim + 1:
            raise W2VError(f"{path}:{number}: expected a word and {dim} numbers, got {len(fields) - 1}")
        words.append(fields[0])
        try:
            vectors[row] = [float(x) for x in fields[1:]]
        except ValueError:
            raise W2VError(f"{path}:{number}: a value is not a number") from None
        row += 1
    if row < n_words:
        raise W2VError(f"{path}: header says {n_words} words but the file has {row}")
    return words, vectors
