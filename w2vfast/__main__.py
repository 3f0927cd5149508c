"""``python -m w2vfast`` and the ``w2vfast`` console script: the command line (``cli.py``), with a
Ctrl-C, SIGTERM or SIGHUP that comes while Python still imports it (NumPy, Numba: about 0.3 s) ending it in
one line too."""

import signal
import sys

from .errors import Interrupted
from .interrupt import STOP_SIGNALS, is_echo


def _stop(signum: int, frame) -> None:
    if not is_echo(signum):  # one the command took as it ended (``timeout`` sends SIGTERM twice)
        raise Interrupted(signum)


def run() -> None:
    for signum in STOP_SIGNALS:  # Python's own handler raises KeyboardInterrupt for SIGINT already
        if signal.getsignal(signum) is signal.SIG_DFL:  # one started ignoring it (nohup) keeps ignoring it
            signal.signal(signum, _stop)  # the command installs its own once it runs
    try:
        from .cli import run as command_line

        command_line()
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM as ``Interrupted``, before the command's handlers
        signum = getattr(stop, "signum", signal.SIGINT)
        if sys.stderr is not None:
            sys.stderr.write(f"w2vfast: stopped by {signal.Signals(signum).name}\n")
        sys.exit(128 + signum)


if __name__ == "__main__":
    run()
