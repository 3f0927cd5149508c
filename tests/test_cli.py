"""The command line: training end to end, vocabulary files, and one-line errors for bad input."""

import inspect
import itertools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time

import numpy as np
import pytest
from click.testing import CliRunner

import w2vfast
from w2vfast import KeyedVectors, memory
from w2vfast.checkpoint import KEPT, NOT_KEPT, Checkpointer
from w2vfast.cli import main, train_command
from w2vfast.config import CHECKPOINT_MINUTES, DEFAULTS, MODELS
from conftest import planted_sentences, signal_at_call

QUICK = ["--dim", "8", "--epochs", "1", "--min-count", "1", "--sample", "0", "--quiet"]


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def test_train_writes_binary_or_text_by_extension(planted_file, tmp_path):
    for name, binary in (("v.bin", True), ("v.txt", False), ("v.vec", False)):
        out = tmp_path / name
        result = run("train", planted_file, "-o", out, *QUICK)
        assert result.exit_code == 0, result.output
        data = out.read_bytes()
        assert data.startswith(b"40 8\n")
        vectors = KeyedVectors.load(str(out))
        binary_size = len(b"40 8\n") + sum(len(w) + 1 + 4 * 8 + 1 for w in vectors.index_to_key)
        assert (len(data) == binary_size) == binary
        assert data.count(b"\n") == 41 or binary
    out = tmp_path / "forced.bin"
    assert run("train", planted_file, "-o", out, "--text", *QUICK).exit_code == 0
    assert out.read_bytes().split(b"\n")[1].count(b" ") == 8


def test_train_from_standard_input(tmp_path):
    text = "\n".join(" ".join(s) for s in planted_sentences(200)) + "\n"
    out = tmp_path / "v.bin"
    result = run("train", "-", "-o", out, *QUICK, input=text)
    assert result.exit_code == 0, result.output
    assert len(KeyedVectors.load(str(out))) == 40


@pytest.mark.skipif(not os.path.exists("/dev/stdin"), reason="needs /dev/stdin")
@pytest.mark.parametrize("command, message", [
    (["train", "-", "/dev/stdin", "-o", "{tmp}/v.bin"], "- and /dev/stdin name one pipe, whose text can be read once: "
                                                       "give it once"),
    (["phrases", "/dev/stdin", "/dev/stdin", "-o", "-"], "/dev/stdin and /dev/stdin name one pipe, whose text can be "
                                                         "read once: give it once"),
    (["train", "/dev/stdin", "--read-vocab", "-", "-o", "{tmp}/v.bin"],
     "the corpus (/dev/stdin) and the --read-vocab file (-) would both read one pipe, whose text can be read once: "
     "give one of them a file")])
def test_a_pipe_named_twice_is_refused_as_two_dashes_are(tmp_path, command, message):
    """The second name read nothing (train, phrases' - /dev/stdin, the vocabulary after the corpus), or
    phrases' copy of the first again."""
    argv = [sys.executable, "-m", "w2vfast", *[a.format(tmp=tmp_path) for a in command]]
    result = subprocess.run(argv, input=b"a b\n", capture_output=True)
    assert result.returncode == 1 and result.stderr.decode().endswith(f"{message}\n")
    assert result.stdout == b"" and not (tmp_path / "v.bin").exists()


def test_save_and_read_vocab(planted_file, tmp_path):
    vocab = tmp_path / "vocab.txt"
    assert run("train", planted_file, "-o", tmp_path / "a.bin", "--save-vocab", vocab, *QUICK).exit_code == 0
    marker, *lines = vocab.read_text().splitlines()
    assert marker == "</s> 0"  # the C tool's sentence end, which its -read-vocab takes the first line for
    assert len(lines) == 40 and all(len(line.split()) == 2 for line in lines)
    vocab.write_text("\n".join(lines[:5]) + "\n")
    assert run("train", planted_file, "-o", tmp_path / "b.bin", "--read-vocab", vocab, *QUICK).exit_code == 0
    assert KeyedVectors.load(str(tmp_path / "b.bin")).index_to_key == [line.split()[0] for line in lines[:5]]
    piped = run("train", planted_file, "-o", tmp_path / "c.bin", "--read-vocab", "-", *QUICK,
                input="\n".join(lines[:3]) + "\n")  # it was "cannot read vocabulary -: No such file or directory"
    assert piped.exit_code == 0, piped.output
    assert KeyedVectors.load(str(tmp_path / "c.bin")).index_to_key == [line.split()[0] for line in lines[:3]]


C_TOOL = os.path.join(sysconfig.get_path("scripts"), "word2vec")


@pytest.mark.skipif(not os.access(C_TOOL, os.X_OK), reason="the word2vec C tool (pip install word2vec) is missing")
def test_the_c_tool_trains_with_a_saved_vocabulary_and_w2vfast_reads_its_own(planted_file, tmp_path):
    """The C tool's -read-vocab takes the first line for its sentence end, '</s>': without one it took
    the most frequent word, which it then never trained, and line ends no longer ended sentences. Its
    own file's '</s>' line (the count of line ends) was a word to w2vfast, kept and trained."""
    ours, theirs = tmp_path / "ours.vocab", tmp_path / "theirs.vocab"
    assert run("train", planted_file, "-o", tmp_path / "a.bin", "--save-vocab", ours, *QUICK).exit_code == 0
    subprocess.run([C_TOOL, "-train", planted_file, "-output", str(tmp_path / "c.txt"), "-read-vocab", str(ours),
                    "-save-vocab", str(theirs), "-size", "8", "-iter", "1", "-threads", "1", "-min-count", "1"],
                   check=True, capture_output=True)
    words = [line.split()[0] for line in ours.read_text().splitlines()[1:]]
    assert KeyedVectors.load(str(tmp_path / "c.txt")).index_to_key == ["</s>"] + words
    assert run("train", planted_file, "-o", tmp_path / "b.bin", "--read-vocab", theirs, *QUICK).exit_code == 0
    assert KeyedVectors.load(str(tmp_path / "b.bin")).index_to_key == words


def test_dash_writes_the_vectors_or_the_vocabulary_to_standard_output(planted_file, tmp_path):
    """As ``-`` reads the corpus from standard input; it wrote a file named ``-``."""
    folder = tmp_path / "run"
    folder.mkdir()

    def train(*args):
        return subprocess.run([sys.executable, "-m", "w2vfast", "train", planted_file, *args, *QUICK],
                              capture_output=True, cwd=folder, check=True).stdout

    vectors = train("-o", "-")
    assert vectors.startswith(b"40 8\n") and vectors.count(b"\n") == 41
    assert train("-o", "-", "--binary").startswith(b"40 8\n") and vectors != train("-o", "-", "--binary")
    vocabulary = train("-o", "v.bin", "--save-vocab", "-").decode().splitlines()
    assert len(vocabulary) == 41 and all(line.split()[1].isdecimal() for line in vocabulary)  # </s> first
    assert os.listdir(folder) == ["v.bin"]


BAD_TRAINING = [
    (["missing.txt"], "corpus not found: missing.txt"),
    (["-", "{corpus}", "-"], "- is given twice: standard input can be read once"),
    (["{empty}"], "the corpus is empty: it holds no words"),
    (["{corpus}", "--min-count", "100000"],
     "the vocabulary is empty: no word occurs --min-count 100000 times or more"),
    (["{corpus}", "--negative", "0"], "nothing to train: --negative 0 needs --hs (hierarchical softmax)"),
    (["{corpus}", "--dim", "0"], "--dim must be a positive integer, not 0"),
    (["{corpus}", "--window", "-1"], "--window must be a positive integer, not -1"),
    (["{corpus}", "--epochs", "0"], "--epochs must be a positive integer, not 0"),
    (["{corpus}", "--threads", "0"], "--threads must be a positive integer, not 0"),
    (["{corpus}", "--alpha", "0"], "--alpha must be a positive number that float32 holds, not 0.0"),
    (["{corpus}", "--alpha", "nan"], "--alpha must be a positive number that float32 holds, not nan"),
    (["{corpus}", "--alpha", "1e308"], "--alpha must be a positive number that float32 holds, not 1e+308"),
    (["{corpus}", "--alpha", "1e-300"], "--alpha must be a positive number that float32 holds, not 1e-300"),
    (["{corpus}", "--epochs", "1000000000000000"], "--epochs must be at most 1,000,000, not 1,000,000,000,000,000"),
    (["{corpus}", "--negative", "99999999999999999999"],
     "--negative must be at most 2,147,483,647, not 99,999,999,999,999,999,999"),
    (["{corpus}", "--negative", "2000000000"],  # a pattern: the memory figures are this machine's
     "re:training needs about .* a smaller --window, --negative, --dim or --threads needs less, or --force tries anyway"),
    (["{corpus}", "-o", "{corpus}"], "-o {corpus} is a corpus file: the run would overwrite it"),
    (["{corpus}", "--save-vocab", "{corpus_link}"], "--save-vocab {corpus_link} is a corpus file: the run would "
                                                    "overwrite it"),
    (["{corpus}", "-o", "{tmp}/v.bin", "--checkpoint", "{tmp}/v.bin"],
     "--checkpoint {tmp}/v.bin is also -o: one would overwrite the other"),
    (["{corpus}", "-o", "{tmp}/v.bin", "--save-vocab", "{tmp}/v.bin"],
     "--save-vocab {tmp}/v.bin is also -o: one would overwrite the other"),
    (["{corpus}", "-o", "-", "--save-vocab", "-"],
     "-o - and --save-vocab - would both write to standard output: give one of them a file"),
    (["{corpus}", "--checkpoint", "-"], "--checkpoint needs a file, not -: a stopped run goes on from it"),
    (["{corpus}", "--init", "-"], "--init needs a file, not - (standard input)"),
    (["{corpus}", "--phrases", "-"], "--phrases needs a file, not - (standard input)"),
    (["--resume", "-"], "--resume needs a file, not - (standard input)"),
    (["-", "--read-vocab", "-"], "the corpus and the --read-vocab file would both read standard input (-): give one of "
                                 "them a file"),
    (["{corpus}", "-o", "{tmp}/new/"], "cannot write {tmp}/new/: it names a directory"),
    (["{corpus}", "-o", "{twice_vocab}", "--phrases", "{twice_vocab}"],
     "-o {twice_vocab} is the --phrases table: the run would overwrite it"),
    (["{corpus}", "--save-vocab", "{broken_vocab}", "--read-vocab", "{broken_vocab}"],
     "--save-vocab {broken_vocab} is the --read-vocab file: the run would overwrite it"),
    (["{corpus}", "--checkpoint", "{one_word}", "--init", "{one_word}"],
     "--checkpoint {one_word} is the --init file: the run would overwrite it"),
    (["{one_word}", "--hs", "--save-vocab", "{tmp}/vocab.txt"],  # a refused run writes no vocabulary either
     "hierarchical softmax needs at least 2 words in the vocabulary"),
    (["{corpus}", "--read-vocab", "{huge_vocab}"], "{huge_vocab}: the counts add up to 10,000,000,000,000,000,000,"
                                                   "005, more than the 4,611,686,018,427,387,904 words a corpus "
                                                   "may have"),
    (["{bzh}"], "the vocabulary is empty: no word occurs --min-count 5 times or more"),
    (["{zstd}"], "cannot read corpus {zstd}: it is zstd-compressed, which w2vfast does not unpack: give it as text "
                 "(zstd -dc {zstd} > {zstd_plain})"),  # was trained on as text; said "| w2vfast train -", which phrases
    # and --dask are not
    (["{corpus}", "--disk-corpus", "{corpus}"], "directory for the on-disk corpus is not a directory: {corpus}"),
    (["{corpus}", "--alpha", "0.05", "--min-alpha", "0.1"],
     "--min-alpha must lie between 0 and --alpha (0.05), not 0.1"),
    (["{corpus}", "--seed", "-1"], "--seed must be between 0 and 2**63-1, not -1"),
    (["{corpus}", "--max-vocab", "0"], "--max-vocab must be positive, not 0"),
    (["{corpus}", "--threads", "4611686018427387904", "--force"],  # was an OverflowError's traceback
     "--threads must be at most 1,024, not 4,611,686,018,427,387,904"),
    (["{corpus}", "--sample", "-1"], "--sample must be a finite number, 0 or more, not -1.0"),
    (["{corpus}", "--sample", "inf"], "--sample must be a finite number, 0 or more, not inf"),
    (["{one_word}", "--hs"], "hierarchical softmax needs at least 2 words in the vocabulary"),
    (["{corpus}", "-o", "{missing_dir}/v.bin"], "output directory does not exist: {missing_dir}"),
    (["{corpus}", "--checkpoint", "{missing_dir}/run.ckpt"], "output directory does not exist: {missing_dir}"),
    (["{zstd}", "--save-vocab", "{missing_dir}/v.txt"],  # before the corpus is read, as -o is
     "output directory does not exist: {missing_dir}"),
    # It was "cannot write : it is a directory".
    (["{corpus}", "-o", ""], "an output name is empty: give a file, or - for standard output"),
    (["{corpus}", "--checkpoint", "{tmp}/run.ckpt", "--checkpoint-every", "-1"],
     "--checkpoint-every must be 0 or more minutes, not -1.0"),
    (["{corpus}", "--checkpoint-every", "nan"], "--checkpoint-every must be 0 or more minutes, not nan"),
    (["{corpus}", "--read-vocab", "{missing_dir}/vocab.txt"],
     "cannot read vocabulary {missing_dir}/vocab.txt: No such file or directory"),
    (["{corpus}", "--read-vocab", "{broken_vocab}"], "{broken_vocab}:2: expected 'word count', got b'broken'"),
    (["{corpus}", "--read-vocab", "{twice_vocab}"], "{twice_vocab}:3: word b'c0_w1' listed twice"),
]


@pytest.mark.parametrize("args,message", BAD_TRAINING)
def test_bad_input_is_one_line_and_status_1(tmp_path, planted_file, args, message):
    values = dict(corpus=planted_file, tmp=tmp_path, missing_dir=tmp_path / "nowhere",
                  empty=tmp_path / "empty.txt", one_word=tmp_path / "one-word.txt",
                  broken_vocab=tmp_path / "broken.txt", twice_vocab=tmp_path / "twice.txt",
                  corpus_link=tmp_path / "link.txt", huge_vocab=tmp_path / "huge.txt", bzh=tmp_path / "bzh.txt",
                  zstd=tmp_path / "c.txt.zst", zstd_plain=tmp_path / "c.txt")
    values["corpus_link"].symlink_to(planted_file)
    values["huge_vocab"].write_text("c0_w0 10000000000000000000000\nc0_w1 5\n")
    values["bzh"].write_text("BZh1 is text, not bzip2\n")  # read as text: too few words, none 5 times
    values["empty"].write_text("  \n\n")
    values["zstd"].write_bytes(b"\x28\xb5\x2f\xfd" + bytes(range(40)))  # zstd's magic number, then anything
    values["one_word"].write_text("only " * 5 + "\n")
    values["broken_vocab"].write_text("c0_w0 9\nbroken\n")
    values["twice_vocab"].write_text("c0_w1 9\nc0_w0 5\nc0_w1 4\n")
    made = set(os.listdir(tmp_path))
    args = [a.format(**values) for a in args] + ([] if "-o" in args else ["-o", str(tmp_path / "v.bin")])
    result = run("train", *args, "--quiet")
    assert result.exit_code == 1
    if message.startswith("re:"):
        assert re.fullmatch(f"w2vfast: error: {message[3:]}\n", result.stderr), result.stderr
    else:
        assert result.stderr == f"w2vfast: error: {message.format(**values)}\n"
    assert set(os.listdir(tmp_path)) == made  # no output, no checkpoint, no temporary


@pytest.mark.parametrize("args,message", [
    (["train", "{corpus}", "--dim", "abc"], "Invalid value for '--size' / '--dim': 'abc' is not a valid integer."),
    (["train"], "Missing argument 'CORPUS...'."),
    (["train", "{corpus}", "--model", "glove"], "Invalid value for '--model': 'glove' is not one of 'sg', 'cbow'."),
    (["train", "{corpus}", "--bogus"], "No such option"),  # click words it differently by version
    (["similar", "king", "-n", "0"], "Invalid value for '-n' / '--topn': 0 is not in the range x>=1."),
])
def test_usage_errors_are_one_line_and_status_2(planted_file, args, message):
    """click printed them after the command's usage and a hint, in four lines."""
    result = run(*[a.format(corpus=planted_file) for a in args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"w2vfast: error: {message.removesuffix('.')}")
    assert result.stderr.endswith(f"; see w2vfast {args[0]} --help\n") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("args,message", [
    (["train", "{corpus}", "-output", "{out}"], "-output is the word2vec C tool's spelling: w2vfast's is --output"),
    (["train", "{corpus}", "-cbow", "1"], "-cbow is the word2vec C tool's spelling: w2vfast's is --model cbow"),
    (["train", "{corpus}", "--hs", "1"], "--hs takes no value (1 would be read as a corpus file): --hs or --no-hs"),
    (["train", "{corpus}", "--binary", "0"], "--binary takes no value (0 would be read as a corpus file)"),
    (["train", "{corpus}", "-classes", "10"], "-classes is an option of the word2vec C tool that w2vfast does not have"),
    (["phrases", "{corpus}", "-output", "{out}"], "-output is the word2vec C tool's spelling"),
    (["evaluate", "analogy", "{corpus}", "-vectors", "{out}"], "-vectors is the word2vec C tool's spelling"),
])
def test_the_c_tools_spelling_of_options_is_refused_not_taken_apart(tmp_path, planted_file, monkeypatch, args,
                                                                     message):
    """click read -output as -o utput: the run trained on the output file too and wrote vectors to
    ./utput, exit 0; and the 1 of --hs 1 was a corpus file."""
    here = tmp_path / "here"
    here.mkdir()
    out = here / "vectors.bin"
    out.write_bytes(b"a C tool run's vectors")
    (here / "1").write_text("one two three\n" * 20)
    monkeypatch.chdir(here)
    result = run(*[a.format(corpus=planted_file, out=out) for a in args])
    assert result.exit_code == 2 and result.stderr.startswith(f"w2vfast: error: {message}"), result.stderr
    assert sorted(os.listdir(here)) == ["1", "vectors.bin"] and out.read_bytes() == b"a C tool run's vectors"


def test_non_utf8_words_come_back_byte_for_byte(tmp_path):
    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes(b"caf\xe9 na\xefve \xff\xfe caf\xe9 na\xefve \xff\xfe\n" * 5)
    out = tmp_path / "v.txt"
    assert run("train", corpus, "-o", out, *QUICK).exit_code == 0
    words = [line.split(b" ")[0] for line in out.read_bytes().split(b"\n")[1:-1]]
    assert sorted(words) == sorted([b"caf\xe9", b"na\xefve", b"\xff\xfe"])


def test_demo_trains_on_the_bundled_corpus(tmp_path):
    out = tmp_path / "demo.bin"
    result = run("demo", "-o", out, "--dim", "20", "--epochs", "1", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("king: ")
    assert len(KeyedVectors.load(str(out))) > 20000
    refused = run("demo", "-o", "-")  # its vectors and its neighbours would mix
    assert (refused.exit_code, refused.output) == (1, "w2vfast: error: demo shows the neighbours on standard "
                                                      "output: give -o a file\n")


def console_script() -> str:
    path = shutil.which("w2vfast", path=sysconfig.get_path("scripts"))
    assert path is not None, "the w2vfast console script is not installed (pip install . installs it)"
    return path


def test_the_installed_console_script_ends_with_the_promised_status(tmp_path):
    """The script pip installs (``w2vfast.__main__:run``, then ``cli.run``, which leaves without the interpreter's teardown)
    still flushes what it printed and exits 0, 1 or 2 as the command says."""
    script = console_script()
    version = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "version" in version.stdout
    missing = tmp_path / "missing.txt"
    error = subprocess.run([script, "train", missing], capture_output=True, text=True)
    assert (error.returncode, error.stderr) == (1, f"w2vfast: error: corpus not found: {missing}\n")
    usage = subprocess.run([script, "train"], capture_output=True, text=True)
    assert (usage.returncode, usage.stderr) == (2, "w2vfast: error: Missing argument 'CORPUS...'; see w2vfast train "
                                                   "--help\n")
    vectors = tmp_path / "v.bin"
    KeyedVectors([f"w{i}" for i in range(5)], np.eye(5, dtype=np.float32) + 0.1).save(str(vectors))
    answer = subprocess.run([script, "similar", "w0", "-n", "2", "-v", vectors, "--no-cache"],
                            capture_output=True, text=True)
    assert answer.returncode == 0, answer.stderr
    assert [line.split()[0] for line in answer.stdout.splitlines()] == ["word", "w1", "w2"]


@pytest.mark.parametrize("stop, status, name", [
    ("raise KeyboardInterrupt", 130, "SIGINT"),
    ("os.kill(os.getpid(), signal.SIGTERM); time.sleep(5)", 143, "SIGTERM"),  # ended at once, saying nothing
    ("os.kill(os.getpid(), signal.SIGHUP); time.sleep(5)", 129, "SIGHUP"),
])
def test_a_stop_while_python_imports_the_tool_is_one_line_too(stop, status, name):
    """The package imports no NumPy or Numba, so the console script catches a Ctrl-C or SIGTERM that
    comes while the command line's modules load (simulated here by the import of click, the first of
    them: ``--version`` imports neither NumPy nor Numba since 21d54b9)."""
    code = ("import builtins, os, signal, sys, time\n"
            "real_import = builtins.__import__\n"
            "def stop_at_click(name, *args, **kwargs):\n"
            "    if name == 'click':\n"
            f"        {stop}\n"
            "    return real_import(name, *args, **kwargs)\n"
            "import w2vfast.__main__\n"
            "assert not {'click', 'numpy', 'numba'} & set(sys.modules)\n"
            "builtins.__import__ = stop_at_click\n"
            "w2vfast.__main__.run()\n")
    result = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (status, f"w2vfast: stopped by {name}\n")


def test_python_dash_m_runs_the_command_line(tmp_path):
    version = subprocess.run([sys.executable, "-m", "w2vfast", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "version" in version.stdout
    missing = tmp_path / "missing.txt"
    error = subprocess.run([sys.executable, "-m", "w2vfast", "train", missing], capture_output=True, text=True)
    assert (error.returncode, error.stderr) == (1, f"w2vfast: error: corpus not found: {missing}\n")


# One thread and a seed: a stopped and resumed run writes the bytes of one that was never stopped.
# The planted corpus takes one kernel call an epoch, so a stop after call 1 is in the middle of the run.
EXACT = ["--dim", "8", "--epochs", "3", "--min-count", "1", "--sample", "0", "--threads", "1", "--seed", "4"]


def stopped_at_first_call(monkeypatch, *args, input=None):
    """Run ``w2vfast train ARGS``, stopped by SIGINT after its first kernel call; returns the command
    it says goes on with the run."""
    with monkeypatch.context() as patch:
        signal_at_call(patch, 1)
        result = run("train", *args, input=input)
    assert result.exit_code == 130, result.output
    return result.stderr.splitlines()[-1].split("; go on with: ")[1]


def test_a_resumed_run_writes_the_output_it_was_started_with(planted_file, tmp_path, monkeypatch):
    """Without -o, --resume writes where (and in the format) the run was started to write, even from
    another directory and when that was given as a relative path."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    reference = tmp_path / "reference.bin"
    assert run("train", planted_file, "-o", reference, *EXACT, "--quiet").exit_code == 0
    monkeypatch.chdir(first)
    checkpoint = tmp_path / "run.ckpt"
    command = stopped_at_first_call(monkeypatch, planted_file, "-o", "vectors.vec", "--binary", *EXACT,
                                    "--checkpoint", checkpoint, "--quiet")
    assert command == f"w2vfast train --resume {checkpoint} --quiet"
    monkeypatch.chdir(second)
    finished = run(*shlex.split(command)[1:])
    assert finished.exit_code == 0, finished.output
    assert (first / "vectors.vec").read_bytes() == reference.read_bytes()
    assert os.listdir(second) == []


def test_the_printed_command_repeats_what_the_checkpoint_does_not_keep(planted_file, tmp_path, monkeypatch):
    """A run that fits only with --force, and keeps its corpus on disk: the command to go on says so."""
    monkeypatch.setattr(memory, "available_bytes", lambda: 1000)
    output, checkpoint = tmp_path / "v.bin", tmp_path / "run.ckpt"
    assert run("train", planted_file, "-o", output, *EXACT, "--quiet").exit_code == 1  # refused without --force
    command = stopped_at_first_call(monkeypatch, planted_file, "-o", output, *EXACT, "--checkpoint", checkpoint,
                                    "--force", "--disk-corpus", tmp_path, "-q")
    assert command == f"w2vfast train --resume {checkpoint} --disk-corpus {tmp_path} --force --quiet"
    finished = run(*shlex.split(command)[1:])
    assert finished.exit_code == 0, finished.output
    assert len(KeyedVectors.load(str(output))) == 40


def test_a_run_on_standard_input_resumes_when_given_the_same_text(tmp_path, monkeypatch):
    text = "\n".join(" ".join(s) for s in planted_sentences()) + "\n"
    reference, output, checkpoint = tmp_path / "reference.bin", tmp_path / "v.bin", tmp_path / "run.ckpt"
    assert run("train", "-", "-o", reference, *EXACT, "--quiet", input=text).exit_code == 0
    command = stopped_at_first_call(monkeypatch, "-", "-o", output, *EXACT, "--checkpoint", checkpoint, "-q",
                                    input=text)
    assert command == f"w2vfast train - --resume {checkpoint} --quiet"
    without = run("train", "--resume", checkpoint, "--quiet")
    assert (without.exit_code, without.stderr) == (1, f"w2vfast: error: the run in {checkpoint} read standard "
                                                      "input or Python sentences: give that corpus again\n")
    other = run(*shlex.split(command)[1:], input=text.replace("c0_w1", "c1_w1"))
    assert other.exit_code == 1 and "the corpus does not match the checkpoint" in other.stderr
    finished = run(*shlex.split(command)[1:], input=text)
    assert finished.exit_code == 0, finished.output
    assert output.read_bytes() == reference.read_bytes()


def test_the_command_line_takes_its_defaults_from_train_config():
    options = {param.name: param for param in train_command.params}
    assert {name: options[name].default for name in DEFAULTS} == DEFAULTS
    assert options["checkpoint_every"].default == CHECKPOINT_MINUTES
    assert tuple(options["model"].type.choices) == MODELS


@pytest.mark.parametrize("name", ["dim", "window", "negative", "min_count", "epochs", "seed", "sample"])
def test_none_is_no_value_for_an_option_without_a_default_of_none(name):
    """It passed the type checks and failed in a comparison: Python's TypeError, not WrongType."""
    kind = "a number" if name == "sample" else "an integer"
    with pytest.raises(w2vfast.errors.WrongType, match=f"^--{name.replace('_', '-')} must be {kind}, not None$"):
        w2vfast.TrainConfig(**{name: None})


def test_every_option_of_train_is_kept_by_a_checkpoint_or_repeated_on_resume():
    """A new option of ``train`` must be kept by checkpoints or be in ``NOT_KEPT``, which the printed
    resume command repeats; the others are the resume itself, the vocabulary files, where the
    weights start (a resumed run starts from its checkpoint) and the Dask client (the printed command
    repeats --dask)."""
    parameters = inspect.signature(w2vfast.train).parameters
    keywords = {name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert "corpus" in parameters and keywords == (set(KEPT) - {"corpus"}) | set(NOT_KEPT) | \
        {"resume", "read_vocab", "save_vocab", "init", "client"}
    assert not set(KEPT) & set(NOT_KEPT)


def test_a_resumed_run_joins_the_phrases_it_was_started_with(planted_file, tmp_path, monkeypatch):
    table, reference, output = tmp_path / "phrases.tsv", tmp_path / "reference.txt", tmp_path / "v.txt"
    assert run("phrases", planted_file, "-o", tmp_path / "p.txt", "--threshold", "1", "--delimiter", "~",
               "--save-phrases", table, "-q").exit_code == 0
    assert run("train", planted_file, "-o", reference, "--phrases", table, *EXACT, "-q").exit_code == 0
    command = stopped_at_first_call(monkeypatch, planted_file, "-o", output, "--phrases", table, *EXACT,
                                    "--checkpoint", tmp_path / "run.ckpt", "-q")
    assert "--phrases" not in command
    assert run(*shlex.split(command)[1:]).exit_code == 0
    assert output.read_bytes() == reference.read_bytes() and b"~" in output.read_bytes()


def test_a_continued_run_joins_the_old_run_s_phrases_and_a_resumed_one_takes_no_new_table(planted_file, tmp_path):
    """--init read the new corpus unjoined, silently, though its other options are the old run's; a
    --phrases added on --resume was refused as a corpus that did not match."""
    table, old = tmp_path / "phrases.tsv", tmp_path / "old.ckpt"
    assert run("phrases", planted_file, "-o", tmp_path / "p.txt", "--threshold", "1", "--delimiter", "~",
               "--save-phrases", table, "-q").exit_code == 0
    assert run("train", planted_file, "-o", tmp_path / "old.txt", "--phrases", table, *EXACT, "--checkpoint", old,
               "-q").exit_code == 0
    inherited, given = tmp_path / "inherited.txt", tmp_path / "given.txt"
    assert run("train", planted_file, "--init", old, "-o", inherited, "-q").exit_code == 0
    assert run("train", planted_file, "--init", old, "-o", given, "--phrases", table, "-q").exit_code == 0
    assert inherited.read_bytes() == given.read_bytes() and b"~" in inherited.read_bytes()
    plain = tmp_path / "plain.ckpt"
    assert run("train", planted_file, "-o", tmp_path / "plain.txt", *EXACT, "--checkpoint", plain, "-q").exit_code == 0
    result = run("train", planted_file, "--resume", plain, "--phrases", table)
    assert result.exit_code == 1 and result.stderr == (f"w2vfast: error: --phrases {table} differs from the "
                                                       "checkpoint's (none): a resumed run keeps the options it "
                                                       "started with (only --threads may change)\n")
    table.rename(tmp_path / "moved.tsv")
    result = run("train", planted_file, "--init", old, "-o", tmp_path / "again.txt")
    assert result.exit_code == 1 and result.stderr == (f"w2vfast: error: cannot read phrase table {table}, which the "
                                                       f"run in {old} joined: No such file or directory (if it "
                                                       "moved, give --phrases with its new place)\n")


@pytest.mark.parametrize("command, failing, hint", [
    (["train", "{corpus}"], "w2vfast.trainer.read_corpus", "try a larger --min-count, a smaller --max-vocab"),
    (["phrases", "{corpus}", "-o", "{tmp}/p.txt"], "w2vfast.phrases.phrase_corpus", "--disk-corpus DIR keeps"),
    (["similar", "king", "-v", "{tmp}/v.bin"], "w2vfast.cli._load_vectors", "--limit N loads only"),
])
def test_running_out_of_memory_gives_the_hint_of_the_command(planted_file, tmp_path, monkeypatch, command, failing,
                                                              hint):
    """Every command said 'try a larger --min-count, a smaller --max-vocab or a smaller --dim', options
    that only training has."""
    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(failing, out_of_memory)
    result = run(*[a.format(corpus=planted_file, tmp=tmp_path) for a in command])
    assert result.exit_code == 1 and result.stderr.startswith(f"w2vfast: error: out of memory: {hint}")


def test_standard_error_closed_early_loses_no_run(planted_file, tmp_path):
    """A status line that cannot be written (``2>&1 | head -c 10``) ended the finished run with status 1,
    no vectors and no word: click takes a closed pipe for the end of the command."""
    closed, stderr = os.pipe()
    os.close(closed)  # every line the run writes to standard error meets a closed pipe
    try:
        result = subprocess.run([sys.executable, "-m", "w2vfast", "train", planted_file, "-o", str(tmp_path / "v.bin"),
                                 "--dim", "8", "--epochs", "1", "--min-count", "1"], stderr=stderr)
    finally:
        os.close(stderr)
    assert result.returncode == 0 and len(KeyedVectors.load(str(tmp_path / "v.bin"))) == 40


def test_a_second_stop_during_the_stop_s_save_says_what_is_kept(planted_file, tmp_path, monkeypatch):
    """The save given up, the message was 'stopped by SIGINT' alone: not that the checkpoint holds the
    run as of its last save, nor how to go on from it."""
    checkpoint = tmp_path / "run.ckpt"
    saves = itertools.count(1)
    real_save = Checkpointer.save

    def save_stopped_the_second_time(self, *args):
        if next(saves) == 2:  # the stop's save: Ctrl-C again, past the first one's echo
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        return real_save(self, *args)

    monkeypatch.setattr(Checkpointer, "save", save_stopped_the_second_time)
    with monkeypatch.context() as patch:
        signal_at_call(patch, 2)
        result = run("train", planted_file, "-o", tmp_path / "v.bin", *EXACT, "--checkpoint", checkpoint,
                     "--checkpoint-every", "0", "--quiet")
    assert result.exit_code == 130
    assert result.stderr == (f"w2vfast: stopped by SIGINT, but the run could not be saved (a second SIGINT gave the "
                             f"save up); {checkpoint} keeps it as of its last save; go on with: w2vfast train "
                             f"--resume {checkpoint} --quiet\n")
    assert run("train", "--resume", checkpoint, "--quiet").exit_code == 0


def test_resuming_a_finished_run_keeps_it_in_a_new_checkpoint_and_says_what_it_resumes(planted_file, tmp_path):
    """--checkpoint was ignored when the run resumed had finished (no safe point, no save); a refusal
    named --checkpoint, which the user never gave, for the file of --resume."""
    first, second = tmp_path / "first.ckpt", tmp_path / "second.ckpt"
    assert run("train", planted_file, "-o", tmp_path / "a.bin", *EXACT, "--checkpoint", first, "-q").exit_code == 0
    assert run("train", "--resume", first, "--checkpoint", second, "-o", tmp_path / "b.bin", "-q").exit_code == 0
    assert run("train", "--resume", second, "-o", tmp_path / "c.bin", "-q").exit_code == 0
    assert (tmp_path / "c.bin").read_bytes() == (tmp_path / "b.bin").read_bytes() == (tmp_path / "a.bin").read_bytes()
    refused = run("train", "--resume", first, "-o", first)
    assert refused.stderr == f"w2vfast: error: --resume {first} is also -o: one would overwrite the other\n"


def test_a_resumed_run_whose_corpus_moved_or_whose_table_changed_says_so(planted_file, tmp_path):
    """'corpus not found' gave no hint that the moved files can be named; an edited --phrases table
    was reported as a corpus that changed."""
    from w2vfast.phrases import PhraseTable

    moved, checkpoint, table = tmp_path / "moved.txt", tmp_path / "run.ckpt", tmp_path / "table.txt"
    shutil.copy(planted_file, moved)
    PhraseTable(b"_", [[(b"c0_w0", b"c0_w1", 9, 500.0)]]).save(str(table))
    assert run("train", moved, "-o", tmp_path / "a.bin", *EXACT, "--checkpoint", checkpoint, "--phrases", table,
               "-q").exit_code == 0
    moved.rename(tmp_path / "elsewhere.txt")
    lost = run("train", "--resume", checkpoint)
    assert lost.stderr == (f"w2vfast: error: the run's corpus file {moved} is not there: if it moved, name the files "
                           f"where they are now: w2vfast train FILE... --resume {checkpoint}\n")
    PhraseTable(b"_", [[(b"c1_w0", b"c1_w1", 9, 500.0)]]).save(str(table))
    edited = run("train", tmp_path / "elsewhere.txt", "--resume", checkpoint, "-o", tmp_path / "b.bin")
    assert edited.exit_code == 1
    assert edited.stderr.startswith(f"w2vfast: error: the corpus as its --phrases table joins it does not match the "
                                    f"checkpoint {checkpoint}")


def test_an_output_that_cannot_be_written_at_the_end_says_how_to_write_it(planted_file, tmp_path, monkeypatch):
    """The command to go on checked that the output could be written, raising in place of the message
    that the run is kept and how to write its vectors once the output's directory is back."""
    from w2vfast import trainer
    from w2vfast.safepoint import SafePoint

    out, checkpoint = tmp_path / "out", tmp_path / "run.ckpt"
    out.mkdir()

    class DirectoryGone(SafePoint):
        def __call__(self, position):
            shutil.rmtree(out, ignore_errors=True)
            return super().__call__(position)

    monkeypatch.setattr(trainer, "SafePoint", DirectoryGone)
    result = run("train", planted_file, "-o", out / "v.bin", *EXACT, "--checkpoint", checkpoint, "-q")
    assert result.exit_code == 1
    assert result.stderr == (f"w2vfast: error: output directory does not exist: {out}; the run is kept in "
                             f"{checkpoint}, and once that is mended w2vfast train --resume {checkpoint} --quiet "
                             "writes the vectors\n")
