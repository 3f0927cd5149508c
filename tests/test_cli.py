"""The command line: training end to end, vocabulary files, and one-line errors for bad input."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from w2vfast import KeyedVectors
from w2vfast.cli import main
from conftest import planted_sentences, write_corpus

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


def test_save_and_read_vocab(planted_file, tmp_path):
    vocab = tmp_path / "vocab.txt"
    assert run("train", planted_file, "-o", tmp_path / "a.bin", "--save-vocab", vocab, *QUICK).exit_code == 0
    lines = vocab.read_text().splitlines()
    assert len(lines) == 40 and all(len(line.split()) == 2 for line in lines)
    vocab.write_text("\n".join(lines[:5]) + "\n")
    assert run("train", planted_file, "-o", tmp_path / "b.bin", "--read-vocab", vocab, *QUICK).exit_code == 0
    assert KeyedVectors.load(str(tmp_path / "b.bin")).index_to_key == [line.split()[0] for line in lines[:5]]


@pytest.mark.parametrize("args,message", [
    (["missing.txt"], "corpus not found"),
    (["{empty}"], "corpus is empty"),
    (["{corpus}", "--min-count", "100000"], "vocabulary is empty"),
    (["{corpus}", "--negative", "0"], "needs --hs"),
    (["{corpus}", "--dim", "0"], "--dim must be a positive"),
    (["{corpus}", "--window", "-1"], "--window must be a positive"),
    (["{corpus}", "--epochs", "0"], "--epochs must be a positive"),
    (["{corpus}", "--threads", "0"], "--threads must be a positive"),
    (["{corpus}", "--alpha", "0"], "--alpha must be positive"),
    (["{corpus}", "--sample", "-1"], "--sample must be 0 or more"),
    (["{corpus}", "-o", "{missing_dir}/v.bin"], "output directory does not exist"),
    (["{corpus}", "--read-vocab", "{missing_dir}/vocab.txt"], "cannot read vocabulary"),
])
def test_bad_input_is_one_line_and_non_zero(tmp_path, planted_file, args, message):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n")
    values = dict(corpus=planted_file, empty=empty, missing_dir=tmp_path / "nowhere")
    args = [a.format(**values) for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "v.bin")]
    proc = subprocess.run([sys.executable, "-m", "w2vfast.cli", "train", *args, "--quiet"],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("w2vfast: error:"), proc.stderr
    assert message in proc.stderr
    assert not (tmp_path / "v.bin").exists()


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
