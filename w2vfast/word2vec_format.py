"""The word2vec text and binary formats, read by Numba scans over the memory-mapped file.

Both start with a ``words dimensions`` line. Binary: each word's bytes, a space, ``dimensions``
little-endian float32 and (usually) a newline. Text: one line per word, the word, a space and
``dimensions`` decimal numbers (the C tool leaves a space before the newline). Words stay bytes
until one bulk decode, so any encoding loads; a problem is reported with the line or byte where it is.
"""

from __future__ import annotations

import codecs
import math
import os
import stat
from dataclasses import dataclass

import numpy as np
from numba import njit

from .counting import WHITESPACE_BYTES, holds_whitespace
from .errors import DamagedFile, InvalidArgument, unreadable
from .io import atomic_write
from .sources import DECOMPRESSION_ERRORS, HEAD_BYTES, compression_opener, decompressed

_HEADER_BYTES = 1024
_MOST_DIMENSIONS = 1 << 31
# What users give instead of vectors: saves of gensim's (and other Python) objects, and w2vfast's checkpoints.
_OTHER_FORMATS = (
    (b"\x80", "a Python pickle (gensim's save() writes them), not a word2vec file: gensim's "
              "save_word2vec_format() writes one"),
    (b"PK\x03\x04", "a zip file, not a word2vec file: w2vfast's Word2Vec.save() and checkpoints are zip "
                    "files, which Word2Vec.load() and train --init read"))
_NEWLINE, _SPACE, _TAB = 10, 32, 9
_OK, _ENDS, _TRUNCATED, _WORD_HAS_NEWLINE, _TOO_FEW, _TOO_MANY = range(6)
# The fast path below is exact only for a mantissa below 2**53 and a power of ten that a float64
# holds exactly (10**0 .. 10**22): one correctly rounded product or quotient (Clinger).
_EXACT_POWERS = 10.0 ** np.arange(23)
_MANTISSA_LIMIT = 2 ** 53 // 10
_PRINTABLE = frozenset(range(32, 127)) | frozenset(b"\t\r")
_TEXT_BYTES = frozenset(b"0123456789+-.eE \t\r" + b"nafityNAFITY")
_DIGITS = frozenset(b"0123456789")


@dataclass
class Word2VecData:
    """What a file holds: words (str, surrogate-escaped where not UTF-8), float32 rows, its format,
    and whether that is all of the file (not cut short by a limit)."""

    words: list[str]
    vectors: np.ndarray
    binary: bool
    complete: bool


def decode_words(blob: bytes, count: int) -> list[str]:
    """``count`` newline-separated words to ``str`` in one decode; undecodable bytes become surrogates."""
    return blob.decode("utf-8", "surrogateescape").split("\n") if count else []


def read_word2vec(path: str, binary: bool | None = None, limit: int | None = None) -> Word2VecData:
    """Parse a whole word2vec file (or its first ``limit`` words); ``binary=None`` detects the format."""
    data = _map_file(path)
    n_words, dim, pos = _read_header(data, path)
    rows = n_words if limit is None else min(n_words, limit)
    if rows * (dim + 1) > len(data) - pos:  # each row takes a byte per value at least
        raise DamagedFile(f"{path}:1: {rows:,} words of {dim:,} dimensions cannot fit in the "
                          f"{len(data) - pos:,} bytes that follow")
    if binary is None:
        binary = _looks_binary(data, pos, dim)
    vectors = np.empty((rows, dim), dtype=np.float32)
    starts = np.empty(rows, dtype=np.int64)
    ends = np.empty(rows, dtype=np.int64)
    if binary:
        done, pos, problem = _scan_binary(data, pos, rows, dim, vectors.view(np.uint8), starts, ends)
    else:
        slow_rows = np.empty((rows, 2), dtype=np.int64)
        done, pos, problem, n_slow = _scan_text(data, pos, rows, dim, vectors, starts, ends, slow_rows)
    if problem != _OK:
        _raise_problem(problem, data, pos, path, binary, done, n_words, dim)
    if not binary:
        for row, line_end in slow_rows[:n_slow].tolist():
            vectors[row] = _parse_values_slowly(data, int(ends[row]), line_end, path)
    if rows == n_words:
        _check_nothing_follows(data, pos, path, binary, n_words)
    _check_finite(vectors, data, starts, ends, path, binary)
    words = decode_words(_join_words(data, starts, ends).tobytes(), rows)
    return Word2VecData(words, vectors, binary, complete=rows == n_words)


def write_word2vec(path: str, words: list[str] | list[bytes], vectors: np.ndarray, binary: bool) -> None:
    """Write the format (``binary`` float32 rows, else ``%.6f`` text) atomically; a row that is not
    finite is refused, as reading refuses it. ``words`` may be the bytes the file holds already (a
    vocabulary's)."""
    encoded = encode_words(words)
    row = _first_not_finite(vectors)
    if row is not None:
        word = encoded[row].decode("utf-8", "surrogateescape")
        raise InvalidArgument(f"the vector of {word!r:.60} cannot be written: it holds NaN or infinity")
    lines = _binary_lines if binary else _text_lines
    with atomic_write(path) as out:
        out.write(b"%d %d\n" % vectors.shape)
        for first in range(0, len(encoded), _BLOCK_ROWS):
            out.write(lines(encoded[first:first + _BLOCK_ROWS], vectors[first:first + _BLOCK_ROWS]))


def encode_words(words: list[str] | list[bytes]) -> list[bytes]:
    """The words as the bytes a file holds, refusing, before anything is written, a word the format
    cannot hold: an empty one, or one with whitespace, which would read back as other words."""
    try:
        encoded = [word if isinstance(word, bytes) else word.encode("utf-8", "surrogateescape") for word in words]
    except UnicodeEncodeError as exc:
        raise InvalidArgument(f"the word {exc.object!r:.60} cannot be written: it holds a lone surrogate") from None
    if (encoded and min(map(len, encoded)) == 0) or holds_whitespace(b"".join(encoded)):
        bad = next(word for word in encoded if not word or holds_whitespace(word))
        raise InvalidArgument(f"the word {bad.decode('utf-8', 'surrogateescape')!r:.60} cannot be written: the "
                              "word2vec format has no empty words and none with whitespace (join parts with '_', say)")
    return encoded


def _binary_lines(words: list[bytes], rows: np.ndarray) -> bytes:
    """``word`` + space + little-endian float32 row + newline for each word, joined in one compiled pass:
    a write a row took 3 s a million rows."""
    pool, ends = _pooled(words)
    values = np.ascontiguousarray(rows, dtype="<f4").view(np.uint8).reshape(len(words), rows.shape[1] * 4)
    out = np.empty(len(pool) + len(words) * (values.shape[1] + 2), dtype=np.uint8)
    _join_binary_rows(pool, ends, values, out)
    return out.tobytes()


@njit(cache=True)
def _join_binary_rows(pool, ends, values, out):
    """Write each word of ``pool`` (ending at ``ends``), a space, its row's bytes and a newline into ``out``."""
    pos = 0
    for row in range(values.shape[0]):
        pos = _put_word(pool, ends, row, out, pos)
        out[pos] = 32
        pos += 1
        for k in range(values.shape[1]):
            out[pos] = values[row, k]
            pos += 1
        out[pos] = 10
        pos += 1


@njit(cache=True, inline="always")
def _put_word(pool, ends, row, out, pos):
    """Copy word ``row`` of ``pool`` (ending at ``ends``) into ``out`` at ``pos``; returns where it ends there."""
    for k in range(ends[row - 1] if row else 0, ends[row]):
        out[pos] = pool[k]
        pos += 1
    return pos


def _pooled(words: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The words' bytes joined, and where each ends, as the compiled writers take them."""
    return np.frombuffer(b"".join(words), dtype=np.uint8), np.cumsum([len(word) for word in words], dtype=np.int64)


def _text_lines(words: list[bytes], rows: np.ndarray) -> bytes:
    """``word v1 ... vd`` lines with every value as ``%.6f`` prints it, in one compiled pass."""
    pool, ends = _pooled(words)
    values = np.ascontiguousarray(rows, dtype=np.float32)
    out = np.empty(len(pool) + len(words) * (values.shape[1] * _MAX_VALUE_BYTES + 2), dtype=np.uint8)
    used = _format_text_rows(pool, ends, values, out)
    if used >= 0:
        return out[:used].tobytes()
    line = b" ".join([b"%.6f"] * values.shape[1]) + b"\n"  # a value too large
    return b"".join(word + b" " + line % tuple(row) for word, row in zip(words, values.tolist()))


@njit(cache=True)
def _format_text_rows(pool, ends, values, out):
    """Write the text-format lines into ``out``; returns the bytes used, or -1 if a value is beyond
    1e9, which Python formats instead. A float32 times 1e6 is exact in float64
    (24 + 14 significant bits), so rounding it half to even gives printf's six decimals exactly."""
    pos = 0
    for row in range(values.shape[0]):
        pos = _put_word(pool, ends, row, out, pos)
        for column in range(values.shape[1]):
            value = np.float64(values[row, column])
            if not abs(value) < 1e9:
                return -1
            out[pos] = 32
            pos += 1
            if math.copysign(1.0, value) < 0:
                out[pos] = 45
                pos += 1
            millionths = np.int64(np.rint(abs(value) * 1e6))
            whole = millionths // 1000000
            digits = 1
            while whole >= 10 ** digits:
                digits += 1
            for d in range(digits - 1, -1, -1):
                out[pos + d] = 48 + whole % 10
                whole //= 10
            pos += digits
            out[pos] = 46
            fraction = millionths % 1000000
            for d in range(6, 0, -1):
                out[pos + d] = 48 + fraction % 10
                fraction //= 10
            pos += 7
        out[pos] = 10
        pos += 1
    return pos


_BLOCK_ROWS = 4096  # rows formatted at a time
_MAX_VALUE_BYTES = 19  # " -1000000000.000000": below 1e9 may still round up to it


def _map_file(path: str) -> np.ndarray:
    """The file's bytes, memory-mapped read-only so that a large file is neither copied nor read twice;
    a gzip, bzip2 or xz file (``GoogleNews-vectors-negative300.bin.gz``) is decompressed into memory."""
    opener = None
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe (<(zcat v.bin.gz), /dev/stdin): read it whole
            with open(path, "rb") as stream:
                data = np.frombuffer(decompressed(stream.read()), dtype=np.uint8)
        elif os.path.getsize(path) == 0:
            raise DamagedFile(f"{path}: the file is empty")
        else:
            with open(path, "rb") as probe:
                opener = compression_opener(probe.read(HEAD_BYTES))
            if opener is None:
                return np.memmap(path, dtype=np.uint8, mode="r").view(np.ndarray)
            with opener(path, "rb") as stream:
                data = np.frombuffer(stream.read(), dtype=np.uint8)
    except OSError as exc:
        raise unreadable(f"cannot read vectors {path}: {exc.strerror or exc}", exc) from None
    except DECOMPRESSION_ERRORS as exc:
        raise DamagedFile(f"cannot read vectors {path}: {exc}") from None
    if len(data) == 0:
        raise DamagedFile(f"{path}: the file is empty" + (" once decompressed" if opener else ""))
    return data


def _read_header(data: np.ndarray, path: str) -> tuple[int, int, int]:
    head = data[:_HEADER_BYTES].tobytes()
    for magic, what in _OTHER_FORMATS:
        if head.startswith(magic):
            raise DamagedFile(f"{path} is {what}")
    marked = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0  # an editor's, dropped as elsewhere
    end = head.find(b"\n")
    fields = head[marked:end].split() if end >= 0 else []
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        shown = head[:end if end >= 0 else 60][:60].decode("utf-8", "replace")
        hint = " (a file without that line, like GloVe's, needs one added)" if len(fields) > 2 else ""
        raise DamagedFile(f"{path}:1: the first line must be 'words dimensions', not {shown!r}{hint}")
    n_words, dim = int(fields[0]), int(fields[1])
    if dim == 0:
        raise DamagedFile(f"{path}:1: the dimension must be positive")
    if dim > _MOST_DIMENSIONS:
        raise DamagedFile(f"{path}:1: {dim:,} dimensions are more than a vector can have")
    return n_words, dim, end + 1


def _looks_binary(data: np.ndarray, pos: int, dim: int) -> bool:
    """Text if the bytes after the first word, as far as a binary row would reach or to the line's
    end, are all characters of numbers, and a line that ends sooner holds ``dim`` of them: about one
    binary row in 2,000 starts with a digit or two and a newline byte, which is not a text line, but
    one of two numbers or more is text whose count is wrong.
    Any printable text counts in a line of ``dim`` fields from 2 dimensions on, and anywhere from 4
    on, so that a bad number (``0,5``) is reported as one: 16 float bytes are all printable about once
    in a million rows."""
    reach = _HEADER_BYTES + 8 * dim
    while True:  # a first word longer than a row is looked past, in windows four times longer each time
        window = data[pos:pos + reach].tobytes()
        space = min((at for at in (window.find(b" "), window.find(b"\t")) if at >= 0), default=-1)  # or a tab
        if space >= 0 or pos + reach >= data.shape[0]:
            break
        reach *= 4
    if space < 0:
        return True
    values = data[pos + space + 1:pos + space + 1 + 4 * dim].tobytes()
    line_end = values.find(b"\n")
    whole_line = line_end >= 0
    if whole_line:
        values = values[:line_end]
        fields = values.split()
        if len(fields) != dim:  # text with a wrong count, if two numbers or more: a row's bytes
            return len(fields) < 2 or not _TEXT_BYTES.issuperset(values)  # are so about once in 10^6
        if dim >= 4 and _is_utf8(values) and all(_DIGITS.intersection(field) or max(field) >= 0x80 for field in fields):
            return False  # text with numbers not all in ASCII (U+2212, Arabic digits): its scan names the bad one

    if not values.strip():
        return True
    loose = dim >= 4 or (whole_line and dim >= 2)
    return not (_TEXT_BYTES.issuperset(values) or (loose and _PRINTABLE.issuperset(values)))


def _is_utf8(text: bytes) -> bool:
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _line_number(data: np.ndarray, pos: int) -> int:
    return int(np.count_nonzero(data[:pos] == _NEWLINE)) + 1


def _raise_problem(problem, data, pos, path, binary, done, n_words, dim):
    """Turn a scan's problem code into one line that says where (byte for binary, line for text)."""
    where = f"{path}: byte {pos}" if binary else f"{path}:{_line_number(data, pos)}"
    if problem == _ENDS:
        raise DamagedFile(f"{path}: the header says {n_words} words but the file ends after {done}")
    if problem == _TRUNCATED:
        raise DamagedFile(f"{where}: the file ends inside word {done + 1} of {n_words} (truncated?)")
    if problem == _WORD_HAS_NEWLINE:
        raise DamagedFile(f"{where}: word {done + 1} holds a line break: the file does not match its header "
                          f"({n_words} x {dim}) or is not in the binary format")
    found = "fewer" if problem == _TOO_FEW else "more"
    raise DamagedFile(f"{where}: expected a word and {dim} numbers, found {found} numbers")


def _parse_values_slowly(data: np.ndarray, values_start: int, line_end: int, path: str) -> np.ndarray:
    """Python's float() for the rare numbers the fast path declines: nan, inf, very long mantissas."""
    fields = data[values_start:line_end].tobytes().split()
    try:
        with np.errstate(over="ignore"):  # beyond float32 becomes infinity, which _check_finite reports
            return np.array([float(x) for x in fields], dtype=np.float32)
    except ValueError:
        bad = next(x for x in fields if not _is_float(x))
        raise DamagedFile(f"{path}:{_line_number(data, values_start)}: {bad.decode('utf-8', 'replace')!r} "
                          f"is not a number") from None


def _check_finite(vectors: np.ndarray, data: np.ndarray, starts: np.ndarray, ends: np.ndarray, path: str,
                  binary: bool) -> None:
    """Refuse NaN and infinity (or, in text, a number beyond float32's range): every cosine with such a
    row is NaN, so the word would drop out of every answer without a word said."""
    row = _first_not_finite(vectors)
    if row is None:
        return
    where = f"{path}: byte {starts[row]}" if binary else f"{path}:{_line_number(data, int(starts[row]))}"
    word = data[starts[row]:ends[row]].tobytes().decode("utf-8", "replace")
    beyond = "" if binary else " or beyond float32's range"
    raise DamagedFile(f"{where}: the vector of {word!r:.60} holds a value that is not finite (NaN or infinity{beyond})")


def _first_not_finite(vectors: np.ndarray) -> int | None:
    """The first row that holds NaN or infinity, if one does."""
    if np.isfinite(vectors).all():
        return None
    return int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])


def _is_float(text: bytes) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _check_nothing_follows(data: np.ndarray, pos: int, path: str, binary: bool, n_words: int) -> None:
    extra = np.flatnonzero(np.isin(data[pos:], WHITESPACE_BYTES, invert=True))
    if len(extra):
        where = f"{path}: byte {pos + extra[0]}" if binary else f"{path}:{_line_number(data, pos + extra[0])}"
        raise DamagedFile(f"{where}: the header says {n_words} words but more data follows")


@njit(cache=True)
def _scan_binary(data, pos, rows, dim, vector_bytes, starts, ends):
    """Find each row's word and copy its float bytes; returns (rows done, position, problem)."""
    size = data.shape[0]
    width = 4 * dim
    for row in range(rows):
        while pos < size and data[pos] == _NEWLINE:
            pos += 1
        if pos == size:
            return row, pos, _ENDS
        start = pos
        while pos < size and data[pos] != _SPACE:
            if data[pos] == _NEWLINE:
                return row, start, _WORD_HAS_NEWLINE
            pos += 1
        if pos + 1 + width > size:
            return row, start, _TRUNCATED
        starts[row] = start
        ends[row] = pos
        for k in range(width):  # loops, not slice copies, whose shape checks are slow to compile
            vector_bytes[row, k] = data[pos + 1 + k]
        pos += 1 + width
    return rows, pos, _OK


@njit(cache=True, inline="always")
def _is_blank(byte):
    return byte == _SPACE or byte == 9 or byte == 13 or byte == 11 or byte == 12


@njit(cache=True)
def _parse_number(data, start, end):
    """``[+-]digits[.digits][e[+-]digits]`` to float64, correctly rounded; (value, False) if it can't."""
    i = start
    negative = data[i] == 45
    if data[i] == 45 or data[i] == 43:
        i += 1
    mantissa = 0
    exponent = 0
    digits = 0
    seen_point = False
    while i < end:
        byte = data[i]
        if 48 <= byte <= 57:
            if mantissa >= _MANTISSA_LIMIT:
                return 0.0, False
            mantissa = mantissa * 10 + (byte - 48)
            digits += 1
            if seen_point:
                exponent -= 1
        elif byte == 46 and not seen_point:
            seen_point = True
        else:
            break
        i += 1
    if digits == 0:
        return 0.0, False
    if i < end and (data[i] == 101 or data[i] == 69):
        i += 1
        exponent_negative = i < end and data[i] == 45
        if i < end and (data[i] == 45 or data[i] == 43):
            i += 1
        if i == end:
            return 0.0, False
        written = 0
        while i < end and 48 <= data[i] <= 57 and written < 1000:
            written = written * 10 + (data[i] - 48)
            i += 1
        exponent += -written if exponent_negative else written
    if i != end:
        return 0.0, False
    if mantissa == 0:
        value = 0.0
    elif 0 <= exponent <= 22:
        value = mantissa * _EXACT_POWERS[exponent]
    elif -22 <= exponent < 0:
        value = mantissa / _EXACT_POWERS[-exponent]
    else:
        return 0.0, False
    return (-value if negative else value), True


@njit(cache=True)
def _scan_text(data, pos, rows, dim, vectors, starts, ends, slow_rows):
    """Parse one line per row, skipping blank lines; rows with numbers the fast path declines are
    listed in ``slow_rows`` with their line's end. Returns (rows done, position, problem, slow rows)."""
    size = data.shape[0]
    n_slow = 0
    for row in range(rows):
        while pos < size and (data[pos] == _NEWLINE or _is_blank(data[pos])):
            pos += 1
        if pos == size:
            return row, pos, _ENDS, n_slow
        line_start = pos
        while pos < size and data[pos] != _SPACE and data[pos] != _TAB and data[pos] != _NEWLINE:
            pos += 1  # a tab ends the word too, as in the C tool's reading (fscanf's %s)
        starts[row] = line_start
        ends[row] = pos
        count = 0
        slow = False
        while True:
            while pos < size and _is_blank(data[pos]):
                pos += 1
            if pos == size or data[pos] == _NEWLINE:
                break
            token = pos
            while pos < size and data[pos] != _NEWLINE and not _is_blank(data[pos]):
                pos += 1
            if count == dim:
                return row, line_start, _TOO_MANY, n_slow
            value, exact = _parse_number(data, token, pos)
            vectors[row, count] = value
            slow = slow or not exact
            count += 1
        if count < dim:
            return row, line_start, _TOO_FEW, n_slow
        if slow:
            slow_rows[n_slow, 0] = row
            slow_rows[n_slow, 1] = pos
            n_slow += 1
    return rows, pos, _OK, n_slow


@njit(cache=True)
def _join_words(data, starts, ends):
    """The words' bytes separated by newlines, ready for one decode."""
    n = starts.shape[0]
    total = max(n - 1, 0)
    for i in range(n):
        total += ends[i] - starts[i]
    out = np.empty(total, dtype=np.uint8)
    at = 0
    for i in range(n):
        if i:
            out[at] = _NEWLINE
            at += 1
        length = ends[i] - starts[i]
        for k in range(length):
            out[at + k] = data[starts[i] + k]
        at += length
    return out
