"""Ctrl-C and SIGTERM: stop at once outside training, at the next safe point inside it.

Python delivers a signal between bytecodes, so a handler that raises can stop the tool anywhere;
that is fine while nothing is half done (files are written through ``io.atomic_write``). Inside a
training run the handler only records the request, and the run checks it between kernel calls,
where the weights and random states form a consistent state that a checkpoint can keep.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator

from .errors import Interrupted

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Set by the first Ctrl-C or SIGTERM: ``signum`` is its number, ``None`` until one arrives."""

    def __init__(self) -> None:
        self.signum: int | None = None


@contextlib.contextmanager
def _handlers(handler: Callable) -> Iterator[None]:
    """Install ``handler`` for the stop signals, if this thread may (only the main thread can).

    A signal the tool was started ignoring stays ignored: a shell starts background jobs ignoring
    Ctrl-C, so that one pressed for the foreground job does not stop them too.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = [(signum, signal.signal(signum, handler)) for signum in STOP_SIGNALS
                if signal.getsignal(signum) is not signal.SIG_IGN]
    try:
        yield
    finally:
        for signum, old in previous:
            signal.signal(signum, old)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def stop_at_once() -> contextlib.AbstractContextManager[None]:
    """Turn SIGTERM, like Ctrl-C, into an exception, so ``finally`` blocks remove temporary files."""
    return _handlers(_raise_interrupted)


@contextlib.contextmanager
def stop_at_safe_point() -> Iterator[StopRequest]:
    """Record the first stop signal in the yielded request; a second one stops at once."""
    request = StopRequest()

    def record(signum, frame):
        if request.signum is not None:
            raise Interrupted(signum)
        request.signum = signum

    with _handlers(record):
        yield request
