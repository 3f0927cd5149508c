"""Will a run fit in memory? Estimated before the big allocations, against what the machine has free.

Linux overcommits: an allocation far beyond free memory usually succeeds, and the kernel kills the
process later, mid-run and without a message. So the sizes are estimated up front instead.
"""

from __future__ import annotations

import math
import numbers
import os
import re

from .config import MAX_SENTENCE_WORDS, TrainConfig
from .errors import InvalidArgument, W2VError, WrongType
from .kernels import padded_width
from .sharing import MAX_HOT_ROWS
from .sources import BLOCK_BYTES
from .vocab import MAX_CODE_LENGTH

# Plain text holds at most about one word per 5 bytes (wiki17m.txt: one per 5.9), so the corpus
# reader's first guess at the words in a file rarely has to grow; each word is an int32.
TEXT_BYTES_PER_WORD = 5
# Per vocabulary word besides the weights: subsampling and alias tables and their construction,
# the word as Python objects in the vocabulary and in the vectors' index.
VOCAB_BYTES_PER_WORD = 64 + 200
# Per word with hierarchical softmax: its Huffman path (int32 nodes, uint8 codes), about 40 deep.
HUFFMAN_BYTES_PER_WORD = 40 * 5
# The text on its way to the scanner: two blocks queued ahead (``sources.read_ahead``), the one
# scanned, that one joined with the word the block before cut off, and small files gathered into
# the next block (``sources.joined_when_small``).
READ_BUFFER_BYTES = 5 * BLOCK_BYTES
MIN_COUNTING_BUDGET = 32 << 20  # the word counter's first tables, with room to grow
MOST_COUNTING_BUDGET = 1 << 60
_CGROUP_FILES = (  # limit, usage, statistics (v2, then v1), as seen from inside a container
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.stat"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes",
     "/sys/fs/cgroup/memory/memory.stat"),
)


def _meminfo_available() -> int | None:
    """The kernel's estimate of memory available without swapping (free plus reclaimable cache)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_room() -> int | None:
    """What a container's memory limit leaves, not counting page cache the kernel can drop."""
    for limit_path, usage_path, stat_path in _CGROUP_FILES:
        try:
            with open(limit_path) as limit_file, open(usage_path) as usage_file:
                limit, usage = limit_file.read().strip(), int(usage_file.read())
            with open(stat_path) as stat_file:
                stats = dict(line.split() for line in stat_file if line.count(" ") == 1)
        except (OSError, ValueError):
            continue
        if not limit.isdigit() or int(limit) >= 1 << 60:  # "max", or v1's page-rounded 2**63: no limit
            return None
        cache = int(stats.get("inactive_file", stats.get("total_inactive_file", 0)))
        return max(int(limit) - usage + cache, 0)
    return None


def available_bytes() -> int | None:
    """Memory this process can still take, or ``None`` where the system does not say."""
    known = [room for room in (_meminfo_available(), _cgroup_room()) if room is not None]
    return min(known) if known else None


def corpus_bytes(text_bytes: int, on_disk: bool = False, streamed: bool = False) -> dict[str, int]:
    """The encoded corpus of ``text_bytes`` bytes of plain text, unless it is kept on disk, and the
    buffers it is read through, which a small text does not fill, but a stream or a compressed file
    (``streamed``: text of a size not known before) may."""
    encoded = {} if on_disk else {"encoded corpus": 4 * (text_bytes // TEXT_BYTES_PER_WORD)}
    return {**encoded, "read buffers": READ_BUFFER_BYTES if streamed else min(READ_BUFFER_BYTES, 4 * text_bytes)}


_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text) -> int:
    """Bytes from ``2G``, ``512M``, ``1.5G`` or a plain number (a number of bytes passes through)."""
    if isinstance(text, numbers.Real) and not isinstance(text, bool):
        if not isinstance(text, numbers.Integral) and not math.isfinite(text):  # an int may be past any float
            raise InvalidArgument(f"--vocab-memory must be a number of bytes, not {text}")
        size = int(text)
    elif isinstance(text, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
        if match is None:
            raise InvalidArgument(f"--vocab-memory must be a size such as 2G or 512M, not {text!r}")
        size = float(match.group(1)) * _UNITS[match.group(2).upper()]  # inf for 400 nines
    else:
        raise WrongType(f"--vocab-memory must be a number of bytes or a size such as 2G, not {text!r:.40}")
    if size < MIN_COUNTING_BUDGET:
        raise InvalidArgument(f"--vocab-memory must be at least {MIN_COUNTING_BUDGET >> 20}M, not {text}")
    if not size <= MOST_COUNTING_BUDGET:  # past any machine, and the sizes' arithmetic (floats)
        raise InvalidArgument(f"--vocab-memory must be at most {MOST_COUNTING_BUDGET >> 40:,}T, not {str(text):.40}")
    return int(size)


def counting_budget(corpus_bytes: int) -> int | None:
    """What counting may hold for distinct words by default: half of the memory available once the
    encoded corpus is set aside (``None`` where the system does not say)."""
    available = available_bytes()
    if available is None:
        return None
    return max(MIN_COUNTING_BUDGET, (available - corpus_bytes) // 2)


def training_bytes(vocab_size: int, config: TrainConfig) -> dict[str, int]:
    """The weight matrices, the vocabulary's tables and the threads' scratch buffers and private rows."""
    matrices = 1 + (config.negative > 0) + config.hs
    per_word = VOCAB_BYTES_PER_WORD + (HUFFMAN_BYTES_PER_WORD if config.hs else 0)
    width = padded_width(config.dim)  # the kernels' rows are padded to whole vectors
    outputs = max(config.negative + 1, MAX_CODE_LENGTH if config.hs else 0)  # a window's output rows
    per_thread = 4 * (MAX_SENTENCE_WORDS + 2 * config.window * (2 * width + outputs) + 2 * outputs)
    if config.threads > 1:  # each thread's copies of the hot rows, and their values as last merged
        per_thread += 4 * 2 * matrices * MAX_HOT_ROWS * width
    return {"weights": 4 * matrices * vocab_size * width, "tables": per_word * vocab_size,
            "thread buffers": per_thread * config.threads}


def size_text(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"


def ensure_fits(what: str, parts: dict[str, int], remedy: str, force: bool = False,
                anyway: str | None = "--force tries anyway") -> None:
    """Stop, saying what is needed and what needs less (and ``anyway``, how to try all the same),
    unless ``parts`` fit or ``force`` is set."""
    needed = sum(parts.values())
    available = None if force else available_bytes()
    if available is None or needed <= available:
        return
    detail = ", ".join(f"{name} {size_text(n)}" for name, n in parts.items())
    raise W2VError(f"{what} needs about {size_text(needed)} of memory ({detail}) but only {size_text(available)} "
                   f"is available: {remedy}" + (f", or {anyway}" if anyway else ""))
