"""Vocabulary files, subsampling, the negative-sampling table and the Huffman tree."""

import importlib
import warnings

import numpy as np
import pytest

from w2vfast.errors import W2VError
from w2vfast import kernels
from w2vfast.vocab import Vocab, huffman_tree, keep_probabilities, negative_sampling_table


def test_vocab_file_round_trip_in_the_c_format(tmp_path):
    vocab = Vocab([b"the", b"caf\xc3\xa9", b"\xff"], np.array([9, 4, 4]))
    path = tmp_path / "vocab.txt"
    vocab.save(str(path))
    assert path.read_bytes() == b"</s> 0\nthe 9\ncaf\xc3\xa9 4\n\xff 4\n"  # the C tool's sentence end first
    again = Vocab.read(str(path), min_count=5)
    assert again.words == [b"the"]
    path.write_bytes(b"</s> 1000\nthe 9\n</s> 8\n")  # the C tool's first line is its marker; another is a word
    assert Vocab.read(str(path)).words == [b"the", b"</s>"]


@pytest.mark.parametrize("packed", ["gzip", "bz2", "lzma"])
def test_a_compressed_vocab_file_reads_as_the_plain_one(tmp_path, packed):
    """Its compressed bytes were read as the text: "expected 'word count', got b'\\x1f\\x8b...'"."""
    path = tmp_path / "vocab.txt.packed"
    path.write_bytes(importlib.import_module(packed).compress(b"the 9\ncat 4\n"))
    assert Vocab.read(str(path)).words == [b"the", b"cat"]
    path.write_bytes(path.read_bytes()[:12])
    with pytest.raises(W2VError, match="cannot read vocabulary .*vocab.txt.packed: "):
        Vocab.read(str(path))


def test_bad_vocab_file_says_which_line(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"the 9\nbroken\n")
    with pytest.raises(W2VError, match=":2:"):
        Vocab.read(str(path))


@pytest.mark.parametrize("text", [b"", b"\n\n  \n"])
def test_a_vocab_file_with_no_word_says_so(tmp_path, text):
    """It was blamed on --min-count: "no word occurs --min-count 5 times or more"."""
    path = tmp_path / "vocab.txt"
    path.write_bytes(text)
    with pytest.raises(W2VError, match="vocab.txt: the vocabulary file lists no word$"):
        Vocab.read(str(path))


def test_a_byte_order_mark_does_not_join_the_first_word(tmp_path):
    """An editor's BOM made the first word b'\\xef\\xbb\\xbfthe', so the corpus's 'the' was left out."""
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"\xef\xbb\xbfthe 9\r\nof 5\r\n")
    assert Vocab.read(str(path)).words == [b"the", b"of"]


def test_a_first_word_that_starts_with_a_byte_order_mark_round_trips(tmp_path):
    """A corpus's first token keeps an editor's mark; saved as it was, it came back without it, and the
    corpus's token was no longer in the vocabulary read (or was read twice, with 'dog' listed too)."""
    path = str(tmp_path / "vocab.txt")
    vocab = Vocab([b"\xef\xbb\xbfdog", b"dog"], np.array([2, 1]))
    vocab.save(path)
    assert Vocab.read(path).words == vocab.words


def test_keep_probability_follows_the_c_formula():
    counts = np.array([1000, 10, 1])
    keep = keep_probabilities(counts, 1e-2)
    threshold = 1e-2 * counts.sum()
    expected = (np.sqrt(1000 / threshold) + 1) * threshold / 1000
    assert keep[0] == pytest.approx(expected, rel=1e-6)
    assert keep[1] == keep[2] == 1.0
    assert (keep_probabilities(counts, 0) == 1).all()


def test_a_tiny_sample_keeps_almost_nothing_without_an_overflow_warning():
    """The ratio overflowed: NumPy's warning reached the user, and the words were all kept."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keep = keep_probabilities(np.array([1000, 10, 1]), 5e-324)
    assert float(keep.max()) < 1e-30 and (keep >= 0).all()


def test_alias_table_reproduces_count_power_distribution():
    counts = np.array([500, 120, 40, 7, 1])
    table = negative_sampling_table(counts)
    prob = (table[:, 0].astype(np.float64) + 1) / 2 ** 32  # the coin c <= keep keeps the word
    alias = table[:, 1]
    # Exact probability of each outcome implied by the table.
    n = len(counts)
    implied = prob / n
    for i in range(n):
        implied[alias[i]] += (1 - prob[i]) / n
    target = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(implied, target, rtol=1e-5)


def test_huffman_codes_are_prefix_free_and_frequent_words_short():
    counts = np.array([50, 30, 10, 5, 3, 1, 1])
    points, codes, lengths = huffman_tree(counts)
    strings = ["".join(map(str, codes[w, :lengths[w]])) for w in range(len(counts))]
    for a in strings:
        for b in strings:
            assert a == b or not b.startswith(a)
    assert list(lengths) == sorted(lengths)
    assert (points[:, 0] == len(counts) - 2).all()  # every path starts at the root
    weighted = sum(c * l for c, l in zip(counts, lengths))
    assert weighted == 50 * 1 + 30 * 2 + 10 * 3 + 5 * 4 + 3 * 5 + 1 * 6 + 1 * 6


def test_drawn_negatives_follow_the_table():
    """The kernel's one-number draw (word from the high bits, coin from the low) keeps the distribution."""
    counts = np.array([500, 120, 40, 7, 1, 300, 2])
    table = negative_sampling_table(counts)
    n = 200_000
    drawn = np.zeros(n, dtype=np.int32)
    kernels.draw_negatives(drawn, n, table, np.zeros((len(counts), 4), np.float32), (np.int64(0),) * 4,
                           np.uint64(12345))
    target = counts ** 0.75 / (counts ** 0.75).sum()
    frequency = np.bincount(drawn, minlength=len(counts)) / n
    np.testing.assert_allclose(frequency, target, atol=4 * np.sqrt(target * (1 - target) / n).max())
