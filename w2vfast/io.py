"""Atomic file output: write beside the target, then rename, so a reader never sees half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import BinaryIO, Iterator

from .errors import W2VError


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def check_writable(path: str) -> str:
    """The directory of ``path``, once sure ``path`` can be written: long runs check before they start."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise W2VError(f"output directory does not exist: {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise W2VError(f"cannot write in {directory}: permission denied")
    if os.path.isdir(path):
        raise W2VError(f"cannot write {path}: it is a directory")
    return directory


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only once it is completely written and synced."""
    directory = check_writable(path)
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as exc:
        raise W2VError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.chmod(temp, _default_mode())
        with os.fdopen(fd, "wb", buffering=1 << 20) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise W2VError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
