"""``python -m w2vfast``: the command line, as the ``w2vfast`` console script runs it."""

from .cli import run

run()
