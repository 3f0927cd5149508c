"""Arbitrary bytes into every reader: the only outcomes are a correct result or the tool's own clear error.

The word2vec readers are exercised through ``KeyedVectors.load`` alone, so these tests hold for any
implementation behind it.
"""

import bz2
import collections
import gzip
import lzma
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

import w2vfast
from w2vfast import KeyedVectors
from w2vfast.counting import count_words
from w2vfast.errors import W2VError
from w2vfast.sources import DECOMPRESSION_ERRORS, HEAD_BYTES, compression_opener, decompressed, unread_format
from w2vfast.vocab import Vocab
from conftest import feed_in_pieces, tokens_of

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
WHITESPACE = b" \t\n\r\x0b\x0c"
TEXT = b"the cat sat\non the mat\n" * 20
COMPRESSED = {b"gzip": gzip.compress(TEXT), b"bz2": bz2.compress(TEXT), b"xz": lzma.compress(TEXT)}

# Text that looks like a corpus: words from a small alphabet (high bytes too) and every kind of whitespace.
corpus_text = st.lists(st.one_of(st.sampled_from([b"a", b"bb", b"\xff\xfe", b"caf\xc3\xa9", b"x" * 30]),
                                 st.sampled_from([b" ", b"\n", b"\t", b"\r\n", b"\x0b", b"\x0c", b"\n\n"]),
                                 st.binary(max_size=8)), max_size=60).map(b"".join)
# Files that start like compressed ones but are cut or damaged, or are anything at all.
damaged = st.builds(lambda data, at, flip: data[:at] + bytes([data[at] ^ flip]) + data[at + 1:],
                    st.sampled_from(sorted(COMPRESSED.values())), st.integers(0, 40), st.integers(1, 255))
cut = st.builds(lambda data, at: data[:at], st.sampled_from(sorted(COMPRESSED.values())), st.integers(0, 80))
magic = st.builds(bytes.__add__, st.sampled_from([b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x1f\x8b\x08\x00"]),
                  st.binary(max_size=60))
any_file = st.one_of(st.binary(max_size=300), corpus_text, damaged, cut, magic)


def expected_sentences(data: bytes):
    sentences = []
    for line in data.split(b"\n"):
        sentences += line.split() + [None] if line.split() else []
    return sentences


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), corpus_text), piece=st.integers(1, 64), split=st.booleans())
def test_counter_reads_exactly_what_a_plain_split_reads(data, piece, split):
    counter = feed_in_pieces(data, piece, split)
    assert dict(zip(counter.words(range(counter.n_words)), counter.counts.tolist())) == \
        collections.Counter(data.split())
    assert tokens_of(counter) == expected_sentences(data)


def compressed_text(data: bytes):
    """What a reader must find in ``data`` if it is a whole compressed file, else ``None``."""
    for decompress in (gzip.decompress, bz2.decompress, lzma.decompress):
        try:
            return decompress(data)
        except Exception:
            continue
    return None


@FUZZ
@given(data=any_file)
def test_corpus_files_read_correctly_or_fail_clearly(tmp_path, data):
    path = tmp_path / "corpus"
    path.write_bytes(data)
    compressed = compression_opener(data[:HEAD_BYTES]) is not None
    try:
        counter = count_words([str(path)])
    except W2VError as exc:
        assert (compressed or unread_format(data[:HEAD_BYTES])) and str(exc).startswith(f"cannot read corpus {path}: ")
        return
    text = compressed_text(data) if compressed else data
    assert text is not None
    assert tokens_of(counter) == expected_sentences(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=any_file)
def test_training_on_any_file_trains_its_words_or_fails_clearly(tmp_path, data):
    path = tmp_path / "corpus"
    path.write_bytes(data)
    try:
        vectors = w2vfast.train(str(path), dim=4, epochs=1, min_count=1, threads=1)
    except W2VError as exc:
        assert any(reason in str(exc) for reason in ("cannot read corpus", "the corpus is empty"))
        return
    text = compressed_text(data) if compression_opener(data[:HEAD_BYTES]) is not None else data
    words = {w.decode("utf-8", "surrogateescape") for w in text.split()}
    assert set(vectors.index_to_key) == words
    assert np.isfinite(vectors.vectors).all()


@FUZZ
@given(data=st.one_of(st.binary(max_size=300),
                      st.builds(bytes.__add__, st.sampled_from([b"2 3\n", b"1 1\n", b"3 -2\n", b"-1 2\n", b"0 0\n",
                                                                b"9999999999 99999\n", b"1 0\n"]),
                                st.binary(max_size=120))),
       binary=st.sampled_from([True, False, None]))
def test_vectors_files_load_with_the_declared_shape_or_fail_clearly(tmp_path, data, binary):
    path = tmp_path / "vectors"
    path.write_bytes(data)
    try:
        vectors = KeyedVectors.load(str(path), binary=binary)
    except W2VError:
        return
    n_words, dim = map(int, data.split(b"\n", 1)[0].split())
    assert vectors.vectors.shape == (n_words, dim) == (len(vectors), vectors.vector_size)


words = st.lists(st.binary(min_size=1, max_size=12).filter(lambda w: not any(b in WHITESPACE for b in w)),
                 min_size=1, max_size=8, unique=True)


@FUZZ
@given(data=st.data(), keys=words, binary=st.booleans())
def test_any_vectors_round_trip(tmp_path, data, keys, binary):
    values = st.floats(-1e3, 1e3, width=32) if not binary else st.floats(width=32, allow_nan=False,
                                                                         allow_infinity=False)
    dim = data.draw(st.integers(1, 5))
    matrix = np.array(data.draw(st.lists(st.lists(values, min_size=dim, max_size=dim),
                                         min_size=len(keys), max_size=len(keys))), dtype=np.float32)
    names = [k.decode("utf-8", "surrogateescape") for k in keys]
    path = tmp_path / "vectors"
    KeyedVectors(names, matrix).save(str(path), binary=binary)
    loaded = KeyedVectors.load(str(path), binary=binary)
    assert loaded.index_to_key == names
    if binary:
        assert loaded.vectors.tobytes() == matrix.tobytes()
    else:
        np.testing.assert_allclose(loaded.vectors, matrix, rtol=0, atol=5e-7 * max(1.0, np.abs(matrix).max()))


@FUZZ
@given(data=st.data(), binary=st.booleans())
def test_damaged_vectors_files_load_or_fail_clearly(tmp_path, data, binary):
    path = tmp_path / "vectors"
    KeyedVectors(["king", "queen", "caf\u00e9"], np.arange(12, dtype=np.float32).reshape(3, 4) / 7).save(
        str(path), binary=binary)
    original = path.read_bytes()
    at = data.draw(st.integers(0, len(original) - 1))
    if data.draw(st.booleans()):
        path.write_bytes(original[:at])
    else:
        path.write_bytes(original[:at] + bytes([original[at] ^ data.draw(st.integers(1, 255))]) + original[at + 1:])
    try:
        vectors = KeyedVectors.load(str(path), binary=data.draw(st.sampled_from([binary, None])))
    except W2VError:
        return
    assert vectors.vectors.dtype == np.float32 and vectors.vectors.ndim == 2
    assert len(vectors) == len(vectors.index_to_key) == vectors.vectors.shape[0]


def expected_vocabulary(data: bytes):
    """What reading ``data`` as a vocabulary file gives: ``(words, None)`` with the ``(word, count)``
    pairs kept, most frequent first (ties in file order), or ``(None, (line, problem))`` for the first
    line that is not ``word count`` or repeats a word, or a file with no word (line ``None``). A byte
    order mark that starts the file is dropped, and so is a first line that starts with the sentence end
    ``</s>``, whatever else it holds: the C tool's ``-save-vocab`` marker, whose line it never reads."""
    rows, seen = [], set()
    first = True
    for number, line in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), 1):
        parts = line.split()
        if not parts:
            continue
        if first:
            first = False
            if parts[0] == b"</s>":
                continue
        if len(parts) != 2 or not parts[1].isdigit():
            return None, (number, "expected 'word count'")
        if parts[0] in seen:
            return None, (number, "listed twice")
        seen.add(parts[0])
        rows.append((parts[0], int(parts[1])))
    if not rows:
        return None, (None, "lists no word")
    return sorted([row for row in rows if row[1] >= 1], key=lambda row: -row[1]), None


vocabulary_rows = st.tuples(st.one_of(st.binary(min_size=1, max_size=6), st.sampled_from([b"the", b"caf\xc3\xa9"])),
                            st.integers(0, 10**6))


@FUZZ
@given(data=st.one_of(st.binary(max_size=200),
                      st.lists(vocabulary_rows, max_size=10).map(lambda rows: b"".join(b"%s %d\n" % row for row in rows))))
@example(data=b"\xfd7zXZ\x00")  # xz's magic and no more: "cannot read vocabulary PATH: ..."
@example(data=gzip.compress(b"the 9\ncat 4\nthe 2\n"))
@example(data=b"</s>")  # the marker alone, no count: dropped, and then no word is left
@example(data=b"\n</s> 0\nthe 3\n</s> 2\n")  # only the first line is the marker; a later </s> is a word
def test_vocabulary_files_read_correctly_or_fail_clearly(tmp_path, data):
    """Each file either gives exactly its words and counts, or one error naming the first bad line:
    one that is not ``word count``, or a word listed again (the sampled words make repeats common)."""
    path = tmp_path / "vocab.txt"
    path.write_bytes(data)
    if compression_opener(data[:HEAD_BYTES]) is not None:  # read as gzip, bzip2 or xz, as a corpus is
        try:
            data = decompressed(data)
        except (OSError, *DECOMPRESSION_ERRORS):
            with pytest.raises(W2VError, match=f"^cannot read vocabulary {re.escape(str(path))}: "):
                Vocab.read(str(path))
            return
    words, problem = expected_vocabulary(data)
    try:
        vocab = Vocab.read(str(path))
    except W2VError as exc:
        assert problem is not None, exc
        line, kind = problem
        assert str(exc).startswith(f"{path}:{line}: " if line else f"{path}: ") and kind in str(exc)
        return
    assert problem is None
    assert list(zip(vocab.words, vocab.counts.tolist())) == words


@pytest.mark.parametrize("name", sorted(COMPRESSED))
def test_whole_compressed_corpora_are_read(tmp_path, name):
    path = tmp_path / "corpus"
    path.write_bytes(COMPRESSED[name])
    assert tokens_of(count_words([str(path)])) == expected_sentences(TEXT)
