"""Faults from outside, on real processes: signals, SIGKILL mid-write, full disks, closed pipes."""

import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import w2vfast
from w2vfast.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = ["--dim", "8", "--epochs", "1", "--min-count", "1", "--quiet"]


def command(*args):
    return [sys.executable, "-m", "w2vfast.cli", *map(str, args)]


def test_a_directory_as_output_is_refused_before_training(planted_file, tmp_path):
    result = CliRunner().invoke(main, ["train", planted_file, "-o", str(tmp_path), *QUICK])
    assert result.exit_code == 1
    assert result.output == f"w2vfast: error: cannot write {tmp_path}: it is a directory\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_directory_is_refused_before_training(planted_file, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = subprocess.run(command("train", planted_file, "-o", locked / "v.bin"), cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == f"w2vfast: error: cannot write in {locked}: permission denied\n"


PRINTER = """
import click
from w2vfast.cli import friendly_errors

@click.command()
@friendly_errors
def chatter():
    for i in range(100):
        print("line", i)

chatter()
"""


@pytest.fixture
def small_vectors(tmp_path):
    path = tmp_path / "v.bin"
    w2vfast.KeyedVectors([f"w{i}" for i in range(50)], np.eye(50, dtype=np.float32)).save(str(path))
    return path


@pytest.mark.parametrize("program", ["printer", "similar", "help"])
def test_closed_pipe_ends_quietly(program, small_vectors):
    """As in ``w2vfast similar ... | head -1`` once head has gone: no traceback, no complaint."""
    argv = {"printer": [sys.executable, "-c", PRINTER],
            "similar": command("similar", "-v", small_vectors, "--no-cache", "w0", "-n", "40"),
            "help": command("train", "--help")}[program]
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    read_end, write_end = os.pipe()
    os.close(read_end)
    result = subprocess.run(argv, cwd=ROOT, env=buffered, stdout=write_end, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 1
