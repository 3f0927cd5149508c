"""The streaming reader counts and encodes exactly what a plain split would, whatever the input."""

import bz2
import collections
import gzip
import lzma
import os
import threading

import numpy as np
import pytest

from w2vfast.corpus import encode
from w2vfast.counting import count_words
from w2vfast.sources import corpus_files, open_corpus_file
from w2vfast.errors import W2VError
from conftest import feed_in_pieces, tokens_of


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("piece", [1, 3, 7, 1000])
def test_counts_and_ids_match_a_plain_split_at_any_block_size(piece, split):
    rng = np.random.default_rng(1)
    vocab = [b"a", b"bb", b"ccc", b"\xff\xfe", b"caf\xc3\xa9", b"x" * 40]
    seps = [b" ", b"  ", b"\t", b"\n", b"\r\n", b"\x0b", b"\n\n"]
    parts = []
    for _ in range(3000):
        parts.append(vocab[rng.integers(len(vocab))])
        parts.append(seps[rng.integers(len(seps))])
    data = b"".join(parts)
    counter = feed_in_pieces(data, piece, split)
    expected = collections.Counter(data.split())
    got = dict(zip(counter.words(range(counter.n_words)), counter.counts.tolist()))
    assert got == expected
    sentences = [line.split() for line in data.split(b"\n") if line.split()]
    flattened = []
    for sentence in sentences:
        flattened += sentence + [None]
    assert tokens_of(counter) == flattened


@pytest.mark.parametrize("split", [False, True])
def test_table_and_pool_grow_past_their_first_sizes(split):
    words = [b"w%d" % i for i in range(200_000)]
    counter = feed_in_pieces(b" ".join(words) + b"\n", 1 << 20, split)
    assert counter.n_words == len(words)
    assert counter.words([0, 199_999]) == [b"w0", b"w199999"]
    assert counter.counts.sum() == len(words)


def test_two_scanners_number_words_as_one_does(tmp_path):
    """Words are numbered in order of first appearance whether one thread or two read the blocks."""
    rng = np.random.default_rng(3)
    words = [b"w%d" % i for i in rng.zipf(1.3, 400_000) % 50_000]
    lines = [b" ".join(words[i:i + 37]) for i in range(0, len(words), 37)]
    path = tmp_path / "c.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    one, two = count_words([str(path)], threads=1), count_words([str(path)], threads=2)
    assert two.n_words == one.n_words
    assert two.words(range(two.n_words)) == one.words(range(one.n_words))
    np.testing.assert_array_equal(two.ids, one.ids)


def test_encode_drops_unknown_words_and_caps_sentence_length():
    counter = feed_in_pieces(b"a b c a\n\nb a\n" + b"a " * 25 + b"\n", 5)
    remap = np.array([0, -1, 1])  # a -> 0, b dropped, c -> 1
    encoded = encode(counter, remap, max_sentence=10)
    assert encoded.words.tolist() == [0, 1, 0] + [0] + [0] * 25
    assert encoded.sentence_starts.tolist() == [0, 3, 4, 14, 24, 29]


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
def test_compressed_files_read_like_plain_ones(tmp_path, opener, suffix):
    text = b"the cat sat\non the mat\n" * 50
    plain = tmp_path / "plain.txt"
    plain.write_bytes(text)
    packed = tmp_path / ("packed" + suffix)
    with opener(packed, "wb") as out:
        out.write(text)
    a, b = count_words([str(plain)]), count_words([str(packed)])
    assert a.words(range(a.n_words)) == b.words(range(b.n_words))
    assert a.ids.tolist() == b.ids.tolist()


def test_directory_reads_its_files_in_sorted_order_and_not_its_hidden_ones(tmp_path):
    (tmp_path / "b.txt").write_text("second\n")
    (tmp_path / "a.txt").write_text("first")
    (tmp_path / ".a.txt.swp").write_text("swap")
    (tmp_path / ".vectors.txt.123.abcdefgh.tmp").write_text("half written")
    counter = count_words(corpus_files([str(tmp_path)]))
    assert tokens_of(counter) == [b"first", None, b"second", None]
    assert corpus_files([str(tmp_path / ".a.txt.swp")]) == [str(tmp_path / ".a.txt.swp")]  # named, it is read


def test_missing_and_empty_sources_are_clear_errors(tmp_path):
    with pytest.raises(W2VError, match="not found"):
        corpus_files([str(tmp_path / "nope.txt")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(W2VError, match="no corpus files"):
        corpus_files([str(tmp_path / "empty")])
    (tmp_path / "empty" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    with pytest.raises(W2VError, match="no corpus files"):
        corpus_files([str(tmp_path / "empty")])
    (tmp_path / "empty" / "part1").mkdir()  # it was "no corpus files" alone, with a file a level down
    (tmp_path / "empty" / "part1" / "a.txt").write_text("words\n")
    with pytest.raises(W2VError, match=r"no corpus files in .*empty \(directories in them are not read: give "
                                       r".*empty/part1 itself, say\)$"):
        corpus_files([str(tmp_path / "empty")])


def test_xz_streams_with_padding_read_as_xz_reads_them(tmp_path):
    """Zero bytes of stream padding (in fours) after a stream made a valid file a "cut" one; xz-utils
    reads them, and the streams one after another; bytes that are neither are an error, as in xz."""
    text = b"the cat sat\non the mat\n" * 50
    stream = lzma.compress(text)
    for name, data, expected in (("padded", stream + bytes(4), text),
                                 ("two", stream + bytes(8) + lzma.compress(b"new york\n"), text + b"new york\n")):
        path = tmp_path / f"{name}.xz"
        path.write_bytes(data)
        with open_corpus_file(str(path)) as opened:
            assert opened.read() == expected
    (tmp_path / "garbage.xz").write_bytes(stream + b"garbage\n")
    (tmp_path / "cut.xz").write_bytes(stream[:-20])
    for name in ("garbage.xz", "cut.xz"):
        with pytest.raises(W2VError, match=f"cannot read corpus .*{name}: Compressed file ended before the "
                                           "end-of-stream marker was reached"):
            count_words([str(tmp_path / name)])


def test_on_disk_ids_grow_like_in_memory_ones(tmp_path):
    data = b" ".join(b"abcdefghij"[i % 10:i % 10 + 1] for i in range(300_000)) + b"\n"
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    in_memory = count_words([str(path)])
    on_disk = count_words([str(path)], disk_dir=str(tmp_path))
    assert isinstance(on_disk.ids, np.memmap)
    assert on_disk.ids.shape[0] > len(data) // 5  # it had to grow past its first guess
    np.testing.assert_array_equal(in_memory.ids, on_disk.ids)


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_damaged_compressed_file_is_a_clear_error(tmp_path, damage):
    path = tmp_path / "c.gz"
    with gzip.open(path, "wb") as out:
        out.write(b"some words here\n" * 5000)
    data = path.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data = data[:20] + bytes(b ^ 0x5A for b in data[20:200]) + data[200:]
    path.write_bytes(data)
    with pytest.raises(W2VError, match="cannot read corpus"):
        count_words([str(path)])


def test_a_named_pipe_is_read_once_and_fully(tmp_path):
    fifo = tmp_path / "corpus.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(b"one two\nthree one\n"))
    writer.start()
    counter = count_words(corpus_files([str(fifo)]))
    writer.join()
    assert tokens_of(counter) == [b"one", b"two", None, b"three", b"one", None]


def test_compressed_standard_input_is_decompressed(monkeypatch):
    import io
    import sys
    packed = gzip.compress(b"alpha beta\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(packed))))
    counter = count_words(["-"])
    assert tokens_of(counter) == [b"alpha", b"beta", None]
