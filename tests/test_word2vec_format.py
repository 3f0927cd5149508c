"""Reading the word2vec formats: as the C tool, gensim and fastText write them, and bad files."""

import bz2
import gzip
import lzma
import os
import pickle
import struct
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from w2vfast import KeyedVectors, word2vec_format
from w2vfast.errors import W2VError
from w2vfast.word2vec_format import _parse_number, read_word2vec, write_word2vec

WORDS = [b"the", b"caf\xc3\xa9", b"\xff\xfe", b"</s>"]
ROWS = np.array([[0.5, -1.25, 3.0], [1e-3, 2.5e5, -0.0], [7.0, 8.0, 9.0], [0.1, 0.2, 0.3]], dtype=np.float32)


def binary_file(rows=ROWS, words=WORDS, header=None, newline=b"\n"):
    header = header if header is not None else b"%d %d\n" % rows.shape
    return header + b"".join(w + b" " + struct.pack("<%df" % len(r), *r) + newline for w, r in zip(words, rows))


def text_file(rows=ROWS, words=WORDS, header=None, trailing=b""):
    header = header if header is not None else b"%d %d\n" % rows.shape
    lines = [w + b" " + b" ".join(repr(float(x)).encode() for x in r) + trailing for w, r in zip(words, rows)]
    return header + b"\n".join(lines) + b"\n"


def load(tmp_path, data, **options):
    path = tmp_path / "vectors"
    path.write_bytes(data)
    return KeyedVectors.load(str(path), **options)


@pytest.mark.parametrize("binary", [False, True])
def test_a_first_word_longer_than_a_row_reads_back_in_its_format(tmp_path, binary):
    """Text whose first word was over 1,024 + 8 x dim bytes was taken for binary, and could not be read."""
    words = ["y" * 5000, "z"]
    path = str(tmp_path / "v")
    KeyedVectors(words, np.array([[1, 0], [0.5, 0.25]], dtype=np.float32)).save(path, binary=binary)
    vectors = KeyedVectors.load(path)
    assert vectors.index_to_key == words and vectors["z"].tolist() == [0.5, 0.25]


@pytest.mark.parametrize("data", [
    binary_file(),                           # the C tool and gensim: a newline after each row
    binary_file(newline=b""),                # writers that leave it out
    text_file(),                             # gensim's text format
    text_file(trailing=b" "),                # the C tool's text format: a space before the newline
    text_file(trailing=b" \r"),              # written on Windows
], ids=["binary", "binary-no-newline", "text", "text-c-tool", "text-crlf"])
def test_every_variant_loads_the_same_words_and_values(tmp_path, data):
    vectors = load(tmp_path, data)
    assert [w.encode("utf-8", "surrogateescape") for w in vectors.index_to_key] == WORDS
    np.testing.assert_array_equal(vectors.vectors, ROWS)


def test_format_is_detected_from_the_bytes_and_can_be_forced(tmp_path):
    assert read_word2vec(str(_write(tmp_path, "a.txt", binary_file()))).binary
    assert not read_word2vec(str(_write(tmp_path, "b.bin", text_file()))).binary
    with pytest.raises(W2VError, match=":2: expected a word and 3 numbers"):
        read_word2vec(str(_write(tmp_path, "c.bin", binary_file())), binary=False)


def test_a_binary_row_that_starts_like_a_short_text_line_is_still_binary(tmp_path):
    rows = ROWS.copy()
    rows[0, 0] = np.frombuffer(b"1\n\x00\x3f", dtype="<f4")[0]  # 0.5000..., its bytes "1", newline, ...
    vectors = load(tmp_path, binary_file(rows))
    np.testing.assert_array_equal(vectors.vectors, rows)


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("make", [binary_file, text_file])
def test_limit_reads_only_the_first_words_and_ignores_the_rest(tmp_path, make):
    data = make() + b"garbage that would be an error if it were read"
    vectors = load(tmp_path, data, limit=2)
    assert len(vectors) == 2
    np.testing.assert_array_equal(vectors.vectors, ROWS[:2])
    assert len(load(tmp_path, make(), limit=0)) == 4  # gensim's "no limit", as restrict_vocab=0 is


def test_text_numbers_outside_the_fast_path_still_parse(tmp_path):
    data = b"2 3\nodd 1e-30 -3e25 1.00000000000000000000001\nbig 1e30 -2.5e-40 0.1234567890123456789\n"
    vectors = load(tmp_path, data)
    expected = [[float(x) for x in line.split()[1:]] for line in data.split(b"\n")[1:3]]
    np.testing.assert_array_equal(vectors.vectors, np.array(expected, dtype=np.float32))


number_text = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(-1e6, 1e6).map(lambda x: "%.6f" % x),
    st.floats(-1e6, 1e6).map(lambda x: "%.4e" % x),
    st.from_regex(r"\A[+-]?[0-9]{0,12}\.?[0-9]{0,12}([eE][+-]?[0-9]{1,3})?\Z"),
)


@settings(max_examples=400, deadline=None)
@given(number_text)
def test_fast_number_parser_agrees_with_python_or_declines(text):
    data = np.frombuffer(text.encode(), dtype=np.uint8)
    value, exact = _parse_number(data, 0, len(data)) if len(data) else (0.0, False)
    try:
        with np.errstate(over="ignore"):
            expected = np.float32(float(text))
    except ValueError:
        assert not exact
        return
    if exact:
        assert np.float32(value).tobytes() == expected.tobytes(), text


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(-1e6, 1e6, width=32).map(lambda x: "%.6f" % x),
                 st.floats(-1e6, 1e6, width=32).filter(lambda x: x == 0 or abs(x) > 1e-15).map(lambda x: "%.4e" % x),
                 st.integers(-10**9, 10**9).map(str)))
def test_fast_number_parser_takes_the_numbers_vectors_files_hold(text):
    """What writers print (%.6f, %e, integers) is parsed by the fast path, not handed to Python's float;
    it declines only what it cannot round exactly (powers of ten beyond 1e22, mantissas past 2**53)."""
    data = np.frombuffer(text.encode(), dtype=np.uint8)
    value, exact = _parse_number(data, 0, len(data))
    assert exact, text
    assert np.float32(value).tobytes() == np.float32(float(text)).tobytes(), text


THREE_ROWS = len(binary_file(ROWS[:3], WORDS[:3]))


@pytest.mark.parametrize("data,message", [
    (b"", "the file is empty"),
    (b"4 3 1\nthe 1 2 3\n", ":1: the first line must be 'words dimensions'"),
    (b"the 1.0 2.0 3.0\n", "like GloVe's"),
    (b"1 0\nthe\n", "dimension must be positive"),
    (b"99999999999 300\nthe 1 2 3\n", ":1: 99,999,999,999 words of 300 dimensions cannot fit in the 10 bytes that follow"),
    (text_file(header=b"5 3\n"), "header says 5 words but the file ends after 4"),
    (text_file(header=b"3 3\n"), ":5: the header says 3 words but more data follows"),
    (text_file().replace(b"7.0 8.0 9.0", b"7.0 8.0"), ":4: expected a word and 3 numbers, found fewer"),
    (text_file().replace(b"7.0 8.0 9.0", b"7.0 8.0 9.0 1.0"), ":4: expected a word and 3 numbers, found more"),
    (text_file().replace(b"7.0", b"seven"), ":4: 'seven' is not a number"),
    (binary_file(header=b"5 3\n"), "header says 5 words but the file ends after 4"),
    (binary_file(header=b"3 3\n"), f"byte {THREE_ROWS}: the header says 3 words but more data follows"),
    (binary_file()[:-6], f"byte {THREE_ROWS}: the file ends inside word 4 of 4"),
    (binary_file(header=b"4 2\n"), "word 2 holds a line break: the file does not match its header"),
], ids=["empty", "header-fields", "no-header", "zero-dim", "header-too-large", "text-short", "text-long", "text-few-values",
        "text-many-values", "text-not-number", "binary-short", "binary-long", "binary-truncated",
        "binary-wrong-dim"])
def test_bad_files_give_one_line_that_says_where(tmp_path, data, message):
    with pytest.raises(W2VError, match=message) as error:
        load(tmp_path, data)
    assert "\n" not in str(error.value)


def test_binary_output_is_the_c_tools_layout_block_after_block(tmp_path, monkeypatch):
    """The compiled writer against the layout written row by row in Python: each word's bytes (given
    as str or, as a vocabulary gives them, bytes), a space, the little-endian float32 row and a newline,
    from rows that are a view of wider ones, 64 rows at a time."""
    monkeypatch.setattr(word2vec_format, "_BLOCK_ROWS", 64)
    rng = np.random.default_rng(6)
    wide = rng.standard_normal((1000, 9)).astype(np.float32)
    words = [f"w{i}" if i % 3 else f"\u00e9t\u00e9{i}" for i in range(len(wide))]
    expected = b"1000 7\n" + b"".join(word.encode() + b" " + row.astype("<f4").tobytes() + b"\n"
                                      for word, row in zip(words, wide[:, :7]))
    for given in (words, [word.encode() for word in words]):
        path = tmp_path / "v.bin"
        write_word2vec(str(path), given, wide[:, :7], binary=True)
        assert path.read_bytes() == expected


def test_text_output_prints_every_value_as_printf_does(tmp_path, monkeypatch):
    """The compiled writer against Python's ``%.6f``: halves that round to even, signed zeros, and
    values it leaves to Python (beyond 1e9), among random values of every scale, written 64 rows at a
    time."""
    monkeypatch.setattr(word2vec_format, "_BLOCK_ROWS", 64)
    rng = np.random.default_rng(5)
    scales = rng.choice(np.float32([1e-8, 1e-4, 1, 1e4, 1e8]), 6993)
    chosen = np.float32([0.0, -0.0, 1 / 128, -3 / 128, 5e-7, -4e-7, 2.5, 123.4567885, -1e-9, 999999999,
                         0.5, 1.5, -2.5, 7.5])
    rows = np.concatenate([rng.standard_normal(6993).astype(np.float32) * scales, chosen]).reshape(-1, 7)
    special = np.float32([[1e9, -2e10, 3e38, -1e10, 5e9, 0.5, 1.5]])
    for values in (rows, special):
        words = [f"w{i}" for i in range(len(values))]
        path = tmp_path / "v.txt"
        write_word2vec(str(path), words, values, binary=False)
        expected = b"%d %d\n" % values.shape + b"".join(
            w.encode() + b"".join(b" %.6f" % x for x in row) + b"\n" for w, row in zip(words, values.tolist()))
        assert path.read_bytes() == expected


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress,
                                      lambda data: lzma.compress(data) + bytes(4)], ids=["gz", "bz2", "xz", "xz-padded"])
@pytest.mark.parametrize("make", [binary_file, text_file])
def test_compressed_files_load_like_plain_ones(tmp_path, compress, make):
    """As ``GoogleNews-vectors-negative300.bin.gz`` is published: found by its first bytes, not its name."""
    vectors = load(tmp_path, compress(make()))
    assert [w.encode("utf-8", "surrogateescape") for w in vectors.index_to_key] == WORDS
    np.testing.assert_array_equal(vectors.vectors, ROWS)


@pytest.mark.parametrize("data,message", [
    (gzip.compress(binary_file())[:-12], "cannot read vectors .*: Compressed file ended"),
    (gzip.compress(b""), "the file is empty once decompressed"),
    (b"\x1f\x8b not gzip at all", "cannot read vectors .*: Unknown compression method"),
], ids=["cut", "empty", "garbled"])
def test_damaged_compressed_files_give_one_line(tmp_path, data, message):
    with pytest.raises(W2VError, match=message) as error:
        load(tmp_path, data)
    assert "\n" not in str(error.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(W2VError, match="cannot read vectors .*No such file"):
        KeyedVectors.load(str(tmp_path / "missing.bin"))


@pytest.mark.parametrize("data,message", [
    (text_file().replace(b"8.0", b"nan"), ":4: the vector of '.*' holds a value that is not finite"),
    (text_file().replace(b"8.0", b"-inf"), ":4: the vector of '.*' holds a value that is not finite"),
    (text_file().replace(b"8.0", b"1e40"), ":4: the vector of '.*' holds a value .* or beyond float32's range"),
    (binary_file(ROWS * np.float32([[1], [1], [np.inf], [1]])), "byte 4[0-9]: the vector of '.*' holds a value"),
], ids=["nan", "inf", "beyond-float32", "binary-inf"])
def test_values_that_are_not_finite_are_refused_where_they_are(tmp_path, data, message):
    """A NaN row's cosines are all NaN, so its word would silently drop out of every answer."""
    with pytest.raises(W2VError, match=message) as error:
        load(tmp_path, data)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("make", [binary_file, text_file])
def test_a_byte_order_mark_before_the_header_is_dropped(tmp_path, make):
    """As the vocabulary, pairs and questions readers drop an editor's mark; it was 'the first line must be
    'words dimensions', not '\\ufeff3 4''."""
    np.testing.assert_array_equal(load(tmp_path, b"\xef\xbb\xbf" + make()).vectors, ROWS)


def test_a_text_file_with_a_bad_first_number_is_read_as_text(tmp_path):
    """A decimal comma in the first row made it look binary: a misleading error, or with a limit,
    garbage words and no error at all."""
    rows = np.random.default_rng(1).standard_normal((5, 50)).astype(np.float32)
    data = text_file(rows, [b"w%d" % i for i in range(5)])
    data = data.replace(b".", b",", 30)
    for limit in (None, 2):
        with pytest.raises(W2VError, match=r":2: '-?[0-9]+,[0-9]+' is not a number"):
            load(tmp_path, data, limit=limit)
    with pytest.raises(W2VError, match=":2: '1,0' is not a number"):
        load(tmp_path, b"2 2\na 1,0 2\nb 1 2\n")
    for number in ("\u22120.5", "\u0661"):  # a minus sign, an Arabic-Indic 1: "the file ends after 2" words
        text = f"3 4\na {number} 2 3 4\nb 1 1 1 1\nc 9 9 9 9\n".encode()
        with pytest.raises(W2VError, match=f":2: '{number}' is not a number$"):
            load(tmp_path, text)


@pytest.mark.parametrize("data,message", [
    (pickle.dumps({"gensim": "KeyedVectors"}), "is a Python pickle .*save_word2vec_format"),
    (b"PK\x03\x04" + bytes(40), "is a zip file, not a word2vec file: .*Word2Vec.load"),
    (b"0 99999999999999999999999\n", ":1: 99,999,999,999,999,999,999,999 dimensions are more than"),
], ids=["pickle", "zip", "no-words-huge-dim"])
def test_other_kinds_of_files_are_named(tmp_path, data, message):
    with pytest.raises(W2VError, match=message) as error:
        load(tmp_path, data)
    assert "\\x" not in str(error.value) and "GloVe" not in str(error.value)


def test_vectors_are_read_from_a_pipe(tmp_path):
    """``-v <(zcat v.bin.gz)``: a FIFO has no size, which was taken for an empty file."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    feeder = threading.Thread(target=fifo.write_bytes, args=(gzip.compress(binary_file()),))
    feeder.start()
    vectors = KeyedVectors.load(str(fifo), cache=True)
    feeder.join()
    np.testing.assert_array_equal(vectors.vectors, ROWS)
    assert not os.path.exists(str(fifo) + ".w2vcache")  # a pipe's cache could never be checked


def test_file_errors_are_the_exceptions_python_code_catches(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot read vectors .*No such file"):
        KeyedVectors.load_word2vec_format(str(tmp_path / "missing.bin"), binary=True)
    with pytest.raises(ValueError, match="the file ends inside word 4 of 4"):
        load(tmp_path, binary_file()[:-6])
    (tmp_path / "folder").mkdir()
    with pytest.raises(OSError, match="Is a directory"):
        KeyedVectors.load(str(tmp_path / "folder"))


def test_a_word_given_twice_keeps_its_first_row_as_in_gensim(tmp_path):
    data = b"4 2\na 1 0\nb 0.9 0.1\na 0.5 0.5\nd 0 1\n"
    with pytest.warns(UserWarning, match="left out a row that repeats a word given before .*'a'"):
        vectors = load(tmp_path, data)
    assert vectors.index_to_key == ["a", "b", "d"] and vectors.key_to_index == {"a": 0, "b": 1, "d": 2}
    np.testing.assert_array_equal(vectors["a"], [1, 0])
    assert [w for w, _ in vectors.most_similar("b")] == ["a", "d"]
    with pytest.raises(ValueError, match="the word 'a' is given twice"):
        KeyedVectors(["a", "b", "a"], np.ones((3, 2)))


@pytest.mark.parametrize("keys,counts,error,message", [
    ([1, 2], None, TypeError, "a word must be a string, not int"),
    ([b"a", "b"], None, TypeError, "a word must be a string, not bytes"),
    (["a", "b"], [1], ValueError, "2 keys but counts of shape"),
    (["a", "b"], [-1, 2], ValueError, "counts must be 0 or more"),
    (["a", "b"], [1.5, 2], TypeError, "counts must be whole numbers"),
    (["a", "b"], [np.inf, 2], TypeError, "counts must be whole numbers"),
    (["a", "b"], ["x", "y"], TypeError, "counts must be whole numbers")])
def test_keys_and_counts_that_no_file_could_hold_are_refused_by_the_constructor(keys, counts, error, message):
    """They failed later, in a save or a query, or were kept as wrong counts (1.5 as 1, -1 written)."""
    with pytest.raises(error, match=message):
        KeyedVectors(keys, np.ones((2, 2)), counts)
    assert KeyedVectors(["a", "b"], np.ones((2, 2)), [3.0, 2]).get_vecattr("a", "count") == 3


@pytest.mark.parametrize("word,value", [("new york", 1), ("", 1), ("tab\there", 1), ("a\ud800", 1),
                                        ("ok2", np.nan), ("ok2", -np.inf)])
def test_what_the_format_cannot_hold_is_refused_before_writing(tmp_path, word, value):
    """What could not be read back: a word with whitespace (or none), NaN or infinity."""
    path = tmp_path / "v.bin"
    path.write_bytes(b"kept")
    for binary in (True, False):
        with pytest.raises(ValueError, match="cannot be written"):
            KeyedVectors(["ok", word], np.float32([[1, 2, 3], [1, 2, value]])).save(str(path), binary=binary)
    assert path.read_bytes() == b"kept"


@pytest.mark.parametrize("line", [b"the\t0.5 -1 2 0.25\n", b"the\t0.5\t-1\t2\t0.25\n"])
def test_a_tab_after_the_word_separates_it_as_in_the_c_tool(tmp_path, line):
    """It was taken for a binary file and reported as truncated."""
    path = tmp_path / "tabs.txt"
    path.write_bytes(b"2 4\n" + line + b"of 1 2 3 4\n")
    read = read_word2vec(str(path))
    assert read.words == ["the", "of"] and not read.binary
    np.testing.assert_array_equal(read.vectors, [[0.5, -1, 2, 0.25], [1, 2, 3, 4]])
