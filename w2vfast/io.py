"""Atomic file output: write beside the target, then rename, so a reader never sees half a file.

A symbolic link is written through, not replaced; a FIFO, a device (``/dev/null``) or a socket is
written in place, as there is no file to replace (and renaming over it would put a file there);
``-`` is standard output, as it is the standard input among the inputs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import tempfile
import time
from typing import BinaryIO, Iterator

from .errors import W2VError, WrongType


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def is_special(path: str) -> bool:
    """Whether ``path`` is an existing FIFO, device or socket (through links): written in place."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


STANDARD_OUTPUT = "-"


def output_name(path: str) -> str:
    """``path`` as messages name an output: ``-`` is standard output."""
    return "standard output" if path == STANDARD_OUTPUT else path


def as_path(path, name: str) -> str:
    """``path`` (a string or a ``pathlib.Path``) as a string; anything else is refused: a whole number
    would be opened as a file descriptor, and closed after (``0``: standard input)."""
    if not isinstance(path, (str, os.PathLike)):
        raise WrongType(f"{name} must be a path, not {path!r:.40}")
    return os.fspath(path)


def check_writable(path: str) -> None:
    """Refuse ``path`` unless it can be written: long runs check before they start."""
    if path == "":
        raise W2VError("an output name is empty: give a file, or - for standard output")
    if path == STANDARD_OUTPUT:
        if sys.stdout is None:  # the process was started with it closed (>&-)
            raise W2VError("standard output is closed: give a file instead of -")
        return
    directory = _output_directory(path)
    if not is_special(path):
        _probe(directory, path)


def _output_directory(path: str) -> str:
    """The directory of ``path``, once what can be told without writing says ``path`` can be written."""
    if is_special(path):
        if not os.access(path, os.W_OK):
            raise W2VError(f"cannot write {path}: {_why_not_writable(path)}")
        return os.path.dirname(os.path.abspath(path))
    try:
        os.stat(path)
    except OSError as exc:  # not there yet, or a dangling link, is written; a loop of links cannot be
        if exc.errno == errno.ELOOP:
            raise W2VError(f"cannot write {path}: {exc.strerror}") from None
    if path.endswith(os.sep):
        raise W2VError(f"cannot write {path}: it names a directory")
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise W2VError(f"output directory does not exist: {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise W2VError(f"cannot write in {directory}: {_why_not_writable(directory)}")
    if os.path.isdir(target):
        raise W2VError(f"cannot write {path}: it is a directory")
    return directory


def _why_not_writable(path: str) -> str:
    """What ``os.access`` meant by no: a read-only file system refuses root too."""
    try:
        read_only = os.statvfs(path).f_flag & os.ST_RDONLY
    except OSError:
        read_only = False
    return "it is on a read-only file system" if read_only else "permission denied"


def _probe(directory: str, path: str) -> None:
    """Make and remove a file in ``directory``: what ``os.access`` says does not hold for root on a
    read-only or immutable directory, or in ``/proc``."""
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=".tmp")
    except OSError as exc:
        raise W2VError(f"cannot write {path}: no file can be made in {directory} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)


def allocate(handle, size: int) -> None:
    """Give the open file ``handle`` ``size`` bytes of disk now. One only truncated to that size is
    sparse, and when the disk then fills, writing a page of its memory map kills the process (SIGBUS)
    instead of raising an error."""
    if hasattr(os, "posix_fallocate") and size > 0:
        os.posix_fallocate(handle.fileno(), 0, size)
    else:  # macOS has no way to take it up front
        handle.truncate(size)


def check_apart(outputs: dict[str, str | None], corpus: list[str] | None,
                inputs: dict[str, str | None] | None = None) -> None:
    """Refuse an output (``{flag: path}``) that names a corpus file, another input (``{what it is:
    path}``, such as ``"the --phrases table"``) or another output, through links too: the input would be
    lost, or one output overwrite the other (vectors written over the checkpoint leave no run to resume),
    or two outputs mix on standard output (``-``); and two inputs that would both read one stream."""
    check_read_once([("the corpus", path) for path in corpus or ()]
                    + [(what, path) for what, path in (inputs or {}).items() if path is not None])
    owners = {}
    for source in corpus or ():
        try:
            inside = [os.path.join(source, name) for name in os.listdir(source)] if os.path.isdir(source) else [source]
        except OSError:  # an unreadable directory, which reading the corpus reports
            inside = []
        owners.update((_identity(path), "a corpus file") for path in inside if path != "-")
    owners.update((_identity(path), what) for what, path in (inputs or {}).items() if path not in (None, "-"))
    read = set(owners.values())
    for flag, path in outputs.items():
        if path is None:
            continue
        owner = owners.setdefault(_standard_output_identity() if path == STANDARD_OUTPUT else _identity(path), flag)
        if path == STANDARD_OUTPUT and owner != flag and outputs.get(owner) == STANDARD_OUTPUT:
            raise W2VError(f"{owner} - and {flag} - would both write to standard output: give one of them a file")
        if owner in read:
            raise W2VError(f"{flag} {path} is {owner}: the run would overwrite it")
        if owner != flag:
            raise W2VError(f"{flag} {path} is also {owner}: one would overwrite the other")


def check_read_once(named: list[tuple[str, str]]) -> None:
    """Refuse two inputs (``(what it is, path)``) that would read one stream: standard input as ``-``
    twice, or one pipe by two names (``- /dev/stdin``, a FIFO given twice). Its text is read once, and
    the second reader would silently get nothing. Regular files and directories may be named twice."""
    readers: dict[tuple, tuple[str, str]] = {}
    for what, path in named:
        for stream in _streams(path):
            if stream not in readers:
                readers[stream] = (what, path)
                continue
            first_what, first_path = readers[stream]
            if first_what != what and path == first_path == "-":
                raise W2VError(f"{first_what} and {what} would both read standard input (-): give one of them a file")
            if first_what != what:
                raise W2VError(f"{first_what} ({first_path}) and {what} ({path}) would both read one pipe, "
                               "whose text can be read once: give one of them a file")
            if path == first_path == "-":
                raise W2VError("- is given twice: standard input can be read once")
            raise W2VError(f"{first_path} and {path} name one pipe, whose text can be read once: give it once")


def _streams(path: str) -> list[tuple]:
    """What reading ``path`` consumes: standard input for ``-`` (whatever it is), and the pipe, socket
    or device it leads to."""
    try:  # standard input as ``-`` reads it (click's tests give it a stream with no descriptor)
        info = os.fstat(sys.stdin.fileno()) if path == "-" else os.stat(path)
    except (AttributeError, OSError, ValueError):  # closed (None), no descriptor, or missing: reading it says so
        info = None
    streams = [("standard input",)] if path == "-" else []
    if info is not None and not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        streams.append(("stream", info.st_dev, info.st_ino))
    return streams


def _standard_output_identity() -> tuple:
    """The file standard output leads to, which ``/dev/stdout`` names too."""
    try:
        info = os.fstat(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # closed, or not a file (a test's capture)
        return ("standard output",)
    return ("file", info.st_dev, info.st_ino)


def same_file(path: str, other: str) -> bool:
    """Whether the two paths lead to one file, through links too (or would, once it exists)."""
    return _identity(path) == _identity(other)


def _identity(path: str) -> tuple:
    """The file ``path`` leads to: its device and inode if it exists, else its resolved path."""
    try:
        info = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(path))
    return ("file", info.st_dev, info.st_ino)


# A temporary untouched this long, whose writer's process is gone, was abandoned (SIGKILL, power
# loss). The age guards a writer in another PID namespace, whose process this one cannot see.
_ABANDONED_SECONDS = 600
_TEMP_TAIL = re.compile(r"(\d+)\.[a-z0-9_]{8}\.tmp")  # PID, then mkstemp's eight characters


def _temp_prefix(path: str) -> str:
    return "." + os.path.basename(path) + "."


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is not ours to signal
        return True
    return True


def _remove_abandoned(directory: str, path: str) -> None:
    """Delete the temporaries (``.NAME.PID.XXXX.tmp``) of earlier writers of ``path`` killed mid-write."""
    prefix = _temp_prefix(path)
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            name = entry.name
            ours = name.startswith(prefix) and _TEMP_TAIL.fullmatch(name[len(prefix):])
            if not ours or _is_running(int(ours.group(1))):
                continue
            with contextlib.suppress(OSError):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime > _ABANDONED_SECONDS:
                    os.unlink(entry.path)


class WholeWrites:
    """A binary file whose ``write`` writes all it is given or raises. A buffered file hands a write
    larger than its buffer to the system and returns what the system took: a short count, not an
    error, when a file-size limit or a disk that fills up cuts it, and the rest would be lost."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        done = self._file.write(view)
        while done < len(view):  # the next call meets the error that cut this one
            done += self._file.write(view[done:])
        return len(view)

    def __getattr__(self, name: str):
        return getattr(self._file, name)


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only once it is completely written and synced.

    The temporary beside it is named after this process, so that a later write of ``path`` can
    remove one that a killed writer left behind."""
    if path == STANDARD_OUTPUT:
        with _standard_output() as out:
            yield out
        return
    if is_special(path):
        with _in_place(path) as out:
            yield out
        return
    directory = _output_directory(path)  # the temporary made next is the probe
    target = os.path.realpath(path)  # a link is written through
    _remove_abandoned(directory, target)
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f"{_temp_prefix(target)}{os.getpid()}.", suffix=".tmp")
    except OSError as exc:
        raise W2VError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.chmod(temp, _default_mode())
        with os.fdopen(fd, "wb", buffering=1 << 20) as out:
            yield WholeWrites(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise W2VError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


@contextlib.contextmanager
def _standard_output() -> Iterator[BinaryIO]:
    check_writable(STANDARD_OUTPUT)
    try:
        yield WholeWrites(sys.stdout.buffer)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise W2VError("standard output was closed before everything was written to it") from None
    except OSError as exc:
        raise standard_output_failed(exc) from None


def standard_output_failed(exc: OSError) -> W2VError:
    """The one-line error of a write to standard output that failed (a full disk); what is still
    buffered for it then goes nowhere, so that Python's exit does not fail on it again."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return W2VError(f"cannot write to standard output: {exc.strerror or exc}")


@contextlib.contextmanager
def _in_place(path: str) -> Iterator[BinaryIO]:
    try:
        with open(path, "wb") as out:
            yield WholeWrites(out)
    except OSError as exc:
        raise W2VError(f"cannot write {path}: {exc.strerror or exc}") from None
