"""Progress lines on stderr for long work: percent, words/sec, learning rate and time left."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Iterator, TextIO


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Redraws one line on a terminal twice a second; elsewhere prints a line every ten seconds."""

    def __init__(self, total: int, quiet: bool = False, stream: TextIO | None = None, done: int = 0) -> None:
        """``done`` is the work already done before this start (a resumed run), not in its speed."""
        self.total = max(total, 1)
        self.done_before = done
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet or self.stream is None  # standard error closed when the process started (2>&-)
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = 0.5 if self.interactive else 10.0
        self.start = time.perf_counter()
        self.last = self.start

    def update(self, done: int, alpha: float) -> None:
        now = time.perf_counter()
        if self.quiet or now - self.last < self.interval:
            return
        self.last = now
        elapsed = now - self.start
        rate = (done - self.done_before) / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else 0.0
        line = (f"{100.0 * done / self.total:5.1f}%  {rate / 1e6:6.3f}M words/s  "
                f"alpha {alpha:.6f}  ETA {_clock(left)}")
        if self.interactive:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.interactive and not self.quiet and self.last > self.start:
            self.stream.write("\n")
            self.stream.flush()

    def say(self, message: str, even_if_quiet: bool = False) -> None:
        if self.stream is not None and (even_if_quiet or not self.quiet):
            self.stream.write(message + "\n")
            self.stream.flush()


class _ForgivingStream:
    """Standard error whose failed write (a closed pipe: ``2>&1 | head``; a terminal gone) drops it and
    the lines after it, instead of ending the command: a status line is not worth a finished run."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._broken = False

    def write(self, text: str) -> int:
        self._attempt(self._stream.write, text)
        return len(text)

    def flush(self) -> None:
        self._attempt(self._stream.flush)

    def _attempt(self, action, *arguments) -> None:
        if not self._broken:
            try:
                action(*arguments)
            except (OSError, ValueError):  # ValueError: the stream was closed
                self._broken = True

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextlib.contextmanager
def forgiving_stderr() -> Iterator[None]:
    """Within: ``sys.stderr`` as ``_ForgivingStream``, for the command line's status lines and errors."""
    stream = sys.stderr
    if stream is None or isinstance(stream, _ForgivingStream):  # closed at the start (2>&-), or taken care of
        yield
        return
    sys.stderr = _ForgivingStream(stream)
    try:
        yield
    finally:
        sys.stderr = stream
