"""Where corpus text comes from: files, directories and standard input, decompressed when their first
bytes say so, read in blocks by a thread that stays ahead of the scanner.

Plain Python: the bytes it yields go to the corpus scanner (``corpus.py``); the vectors readers use
its decompression too.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import queue
import re
import stat
import sys
import threading
import zlib
from typing import BinaryIO, Iterator

from .errors import DamagedFile, W2VError, unreadable
from .io import check_read_once

BLOCK_BYTES = 1 << 24
# How each compressed format starts: bzip2's "BZh" is text too, so its level and first block's (or
# its end's) magic number are part of it.
_MAGIC = ((re.compile(b"\x1f\x8b"), gzip.open), (re.compile(b"BZh[1-9](1AY&SY|\x17rE8P\x90)"), bz2.open),
          (re.compile(b"\xfd7zXZ\x00"), lambda file, mode="rb": io.BufferedReader(_XZStreams(file))))
HEAD_BYTES = 10  # as many as the longest of them
# Formats read as text would be trained on as garbage: how each starts, what it is, what unpacks it.
_UNREAD = ((b"\x28\xb5\x2f\xfd", "zstd-compressed", "zstd -dc"), (b"PK\x03\x04", "a zip archive", "unzip -p"))
# What a cut or garbled compressed stream raises besides OSError (which bz2 and gzip headers raise).
DECOMPRESSION_ERRORS = (EOFError, lzma.LZMAError, zlib.error)


def corpus_files(sources: list[str]) -> list[str]:
    """Expand directories (their regular files, sorted, hidden ones left out, not the directories in
    them, as gensim's ``PathLineSentences`` reads a directory) and check every file
    can be opened. A hidden file is no one's text: ``.DS_Store``, an editor's swap file, or the
    temporary of an output being written into the directory."""
    files, skipped = [], []
    for source in sources:
        if source == "-":
            files.append(source)
            continue
        try:
            inside = None
            if stat.S_ISDIR(os.stat(source).st_mode):  # its entries know their kind: no look at each file
                with os.scandir(source) as entries:
                    inside = sorted((entry.path, entry.is_file(), entry.is_dir()) for entry in entries
                                    if not entry.name.startswith("."))
        except FileNotFoundError:
            raise W2VError(f"corpus not found: {source}") from None
        except OSError as exc:  # a directory on the way that may not be searched, say
            raise W2VError(f"cannot read corpus {source}: {exc.strerror or exc}") from None
        if inside is None:
            files.append(source)
        else:
            files.extend(path for path, is_file, _ in inside if is_file)
            skipped.extend(path for path, _, is_directory in inside if is_directory)
    if not files:
        hint = f" (directories in them are not read: give {skipped[0]} itself, say)" if skipped else ""
        raise W2VError(f"no corpus files in {', '.join(sources) or 'the arguments'}{hint}")
    for path in files:
        if path != "-" and not os.access(path, os.R_OK):
            raise W2VError(f"corpus not readable: {path}")
    check_read_once([("the corpus", path) for path in files])  # a pipe named twice: its text is read once
    return files


def file_states(paths: list[str]) -> list[tuple | None]:
    """What shows that a corpus file changed: its inode, size, and modification and change times (the
    change time is set by every write, and cannot be set back). ``None`` for what is not a regular file."""
    states: list[tuple | None] = []
    for path in paths:
        try:
            info = os.stat(path) if path != "-" else None
        except OSError:
            info = None
        regular = info is not None and stat.S_ISREG(info.st_mode)
        states.append((info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns) if regular else None)
    return states


def changed_file(paths: list[str], before: list[tuple | None]) -> str | None:
    """The first of ``paths`` that is not as ``file_states`` found it, if one is not."""
    return next((path for path, was, now in zip(paths, before, file_states(paths)) if was != now), None)


def standard_input() -> BinaryIO:
    """Standard input's bytes; a process started with it closed (``<&-``) has none."""
    if sys.stdin is None:
        raise W2VError("standard input is closed")
    return sys.stdin.buffer


@contextlib.contextmanager
def open_corpus_file(path: str, copy: BinaryIO | None = None) -> Iterator[BinaryIO]:
    """Open a file (or ``-``, standard input), or read ``copy`` in its place, decompressing gzip,
    bzip2 or xz when its first bytes say so. The bytes are peeked, not consumed, so pipes and FIFOs
    work too."""
    shared = copy if copy is not None else standard_input() if path == "-" else None
    try:
        raw = shared if shared is not None else open(path, "rb")
    except OSError as exc:
        raise unreadable(f"cannot read corpus {path}: {exc.strerror or exc}", exc) from None
    try:
        peekable = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
        head = peekable.peek(HEAD_BYTES)[:HEAD_BYTES]
        unread = unread_format(head)
        if unread is not None:
            what, unpacker = unread
            plain = re.sub(r"\.(zst|zstd|zip)$", "", path, flags=re.IGNORECASE)
            plain = plain + ".txt" if plain == path else plain  # a file every command reads: a cluster's workers too
            how = f"unpack it with {unpacker} first" if path == "-" else f"{unpacker} {path} > {plain}"
            raise W2VError(f"cannot read corpus {path}: it is {what}, which w2vfast does not unpack: give it "
                           f"as text ({how})")
        opener = compression_opener(head)
        yield peekable if opener is None else opener(peekable, "rb")
    except (OSError, *DECOMPRESSION_ERRORS) as exc:
        raise W2VError(f"cannot read corpus {path}: {exc}") from None
    finally:
        if shared is None:
            raw.close()


def unread_format(head: bytes) -> tuple[str, str] | None:
    """What a file whose first bytes are ``head`` is, and what unpacks it, if it is a format w2vfast
    would otherwise read as text."""
    return next(((what, unpacker) for magic, what, unpacker in _UNREAD if head.startswith(magic)), None)


def decompressed(raw: bytes) -> bytes:
    """``raw``, decompressed when its first bytes say gzip, bzip2 or xz: a file read whole."""
    opener = compression_opener(raw[:HEAD_BYTES])
    return raw if opener is None else opener(io.BytesIO(raw)).read()


def read_decompressed(path: str, name: str) -> bytes:
    """The whole file ``path`` (``-``: standard input), decompressed as ``decompressed`` does; an error
    says "cannot read NAME"."""
    try:
        if path == "-":
            return decompressed(standard_input().read())
        with open(path, "rb") as handle:
            return decompressed(handle.read())
    except OSError as exc:
        raise unreadable(f"cannot read {name}: {exc.strerror or exc}", exc) from None
    except DECOMPRESSION_ERRORS as exc:
        raise DamagedFile(f"cannot read {name}: {exc}") from None


def compression_opener(head: bytes):
    """The opener of gzip, bzip2 or xz for a file whose first bytes are ``head``, else ``None``."""
    return next((opener for magic, opener in _MAGIC if magic.match(head)), None)


class _XZStreams(io.RawIOBase):
    """An xz file (a path or a binary file) read as xz-utils reads it: its streams one after another,
    with the zero bytes of stream padding between and after them, which Python's ``lzma.open`` takes
    for a stream cut short. A stream that is cut short raises ``EOFError``, other bytes ``LZMAError``."""

    def __init__(self, file) -> None:
        self.owned = isinstance(file, (str, os.PathLike))
        self.file = open(file, "rb") if self.owned else file
        self.decoder = lzma.LZMADecompressor(lzma.FORMAT_XZ)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            if self.decoder.eof:
                following = self._after_padding(self.decoder.unused_data)
                if not following:
                    return 0
                self.decoder = lzma.LZMADecompressor(lzma.FORMAT_XZ)
                data = self.decoder.decompress(following, len(buffer))
            elif self.decoder.needs_input:
                chunk = self.file.read(BLOCK_BYTES)
                if not chunk:
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
                data = self.decoder.decompress(chunk, len(buffer))
            else:
                data = self.decoder.decompress(b"", len(buffer))
            if data:
                buffer[:len(data)] = data
                return len(data)

    def _after_padding(self, unused: bytes) -> bytes:
        """The bytes after the stream padding that follows a stream; empty at the end of the file."""
        while True:
            unused = unused.lstrip(b"\0")
            if unused:
                return unused
            unused = self.file.read(BLOCK_BYTES)
            if not unused:
                return b""

    def close(self) -> None:
        if self.owned and not self.closed:
            self.file.close()
        super().close()


def read_blocks(paths: list[str], block_bytes: int = BLOCK_BYTES,
                copies: dict[str, BinaryIO] | None = None) -> Iterator[tuple[bytes, bool]]:
    """Yield ``(block, ends_file)`` pieces of at most ``block_bytes`` bytes (plus a split word), small
    files together (``joined_when_small``); ``copies`` are read from their start in place of the
    paths they are keyed by."""
    return joined_when_small((file_blocks(path, (copies or {}).get(path), block_bytes) for path in paths),
                             block_bytes)


def file_blocks(path: str, copy: BinaryIO | None = None, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """The text of the file ``path`` (or of ``copy``, from its start) in blocks of ``block_bytes``."""
    if copy is not None:
        copy.seek(0)
    with open_corpus_file(path, copy) as stream:
        while block := stream.read(block_bytes):
            yield block


def joined_when_small(texts: Iterator[Iterator[bytes]], block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[bytes, bool]]:
    """Each text (a file's blocks, all whole but the last) as ``(block, False)`` pieces, then ``(b"",
    True)``; texts shorter than a block go together into one piece, a newline after each that does
    not end in one. The readers end a line at a text's end as at a newline, so the words, the lines
    and the text written again are the same, and a directory of many small files is not a piece, a
    queued block and a compiled call a file (0.15-0.3 ms each)."""
    small: list[bytes] = []
    held = 0

    def together() -> Iterator[tuple[bytes, bool]]:
        nonlocal held
        if small:
            yield b"".join(small), False
            yield b"", True
            small.clear()
            held = 0

    for text in texts:
        first = next(text, b"")
        later = next(text, b"") if len(first) < block_bytes else b""  # read to its end, and its checks
        if len(first) < block_bytes and not later:
            if first:
                if small and not small[-1].endswith(b"\n"):
                    small.append(b"\n")
                small.append(first)
                held += len(first)
            if held >= block_bytes:
                yield from together()
            continue
        yield from together()
        read, first, later = [first, later], b"", b""  # held no longer than the reader holds them
        while read:
            if block := read.pop(0):
                yield block, False
        for block in text:
            yield block, False
        yield b"", True
    yield from together()


def read_ahead(items: Iterator, depth: int = 2) -> Iterator:
    """Produce ``items`` in a background thread, up to ``depth`` ahead of the consumer.

    File reads and decompression release the GIL, and so does the Numba scan, so reading the next
    block overlaps with scanning this one. Errors reach the consumer in order. Closing the returned
    generator early (a reader that stops halfway) stops the thread and closes the files.
    """
    pending: queue.Queue = queue.Queue(maxsize=depth)
    finished = object()
    stop = threading.Event()

    def offer(entry) -> bool:
        """Queue ``entry`` unless the consumer stops first."""
        while not stop.is_set():
            try:
                pending.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in items:
                if not offer((item, None)):
                    break
            offer((finished, None))
        except BaseException as exc:  # handed over to the consumer, which re-raises it
            offer((finished, exc))
        finally:
            if stop.is_set() and hasattr(items, "close"):
                items.close()

    threading.Thread(target=produce, daemon=True).start()
    try:
        while True:
            item, error = pending.get()
            if error is not None:
                raise error
            if item is finished:
                return
            yield item
    finally:
        stop.set()


def text_size(paths: list[str]) -> tuple[int, bool]:
    """The size of the uncompressed files among ``paths`` (what is known of the corpus before reading),
    and whether some of the text is of a size not known before it is read: a stream, or compressed.
    One look at each file, which a directory of many files pays for each look."""
    known, streamed = 0, False
    for path in paths:
        if os.path.isfile(path) and not is_compressed(path):
            known += os.path.getsize(path)
        else:
            streamed = True
    return known, streamed


def is_compressed(path: str) -> bool:
    """Only for regular files: probing a FIFO would consume what the reader needs."""
    try:
        with open(path, "rb") as probe:
            return compression_opener(probe.read(HEAD_BYTES)) is not None
    except OSError as exc:
        raise unreadable(f"cannot read corpus {path}: {exc.strerror or exc}", exc) from None
