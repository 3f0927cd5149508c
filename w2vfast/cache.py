"""A memory-mapped copy of a parsed vectors file, kept beside it so repeated loads skip the parse.

``vectors.bin`` gets ``vectors.bin.w2vcache``: a line naming the format, a JSON header (the
source's size, modification and change times and inode, the shape, the source's format), then the
float32 rows, their norms and the words separated by newlines. Loading maps the rows instead of reading them and only
trusts a cache whose header matches the source as it is now and whose length matches its header.
Nothing in it is executed (no pickle). A cache that cannot be written is simply not written.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from typing import TYPE_CHECKING

import numpy as np

from .errors import W2VError
from .io import atomic_write

if TYPE_CHECKING:  # the format's module compiles its parser with Numba, which a cached load does without
    from .word2vec_format import Word2VecData

SUFFIX = ".w2vcache"
_MAGIC = b"w2vfast vectors cache 1\n"
_ALIGN = 64


def cache_path(source: str) -> str:
    return source + SUFFIX


def _data_start(header: bytes) -> int:
    """The rows start at the first multiple of 64 bytes after the magic line and the header."""
    return -(-(len(_MAGIC) + len(header)) // _ALIGN) * _ALIGN


def source_stamp(source: str) -> dict | None:
    """What must not have changed since the cache was made: the source's size, times and inode (the
    change time, which no one can set back, catches an edit whose modification time was restored);
    ``None`` if the source cannot be read, or is a pipe or a device, which has no cache, or is named
    in ``/dev`` or ``/proc`` (``/dev/stdin`` is the file that standard input was redirected from)."""
    if os.path.abspath(source).startswith(("/dev/", "/proc/")):
        return None
    try:
        info = os.stat(source)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return {"source_size": info.st_size, "source_mtime_ns": info.st_mtime_ns, "source_ctime_ns": info.st_ctime_ns,
            "source_inode": [info.st_dev, info.st_ino]}


def load_cache(source: str, binary: bool | None, limit: int | None):
    """``(words, vectors, norms)`` for the first ``limit`` words (all if ``None``) from a cache that is up
    to date and whole, else ``None``."""
    path = cache_path(source)
    try:
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:  # a FIFO there would block
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode) or handle.readline() != _MAGIC:
                return None
            header_line = handle.readline(1 << 16)
            header = json.loads(header_line)
            total_words, dim = header["words"], header["dim"]
            stamp = source_stamp(source)
            if stamp is None or header["source"] != stamp or binary not in (None, header["binary"]):
                return None
            n = total_words if limit is None else min(limit, total_words)
            start = _data_start(header_line)
            norms_at = start + 4 * total_words * dim
            words_at = norms_at + 4 * total_words
            if os.fstat(handle.fileno()).st_size != words_at + header["word_bytes"]:
                return None
            handle.seek(norms_at)
            norms = np.fromfile(handle, dtype="<f4", count=n)
            handle.seek(words_at)
            blob = handle.read(header["word_bytes"])
        words = blob.decode("utf-8", "surrogateescape").split("\n") if total_words else []
        vectors = np.memmap(path, dtype="<f4", mode="r", offset=start, shape=(total_words, dim))[:n]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):  # RecursionError: JSON nested deep
        return None
    if len(words) != total_words:
        return None
    return words[:n], vectors.view(np.ndarray), norms


def write_cache(source: str, stamp: dict | None, data: Word2VecData, norms: np.ndarray) -> None:
    """Save ``data`` (the whole of ``source`` as ``stamp`` found it before parsing) beside it; any
    failure leaves no cache and raises nothing."""
    blob = "\n".join(data.words).encode("utf-8", "surrogateescape")  # parsed words never hold one
    try:
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISREG(os.stat(cache_path(source)).st_mode):
                return  # a FIFO or a device, which atomic_write would write into, not replace: the user's
        header = json.dumps({"source": stamp, "binary": data.binary,
                             "words": len(data.words), "dim": data.vectors.shape[1],
                             "word_bytes": len(blob)}).encode() + b"\n"
        start = _data_start(header)
        with atomic_write(cache_path(source)) as out:
            out.write(_MAGIC + header + b"\0" * (start - len(_MAGIC) - len(header)))
            out.write(np.ascontiguousarray(data.vectors, dtype="<f4").reshape(-1).data)  # flat: 0 rows too
            out.write(np.ascontiguousarray(norms, dtype="<f4").data)
            out.write(blob)
    except (OSError, W2VError):
        pass
