"""The memory guard: a run that cannot fit stops before allocating, saying what it needs and what helps."""

import gzip
import os
import resource
import subprocess
import sys

import pytest

import w2vfast
from w2vfast import memory
from w2vfast.config import TrainConfig
from w2vfast.errors import W2VError
from conftest import FAST

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/meminfo")
def test_available_memory_is_known_on_linux():
    available = memory.available_bytes()
    assert isinstance(available, int) and 0 < available <= os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_estimate_counts_every_weight_matrix():
    def weights(**options):
        return memory.training_bytes(1000, TrainConfig(dim=50, threads=1, **options))["weights"]

    row = 56 * 4  # 50 floats, stored padded to 7 vectors of 8
    assert weights(negative=5) == 2 * 1000 * row
    assert weights(negative=0, hs=True) == 2 * 1000 * row
    assert weights(negative=5, hs=True) == 3 * 1000 * row


def write_cgroup(directory, limit, usage, inactive_file):
    paths = [directory / "limit", directory / "usage", directory / "stat"]
    paths[0].write_text(f"{limit}\n")
    paths[1].write_text(f"{usage}\n")
    paths[2].write_text(f"anon 1\ninactive_file {inactive_file}\nactive_file 5\n")
    return tuple(map(str, paths))


def test_a_container_limit_caps_what_is_available(tmp_path, monkeypatch):
    mib = 2**20
    monkeypatch.setattr(memory, "_CGROUP_FILES", (write_cgroup(tmp_path, 1000 * mib, 600 * mib, 100 * mib),))
    assert memory._cgroup_room() == 500 * mib
    assert memory.available_bytes() <= 500 * mib
    monkeypatch.setattr(memory, "_CGROUP_FILES", (write_cgroup(tmp_path, "max", 600 * mib, 0),))
    assert memory._cgroup_room() is None


def test_corpus_that_cannot_fit_stops_before_reading(planted_file, tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 1000)
    size = os.path.getsize(planted_file)
    encoded, buffers = memory.size_text(4 * (size // 5)), memory.size_text(4 * size)  # a small text's buffers
    with pytest.raises(W2VError, match=rf"reading the corpus needs about .* of memory \(encoded corpus {encoded}, "
                                       rf"read buffers {buffers}\) but only 0\.0 MiB is available: --disk-corpus "
                                       r"DIR keeps it on disk, or --force tries anyway"):
        w2vfast.train(planted_file, **FAST)
    with pytest.raises(W2VError, match=rf"^reading the corpus needs about .* \(read buffers {buffers}\)"):
        w2vfast.train(planted_file, disk_corpus=str(tmp_path), **FAST)  # the corpus goes to disk: not counted
    packed = tmp_path / "planted.txt.gz"  # as a stream, of a size not known before: blocks of 16 MB
    packed.write_bytes(gzip.compress(open(planted_file, "rb").read()))
    with pytest.raises(W2VError, match=r"^reading the corpus needs about .* \(encoded corpus 0\.0 MiB, read buffers "
                                       r"80\.0 MiB\)"):
        w2vfast.train(str(packed), **FAST)
    assert len(w2vfast.train(planted_file, force=True, **FAST)) == 40


def test_weights_that_cannot_fit_stop_before_training(planted_file, monkeypatch):
    corpus_bytes = sum(memory.corpus_bytes(os.path.getsize(planted_file)).values())
    monkeypatch.setattr(memory, "available_bytes", lambda: corpus_bytes + 1)
    with pytest.raises(W2VError, match=r"training needs about .* \(weights .*, tables .*, thread buffers .*\) "
                                       r"but only .* is available: a larger --min-count, a smaller --max-vocab "
                                       r"or a smaller --dim needs less, or --force tries anyway"):
        w2vfast.train(planted_file, **{**FAST, "dim": 4096, "threads": 1})  # the weights outweigh the buffers


def test_impossible_run_is_refused_on_the_command_line(tmp_path):
    corpus = tmp_path / "wide.txt"
    corpus.write_text(" ".join(f"w{i}" for i in range(5000)) + "\n")
    base = [sys.executable, "-m", "w2vfast.cli", "train", str(corpus), "-o", str(tmp_path / "v.bin"),
            "--min-count", "1", "--dim", str(10**9), "--threads", "1", "--quiet"]
    refused = subprocess.run(base, cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 1
    assert refused.stderr.startswith("w2vfast: error: training needs about ")
    assert "of memory (weights 37,252.9 GiB, " in refused.stderr
    assert refused.stderr.count("\n") == 1 and "--max-vocab" in refused.stderr
    # --force skips the guard; the allocation itself then fails, still without a traceback. The child's
    # address space is bounded, so the allocation fails whatever the kernel's overcommit policy.
    forced = subprocess.run(base + ["--force"], cwd=ROOT, capture_output=True, text=True,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30)))
    assert forced.returncode == 1
    assert forced.stderr.startswith("w2vfast: error: out of memory")
    assert os.listdir(tmp_path) == ["wide.txt"]
