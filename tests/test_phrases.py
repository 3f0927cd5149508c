"""Phrases: planted collocations are joined and independent pairs are not, as word2phrase joins them;
more passes build longer phrases; a saved table applies as a fresh count would; the text keeps its bytes."""

import gzip
import math
import os
import pathlib
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner

import w2vfast
from w2vfast import phrases
from w2vfast.checkpoint import read_header
from w2vfast.cli import main
from w2vfast.counting import WordCounter
from w2vfast.errors import W2VError
from w2vfast.phrases import PhraseConfig, PhraseTable, phrase_corpus

PLANTED = [("new", "york"), ("los", "angeles"), ("prime", "minister")]
TRIGRAM = ("new", "york", "times")


def planted_lines(n_lines=400, seed=0, trigram=False):
    """Lines of words drawn independently from a small vocabulary, each with one planted pair put in
    at a random place: only those pairs are collocations. With ``trigram``, half the lines hold
    "new york times" instead, and the others a "times" elsewhere too, so that (york, times) scores
    half what (new, york) does, and a second pass at half the threshold joins (new_york, times)."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(60)] + ([] if trigram else ["new", "york", "los", "angeles", "times"])
    lines = []
    for _ in range(n_lines):
        words = [vocab[i] for i in rng.integers(len(vocab), size=12)]
        if trigram and rng.random() < 0.5:
            planted = TRIGRAM
        else:
            choices = PLANTED[1:] if trigram else PLANTED
            planted = choices[int(rng.integers(len(choices)))]
            if trigram:
                words.insert(int(rng.integers(0, len(words))), "times")
        at = int(rng.integers(0, len(words)))
        lines.append(" ".join(words[:at] + list(planted) + words[at:]))
    return lines


def write(path, lines, end="\n"):
    path.write_bytes(("\n".join(lines) + end).encode())
    return str(path)


def phrased(tmp_path, lines, name="out.txt", **options):
    corpus = write(tmp_path / "corpus.txt", lines)
    out = str(tmp_path / name)
    table = phrase_corpus([corpus], out, PhraseConfig(**options))
    return open(out, "rb").read(), table


def test_planted_pairs_are_joined_and_independent_pairs_are_not(tmp_path):
    text, table = phrased(tmp_path, planted_lines(), threshold=10)
    tokens = Counter(text.split())
    for left, right in PLANTED:
        assert tokens[f"{left}_{right}".encode()] > 80
    assert set(table.phrases()) == {f"{a}_{b}".encode() for a, b in PLANTED}
    assert not any(b"_" in t and not t.startswith((b"new", b"los", b"prime")) for t in tokens)


def test_a_second_pass_builds_trigrams_at_half_the_threshold_first(tmp_path):
    lines = planted_lines(trigram=True)
    one, _ = phrased(tmp_path, lines, threshold=10)
    two, table = phrased(tmp_path, lines, "two.txt", threshold=10, passes=2)
    assert b"new_york_times" not in one.split() and b"new_york" in one.split()
    assert Counter(two.split())[b"new_york_times"] > 50
    assert PhraseConfig(threshold=100, passes=3).thresholds() == [400, 200, 100]
    assert PhraseConfig(scoring="npmi", threshold=0.3, passes=2).thresholds() == [0.3, 0.3]
    assert [len(p) for p in table.passes] == [3, 1] and table.passes[1][0][:2] == (b"new_york", b"times")
    # The token new_york as written and the phrase are one word: their pairs with "times" count together.
    _, table = phrased(tmp_path, lines + ["new_york times"] * 30, "three.txt", threshold=10, passes=2)
    assert table.passes[1][0][:3] == (b"new_york", b"times", Counter(two.split())[b"new_york_times"] + 30)


def test_applying_a_saved_table_equals_a_fresh_count(tmp_path):
    lines = planted_lines(trigram=True)
    fresh, table = phrased(tmp_path, lines, threshold=10, passes=2)
    table.save(str(tmp_path / "table.txt"))
    applied = str(tmp_path / "applied.txt")
    again = phrase_corpus([str(tmp_path / "corpus.txt")], applied, apply=str(tmp_path / "table.txt"))
    assert open(applied, "rb").read() == fresh
    assert again.passes == PhraseTable.load(str(tmp_path / "table.txt")).passes
    # On other text, the table joins the same pairs but counts nothing.
    other = write(tmp_path / "other.txt", ["the new york times of los angeles", "york new"])
    phrase_corpus([other], applied, apply=str(tmp_path / "table.txt"))
    assert open(applied, "rb").read() == b"the new_york_times of los_angeles\nyork new\n"
    # A compressed table is read as a compressed vocabulary is.
    with gzip.open(tmp_path / "table.txt.gz", "wb") as packed:
        packed.write((tmp_path / "table.txt").read_bytes())
    assert PhraseTable.load(str(tmp_path / "table.txt.gz")).passes == again.passes


def test_the_text_keeps_its_bytes_but_for_the_whitespace_inside_phrases(tmp_path):
    lines = planted_lines(200)
    corpus = tmp_path / "odd.txt"
    raw = ("\r\n".join(lines) + "\r\n\n\t").encode().replace(b"new york", b"new \t york", 5)
    raw = raw.replace(b"w1 ", b"w1\xff\xfe  ", 7)  # not UTF-8, and runs of whitespace
    corpus.write_bytes(raw)
    out = str(tmp_path / "out.txt")
    phrase_corpus([str(corpus)], out, PhraseConfig(threshold=10))
    text = open(out, "rb").read()
    assert text == raw.replace(b"new \t york", b"new_york").replace(b"new york", b"new_york") \
        .replace(b"los angeles", b"los_angeles").replace(b"prime minister", b"prime_minister")


def test_line_breaks_never_join_and_files_do_not_run_together(tmp_path):
    lines = planted_lines(200)
    split = [line.replace("new york", "new\nyork") for line in lines]
    text, _ = phrased(tmp_path, split, threshold=10)
    assert b"new_york" not in text and text.count(b"\n") == len(lines) + sum("new york" in ln for ln in lines)
    first = write(tmp_path / "a.txt", lines[:100], end=" new")
    second = write(tmp_path / "b.txt", ["york"] + lines[100:], end="")
    out = str(tmp_path / "both.txt")
    phrase_corpus([first, second], out, PhraseConfig(threshold=10))
    assert open(out, "rb").read().split(b"\n")[99].endswith(b" new")
    spaced = write(tmp_path / "c.txt", lines[:100], end=" new ")  # ends in a space, not a newline
    phrase_corpus([spaced, second], out, PhraseConfig(threshold=10))
    last, first_of_second = open(out, "rb").read().split(b"\n")[99:101]
    assert last.endswith(b" new ") and first_of_second == b"york"  # they ran into one line
    alone = str(tmp_path / "alone.txt")  # the last file gains no newline
    phrase_corpus([first], alone, PhraseConfig(threshold=10))
    assert open(alone, "rb").read().endswith(b" new") and len(open(alone, "rb").read()) == os.path.getsize(first)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_tiny_pair_table_budget_and_halved_blocks_and_passes_give_the_same_table_and_text(tmp_path, monkeypatch, threads):
    lines = planted_lines(trigram=True)
    expected, table = phrased(tmp_path, lines, threshold=10, passes=2)
    monkeypatch.setattr(phrases, "PAIR_TABLE_BYTES", 1024)  # 64 slots: many partitions and retries
    monkeypatch.setattr(phrases, "_SPLIT_BYTES", 64)  # with 2 threads, the text is rewritten in halves
    monkeypatch.setattr(phrases, "_SPLIT_IDS", 16)  # and each pass joins the ids in halves
    small, small_table = phrased(tmp_path, lines, "small.txt", threshold=10, passes=2, threads=threads)
    assert small == expected and small_table.passes == table.passes


@pytest.mark.parametrize("seed", range(40))
def test_a_pass_joined_in_halves_joins_as_one_pass_does(monkeypatch, seed):
    """Random ids over a few words (line ends too) and random pairs, chains of them as common as
    ``x y x y``, where a cut at a right word would join ``y x`` after it: two passes, the second over
    the marks the first left, each joined whole and in halves."""
    monkeypatch.setattr(phrases, "_SPLIT_IDS", 2)
    rng = np.random.default_rng(seed)
    n_words = int(rng.integers(2, 8))
    ids = rng.integers(-1, n_words, size=int(rng.integers(2, 300))).astype(np.int32)
    marks = np.where(ids < 0, phrases._LINE_END, phrases._STARTS).astype(np.uint8)
    whole = (ids.copy(), marks.copy(), ids.shape[0])
    halves = (ids, marks, ids.shape[0])
    for _ in range(2):
        pairs = {(int(a), int(b)) for a, b in rng.integers(0, n_words, size=(int(rng.integers(1, 6)), 2))}
        lefts, rights = (np.array(side, dtype=np.int64) for side in zip(*sorted(pairs)))
        phrase_ids = np.arange(n_words, n_words + len(pairs), dtype=np.int64)
        n_words += len(pairs)
        arguments = (n_words, lefts, rights, phrase_ids)
        whole = (whole[0], whole[1], phrases._join(whole[0], whole[2], *arguments, whole[1]))
        halves = (halves[0], halves[1], phrases._join_in_halves(halves[0], halves[2], *arguments, halves[1], 2))
        assert halves[2] == whole[2]
        assert np.array_equal(halves[0][:halves[2]], whole[0][:whole[2]]) and np.array_equal(halves[1], whole[1])


def test_with_a_disk_folder_the_ids_and_marks_live_there_and_nothing_is_left(tmp_path, monkeypatch):
    lines = planted_lines(trigram=True)
    expected, table = phrased(tmp_path, lines, threshold=10, passes=2)
    folder = tmp_path / "disk"
    folder.mkdir()
    kept = []
    scratch = phrases._scratch_bytes
    monkeypatch.setattr(phrases, "_scratch_bytes", lambda n, where: kept.append(scratch(n, where)) or kept[-1])
    monkeypatch.setattr(phrases, "_CHUNK", 100)  # the marks made and copied in many pieces
    out = str(tmp_path / "disk.txt")
    assert phrase_corpus([str(tmp_path / "corpus.txt")], out, PhraseConfig(threshold=10, passes=2),
                         disk_dir=str(folder)).passes == table.passes
    assert open(out, "rb").read() == expected
    assert len(kept) == 2 and all(isinstance(array, np.memmap) for array in kept) and os.listdir(folder) == []


def test_an_npmi_score_never_beats_the_largest_threshold():
    """Words that only ever occur together score 1, which rounding took past 1 for some counts: a
    --threshold 1 then still joined them."""
    together = [(count, tokens) for count in range(1, 40) for tokens in range(2 * count, 2000, 7)]
    raw = [math.log((count / tokens) / (count / tokens) ** 2) / -math.log(count / tokens) for count, tokens in together]
    assert max(raw) > 1  # the cases that were wrong
    assert all(phrases._npmi(count, count, count, tokens) <= 1.0 for count, tokens in together)


def test_scores_are_word2phrase_s_and_gensim_s_npmi(tmp_path):
    lines = planted_lines()
    tokens = [line.split() for line in lines]
    words = Counter(t for line in tokens for t in line)
    pairs = Counter(p for line in tokens for p in zip(line, line[1:]))
    total = sum(words.values())
    _, table = phrased(tmp_path, lines, threshold=0)
    for left, right, count, score in table.passes[0]:
        a, b = left.decode(), right.decode()
        assert count == pairs[a, b]
        expected = np.float32(count - 5) / np.float32(words[a]) / np.float32(words[b]) * np.float32(total)
        assert score == float(expected)
    passing = {(a.encode(), b.encode()) for (a, b), c in pairs.items() if c >= 5 and (c - 5) / words[a] / words[b] > 0}
    assert passing == {(left, right) for left, right, _, _ in table.passes[0]}
    _, table = phrased(tmp_path, lines, scoring="npmi", threshold=0.5)
    for left, right, count, score in table.passes[0]:
        pa, pb, pab = words[left.decode()] / total, words[right.decode()] / total, count / total
        assert score == pytest.approx(math.log(pab / (pa * pb)) / -math.log(pab), rel=1e-12) and score > 0.5
    assert {p[:2] for p in table.passes[0]} == {(a.encode(), b.encode()) for a, b in PLANTED}


def test_equals_word2phrase_token_for_token_when_installed(tmp_path):
    """One line ending in a newline: word2phrase counts pairs across line breaks and drops a last word
    with no whitespace after it; neither happens here. Its file names must be under 60 bytes."""
    tool = shutil.which("word2phrase", path=sysconfig.get_path("scripts")) or shutil.which("word2phrase")
    if tool is None:
        pytest.skip("word2phrase is not installed (the test extra's word2vec package builds it)")
    short = pathlib.Path(tempfile.mkdtemp(prefix="w2p", dir="/tmp"))
    corpus = write(short / "one.txt", [" ".join(planted_lines(600, seed=3) + planted_lines(300, trigram=True))])
    for min_count, threshold in ((5, 100), (3, 20), (8, 5)):
        theirs = short / "theirs.txt"
        subprocess.run([tool, "-train", corpus, "-output", str(theirs), "-min-count", str(min_count),
                        "-threshold", str(threshold), "-debug", "0"], check=True, capture_output=True)
        ours = str(tmp_path / "ours.txt")
        phrase_corpus([corpus], ours, PhraseConfig(min_count=min_count, threshold=threshold))
        assert open(ours, "rb").read().split() == theirs.read_bytes().split()
    shutil.rmtree(short)


def test_the_command_line_streams_through_a_pipe_into_train(tmp_path):
    corpus = write(tmp_path / "c.txt", planted_lines(300))
    gz = tmp_path / "c.txt.gz"
    gz.write_bytes(gzip.compress(open(corpus, "rb").read()))
    command = [sys.executable, "-m", "w2vfast.cli"]
    phrase = subprocess.Popen(command + ["phrases", "-", "-o", "-", "--threshold", "10", "-q"],
                              stdin=open(gz, "rb"), stdout=subprocess.PIPE)
    train = subprocess.run(command + ["train", "-", "-o", str(tmp_path / "v.txt"), "--epochs", "1", "--dim", "8",
                                      "-q"], stdin=phrase.stdout, capture_output=True)
    phrase.stdout.close()
    assert phrase.wait() == 0 and train.returncode == 0, train.stderr
    assert "new_york" in w2vfast.KeyedVectors.load(str(tmp_path / "v.txt"))


def test_train_with_a_table_equals_training_on_the_phrased_text(tmp_path):
    """The text also holds the token new_york as written: the phrase and it are one word."""
    lines = planted_lines(trigram=True) + planted_lines(100, seed=5) + ["new_york"] * 20
    text, table = phrased(tmp_path, lines, threshold=10, passes=2)
    table.save(str(tmp_path / "table.txt"))
    options = dict(min_count=1, epochs=1, dim=8, threads=1)
    on_text = w2vfast.train(str(tmp_path / "out.txt"), **options)
    checkpoint = str(tmp_path / "run.ckpt")
    with_table = w2vfast.train(str(tmp_path / "corpus.txt"), phrases=str(tmp_path / "table.txt"),
                               checkpoint=checkpoint, **options)
    assert on_text.index_to_key == with_table.index_to_key and "new_york_times" in on_text
    assert on_text.index_to_key.count("new_york") == 1
    assert np.array_equal(on_text.vectors, with_table.vectors)
    assert read_header(checkpoint)["phrases"] == str(tmp_path / "table.txt")


@pytest.mark.parametrize("args, message", [
    (["--threshold", "-1"], "--threshold must be a finite number, 0 or more, for the default scoring, not -1.0"),
    (["--threshold", "inf"], "--threshold must be a finite number, 0 or more, for the default scoring, not inf"),
    (["--scoring", "npmi", "--threshold", "2"], "between -1 and 1"),
    (["--min-count", "0"], "--min-count must be at least 1"),
    (["--passes", "0"], "--passes must lie between 1 and 64"),
    (["--passes", "65"], "--passes must lie between 1 and 64"),
    (["--threads", "99999999999999999999"], "--threads must lie between 1 and 1024"),
    (["-o", "LOOP"], "Too many levels of symbolic links"),
    (["--apply", "MANY_PASSES"], "is damaged near line 1"),
    (["--save-phrases", "CORPUS"], "is a corpus file: the run would overwrite it"),
    (["--save-phrases", "OUT"], "is also -o: one would overwrite the other"),
    (["-o", "CORPUS"], "is a corpus file: the run would overwrite it"),
    (["-o", "HARD_LINK"], "is a corpus file: the run would overwrite it"),
    (["-o", "TABLE", "--apply", "TABLE"], "is the --apply table: the run would overwrite it"),
    (["--delimiter", " "], "--delimiter must be"),
    (["--apply", "TABLE", "--threshold", "3"], "--threshold cannot be given with --apply"),
    (["--apply", "CORPUS"], "is not a w2vfast phrase table"),
    (["--apply", "DAMAGED"], "is damaged near line 3"),
    (["--apply", "SPACE_DELIMITER"], "is damaged: its delimiter is b' '"),  # was "damaged near line 3"
    (["--apply", "-"], "--apply needs a file, not - (standard input)"),  # was "No such file or directory"
    (["-o", "NODIR/out.txt"], "output directory does not exist"),
])
def test_bad_input_is_one_line_and_leaves_no_output(tmp_path, args, message):
    corpus = write(tmp_path / "c.txt", planted_lines(50))
    table = tmp_path / "table.txt"
    phrase_corpus([corpus], str(tmp_path / "p.txt"), PhraseConfig(threshold=10), save_phrases=str(table))
    damaged = tmp_path / "damaged.txt"
    lines = table.read_bytes().split(b"\n")
    damaged.write_bytes(b"\n".join(lines[:2] + [lines[2].replace(b"\t", b" ")] + lines[3:]))
    many_passes = tmp_path / "many.txt"
    many_passes.write_bytes(table.read_bytes().replace(b"passes=1", b"passes=100000000", 1))
    space_delimiter = tmp_path / "space.txt"
    space_delimiter.write_bytes(table.read_bytes().replace(b"delimiter=5f", b"delimiter=20", 1))
    out = tmp_path / "out.txt"
    os.link(corpus, tmp_path / "hard.txt")
    os.symlink(tmp_path / "loop2", tmp_path / "loop1")
    os.symlink(tmp_path / "loop1", tmp_path / "loop2")
    names = {"TABLE": str(table), "CORPUS": corpus, "DAMAGED": str(damaged), "MANY_PASSES": str(many_passes),
             "OUT": str(out), "LOOP": str(tmp_path / "loop1"), "HARD_LINK": str(tmp_path / "hard.txt"),
             "SPACE_DELIMITER": str(space_delimiter)}
    args = [names.get(a, a).replace("NODIR", str(tmp_path / "none")) for a in args]
    text, saved = open(corpus, "rb").read(), table.read_bytes()
    result = CliRunner().invoke(main, ["phrases", corpus, "-o", str(out), *args])
    assert result.exit_code == 1 and message in result.output and len(result.output.splitlines()) == 1
    assert not out.exists() and open(corpus, "rb").read() == text and table.read_bytes() == saved


@pytest.mark.parametrize("field, value", [(1, b"-7"), (1, b"0"), (2, b"nan"), (2, b"inf"), (0, b"c_new york"),
                                          (1, b"+7"), (1, b"5_0"), (3, b" 1")],
                         ids=["negative-count", "zero-count", "nan-score", "infinite-score", "space-in-phrase",
                              "signed-count", "underscored-count", "spaced-pass"])
def test_a_table_row_that_save_phrases_never_writes_is_damage(tmp_path, field, value):
    """A hand-edited row was taken: a count or score that no count gives, or a phrase with a space,
    which could never match a token and was left out without a word."""
    corpus = write(tmp_path / "c.txt", planted_lines(50))
    table = tmp_path / "table.txt"
    phrase_corpus([corpus], str(tmp_path / "p.txt"), PhraseConfig(threshold=10), save_phrases=str(table))
    lines = table.read_bytes().split(b"\n")
    row = lines[2].split(b"\t")
    row[field] = value
    if field == 0:
        row[4] = b"1"  # still split after its first byte, as "c" + "_" + "new york"
    table.write_bytes(b"\n".join(lines[:2] + [b"\t".join(row)] + lines[3:]))
    with pytest.raises(W2VError, match=f"phrase table {table} is damaged near line 3$"):
        PhraseTable.load(str(table))


@pytest.mark.parametrize("old, new", [(b"delimiter=", b"delim="), (b"passes=", b"pass="), (b"passes=", b"passes=+")])
def test_a_table_header_that_save_phrases_never_writes_is_damage(tmp_path, old, new):
    """Any key before the '=' was taken, and Python's int() forms of the number of passes."""
    corpus = write(tmp_path / "c.txt", planted_lines(50))
    table = tmp_path / "table.txt"
    phrase_corpus([corpus], str(tmp_path / "p.txt"), PhraseConfig(threshold=10), save_phrases=str(table))
    first, rest = table.read_bytes().split(b"\n", 1)
    table.write_bytes(first.replace(old, new) + b"\n" + rest)
    with pytest.raises(W2VError, match=f"phrase table {table} is damaged near line 1$"):
        PhraseTable.load(str(table))


def test_the_table_and_the_text_are_never_written_to_one_stream(tmp_path):
    corpus = write(tmp_path / "c.txt", planted_lines(50))
    result = CliRunner().invoke(main, ["phrases", corpus, "-o", "-", "--save-phrases", "-"])
    assert result.exit_code == 1 and "would both write to standard output" in result.output


@pytest.mark.parametrize("outputs", [["-o", "-", "--save-phrases", "/dev/stdout"],
                                     ["-o", "/dev/stdout", "--save-phrases", "-"]])
def test_standard_output_by_its_other_name_is_one_output_too(tmp_path, outputs):
    """Only two - were refused: the table and the text went to one file, one over the other, exit 0."""
    corpus = write(tmp_path / "c.txt", planted_lines(50))
    with open(tmp_path / "out.txt", "wb") as out:
        done = subprocess.run([sys.executable, "-m", "w2vfast", "phrases", corpus, *outputs], stdout=out,
                              stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1 and done.stderr.endswith(" is also -o: one would overwrite the other\n")
    assert (tmp_path / "out.txt").read_bytes() == b""


def test_a_failed_run_keeps_the_table_there_was(tmp_path, monkeypatch):
    corpus = write(tmp_path / "c.txt", planted_lines(50))
    table = tmp_path / "table.txt"
    table.write_bytes(b"the table of an earlier run")

    def fails(*args, **kwargs):
        raise w2vfast.W2VError("the disk is full")

    monkeypatch.setattr(phrases, "_write_joined", fails)
    with pytest.raises(w2vfast.W2VError):
        phrase_corpus([corpus], str(tmp_path / "out.txt"), PhraseConfig(threshold=10), save_phrases=str(table))
    assert table.read_bytes() == b"the table of an earlier run"


def test_a_table_that_cannot_be_written_keeps_the_text_there_was(tmp_path, monkeypatch):
    """The text was renamed into place first: a failed table left a new text beside an old table,
    which a later train --phrases would take for the text's."""
    corpus = write(tmp_path / "c.txt", planted_lines(50))
    out, table = tmp_path / "out.txt", tmp_path / "table.txt"
    out.write_bytes(b"the text of an earlier run")
    table.write_bytes(b"the table of an earlier run")

    def fails(self, path):
        raise w2vfast.W2VError("the disk is full")

    monkeypatch.setattr(phrases.PhraseTable, "save", fails)
    with pytest.raises(w2vfast.W2VError):
        phrase_corpus([corpus], str(out), PhraseConfig(threshold=10), save_phrases=str(table))
    assert (out.read_bytes(), table.read_bytes()) == (b"the text of an earlier run", b"the table of an earlier run")
    assert sorted(os.listdir(tmp_path)) == ["c.txt", "out.txt", "table.txt"]


def test_a_phrase_that_starts_with_a_hash_survives_its_table(tmp_path):
    lines = [line.replace("new york", "#new york") for line in planted_lines()]
    fresh, table = phrased(tmp_path, lines, threshold=10)
    assert b"#new_york" in table.phrases()
    table.save(str(tmp_path / "table.txt"))
    applied = str(tmp_path / "applied.txt")
    phrase_corpus([str(tmp_path / "corpus.txt")], applied, apply=str(tmp_path / "table.txt"))
    assert open(applied, "rb").read() == fresh


def test_a_min_count_beyond_any_count_joins_nothing(tmp_path):
    text, table = phrased(tmp_path, planted_lines(50), min_count=10**20)
    assert len(table) == 0 and text == (tmp_path / "corpus.txt").read_bytes()


def test_a_fifo_is_read_twice_through_a_copy_that_has_no_name(tmp_path, monkeypatch):
    """The copy was a named file in a temporary directory, which a killed run (SIGKILL) left behind."""
    lines = planted_lines(100)
    fresh, _ = phrased(tmp_path, lines, threshold=10)
    fifo, scratch = tmp_path / "fifo", tmp_path / "scratch"
    os.mkfifo(fifo)
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seen = []
    real_join_passes = phrases.join_passes
    monkeypatch.setattr(phrases, "join_passes",
                        lambda *args: seen.append(os.listdir(scratch)) or real_join_passes(*args))
    writer = subprocess.Popen(["cp", str(tmp_path / "corpus.txt"), str(fifo)])
    phrase_corpus([str(fifo)], str(tmp_path / "from-fifo.txt"), PhraseConfig(threshold=10))
    writer.wait(timeout=60)
    assert (tmp_path / "from-fifo.txt").read_bytes() == fresh
    assert seen == [[]]  # while the copy was read


def test_the_output_goes_through_a_link_and_into_a_fifo(tmp_path):
    lines = planted_lines(100)
    fresh, _ = phrased(tmp_path, lines, threshold=10)
    (tmp_path / "target.txt").write_bytes(b"old")
    os.symlink(tmp_path / "target.txt", tmp_path / "link.txt")
    phrase_corpus([str(tmp_path / "corpus.txt")], str(tmp_path / "link.txt"), PhraseConfig(threshold=10))
    assert os.path.islink(tmp_path / "link.txt") and (tmp_path / "target.txt").read_bytes() == fresh
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    phrase_corpus([str(tmp_path / "corpus.txt")], str(fifo), PhraseConfig(threshold=10))
    assert reader.communicate(timeout=60)[0] == fresh
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_table_round_trips_odd_bytes_and_a_longer_delimiter(tmp_path):
    table = PhraseTable(b"::", [[(b"\xffa", b"b::c", 7, 1.5)], [(b"\xffa::b::c", b"d", 5, 0.25)]])
    table.save(str(tmp_path / "t.txt"))
    assert PhraseTable.load(str(tmp_path / "t.txt")) == table
    (tmp_path / "marked.txt").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "t.txt").read_bytes())  # saved by an editor
    assert PhraseTable.load(str(tmp_path / "marked.txt")) == table  # was "not a w2vfast phrase table"
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"x \xffa b::c d y\n\xffa b::c\n")
    phrase_corpus([str(corpus)], str(tmp_path / "o.txt"), apply=str(tmp_path / "t.txt"))
    assert (tmp_path / "o.txt").read_bytes() == b"x \xffa::b::c::d y\n\xffa::b::c\n"


def test_a_long_delimiter_takes_room_for_the_joins_made_not_for_every_byte(tmp_path):
    """The rewrite set aside the text's bytes times the delimiter's: 1.5 TB here, 'out of memory'."""
    rng = np.random.default_rng(0)
    lines = [" ".join(f"w{i}" for i in rng.integers(100_000, size=12)) for _ in range(2000)] + ["new york"] * 3
    delimiter = b"-" * 10_000_000
    text, table = phrased(tmp_path, lines, min_count=2, threshold=0, delimiter=delimiter)
    assert table.phrases() == [b"new" + delimiter + b"york"] and text.count(delimiter) == 3
    assert text.replace(delimiter, b" ") == (tmp_path / "corpus.txt").read_bytes()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_text_that_cannot_be_written_leaves_the_saved_table_there_was(tmp_path):
    """To a device, the text's last bytes fail at its flush, which came after the table was saved."""
    corpus = write(tmp_path / "c.txt", planted_lines(50))
    table = tmp_path / "table.txt"
    table.write_bytes(b"keep me\n")
    result = CliRunner().invoke(main, ["phrases", corpus, "-o", "/dev/full", "--save-phrases", str(table),
                                       "--threshold", "10"])
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert table.read_bytes() == b"keep me\n"


def test_progress_goes_to_stderr_and_the_phrases_to_the_output(tmp_path):
    corpus = write(tmp_path / "c.txt", planted_lines(100))
    result = subprocess.run([sys.executable, "-m", "w2vfast.cli", "phrases", corpus, "-o", "-", "--threshold", "10"],
                            capture_output=True)
    assert result.returncode == 0 and b"new_york" in result.stdout
    assert b"pass 1: threshold 10, 3 phrases" in result.stderr and b"new_york" not in result.stderr
    assert len(result.stdout) == os.path.getsize(corpus)  # one space became one "_" in each phrase


def test_the_counter_finds_the_words_that_hold_the_delimiter():
    """Words 1, 8 and 9 hold it: a set of such small numbers does not iterate in their order."""
    counter = WordCounter()
    counter.feed(b"w0 a_b w2 w3 w4 w5 w6 w7 x_y_z _d w10 a_b x\n" * 3, True)
    found = counter.words_containing(b"_")
    assert found == [1, 8, 9] and counter.words(found) == [b"a_b", b"x_y_z", b"_d"]
    assert counter.words(counter.words_containing(b"_d")) == [b"_d"] and counter.words_containing(b"%") == []
    # In the pool of words, a: and :b make a :: that neither holds.
    counter = WordCounter()
    counter.feed(b"w0 p::q w2 w3 w4 w5 w6 w7 a: :b\n", True)
    assert counter.words_containing(b"::") == [1]


def test_a_text_too_large_for_memory_is_refused_before_reading(tmp_path, monkeypatch):
    from w2vfast import memory

    corpus = write(tmp_path / "c.txt", planted_lines(50))
    monkeypatch.setattr(memory, "available_bytes", lambda: 1000)
    result = CliRunner().invoke(main, ["phrases", corpus, "-o", str(tmp_path / "out.txt")])
    assert result.exit_code == 1 and "phrasing the corpus needs about" in result.output
    assert "encoded corpus" in result.output and ", marks " in result.output and not (tmp_path / "out.txt").exists()
    folder = tmp_path / "disk"
    folder.mkdir()
    result = CliRunner().invoke(main, ["phrases", corpus, "-o", str(tmp_path / "out.txt"),
                                       "--disk-corpus", str(folder)])
    assert result.exit_code == 1 and "of memory (pair tables 256.0 MiB, read buffers " in result.output
    assert "encoded corpus" not in result.output and "marks" not in result.output.split(" but ")[0]


def test_a_corpus_edited_between_counting_and_writing_leaves_no_output(tmp_path, monkeypatch):
    """Tokens replaced by others of their length were written out unnoticed, old text and new mixed."""
    corpus = write(tmp_path / "c.txt", planted_lines(50))
    counted = phrases.join_passes

    def join_then_edit(*args, **kwargs):
        joined = counted(*args, **kwargs)
        time.sleep(0.02)  # past the clock tick of the file's last write
        text = pathlib.Path(corpus).read_bytes()
        pathlib.Path(corpus).write_bytes(text.replace(text[:2], text[1:2] + text[:1], 1))
        return joined

    monkeypatch.setattr(phrases, "join_passes", join_then_edit)
    with pytest.raises(W2VError, match="^the corpus changed between its two readings"):
        phrase_corpus([corpus], str(tmp_path / "out.txt"), PhraseConfig(threshold=10))
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.parametrize("text", [b"", b"  \n\n"])
def test_an_empty_corpus_is_refused_and_keeps_the_output_there_was(tmp_path, text):
    """It wrote the empty text over the output, with exit 0."""
    corpus, out = tmp_path / "c.txt", tmp_path / "out.txt"
    corpus.write_bytes(text)
    out.write_bytes(b"an earlier output\n")
    result = CliRunner().invoke(main, ["phrases", str(corpus), "-o", str(out)])
    assert (result.exit_code, result.output) == (1, "w2vfast: error: the corpus is empty: it holds no words\n")
    assert out.read_bytes() == b"an earlier output\n"


def test_standard_output_closed_is_refused_before_the_run(tmp_path):
    """It was refused only once the text had been counted and its phrases found."""
    corpus = write(tmp_path / "c.txt", planted_lines(50))
    command = f"exec {shlex.quote(sys.executable)} -m w2vfast phrases {shlex.quote(corpus)} -o - >&-"
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert (done.returncode, done.stderr) == (1, "w2vfast: error: standard output is closed: give a file instead of -\n")



def test_a_stop_while_the_reader_of_standard_output_holds_back_ends_at_once():
    """Ctrl-C while the text waited for a pipe that no one read (the writing thread blocked in it, the
    queue full) waited for that thread to hand on the end of the text: for as long as the reader liked."""
    code = ("import os, signal\n"
            "from w2vfast.phrases import _written_behind\n"
            "unread, end = os.pipe()\n"
            "def stop(signum, frame):\n"
            "    raise KeyboardInterrupt\n"
            "signal.signal(signal.SIGALRM, stop)\n"
            "signal.setitimer(signal.ITIMER_REAL, 1.0)\n"
            "try:\n"
            "    with _written_behind(os.fdopen(end, 'wb'), sync=False) as write:\n"
            "        while True:\n"
            "            write(b'text ' * 100_000)\n"
            "except KeyboardInterrupt:\n"
            "    print('stopped')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout == "stopped\n", result.stderr
