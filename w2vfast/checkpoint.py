"""Checkpoints: the complete state of a training run in one file, which loading never executes.

A checkpoint is an uncompressed ``.npz`` (a zip of ``.npy`` arrays; ``numpy.load`` can inspect it):
``header`` holds a JSON document (format name and version, the options, the corpus fingerprint,
the output file and the position reached), the other members hold the vocabulary, every weight
matrix and the random states as plain arrays. Loading checks each array's type and shape against the header before
reading it, reads the matrices straight into the trainer's own arrays, and relies on each member's
zip CRC, checked when the member has been read to its end, to catch damage.

A position is ``(epoch, sentence)``: the sentence the next kernel call starts at. The learning rate
depends only on the word position, so weights, random states and position are the whole state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import numbers
import os
import time
import zipfile
import zlib
from typing import Iterator

import numpy as np

from .config import CHECKPOINT_MINUTES, MOST_WORDS, TrainConfig
from .corpus import EncodedCorpus
from .counting import holds_whitespace
from .errors import DamagedFile, InvalidArgument, W2VError, WrongType, unreadable
from .io import STANDARD_OUTPUT, atomic_write, check_writable
from .vocab import Vocab

FORMAT = "w2vfast checkpoint"
VERSION = 1
CHUNK_BYTES = 1 << 24
# Everything that shapes the run; only the thread count may change when it is resumed.
FIXED_OPTIONS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name != "threads")
# What a run is given besides its options, by whether its checkpoint keeps it. A resumed run takes
# the kept ones from the checkpoint unless given others; the rest it must be given again.
KEPT = ("corpus", "output", "binary", "checkpoint", "checkpoint_every", "phrases")
NOT_KEPT = ("disk_corpus", "vocab_memory", "report_loss", "force", "quiet")
_READ_HEADER = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
# What zipfile, numpy's .npy header parser and json raise on bytes that are not what they expect.
_DAMAGE = (zipfile.BadZipFile, KeyError, ValueError, TypeError, EOFError, OverflowError,
           NotImplementedError, RuntimeError, IndexError)


class _Damaged(Exception):
    """Inside ``load_checkpoint``: the file is not the checkpoint its header promises."""


def fingerprint(encoded: EncodedCorpus) -> dict:
    """What identifies the encoded corpus: its size and a CRC of its word ids and sentence starts."""
    crc = zlib.crc32(encoded.sentence_starts, zlib.crc32(encoded.words))
    return {"corpus_words": encoded.n_words, "corpus_sentences": encoded.n_sentences, "corpus_crc32": crc}


def _identity(file: str | int) -> tuple[int, ...] | None:
    """What tells one file from another at a path (``file``, or an open file's descriptor): a checkpoint
    replaced is another file. ``None`` if there is none."""
    try:
        found = os.stat(file)
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


@contextlib.contextmanager
def _opened(path: str, identity: tuple[int, ...] | None = None) -> Iterator[zipfile.ZipFile]:
    """The checkpoint as a zip archive; whatever goes wrong reading it becomes one clear W2VError.
    With ``identity``, it must still be the file of the header read before (``load_checkpoint``)."""
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise unreadable(f"cannot read checkpoint {path}: {exc.strerror or exc}", exc) from None
    if identity is not None and _identity(handle.fileno()) != identity:  # else one run's position, another's weights
        handle.close()
        raise W2VError(f"the checkpoint {path} was replaced while the run started, by another run saving it: "
                       "stop that run, then resume from it")
    try:
        with handle, zipfile.ZipFile(handle) as archive:
            yield archive
    except DamagedFile:  # says what it is already: another version
        raise
    except (_Damaged, OSError, *_DAMAGE) as exc:
        if _starts_with(path, b"\x80"):
            raise DamagedFile(f"{path} is a Python pickle (gensim's save() writes them), not a w2vfast checkpoint: "
                              "gensim's wv.save_word2vec_format() writes vectors that train --init reads") from None
        raise DamagedFile(f"{path} is not a w2vfast checkpoint, or it is damaged: "
                          f"{str(exc) or type(exc).__name__}") from None


def _starts_with(path: str, head: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(head)) == head
    except OSError:
        return False


def _read_array(archive: zipfile.ZipFile, name: str, dtype, shape: tuple, out: np.ndarray | None = None):
    """Read member ``name``, which must hold ``dtype`` values of ``shape`` (``None``: any length)."""
    info = archive.getinfo(name + ".npy")
    if info.compress_type != zipfile.ZIP_STORED:
        raise _Damaged(f"{name} is compressed")
    with archive.open(info) as member:
        read_header = _READ_HEADER.get(np.lib.format.read_magic(member))
        if read_header is None:
            raise _Damaged(f"{name} has an unknown .npy version")
        found_shape, fortran_order, found_dtype = read_header(member)
        if found_dtype != np.dtype(dtype) or fortran_order or len(found_shape) != len(shape) \
                or any(want is not None and want != got for want, got in zip(shape, found_shape)) \
                or math.prod(found_shape) * found_dtype.itemsize > info.file_size:
            raise _Damaged(f"{name} holds {found_dtype} {found_shape}, not {np.dtype(dtype)} {shape}")
        array = np.empty(found_shape, dtype) if out is None else out
        rows = max(1, CHUNK_BYTES // max(1, array.itemsize * math.prod(array.shape[1:])))
        for start in range(0, len(array), rows):
            block = array[start:start + rows]  # the weights are views of padded rows: not contiguous
            piece = block if block.flags.c_contiguous else np.empty_like(block)
            if member.readinto(memoryview(piece.reshape(-1).view(np.uint8))) != piece.nbytes:
                raise _Damaged(f"{name} ends early")
            if array.dtype.kind == "f" and not np.isfinite(piece).all():  # as a vectors file's are refused
                raise _Damaged(f"{name} holds NaN or infinity")
            if piece is not block:
                block[...] = piece
        if member.read(1):
            raise _Damaged(f"{name} is longer than its header says")
    return array


@dataclasses.dataclass
class Checkpoint:
    """A loaded checkpoint's header and vocabulary; ``restore`` reads its weights into a trainer."""

    path: str
    header: dict
    vocab: Vocab
    identity: tuple[int, ...]  # the file read: its weights must come from it too

    def corpus(self, given):
        """The corpus of the resumed run: ``given`` if not ``None``, else the files the run read."""
        corpus = given if given is not None else self.header["corpus"]
        if corpus is None:
            raise W2VError(f"the run in {self.path} read standard input or Python sentences: "
                           "give that corpus again")
        moved = None if given is not None else next((path for path in corpus if not os.path.exists(path)), None)
        if moved is not None:
            raise W2VError(f"the run's corpus file {moved} is not there: if it moved, name the files where they "
                           f"are now: w2vfast train FILE... --resume {self.path}")
        return corpus

    def options(self, given: dict) -> dict:
        """The run's options; those ``given`` must agree with them once resolved, but for ``threads``."""
        saved = self.header["options"]
        resumed = dataclasses.asdict(TrainConfig(**{**saved, **given}))
        for name, value in given.items():
            if name in FIXED_OPTIONS and resumed[name] != saved[name]:
                raise W2VError(f"{_as_flag(name, resumed[name])} differs from the checkpoint's "
                               f"{_as_flag(name, saved[name])}: a resumed run keeps the options it started with "
                               f"(only --threads may change)")
        return resumed

    @property
    def checkpoint_every(self) -> float:
        return self.header["checkpoint_every"]

    def check_corpus(self, encoded: EncodedCorpus) -> None:
        """Refuse a corpus other than the one the run was trained on (as phrased by its table, if any:
        an edited table changes what the same text holds)."""
        now = fingerprint(encoded)
        what = "the corpus" if self.header.get("phrases") is None else "the corpus as its --phrases table joins it"
        if now["corpus_words"] != self.header["corpus_words"]:
            raise W2VError(f"{what} does not match the checkpoint {self.path}: it holds "
                           f"{now['corpus_words']:,} occurrences of the run's vocabulary, where the run's held "
                           f"{self.header['corpus_words']:,}")
        if now != {key: self.header[key] for key in now}:
            raise W2VError(f"{what} does not match the checkpoint {self.path}: "
                           "it has as many words but not the same text")

    @property
    def finished(self) -> bool:
        """Whether the run it keeps trained its last epoch to the end."""
        return _finished(self.header)

    def restore(self, trainer) -> tuple[int, int]:
        """Read the weights and random states into ``trainer``; returns the position to go on from."""
        with _opened(self.path, self.identity) as archive:
            for name, array in trainer.matrices().items():
                _read_array(archive, name, np.float32, array.shape, out=array)
            trainer.set_rng_states(self._rng_states(archive))
        return self.header["epoch"], self.header["sentence"]

    def arrays(self, shapes: dict[str, tuple]) -> dict[str, np.ndarray]:
        """The float32 weight matrices ``shapes`` names, and the ``rng_states``, as new arrays."""
        with _opened(self.path, self.identity) as archive:
            found = {name: _read_array(archive, name, np.float32, shape) for name, shape in shapes.items()}
            found["rng_states"] = self._rng_states(archive)
        return found

    def _rng_states(self, archive: zipfile.ZipFile) -> np.ndarray:
        """The random states, as many as the run that wrote them had: one a thread, on each of a
        cluster's replicas (no more replicas than shards); a model that ``Word2Vec.save`` wrote keeps
        those it had, whatever ``workers`` is now. A count that no run writes is damage: resumed, it
        would quietly draw other samples."""
        states = _read_array(archive, "rng_states", np.uint64, (None,))
        threads, cluster = self.header["options"]["threads"], self.header.get("cluster")
        if "model" in self.header:
            fits = len(states) >= 1
        elif cluster is not None:
            fits = len(states) % threads == 0 and 1 <= len(states) // threads <= len(cluster["shards"])
        else:
            fits = len(states) == threads
        if not fits:
            raise _Damaged(f"its random states are {len(states):,}, not one a thread ({threads:,})")
        return states


def _check_header(header) -> None:
    """Every field ``Checkpoint`` uses is there, of the right kind, and the options are valid."""
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _Damaged("it has no w2vfast header")
    options = header["options"]
    if not isinstance(options, dict) or set(options) != {f.name for f in dataclasses.fields(TrainConfig)}:
        raise _Damaged("the options are incomplete")
    try:
        config = TrainConfig(**options)
    except W2VError as exc:
        raise _Damaged(f"the options are invalid ({exc})") from None
    counted = ("vocab_size", "corpus_words", "corpus_sentences", "corpus_crc32", "epoch", "sentence")
    if not all(type(header[key]) is int and header[key] >= 0 for key in counted) \
            or header["epoch"] >= config.epochs or header["sentence"] > header["corpus_sentences"]:
        raise _Damaged("the position or corpus size is invalid")
    every = header["checkpoint_every"]
    if isinstance(every, bool) or not isinstance(every, (int, float)) or not every >= 0:  # JSON's true is no number
        raise _Damaged("the checkpoint interval is invalid")
    corpus = header["corpus"]
    if corpus is not None and not (isinstance(corpus, list) and all(isinstance(p, str) for p in corpus)):
        raise _Damaged("the corpus paths are invalid")
    if not isinstance(header.get("phrases"), (str, type(None))):  # absent before phrases existed
        raise _Damaged("the phrase table's path is invalid")
    output = header.get("output")  # absent from the checkpoints of w2vfast before it kept the output
    if output is not None and not (isinstance(output, dict) and set(output) == {"path", "binary"}
                                   and isinstance(output["path"], str)
                                   and isinstance(output["binary"], bool)):
        raise _Damaged("the output file is invalid")
    if "cluster" in header and not _valid_cluster_run(header):
        raise _Damaged("the cluster run's shards, rounds or words done are invalid")


def _valid_cluster_run(header: dict) -> bool:
    """Whether the fields a run on a Dask cluster adds (see ``cluster``) are there and of the right kind."""
    run = header["cluster"]
    try:
        shards, rounds, at = run["shards"], run["rounds"], run["round"]
        pieces = [piece for shard in shards for piece in shard]
        return (isinstance(shards, list) and len(shards) > 0 and all(isinstance(shard, list) for shard in shards)
                and all(isinstance(piece, list) and len(piece) == 3 and isinstance(piece[0], str)
                        and type(piece[1]) is int and type(piece[2]) is int for piece in pieces)
                and isinstance(run["fingerprints"], list) and len(run["fingerprints"]) == len(shards)
                and type(rounds) is int and rounds >= 1 and type(at) is int and 0 <= at <= rounds
                and isinstance(run["every_epoch"], bool) and type(header["words_done"]) is int
                and header["words_done"] >= 0)
    except (KeyError, TypeError):  # not a dict, or a field missing
        return False


def resumed_output(header: dict, path: str | None, binary: bool | None) -> tuple[str | None, bool | None]:
    """Where a run resumed from ``header`` writes its vectors: ``path`` if given, else the run's own
    output; in the format ``binary`` says (``None``: not given), else in that output's format."""
    saved = header.get("output")
    if path is not None or saved is None:
        return path, binary
    return saved["path"], saved["binary"] if binary is None else binary


def _as_flag(name: str, value) -> str:
    """An option as the command line gives it: ``--dim 9``, and a switch by its own flag (``--cbow-sum``)."""
    switches = {"hs": ("--no-hs", "--hs"), "cbow_mean": ("--cbow-sum", "--cbow-mean")}
    if name in switches:
        return switches[name][bool(value)]
    if value is None:  # an option the run was not given, such as --max-vocab
        return f"no --{name.replace('_', '-')}"
    return f"--{name.replace('_', '-')} {value}"


def _finished(header: dict) -> bool:
    return header["epoch"] == header["options"]["epochs"] - 1 and header["sentence"] == header["corpus_sentences"]


def refuse_unfinished(path: str) -> None:
    """Refuse a new run whose checkpoint would replace that of a run stopped before its end: the
    first command run again, where ``--resume`` was meant, would lose what that run had trained.
    Refuse also to replace a file that is not a checkpoint (notes, or vectors named by mistake)."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    try:
        header = read_header(path)
    except W2VError:
        raise W2VError(f"--checkpoint {path} is not a w2vfast checkpoint, or it is damaged: the run would "
                       f"replace it; give another name, or remove the file") from None
    if not _finished(header):
        on = " --dask ADDRESS" if "cluster" in header else ""
        raise W2VError(f"--checkpoint {path} keeps a run stopped in epoch {header['epoch'] + 1} of "
                       f"{header['options']['epochs']}: go on with it (w2vfast train --resume {path}{on}), or remove "
                       f"the file to start again")


def read_header(path: str) -> dict:
    """A checkpoint's header alone, checked: what the run was, without its vocabulary or weights."""
    with _opened(path) as archive:
        return _read_header(archive, path)


def _read_header(archive: zipfile.ZipFile, path: str) -> dict:
    header = json.loads(_read_array(archive, "header", np.uint8, (None,)).tobytes())
    if isinstance(header, dict) and header.get("format") == FORMAT and header.get("version") != VERSION:
        if type(header.get("version")) is not int:
            raise _Damaged("its version is not a number")
        raise DamagedFile(f"{path} is a version {header['version']} checkpoint; this w2vfast reads version {VERSION}")
    _check_header(header)
    return header


def load_checkpoint(path: str) -> Checkpoint:
    """Read a checkpoint's header and vocabulary, checking its format, version and consistency."""
    with _opened(path) as archive:
        identity = _identity(archive.fp.fileno())
        header = _read_header(archive, path)
        size = header["vocab_size"]
        lengths = _read_array(archive, "vocab_lengths", np.int64, (size,))
        if (lengths < 1).any():
            raise _Damaged("the vocabulary has an empty word")
        pool = _read_array(archive, "vocab_words", np.uint8, (int(lengths.sum()),)).tobytes()
        if holds_whitespace(pool):
            raise _Damaged("the vocabulary has a word with whitespace")
        counts = _read_array(archive, "vocab_counts", np.int64, (size,))
        if (counts < 1).any():
            raise _Damaged("the vocabulary has a word counted less than once")
        if counts.sum(dtype=float) > MOST_WORDS:
            raise _Damaged("the vocabulary's counts add up to more words than a corpus may have")
        ends = np.cumsum(lengths).tolist()
        words = [pool[end - length:end] for end, length in zip(ends, lengths.tolist())]
        if len(set(words)) != len(words):  # else met only when the trained vectors are written
            raise _Damaged("the vocabulary has a word twice")
    return Checkpoint(path, header, Vocab(words, counts), identity)


def check_interval(minutes: float) -> None:
    """Refuse an interval between checkpoints that is not a number of minutes, 0 or more."""
    if isinstance(minutes, bool) or not isinstance(minutes, numbers.Real):
        raise WrongType(f"--checkpoint-every must be a number of minutes, not {minutes!r:.40}")
    if not minutes >= 0:  # NaN fails too
        raise InvalidArgument(f"--checkpoint-every must be 0 or more minutes, not {minutes!r:.40}")


class Checkpointer:
    """Saves a run to ``path`` when asked, or when ``minutes`` have passed since the last save."""

    def __init__(self, path: str, minutes: float, corpus: list[str] | None, output: str | None,
                 binary: bool | None, phrases: str | None = None) -> None:
        """``corpus`` is the run's files (``None``: Python sentences), ``output`` the file its
        vectors go to in the format ``binary`` says (``None``: none) and ``phrases`` its phrase
        table, kept for resuming from anywhere."""
        check_interval(minutes)
        check_writable(path)
        self.path = path
        self.interval = 60.0 * minutes
        files = None if corpus is None or "-" in corpus else [os.path.abspath(p) for p in corpus]
        if output not in (None, STANDARD_OUTPUT):
            output = os.path.abspath(output)
        kept_output = None if output is None else {"path": output, "binary": bool(binary)}
        self.run = {"corpus": files, "checkpoint_every": minutes, "output": kept_output,
                    "phrases": None if phrases is None else os.path.abspath(phrases)}
        self.last = time.monotonic()
        self.ours = _identity(path)  # what is there: a finished run's, the one resumed, or ours once saved
        self.saved = False

    @property
    def kept(self) -> bool:
        """Whether ``path`` holds a checkpoint: a save that failed leaves the one before, if there was one."""
        return os.path.isfile(self.path)  # a file: /dev/full, which refuses every save, keeps none

    def failed(self, error: W2VError) -> str:
        """The warning for a save that failed while the run goes on, true to what ``path`` holds."""
        kept = "the previous checkpoint is kept" if self.kept else "no checkpoint is kept"
        return f"w2vfast: warning: {error}; the run goes on, and {kept}"

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.interval

    def save(self, trainer, encoded: EncodedCorpus, position: tuple[int, int]) -> None:
        """Write the trainer's state at ``position`` atomically: the old file stays until the new is whole."""
        if "corpus_crc32" not in self.run:
            self.run.update(fingerprint(encoded))
        epoch, sentence = position
        self.write(trainer, {"epoch": epoch, "sentence": sentence, "words_done": encoded.words_before(epoch, sentence)})

    def write(self, trainer, position: dict, rng_states: np.ndarray | None = None) -> None:
        """Write the trainer's weights, ``rng_states`` (by default its own) and the header fields of
        ``position``; the corpus's fingerprint must be in ``run`` by then."""
        there = _identity(self.path)
        if there is not None and there != self.ours:  # two runs given one checkpoint would take turns in it
            since = "saved it" if self.saved else "started"
            raise W2VError(f"another run has written the checkpoint {self.path} since this one {since}, so this "
                           "one does not replace it")
        header = {"format": FORMAT, "version": VERSION, "options": dataclasses.asdict(trainer.config),
                  **self.run, "vocab_size": len(trainer.vocab), **position}
        write_checkpoint(self.path, header, trainer.vocab, trainer.matrices(),
                         trainer.rng_states if rng_states is None else rng_states)
        self.ours, self.saved = _identity(self.path), True
        self.last = time.monotonic()


def finished_header(config: TrainConfig, vocab_size: int, corpus_words: int, corpus_sentences: int,
                    **extra) -> dict:
    """The header of a finished run that no corpus file goes with (``Word2Vec.save``): ``--init`` can
    go on from it, and ``extra`` keeps what else its writer needs."""
    return {"format": FORMAT, "version": VERSION, "options": dataclasses.asdict(config), "corpus": None,
            "checkpoint_every": CHECKPOINT_MINUTES, "output": None, "phrases": None, "vocab_size": vocab_size,
            "corpus_words": corpus_words, "corpus_sentences": corpus_sentences, "corpus_crc32": 0,
            "epoch": config.epochs - 1, "sentence": corpus_sentences,
            "words_done": config.epochs * corpus_words, **extra}


def write_checkpoint(path: str, header: dict, vocab: Vocab, matrices: dict[str, np.ndarray],
                     rng_states: np.ndarray) -> None:
    """Write a checkpoint atomically: the header, the vocabulary, the weight matrices and the random states."""
    arrays = {
        "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        "vocab_lengths": np.array([len(w) for w in vocab.words], dtype=np.int64),
        "vocab_words": np.frombuffer(b"".join(vocab.words), dtype=np.uint8),
        "vocab_counts": vocab.counts.astype(np.int64),
        **matrices,
        "rng_states": rng_states,
    }
    with atomic_write(path) as out, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
