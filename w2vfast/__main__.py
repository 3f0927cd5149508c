"""``python -m w2vfast`` and the ``w2vfast`` console script: the command line (``cli.py``), with a
Ctrl-C pressed while Python still imports it (NumPy, Numba: about 0.3 s) ending it in one line too."""

import sys


def run() -> None:
    try:
        from .cli import run as command_line
    except KeyboardInterrupt:
        if sys.stderr is not None:
            sys.stderr.write("w2vfast: stopped by SIGINT\n")
        sys.exit(130)
    command_line()


if __name__ == "__main__":
    run()
