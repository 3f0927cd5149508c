"""Ctrl-C, SIGTERM and SIGHUP: stop at once outside training, at the next safe point inside it.

Python delivers a signal between bytecodes, so a handler that raises can stop the tool anywhere;
that is fine while nothing is half done (files are written through ``io.atomic_write``). Inside a
training run the handler only records the request, and the run checks it between kernel calls,
where the weights and random states form a consistent state that a checkpoint can keep.

Anywhere but inside Numba or llvmlite: an exception raised in their Python code (loading a compiled
function from the cache, say) can leave their compiler lock held, and the next compiled call, in any
thread, then waits forever; or it reaches a dispatcher's C code as a ``SystemError``. Nor inside a
finaliser (``__del__``, which Dask's futures have): Python prints what it raises as "Exception
ignored", with a traceback, and drops it. There the stop waits until the main thread is back in
other code; a second signal stops at once.
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import threading
import time
from typing import Callable, Iterator

from .errors import Interrupted

# SIGHUP is what a closed terminal or a dropped ssh session sends: a stop like the others, which saves
# the run and leaves no temporary file, where its default ended the process on the spot.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_UNSAFE_TO_RAISE_IN = ("numba", "llvmlite")
_RETRY_SECONDS = 0.02
# The same signal again this soon is the first one's echo, not a second request: ``timeout`` sends
# its SIGTERM to the command and then to the command's process group, which holds the command.
_ECHO_SECONDS = 0.25
_last_stop = [0, 0.0]  # the last stop signal taken (raised, or recorded at a safe point), and when


def _take(signum: int) -> None:
    _last_stop[:] = [signum, time.monotonic()]


def is_echo(signum: int) -> bool:
    """``signum`` is the echo of the stop taken last (see ``_ECHO_SECONDS``), which must not stop the
    tool a second time, with a second line, while it ends."""
    return signum == _last_stop[0] and time.monotonic() - _last_stop[1] <= _ECHO_SECONDS


class StopRequest:
    """Set by the first Ctrl-C or SIGTERM: ``signum`` is its number, ``None`` until one arrives, and
    ``at`` when it came."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.at = 0.0


class _Raiser:
    """Raises ``Interrupted`` for a stop signal, once the main thread is out of Numba and llvmlite:
    until then it asks again every ``_RETRY_SECONDS`` (``_thread.interrupt_main`` calls the handler
    as the signal would). A signal that comes while one waits raises at once."""

    deferred: _Raiser | None = None  # the one waiting to raise, which a training run takes over

    def __init__(self) -> None:
        self.waiting = False
        self.retrying = False
        self.timer: threading.Timer | None = None
        self.signum: int | None = None

    def __call__(self, signum: int, frame) -> None:
        retry, self.retrying = self.retrying, False
        if not retry and is_echo(signum):
            return
        if (retry or not self.waiting) and _unsafe_to_raise_in(frame):
            if not self.waiting:
                _take(signum)  # its echo while it waits is no second request
            self.waiting, self.signum = True, signum
            _Raiser.deferred = self
            self.timer = threading.Timer(_RETRY_SECONDS, self._again, (signum,))
            self.timer.daemon = True
            self.timer.start()
            return
        self.close()
        _take(signum)
        raise Interrupted(signum)

    @classmethod
    def take_deferred(cls) -> int | None:
        """The signal a raiser still waits to raise, which the caller now handles instead; else None."""
        raiser, cls.deferred = cls.deferred, None
        if raiser is None or raiser.timer is None:
            return None
        raiser.close()
        return raiser.signum

    def _again(self, signum: int) -> None:
        if self.timer is not None:
            self.retrying = True
            _thread.interrupt_main(signum)

    def close(self) -> None:
        """No more retries: the stop was raised, or the handlers are going."""
        timer, self.timer = self.timer, None
        if timer is not None:
            timer.cancel()
        if _Raiser.deferred is self:
            _Raiser.deferred = None


def _unsafe_to_raise_in(frame) -> bool:
    while frame is not None:
        package = frame.f_globals.get("__name__", "").partition(".")[0]
        if package in _UNSAFE_TO_RAISE_IN or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def _handlers(handler: Callable, raiser: _Raiser) -> Iterator[None]:
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
        raiser.close()
        for signum, old in previous:
            signal.signal(signum, old)


def stop_at_once() -> contextlib.AbstractContextManager[None]:
    """Turn SIGTERM and SIGHUP, like Ctrl-C, into an exception, so ``finally`` blocks remove temporary files."""
    raiser = _Raiser()
    return _handlers(raiser, raiser)


@contextlib.contextmanager
def stop_at_safe_point() -> Iterator[StopRequest]:
    """Record the first stop signal in the yielded request; a second one stops at once (but the same
    signal within ``_ECHO_SECONDS``). A stop that came while Numba compiled the kernels, before,
    is the first: the run stops at its first safe point."""
    request = StopRequest()
    raiser = _Raiser()
    request.signum = _Raiser.take_deferred()
    request.at = time.monotonic()

    def record(signum, frame):
        if request.signum is None:
            request.signum, request.at = signum, time.monotonic()
            _take(signum)
        elif not is_echo(signum):
            raiser(signum, frame)

    with _handlers(record, raiser):
        yield request
