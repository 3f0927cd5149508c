"""Counting in bounded memory: exact for files read twice, pruned under a rising floor for a stream,
and in both cases every occurrence of a kept word encoded."""

import collections
import gzip
import os
import subprocess
import sys
import threading
import time
import weakref

import numpy as np
import pytest

from w2vfast import corpus, memory
from w2vfast.config import TrainConfig
from w2vfast.corpus import encode, read_corpus
from w2vfast import counting, sources
from w2vfast.counting import count_words, sketch_text, whole_tokens
from w2vfast.errors import W2VError
from w2vfast.sources import read_ahead
from w2vfast.vocab import Vocab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET = 12 << 20  # a little over the counter's first tables: a few hundred thousand words outgrow it


def junk_text(words: int = 300_000, seed: int = 5) -> bytes:
    """Zipf-distributed words, each followed by a random token seen once, in lines of 20."""
    rng = np.random.default_rng(seed)
    common = [b"w%d" % i for i in rng.zipf(1.2, words) % 20_000]
    junk = [b"%012x" % j for j in rng.integers(0, 16**12, words).tolist()]
    tokens = [t for pair in zip(common, junk) for t in pair]
    return b"\n".join(b" ".join(tokens[i:i + 20]) for i in range(0, len(tokens), 20)) + b"\n"


def chosen(counter, min_count):
    order = Vocab.select(counter.counts, min_count, None)
    remap = np.full(counter.n_words, -1, dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    words, counts = counter.words(order), counter.counts[order].tolist()
    return words, counts, encode(counter, remap)


@pytest.fixture(scope="module")
def junk_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("junk") / "junk.txt"
    path.write_bytes(junk_text())
    return str(path)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_file_that_outgrows_the_budget_is_read_twice_with_the_unbounded_result(junk_file, threads):
    free = count_words([junk_file], threads=threads)
    bounded = count_words([junk_file], threads=threads, budget=BUDGET, min_count=3)
    assert not free.second_reading and bounded.second_reading
    assert free.peak_footprint > BUDGET >= bounded.peak_footprint
    assert bounded.n_words < free.n_words // 10  # only the candidates were added
    words, counts, encoded = chosen(free, 3)
    bounded_words, bounded_counts, bounded_encoded = chosen(bounded, 3)
    assert bounded_words == words and bounded_counts == counts
    np.testing.assert_array_equal(bounded_encoded.words, encoded.words)
    np.testing.assert_array_equal(bounded_encoded.sentence_starts, encoded.sentence_starts)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_first_reading_is_gone_when_the_second_starts(junk_file, monkeypatch, threads):
    """Its ids (as large as the corpus's, or on disk) were kept through the second reading by a cycle: the
    error that stopped it held the thread's frames, the list in ``in_background`` held the error."""
    scanners = []
    scanner_init = counting._Scanner.__init__
    monkeypatch.setattr(counting._Scanner, "__init__",
                        lambda self, *args: (scanner_init(self, *args), scanners.append(weakref.ref(self)))[0])
    sketch = counting.sketch_text
    alive = []
    monkeypatch.setattr(counting, "sketch_text", lambda *args: (alive.extend(s() for s in scanners if s()),
                                                                sketch(*args))[1])
    assert count_words([junk_file], threads=threads, budget=BUDGET, min_count=3).second_reading
    assert len(scanners) >= threads and alive == []


def test_a_compressed_file_that_outgrows_the_budget_is_read_twice_with_the_unbounded_result(junk_file, tmp_path):
    """Its sketch was sized from the plain files alone (none): 65,536 counters let nearly every word through
    to the second reading, which then did not fit."""
    packed = tmp_path / "junk.txt.gz"
    packed.write_bytes(gzip.compress(open(junk_file, "rb").read(), compresslevel=1))
    free = count_words([junk_file])
    bounded = count_words([str(packed)], budget=BUDGET, min_count=3)
    assert bounded.second_reading
    assert chosen(bounded, 3)[:2] == chosen(free, 3)[:2]


def test_a_stream_prunes_under_a_rising_floor_but_encodes_every_occurrence_of_its_words(junk_file):
    """A FIFO cannot be read twice: rare words are pruned, and a kept word's occurrences from
    before it was pruned are still encoded, since its ids kept its hash."""
    text = open(junk_file, "rb").read()
    fifo = os.path.join(os.path.dirname(junk_file), "stream")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: open(fifo, "wb").write(text))
    writer.start()
    counter = count_words([fifo], threads=2, budget=BUDGET, min_count=3)
    writer.join()
    assert counter.pruned_words > 100_000 and counter.floor >= 1 and not counter.second_reading
    assert BUDGET >= counter.peak_footprint > BUDGET // 2
    words, counts, encoded = chosen(counter, 3)
    truth = collections.Counter(text.split())
    assert all(count == truth[word] for word, count in zip(words, counts))  # the occurrences all found
    frequent = {word for word, count in truth.items() if count >= 20}
    assert frequent <= set(words)  # pruning loses only words near the floor
    index = {word: i for i, word in enumerate(words)}
    expected = [index[token] for token in text.split() if token in index]
    np.testing.assert_array_equal(encoded.words, np.array(expected, dtype=np.int32))


def streamed_count(tmp_path, text: bytes, threads: int):
    fifo = str(tmp_path / "stream")
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: open(fifo, "wb").write(text))
    writer.start()
    try:
        return count_words([fifo], threads=threads, budget=BUDGET, min_count=3)
    finally:
        writer.join()


@pytest.mark.parametrize("threads", [1, 2])
def test_a_stream_keeps_its_frequent_words_when_they_come_between_phases_of_rare_ones(tmp_path, threads):
    """Words seen 4 times each, then 200 words seen 300 times each, then tokens seen once. The floor
    rose to 300 and dropped all 200 with 2 threads: the undone piece's words, left at count 0, did not
    count as prunable, and the later half's table counted in each word's cost."""
    rng = np.random.default_rng(3)
    early = [b"e%d" % i for i in range(150_000)] * 4
    frequent = [b"f%d" % i for i in range(200)] * 300
    late = [b"%012x" % j for j in rng.integers(0, 16**12, 400_000).tolist()]
    tokens = [early[i] for i in rng.permutation(len(early))] + [frequent[i] for i in rng.permutation(len(frequent))]
    text = b"\n".join(b" ".join(part[i:i + 20]) for part in (tokens, late) for i in range(0, len(part), 20)) + b"\n"
    counter = streamed_count(tmp_path, text, threads)
    assert counter.pruned_words > 100_000 and counter.floor < 300
    counts = dict(zip(*chosen(counter, 3)[:2]))
    assert all(counts.get(b"f%d" % i) == 300 for i in range(200))


def test_words_to_keep_survive_both_ways_of_bounding(junk_file):
    """A given vocabulary (a resumed run) and a phrase table's words must be kept whatever their count."""
    text = open(junk_file, "rb").read()
    rare = text.split()[1]  # a junk token, seen once
    for path in (junk_file, "-"):
        if path == "-":
            stdin = sys.stdin
            read, write = os.pipe()
            threading.Thread(target=lambda: (os.write(write, text), os.close(write))).start()
            sys.stdin = os.fdopen(read, "r")
        try:
            counter = count_words([path], budget=BUDGET, min_count=3, keep=[rare, b"w1"], keep_only=path != "-")
        finally:
            if path == "-":
                sys.stdin.close()
                sys.stdin = stdin
        assert rare in counter.words(range(counter.n_words))
        counts = dict(zip(counter.words(range(counter.n_words)), counter.counts.tolist()))
        assert counts[rare] == 1


def test_phrases_join_as_if_unbounded_though_their_words_are_rare(junk_file):
    """A table's words are kept: a rare word dropped before joining would leave its neighbour
    unjoined, one more occurrence of it than the unbounded run counts."""
    from w2vfast.phrases import PhraseTable

    tokens = open(junk_file, "rb").read().split()
    table = PhraseTable(b"_", [[(tokens[i], tokens[i + 1], 1, 1.0) for i in range(1, 200, 2)]])
    config = TrainConfig(min_count=3, threads=2)
    vocab, encoded = read_corpus(junk_file, config, phrases=table)
    bounded_vocab, bounded = read_corpus(junk_file, config, phrases=table, vocab_memory=BUDGET)
    assert bounded_vocab.words == vocab.words and bounded_vocab.counts.tolist() == vocab.counts.tolist()
    np.testing.assert_array_equal(bounded.words, encoded.words)
    # A given vocabulary (--read-vocab, --resume) kept its own words alone: a phrase whose rare word it
    # lacks was not joined, its other word was trained alone (a resume said the corpus did not match).
    assert not set(table.words()) - set(table.phrases()) <= set(vocab.words)
    _, given = read_corpus(junk_file, config, vocab=vocab, phrases=table, vocab_memory=BUDGET)
    np.testing.assert_array_equal(given.words, encoded.words)
    np.testing.assert_array_equal(given.sentence_starts, encoded.sentence_starts)


def test_candidates_that_do_not_fit_stop_the_run(junk_file, monkeypatch):
    """With --min-count 1 the run stops after the first reading: every word may occur once, so a second
    one, which keeps the words that may reach --min-count, read the text again to keep them all."""
    readings = []
    monkeypatch.setattr(counting, "sketch_text", lambda *args: readings.append("sketch"))
    with pytest.raises(W2VError, match=r"the words that may occur --min-count 1 times do not fit in "
                                       r"--vocab-memory \(12\.0 MiB\): raise it, or --min-count"):
        count_words([junk_file], budget=BUDGET, min_count=1)
    assert readings == []


def test_read_corpus_with_a_given_vocabulary_and_a_small_budget_encodes_the_same(junk_file):
    config = TrainConfig(min_count=3, threads=2)
    vocab, encoded = read_corpus(junk_file, config)
    again, bounded = read_corpus(junk_file, config, vocab=vocab, vocab_memory=BUDGET)
    assert again.words == vocab.words
    np.testing.assert_array_equal(bounded.words, encoded.words)


def test_the_memory_guard_counts_the_budget(junk_file, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 200 << 20)
    with pytest.raises(W2VError, match="counting budget 1.0 GiB.*smaller --vocab-memory"):
        read_corpus(junk_file, TrainConfig(min_count=3), vocab_memory=1 << 30)


def test_the_default_budget_is_half_of_what_is_available(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 10 << 30)
    assert memory.counting_budget(2 << 30) == 4 << 30
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    assert memory.counting_budget(0) is None


@pytest.mark.parametrize("text, size", [("2G", 2 << 30), ("512M", 512 << 20), ("1.5g", 3 << 29),
                                        ("64MiB", 64 << 20), (str(40 << 20), 40 << 20)])
def test_sizes_read_as_users_write_them(text, size):
    assert memory.parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "2X", "-1G", "1M", "9" * 400, "9" * 309 + "G", 10 ** 400, 2 ** 60 + 1])
def test_sizes_that_make_no_sense_are_refused(text):  # 400 nines were an OverflowError's traceback
    with pytest.raises(ValueError, match="--vocab-memory must be"):
        memory.parse_size(text)


@pytest.mark.parametrize("size, error", [(b"2G", TypeError), (None, TypeError), (True, TypeError),
                                         (float("nan"), ValueError), (float("inf"), ValueError)])
def test_sizes_of_the_wrong_kind_are_refused_as_python_refuses_them(size, error):
    """A Python caller catches TypeError and ValueError; they were a bare W2VError (inf: OverflowError)."""
    with pytest.raises(error, match="--vocab-memory must be"):
        memory.parse_size(size)
    assert memory.parse_size(np.int64(64 << 20)) == memory.parse_size(float(64 << 20)) == 64 << 20


def test_the_command_line_says_when_it_reads_twice_and_refuses_a_bad_size(tmp_path):
    corpus = tmp_path / "junk.txt"
    corpus.write_bytes(junk_text(words=800_000))  # its distinct words need over 32 MB
    output = tmp_path / "v.txt"
    base = [sys.executable, "-m", "w2vfast.cli", "train", str(corpus), "-o", str(output), "--dim", "8",
            "--epochs", "1", "--min-count", "3", "--threads", "1"]  # one thread: the same bytes
    bad = subprocess.run(base + ["--vocab-memory", "lots"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "--vocab-memory must be" in bad.stderr
    assert not output.exists()
    bounded = subprocess.run(base + ["--vocab-memory", "32M"], cwd=ROOT, capture_output=True, text=True)
    assert bounded.returncode == 0, bounded.stderr
    assert "outgrew --vocab-memory (32.0 MiB), so the text was read a second time" in bounded.stderr
    free = subprocess.run(base + ["-o", str(tmp_path / "free.txt")], cwd=ROOT, capture_output=True, text=True)
    assert "second time" not in free.stderr
    assert output.read_bytes() == (tmp_path / "free.txt").read_bytes()


def test_closing_the_reader_early_stops_its_thread(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 200_000)
    from w2vfast.sources import read_blocks
    before = threading.active_count()
    blocks = read_ahead(read_blocks([str(path)], block_bytes=1000))
    next(blocks)
    blocks.close()
    deadline = time.time() + 5
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before


def test_python_sentences_count_and_encode_as_their_text_does(junk_file, monkeypatch):
    """Sentences of str, of bytes (the token-by-token path), with empty ones among them, fed in blocks
    that two scanners share: the same words, counts and ids as the file they came from; and under a
    budget, pruned as a stream is, with every kept word's occurrences found."""
    monkeypatch.setattr(corpus, "_BLOCK_TOKENS", 250_000)
    text = open(junk_file, "rb").read()
    sentences = [line.decode().split() if n % 3 else line.split() for n, line in enumerate(text.split(b"\n"))]
    sentences[5:5] = [[], []]
    config = TrainConfig(min_count=3, threads=2)
    from_file = read_corpus(junk_file, config)
    from_list = read_corpus(sentences, config)
    assert from_list[0].words == from_file[0].words and from_list[0].counts.tolist() == from_file[0].counts.tolist()
    np.testing.assert_array_equal(from_list[1].words, from_file[1].words)
    np.testing.assert_array_equal(from_list[1].sentence_starts, from_file[1].sentence_starts)
    pruned = corpus.count_corpus(sentences, config, vocab_memory=BUDGET)
    assert pruned.pruned_words > 100_000
    truth = collections.Counter(text.split())
    words, counts, _ = chosen(pruned, 3)
    assert len(words) > 1000 and all(count == truth[word] for word, count in zip(words, counts))


def test_tokens_longer_than_a_block_are_joined_once_and_count_whole(tmp_path, monkeypatch):
    """A block without whitespace only joins the carry: text with no whitespace took quadratic time."""
    assert whole_tokens((), b"abc", False) == (b"", 0, (b"abc",))
    assert whole_tokens((b"abc",), b"de f", False) == (b"abcde f", 6, (b"f",))
    assert whole_tokens((b"ab", b"c"), b"d", True) == (b"abcd", 4, ())
    long = b"x" * 5000
    text = b"a " + long + b" b\n" + long + b"\n" + b"c" * 999 + b" a"
    path = tmp_path / "long.txt"
    path.write_bytes(text)
    monkeypatch.setattr(counting, "read_blocks", lambda paths, *args, **kwargs: sources.read_blocks(paths, 64))
    for threads in (1, 2):
        counter = count_words([str(path)], threads=threads)
        counted = dict(zip(counter.words(range(counter.n_words)), counter.counts.tolist()))
        assert counted == collections.Counter(text.split())
    sketch = sketch_text(lambda: sources.read_blocks([str(path)], 64), 1 << 10)
    assert sketch.sum() == sketch_text(lambda: sources.read_blocks([str(path)]), 1 << 10).sum()


def test_a_file_that_changes_between_its_two_readings_is_refused(tmp_path, monkeypatch):
    """The second reading counted the new text behind the old text's sketch: words went missing, exit 0."""
    path = tmp_path / "junk.txt"
    path.write_bytes(junk_text(seed=3))
    first_reading = counting.sketch_text

    def sketch_then_edit(*args):
        sketch = first_reading(*args)
        time.sleep(0.02)  # past the clock tick of the file's last write
        path.write_bytes(path.read_bytes().replace(b"w1 ", b"w9 "))  # the same length
        return sketch

    monkeypatch.setattr(counting, "sketch_text", sketch_then_edit)
    with pytest.raises(W2VError, match=f"^the corpus changed while it was read twice: {path} is not what it was$"):
        count_words([str(path)], budget=BUDGET, min_count=3)


def test_a_given_vocabulary_lets_few_other_words_through_its_sketch(junk_file):
    """The sketch of a given vocabulary was sized by the vocabulary: a sixth of the junk passed, and
    the counting outgrew a budget that the same text fits in when counted from scratch."""
    vocab = [word for word in set(open(junk_file, "rb").read().split()) if word.startswith(b"w")]
    counter = count_words([junk_file], threads=2, budget=BUDGET, keep=vocab, keep_only=True)
    assert counter.second_reading
    passed = counter.n_words - len(vocab)
    assert 0 <= passed < 0.03 * 300_000  # of the 300,000 junk tokens


SMALL_FILES = [b"a b\n", b"c d", b"", b"e\n\nf", b" \t", b"g h i\n" * 40, gzip.compress(b"j k"), b"l m\r", b"n",
               b"o p q"]


def test_small_files_read_together_count_and_are_written_again_as_file_by_file(tmp_path, monkeypatch):
    """A directory of many small files was read a piece, a queued block and a compiled call a file
    (0.15-0.3 ms each); read together, a newline after each that does not end a line, they give the
    ids and lines of reading them one by one, with a larger file (which goes alone) among them."""
    paths = []
    for number, text in enumerate(SMALL_FILES):
        paths.append(str(tmp_path / f"part-{number:02d}"))
        with open(paths[-1], "wb") as part:
            part.write(text)

    def file_by_file():
        for path in paths:
            for block in sources.file_blocks(path, block_bytes=64):
                yield block, False
            yield b"", True

    monkeypatch.setattr(counting, "read_blocks", lambda paths, *args, **kwargs: sources.read_blocks(paths, 64))
    for threads in (1, 2):
        together = count_words(paths, threads=threads)
        alone = counting.count_once(file_by_file, 0, None, threads, None)
        assert together.words(range(together.n_words)) == alone.words(range(alone.n_words))
        np.testing.assert_array_equal(together.ids, alone.ids)
    monkeypatch.undo()
    from w2vfast.phrases import PhraseConfig, phrase_corpus

    phrase_corpus([str(tmp_path)], str(tmp_path.parent / "written.txt"), PhraseConfig(threshold=1e9))
    texts = [gzip.decompress(text) if text[:2] == b"\x1f\x8b" else text for text in SMALL_FILES]
    expected = b"".join(text + (b"\n" if text and not text.endswith(b"\n") else b"") for text in texts if text)
    assert (tmp_path.parent / "written.txt").read_bytes() == expected[:-1]  # the last file ends without one
