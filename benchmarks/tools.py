"""The tools under comparison: whether each is installed, its version, and the command for one run.

Every run is its own process, so that wall time and peak memory are whole-process figures. w2vfast,
gensim and fastText run through the small runner scripts beside this file; the C tool directly.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from benchmarks.jobs import Job

REPO = Path(__file__).resolve().parent.parent


def package_version(*distributions: str) -> str | None:
    """The installed version of the first of ``distributions`` found, else None."""
    for name in distributions:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


class Tool:
    """One tool: ``missing`` says why it cannot run here (None when it can)."""

    name = ""
    label = ""

    def missing(self) -> str | None:
        return None

    def version(self) -> str:
        return ""

    def command(self, job: Job, corpus: str, output: str) -> list[str]:
        raise NotImplementedError


class PythonRunner(Tool):
    """A Python library trained through ``benchmarks/<module>.py``."""

    import_name = ""
    module = ""
    distributions: tuple[str, ...] = ()
    install = ""

    def missing(self) -> str | None:
        if importlib.util.find_spec(self.import_name) is None:
            return f"not installed ({self.install})"
        return None

    def version(self) -> str:
        return package_version(*self.distributions) or "unknown"

    def command(self, job: Job, corpus: str, output: str) -> list[str]:
        return [sys.executable, "-m", f"benchmarks.{self.module}", corpus, output, job.to_json()]


class Gensim(PythonRunner):
    name, label, import_name, module = "gensim", "gensim", "gensim", "gensim_runner"
    distributions, install = ("gensim",), "pip install gensim"


class FastText(PythonRunner):
    name, label, import_name, module = "fasttext", "fastText", "fasttext", "fasttext_runner"
    distributions, install = ("fasttext-wheel", "fasttext"), "pip install fasttext-wheel"


class W2vfast(PythonRunner):
    """This checkout's w2vfast (the harness puts it first on PYTHONPATH)."""

    name, label, import_name, module = "w2vfast", "w2vfast", "w2vfast", "w2vfast_runner"

    def version(self) -> str:
        """The package version and the checkout's commit (``-dirty`` with uncommitted changes)."""
        import w2vfast

        try:
            described = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                                       capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            return w2vfast.__version__
        return f"{w2vfast.__version__} ({described.stdout.strip()})"


class WordC(Tool):
    """Google's word2vec C tool: ``--c-binary`` if given, else the one ``pip install word2vec``
    builds beside this Python, else ``word2vec`` on PATH."""

    name, label = "c", "word2vec C"

    def __init__(self, binary: str | None = None) -> None:
        self.given = binary
        pip_built = os.path.join(sysconfig.get_path("scripts"), "word2vec")
        self.pip_built = pip_built if os.access(pip_built, os.X_OK) else None
        self.binary = binary or self.pip_built or shutil.which("word2vec")

    def missing(self) -> str | None:
        if self.given and not os.access(self.given, os.X_OK):
            return f"--c-binary {self.given} is not an executable file"
        if self.binary is None:
            return "not installed (pip install word2vec, or --c-binary PATH)"
        return None

    def version(self) -> str:
        if self.binary == self.pip_built:
            return f"from pip word2vec {package_version('word2vec') or '(version unknown)'}"
        return f"at {self.binary}"

    def command(self, job: Job, corpus: str, output: str) -> list[str]:
        options = {"-train": corpus, "-output": output, "-binary": 1, "-cbow": int(job.model == "cbow"),
                   "-size": job.dim, "-window": job.window, "-negative": job.negative, "-hs": int(job.hs),
                   "-sample": job.sample, "-min-count": job.min_count, "-threads": job.threads,
                   "-iter": job.epochs, "-alpha": job.alpha}
        return [self.binary] + [str(x) for pair in options.items() for x in pair]

    def vocabulary_pass(self, corpus: str, vocab_output: str, min_count: int) -> list[str]:
        """Only the C tool's vocabulary pass: with no ``-output`` it stops after saving the vocabulary."""
        return [self.binary, "-train", corpus, "-save-vocab", vocab_output, "-min-count", str(min_count)]


def reference_tools(c_binary: str | None = None) -> list[Tool]:
    """The tools users would pick instead of w2vfast, in the order of the tables."""
    return [Gensim(), WordC(c_binary), FastText()]
