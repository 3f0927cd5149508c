"""Faults from outside, on real processes: signals, SIGKILL mid-write, full disks, closed pipes."""

import ctypes
import os
import random
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from click.testing import CliRunner

import w2vfast
from w2vfast import KeyedVectors
from w2vfast.checkpoint import load_checkpoint
from w2vfast.cli import main
from w2vfast.errors import Interrupted, W2VError
from w2vfast import interrupt, trainer
from w2vfast.interrupt import stop_at_once, stop_at_safe_point
from conftest import planted_sentences, write_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Single-threaded and seeded, so a stopped and resumed run must write the same bytes as one that ran through.
LONG = ["--dim", "32", "--epochs", "10", "--min-count", "1", "--sample", "0", "--threads", "1", "--seed", "5"]
QUICK = ["--dim", "8", "--epochs", "1", "--min-count", "1", "--quiet"]
LONG_OPTIONS = dict(dim=32, epochs=10, min_count=1, sample=0, threads=1, seed=5)
# The command line, in a process that sends itself a signal at a chosen moment: once kernel call N has
# returned ("call N"), or while the output is being written ("write"). The signal and its handling
# are real; only the moment is fixed, so the tests do not depend on the machine's speed.
SIGNAL_AT = """
import itertools, os, sys
from w2vfast import trainer, word2vec_format
from w2vfast.cli import run
from w2vfast.safepoint import SafePoint

when, signum = sys.argv[1], int(sys.argv[2])
count = itertools.count(1)
if when.startswith("call "):
    class SignalAtCall(SafePoint):
        def __call__(self, position):
            if next(count) == int(when.split()[1]):
                os.kill(os.getpid(), signum)
            return super().__call__(position)
    trainer.SafePoint = SignalAtCall
else:
    lines = word2vec_format._text_lines
    def signal_while_writing(words, rows):
        if next(count) == 3:
            os.kill(os.getpid(), signum)
        return lines(words, rows)
    word2vec_format._BLOCK_ROWS = 8  # the output is written in several pieces: the signal comes between two
    word2vec_format._text_lines = signal_while_writing
sys.argv = ["w2vfast", *sys.argv[3:]]
run()
"""


def command(*args):
    return [sys.executable, "-m", "w2vfast.cli", *map(str, args)]


def start(*args, signal_at=None, **kwargs):
    """``w2vfast ARGS`` in a process of its own; ``signal_at`` is ``(when, signum)`` for SIGNAL_AT."""
    argv = command(*args) if signal_at is None else [sys.executable, "-c", SIGNAL_AT, *map(str, signal_at),
                                                     *map(str, args)]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def wait_for_file(path, process, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


def leftovers(directory, *expected):
    """Files in ``directory`` besides the expected ones: a temporary file left behind shows here."""
    return sorted(set(os.listdir(directory)) - set(expected))


@pytest.fixture(scope="module")
def ten_calls(tmp_path_factory):
    """A corpus that takes ten kernel calls with LONG (one an epoch), and the bytes an uninterrupted
    run writes; the kernels it compiles are in Numba's cache for the processes the tests start."""
    directory = tmp_path_factory.mktemp("ten-calls")
    corpus = write_corpus(directory / "corpus.txt", planted_sentences())
    reference = directory / "reference.bin"
    w2vfast.train(corpus, **LONG_OPTIONS).save(str(reference))
    return corpus, reference.read_bytes()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_stops_at_a_safe_point_and_the_printed_command_finishes_the_run(ten_calls, tmp_path, signum):
    """Stopped after call 4 of 10, the run says how to go on; that command, run from another directory
    and without -o, writes the output the run was started with, as if it had never stopped. SIGHUP (a
    terminal closed) ended the process on the spot, and the run since its last save was lost."""
    corpus, reference = ten_calls
    checkpoint, output, elsewhere = tmp_path / "run.ckpt", tmp_path / "vectors.bin", tmp_path / "elsewhere"
    process = start("train", corpus, "-o", output, *LONG, "--checkpoint", checkpoint, signal_at=("call 4", signum))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    last = stderr.strip().splitlines()[-1]
    name = signal.Signals(signum).name
    assert last == (f"w2vfast: stopped by {name}; the run so far is saved in {checkpoint}; "
                    f"go on with: w2vfast train --resume {checkpoint}")
    assert leftovers(tmp_path) == ["run.ckpt"]
    header = load_checkpoint(str(checkpoint)).header
    assert (header["epoch"], header["sentence"]) == (3, 1500)  # the end of the fourth epoch
    elsewhere.mkdir()
    resume = last.split("go on with: ")[1].split()
    this_checkout = {**os.environ, "PYTHONPATH": ROOT}  # elsewhere, python -m would find an installed copy
    finished = subprocess.run(command(*resume[1:]), cwd=elsewhere, env=this_checkout, capture_output=True,
                              text=True)
    assert finished.returncode == 0, finished.stderr
    assert output.read_bytes() == reference
    assert os.listdir(elsewhere) == []


def test_a_signal_while_the_output_is_written_stops_at_once_and_keeps_the_previous_file(planted_file, tmp_path):
    output = tmp_path / "v.txt"
    output.write_bytes(b"previous vectors")
    process = start("train", planted_file, "-o", output, *QUICK, signal_at=("write", signal.SIGTERM))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert stderr == "w2vfast: stopped by SIGTERM\n"
    assert output.read_bytes() == b"previous vectors"
    assert leftovers(tmp_path, "planted.txt") == ["v.txt"]


def test_a_signal_while_the_output_is_written_says_the_checkpoint_writes_it(planted_file, tmp_path):
    """It said only 'stopped by SIGTERM', as if nothing were kept: the first command run again then
    trained the whole run anew, where the checkpoint held it finished."""
    output, checkpoint, elsewhere = tmp_path / "v.txt", tmp_path / "run.ckpt", tmp_path / "elsewhere"
    process = start("train", planted_file, "-o", output, *QUICK, "--checkpoint", checkpoint,
                    signal_at=("write", signal.SIGTERM))
    _, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr) == (128 + signal.SIGTERM, "w2vfast: stopped by SIGTERM; the run so far is "
                                            f"saved in {checkpoint}; go on with: w2vfast train --resume {checkpoint} "
                                            "--quiet\n")
    assert not output.exists()
    elsewhere.mkdir()
    finished = subprocess.run(command("train", "--resume", checkpoint, "--quiet"), cwd=elsewhere,
                              capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0 and len(KeyedVectors.load(str(output))) > 0, finished.stderr


def test_a_finished_run_written_elsewhere_and_stopped_says_where_to_write(planted_file, tmp_path):
    """Resumed to write its vectors to another file and stopped while writing them, it said to go on
    with --resume alone: the checkpoint's own output, which that command replaced, in its format."""
    first, other, checkpoint = tmp_path / "first.bin", tmp_path / "other.txt", tmp_path / "run.ckpt"
    finished = subprocess.run(command("train", planted_file, "-o", first, *QUICK, "--checkpoint", checkpoint))
    assert finished.returncode == 0
    process = start("train", "--resume", checkpoint, "-o", other, "--quiet", signal_at=("write", signal.SIGTERM))
    _, stderr = process.communicate(timeout=60)
    assert stderr.endswith(f"go on with: w2vfast train --resume {checkpoint} --output {other} --text --quiet\n")


def test_signal_before_training_stops_at_once_without_output(tmp_path):
    fifo = tmp_path / "corpus"
    os.mkfifo(fifo)
    process = start("train", fifo, "-o", tmp_path / "v.bin", *LONG, "--checkpoint", tmp_path / "run.ckpt")
    with open(fifo, "wb"):  # opens once w2vfast opens the corpus, which it then waits to read
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert stderr == "w2vfast: stopped by SIGTERM\n"
    assert leftovers(tmp_path, "corpus") == []


def _spin(seconds: float) -> None:
    """Run Python code for ``seconds``: a deferred stop, raised through ``_thread.interrupt_main``, is
    delivered between bytecodes, where it would not cut a ``time.sleep`` short."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def test_a_second_signal_stops_at_once():
    with pytest.raises(Interrupted) as stopped:
        with stop_at_safe_point() as request:
            os.kill(os.getpid(), signal.SIGINT)
            assert request.signum == signal.SIGINT  # recorded for the next safe point, not raised
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)  # not reached: the handler raises first
    assert stopped.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


# A function that runs as if it were Numba's own code (its module's name says so), sending the signal
# itself and then spinning, so that Python delivers the signal while it runs.
_NUMBA_LIKE = {"__name__": "numba.core.pretend"}
exec("""
def inside_numba(signums, seconds):
    import os, time
    for signum in signums:
        os.kill(os.getpid(), signum)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "returned"
""", _NUMBA_LIKE)


def test_a_stop_waits_until_the_main_thread_leaves_numba():
    """Raised inside Numba's code, the exception could leave its compiler lock held: the next
    compiled call, in any thread, would wait forever."""
    returned = []
    with pytest.raises(Interrupted) as stopped:
        with stop_at_once():
            returned.append(_NUMBA_LIKE["inside_numba"]([signal.SIGINT], 0.3))
            _spin(10)  # interrupted: the stop comes as soon as Numba's code has returned
    assert returned == ["returned"] and stopped.value.signum == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    time.sleep(0.1)  # no retry left behind to raise KeyboardInterrupt later


def test_a_second_signal_stops_even_inside_numba():
    with pytest.raises(Interrupted) as stopped:
        with stop_at_once():
            _NUMBA_LIKE["inside_numba"]([signal.SIGINT, signal.SIGTERM], 10)
    assert stopped.value.signum == signal.SIGTERM


def test_the_echo_of_a_stop_that_ends_the_command_is_no_second_stop():
    """``timeout`` sends its SIGTERM twice: the second, coming as the command printed its line and exited,
    stopped it again, with a second line (2 in 30 local-cluster runs stopped by timeout)."""
    from w2vfast.__main__ import _stop

    with pytest.raises(Interrupted):
        with stop_at_once():
            os.kill(os.getpid(), signal.SIGTERM)
            _spin(10)
    with stop_at_once():  # the command's handler, as it ends
        os.kill(os.getpid(), signal.SIGTERM)
        _spin(0.05)
    _stop(signal.SIGTERM, None)  # the console script's, once the command's are gone
    with pytest.raises(Interrupted):  # but not another signal
        _stop(signal.SIGINT, None)


def test_a_signal_inside_a_finaliser_stops_once_it_returns(capsys):
    """Raised inside ``__del__`` (Dask's futures have one), the stop was printed as 'Exception ignored'
    with a traceback, and lost."""
    class Finalised:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(10000))  # the handler runs here, inside __del__

    with pytest.raises(Interrupted) as stopped:
        with stop_at_once():
            Finalised()  # dropped at once, so its __del__ runs
            _spin(10)  # interrupted: the stop comes once __del__ has returned
    assert stopped.value.signum == signal.SIGINT and capsys.readouterr().err == ""


def test_a_stop_deferred_while_numba_compiles_is_the_training_run_s_first(monkeypatch):
    """Ctrl-C while the kernels compiled (20 s on a first run) was lost once training began: the run
    finished and wrote its vectors."""
    monkeypatch.setattr(interrupt, "_RETRY_SECONDS", 30)  # no retry lands while the test runs
    with stop_at_once():
        _NUMBA_LIKE["inside_numba"]([signal.SIGINT], 0.05)  # deferred: the main thread was in Numba
        with stop_at_safe_point() as request:
            assert request.signum == signal.SIGINT  # the first safe point stops the run
    assert interrupt._Raiser.deferred is None


def test_no_space_for_the_corpus_on_disk_is_an_error_not_a_crash(planted_file, tmp_path, monkeypatch):
    """The on-disk corpus was a sparse file: on a full disk, writing its memory map killed the process
    with SIGBUS and no message. Its space is now taken when it grows, where a full disk is an error."""
    def disk_full(fd, offset, size):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", disk_full)
    with pytest.raises(W2VError, match="cannot grow the on-disk corpus: No space left on device"):
        w2vfast.train(planted_file, disk_corpus=str(tmp_path), epochs=1, min_count=1, threads=1)


def test_the_same_signal_again_at_once_is_the_first_one_s_echo():
    """``timeout`` sends SIGTERM to the command and then to its process group: the command gets it twice."""
    echoed = []
    with pytest.raises(Interrupted) as stopped:
        with stop_at_safe_point() as request:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)
            echoed.append(request.signum)  # still one request, for the next safe point
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGTERM)  # a second request: now
            time.sleep(10)
    assert echoed == [signal.SIGTERM] and stopped.value.signum == signal.SIGTERM


@pytest.mark.parametrize("closed, args, status, message", [
    (">&-", ["train", "CORPUS", "-o", "OUT", *QUICK], 0, ""),
    ("2>&-", ["train", "CORPUS", "-o", "OUT", *QUICK], 0, ""),
    ("2>&-", ["train", "CORPUS", "-o", "OUT", *QUICK[:-1]], 0, ""),  # its progress lines failed: exit 1, no file
    ("2>&-", ["phrases", "CORPUS", "-o", "OUT"], 0, ""),
    ("<&-", ["train", "-", "-o", "OUT", *QUICK], 1, "w2vfast: error: standard input is closed\n"),
])
def test_a_closed_standard_stream_is_no_traceback(planted_file, tmp_path, closed, args, status, message):
    args = [str(planted_file) if a == "CORPUS" else str(tmp_path / "v.txt") if a == "OUT" else a for a in args]
    command = " ".join(map(shlex.quote, [sys.executable, "-m", "w2vfast", *args]))
    done = subprocess.run(["sh", "-c", f"exec {command} {closed}"], capture_output=True, text=True, cwd=ROOT)
    assert (done.returncode, done.stderr) == (status, message)
    assert (tmp_path / "v.txt").exists() == (status == 0)


def test_an_ignored_signal_stays_ignored():
    """A background job ignores Ctrl-C; training must not start stopping on it."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with stop_at_safe_point() as request:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            assert request.signum is None
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def temporaries_of(path, pid):
    """The temporary files the process ``pid`` is writing ``path`` through (see ``io.atomic_write``)."""
    prefix = f".{path.name}.{pid}."
    return [name for name in os.listdir(path.parent) if name.startswith(prefix)]


@pytest.fixture(scope="module")
def heavy_checkpoints(tmp_path_factory):
    """A run whose checkpoints (15 MB: 30,000 words x 64 dims, two matrices) take longer to write than
    its epochs take to train, and the bytes it writes when it is never stopped."""
    directory = tmp_path_factory.mktemp("heavy")
    rng = np.random.default_rng(2)
    words = [f"w{i}" for i in rng.integers(0, 30_000, 120_000)] + [f"w{i}" for i in range(30_000)]
    corpus = write_corpus(directory / "corpus.txt", [words[i:i + 20] for i in range(0, len(words), 20)])
    options = ["--dim", "64", "--epochs", "8", "--min-count", "1", "--threads", "1", "--seed", "3"]
    reference = directory / "reference.bin"
    w2vfast.train(corpus, dim=64, epochs=8, min_count=1, threads=1, seed=3).save(str(reference))
    return corpus, options, reference.read_bytes()


def test_sigkill_in_the_middle_of_checkpoint_writes_never_spoils_the_checkpoint(heavy_checkpoints, tmp_path):
    """Killed twice while it is writing a checkpoint (its temporary file is there, and stays there
    after the kill), the run still resumes and ends exactly as a run that was never stopped."""
    corpus, options, reference = heavy_checkpoints
    checkpoint, output = tmp_path / "run.ckpt", tmp_path / "vectors.bin"
    args = ["-o", output, *options, "--checkpoint-every", "0", "--quiet"]
    process = start("train", corpus, "--checkpoint", checkpoint, *args)
    wait_for_file(checkpoint, process)
    kills = 0
    for attempt in range(20):
        if attempt:
            process = start("train", "--resume", checkpoint, *args)
        deadline = time.monotonic() + 60
        while not temporaries_of(checkpoint, process.pid):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.0005)
        process.kill()
        process.wait()
        kills += bool(temporaries_of(checkpoint, process.pid))  # the kill came mid-write
        load_checkpoint(str(checkpoint))  # the previous checkpoint, whole
        assert not output.exists()
        if kills == 2:
            break
    assert kills == 2, attempt
    finished = subprocess.run(command("train", "--resume", checkpoint, *args), cwd=ROOT, capture_output=True)
    assert finished.returncode == 0, finished.stderr
    assert output.read_bytes() == reference


WRITER = """
import sys
import numpy as np
from w2vfast import KeyedVectors
words = ["w%d" % i for i in range(3000)]
for version in range(1, 10**6):
    KeyedVectors(words, np.full((3000, 50), version, dtype=np.float32)).save(sys.argv[1], binary=version % 2 == 0)
"""


def test_sigkill_while_writing_vectors_leaves_an_old_or_new_file_whole(tmp_path):
    path = tmp_path / "v.bin"
    for _ in range(5):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=ROOT)
        wait_for_file(path, writer)
        time.sleep(random.uniform(0, 0.5))
        writer.kill()
        writer.wait()
        vectors = w2vfast.KeyedVectors.load(str(path))
        assert vectors.vectors.shape == (3000, 50)
        assert (vectors.vectors == vectors.vectors[0, 0]).all()


def test_the_next_write_removes_what_a_killed_writer_left_and_nothing_else(tmp_path):
    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    abandoned = tmp_path / f".v.bin.{gone}.abcd_123.tmp"
    recent = tmp_path / f".v.bin.{gone}.efgh_456.tmp"  # its writer may be in another PID namespace
    running = tmp_path / f".v.bin.{os.getpid()}.ijkl_789.tmp"
    other_file = tmp_path / f".v.bin.gz.{gone}.mnop_012.tmp"
    for temporary in (abandoned, recent, running, other_file):
        temporary.write_bytes(b"half a file")
    an_hour_ago = time.time() - 3600
    for temporary in (abandoned, running, other_file):
        os.utime(temporary, (an_hour_ago, an_hour_ago))
    w2vfast.KeyedVectors(["a", "b"], np.ones((2, 3), np.float32)).save(str(tmp_path / "v.bin"))
    assert leftovers(tmp_path) == sorted(["v.bin", recent.name, running.name, other_file.name])


def limit_file_size(limit):
    """In the child: writing past ``limit`` bytes fails with EFBIG, as on a full disk."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.fixture(scope="module")
def cached_kernels(tmp_path_factory):
    """Everything the children below compile (reading, training, a checkpoint, both output formats)
    compiled here and so in Numba's cache: a child under a file-size limit must not write cache files."""
    directory = tmp_path_factory.mktemp("warm")
    corpus = write_corpus(directory / "corpus.txt", planted_sentences(50))
    vectors = w2vfast.train(corpus, dim=4, epochs=1, min_count=1, threads=1, checkpoint=str(directory / "run.ckpt"))
    vectors.save(str(directory / "v.bin"), binary=True)
    vectors.save(str(directory / "v.txt"), binary=False)


def test_full_disk_keeps_the_previous_output_and_no_temporary(cached_kernels, planted_file, tmp_path):
    output = tmp_path / "v.bin"
    output.write_bytes(b"previous vectors")
    result = subprocess.run(command("train", planted_file, "-o", output, *QUICK),
                            cwd=ROOT, capture_output=True, text=True, preexec_fn=limit_file_size(1000))
    assert result.returncode == 1
    assert result.stderr == f"w2vfast: error: cannot write {output}: File too large\n"
    assert output.read_bytes() == b"previous vectors"
    assert leftovers(tmp_path, "planted.txt") == ["v.bin"]


@pytest.mark.parametrize("name", ["train", "phrases"])
def test_a_file_size_limit_met_on_standard_output_is_an_error(cached_kernels, planted_file, tmp_path, name):
    """A write larger than Python's buffer came back short at the limit, and the rest was dropped
    without an error: exit 0, the output cut short. About 100 KB each here."""
    options = ["--dim", "300", "--epochs", "1", "--min-count", "1", "--text"] if name == "train" else []
    with open(tmp_path / "out.txt", "wb") as out:
        result = subprocess.run(command(name, planted_file, "-o", "-", "--quiet", *options), cwd=ROOT, stdout=out,
                                stderr=subprocess.PIPE, text=True, preexec_fn=limit_file_size(20000))
    assert (result.returncode, result.stderr) == (1, "w2vfast: error: cannot write to standard output: "
                                                     "File too large\n")


def test_full_disk_for_checkpoints_warns_and_keeps_training(cached_kernels, planted_file, tmp_path):
    checkpoint, output = tmp_path / "run.ckpt", tmp_path / "v.txt"
    w2vfast.train(planted_file, dim=4, epochs=1, min_count=1, threads=1, checkpoint=str(checkpoint))
    previous = checkpoint.read_bytes()  # a finished run's, which a new run may replace
    result = subprocess.run(
        command("train", planted_file, "-o", output, *QUICK, "--dim", "4", "--epochs", "2", "--threads", "1",
                "--checkpoint", checkpoint, "--checkpoint-every", "0"),
        cwd=ROOT, capture_output=True, text=True, preexec_fn=limit_file_size(3000))
    assert result.returncode == 0, result.stderr
    assert result.stderr == (f"w2vfast: warning: cannot write {checkpoint}: File too large; "
                             "the run goes on, and the previous checkpoint is kept\n") * 2
    assert checkpoint.read_bytes() == previous
    assert len(w2vfast.KeyedVectors.load(str(output))) == 40


def test_failed_output_with_a_checkpoint_says_how_to_write_it_again(planted_file, tmp_path, monkeypatch):
    checkpoint, output = tmp_path / "run.ckpt", tmp_path / "v.bin"

    def disk_full(path, words, vectors, binary):
        raise W2VError(f"cannot write {path}: No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(trainer, "write_word2vec", disk_full)
        result = CliRunner().invoke(main, ["train", planted_file, "-o", str(output), *QUICK,
                                           "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1
    assert result.output == (f"w2vfast: error: cannot write {output}: No space left on device; the run is kept "
                             f"in {checkpoint}, and once that is mended w2vfast train --resume {checkpoint} "
                             f"--quiet writes the vectors\n")
    again = CliRunner().invoke(main, ["train", "--resume", str(checkpoint), "--quiet"])
    assert again.exit_code == 0, again.output
    assert len(w2vfast.KeyedVectors.load(str(output))) == 40


def test_a_directory_as_output_is_refused_before_training(planted_file, tmp_path):
    result = CliRunner().invoke(main, ["train", planted_file, "-o", str(tmp_path), *QUICK])
    assert result.exit_code == 1
    assert result.output == f"w2vfast: error: cannot write {tmp_path}: it is a directory\n"


PR_CAPBSET_DROP = 24


def as_an_ordinary_user():
    """In the child: file permissions apply, even to root. Root passes them through two capabilities
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); dropping them from the bounding set keeps the program it
    runs from having them, and leaves it root in every other way (so it can still read its own files)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drops Linux capabilities when run as root")
def test_unwritable_directory_is_refused_before_training(planted_file, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = subprocess.run(command("train", planted_file, "-o", locked / "v.bin"), cwd=ROOT,
                            capture_output=True, text=True, preexec_fn=as_an_ordinary_user)
    assert result.returncode == 1
    assert result.stderr == f"w2vfast: error: cannot write in {locked}: permission denied\n"


@pytest.fixture
def read_only_directory(tmp_path):
    """An empty directory on a read-only file system (a tmpfs mounted so), where root may mount."""
    directory = tmp_path / "read-only"
    directory.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1M", "tmpfs", directory], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("mounting a read-only tmpfs needs root")
    yield directory
    subprocess.run(["umount", directory], check=True)


@pytest.mark.parametrize("command_name", ["train", "phrases"])
def test_a_read_only_file_system_is_named(planted_file, read_only_directory, command_name):
    """It was 'permission denied', which root does not expect to meet."""
    result = subprocess.run(command(command_name, planted_file, "-o", read_only_directory / "out"), cwd=ROOT,
                            capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (1, f"w2vfast: error: cannot write in {read_only_directory}: "
                                                     "it is on a read-only file system\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drops Linux capabilities when run as root")
@pytest.mark.parametrize("command_name", ["train", "phrases"])
def test_a_corpus_directory_that_cannot_be_read_is_one_line(planted_file, tmp_path, command_name):
    """os.listdir's PermissionError was a traceback, and a file in it was 'not found'."""
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "c.txt").write_bytes(open(planted_file, "rb").read())
    locked.chmod(0)
    try:
        for corpus in (locked, locked / "c.txt"):
            result = subprocess.run(command(command_name, corpus, "-o", tmp_path / "out"), cwd=ROOT,
                                    capture_output=True, text=True, preexec_fn=as_an_ordinary_user)
            assert (result.returncode, result.stderr) == (1, f"w2vfast: error: cannot read corpus {corpus}: "
                                                             "Permission denied\n")
    finally:
        locked.chmod(0o755)
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drops Linux capabilities when run as root")
def test_a_package_and_a_home_that_cannot_be_written_still_run(tmp_path):
    """Numba found no place for its cache and every command, --version too, ended in a traceback."""
    package = tmp_path / "installed" / "w2vfast"
    shutil.copytree(os.path.join(ROOT, "w2vfast"), package, ignore=shutil.ignore_patterns("__pycache__"))
    home, temporary = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temporary.mkdir()
    KeyedVectors(["a", "b", "c"], np.eye(3, dtype=np.float32) + 0.1).save(str(tmp_path / "v.txt"))
    for path in (home, *package.parent.rglob("*")):
        path.chmod(path.stat().st_mode & ~0o222)
    environment = {key: value for key, value in os.environ.items() if key not in ("XDG_CACHE_HOME", "NUMBA_CACHE_DIR")}
    environment.update(HOME=str(home), TMPDIR=str(temporary), PYTHONPATH=str(package.parent))
    try:
        result = subprocess.run([sys.executable, "-m", "w2vfast", "similar", "a", "-v", tmp_path / "v.txt", "-n", "1",
                                 "--no-cache"], cwd=home, env=environment, capture_output=True, text=True,
                                preexec_fn=as_an_ordinary_user)
    finally:
        for path in package.parent.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout.split()[2] in ("b", "c")
    assert [path.name for path in temporary.iterdir()] == [f"w2vfast-numba-cache-{os.getuid()}"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
def test_a_directory_where_no_file_can_be_made_is_refused_before_training(planted_file):
    """Root may write /proc by its permissions, but no file can be made there: tried, not taken on trust."""
    result = subprocess.run(command("train", planted_file, "-o", "/proc/v.bin"), cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 1
    assert result.stderr in ("w2vfast: error: cannot write /proc/v.bin: no file can be made in /proc "
                             "(No such file or directory)\n", "w2vfast: error: cannot write in /proc: permission denied\n")


PRINTER = """
import click
from w2vfast.cli import friendly_errors

@click.command()
@friendly_errors("print less")
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
