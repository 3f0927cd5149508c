"""Whole-process measurements (wall time, peak resident memory) of one command, and their inputs."""

from __future__ import annotations

import argparse
import json
import mmap
import os
import platform
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "launch.py"


@dataclass
class Measurement:
    wall_seconds: float
    peak_rss_mb: float
    exit_code: int


def run_measured(argv: list[str], env: dict, log_path: str) -> Measurement:
    """Run ``argv`` through ``launch.py`` (see there why), its stdout and stderr into ``log_path``.

    The launcher and the command run in a process group of their own, which a stopped harness (Ctrl-C,
    SIGTERM to it alone) ends whole: killing the launcher alone left the command running, orphaned."""
    result_path = log_path + ".measured.json"
    with open(log_path, "wb") as log:
        launcher = subprocess.Popen([sys.executable, str(LAUNCHER), result_path] + argv, stdout=log,
                                    stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            status = launcher.wait()
        except BaseException:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
            raise
    if status != 0:
        raise subprocess.CalledProcessError(status, launcher.args)
    with open(result_path) as handle:
        figures = json.load(handle)
    os.unlink(result_path)
    return Measurement(figures["wall_seconds"], figures["peak_rss_bytes"] / 2**20, figures["exit_code"])


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1 (0 threads, repeats or rounds end in a division by
    zero after the runs, or in runs that train nothing and are timed as fast ones)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def existing_file(text: str) -> str:
    """An argparse type: a file that is there (a corpus w2vfast reads: compressed ones too)."""
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"file not found: {text}")
    return text


def plain_text_file(text: str) -> str:
    """An argparse type: a corpus file that every tool reads as it is; the C tool and fastText train on
    a compressed file's bytes, and their timings would be of that."""
    from w2vfast.sources import HEAD_BYTES, compression_opener

    with open(existing_file(text), "rb") as head:
        if compression_opener(head.read(HEAD_BYTES)) is not None:
            raise argparse.ArgumentTypeError(f"{text} is compressed, which the reference tools read as text: "
                                             "give it unpacked")
    return text


def write_slice(corpus: str, path: str, words: int) -> int:
    """The first ``words`` words of ``corpus``, its line breaks kept: the corpus of a quick run.
    Returns how many words it took (fewer where the corpus is shorter)."""
    taken, end = 0, None
    with open(corpus, "rb") as source, mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as text:
        for taken, match in enumerate(re.finditer(rb"\S+", text), 1):
            if taken == words:
                end = match.end()
                break
        with open(path, "wb") as out:
            out.write(text[:end])
    return taken


def analogy_and_wordsim(vectors, questions: str, wordsim: str) -> dict:
    """Analogy accuracy in percent over the 30,000 most frequent words, as in ``../shared/data/README.md``,
    and WordSim-353's Spearman, by w2vfast's evaluator."""
    from w2vfast.evaluate import evaluate_analogies, evaluate_word_pairs

    analogy = evaluate_analogies(vectors, questions, restrict_vocab=30_000).total.accuracy
    return {"analogy": 100 * analogy, "ws353": evaluate_word_pairs(vectors, wordsim).spearman}


def machine() -> dict:
    """The CPU, the cores this process may use, the memory and the system."""
    cpu = platform.processor() or platform.machine()
    memory_gb = None
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
        cpu = names[0] if names else cpu
    if os.path.exists("/proc/meminfo"):
        with open("/proc/meminfo") as info:
            total_kb = next(int(line.split()[1]) for line in info if line.startswith("MemTotal"))
        memory_gb = round(total_kb / 2**20, 1)
    return {"cpu": cpu, "cores": usable_cores(), "memory_gb": memory_gb, "system": platform.platform(),
            "python": platform.python_version()}


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
