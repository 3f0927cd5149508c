"""The memory-mapped cache: used when up to date, rebuilt when the source changes, never in the way."""

import os
import subprocess
import sys

import numpy as np
import pytest

from w2vfast import KeyedVectors
from w2vfast.cache import cache_path
from w2vfast.errors import W2VError

WORDS = ["alpha", "beta", b"\xff".decode("utf-8", "surrogateescape"), "delta"]


def save(path, seed, binary=True):
    vectors = np.random.default_rng(seed).standard_normal((len(WORDS), 5)).astype(np.float32)
    KeyedVectors(WORDS, vectors).save(str(path), binary=binary)
    return vectors


def came_from_cache(vectors) -> bool:
    """Parsed rows are a fresh writable array; cached rows are a read-only map of the cache file."""
    return not vectors.vectors.flags.writeable


def assert_parsed_then_cached(path, expected):
    """The next load parses ``path`` and finds ``expected``; the one after maps the new cache."""
    reloaded = KeyedVectors.load(str(path), cache=True)
    assert not came_from_cache(reloaded)
    np.testing.assert_array_equal(reloaded.vectors, expected)
    assert came_from_cache(KeyedVectors.load(str(path), cache=True))


def test_a_query_of_cached_vectors_starts_without_numba(tmp_path):
    """Importing Numba was 0.3-0.7 s of every ``w2vfast similar``; cached vectors need none of it."""
    path = tmp_path / "v.bin"
    save(path, 1)
    KeyedVectors.load(str(path), cache=True)
    query = ("import sys\n"
             "from w2vfast.cli import main\n"
             "try:\n"
             f"    main(['similar', 'alpha', '-v', {str(path)!r}, '-n', '2'])\n"
             "except SystemExit as done:\n"
             "    assert done.code == 0, done.code\n"
             "print('numba' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", query], capture_output=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == [b"word", b"cosine"] and result.stdout.splitlines()[-1] == b"False"


@pytest.mark.parametrize("binary", [True, False])
def test_second_load_maps_the_cache_and_gives_the_same_answers(tmp_path, binary):
    path = tmp_path / "v.bin"
    expected = save(path, 1, binary)
    first = KeyedVectors.load(str(path), cache=True)
    assert not came_from_cache(first) and os.path.exists(cache_path(str(path)))
    second = KeyedVectors.load(str(path), cache=True)
    assert came_from_cache(second)
    assert second.index_to_key == WORDS
    np.testing.assert_array_equal(second.vectors, first.vectors)
    np.testing.assert_array_equal(second.vectors, expected if binary else first.vectors)
    np.testing.assert_array_equal(second.norms, first.norms)
    assert second.most_similar("alpha") == first.most_similar("alpha")
    limited = KeyedVectors.load(str(path), cache=True, limit=2)
    assert came_from_cache(limited) and limited.index_to_key == WORDS[:2]


def test_no_cache_unless_asked(tmp_path):
    path = tmp_path / "v.bin"
    save(path, 1)
    KeyedVectors.load(str(path))
    assert os.listdir(tmp_path) == ["v.bin"]


def test_a_limited_parse_writes_no_cache(tmp_path):
    path = tmp_path / "v.bin"
    save(path, 1)
    KeyedVectors.load(str(path), cache=True, limit=2)
    assert not os.path.exists(cache_path(str(path)))


def test_a_changed_source_is_parsed_again(tmp_path):
    path = tmp_path / "v.bin"
    save(path, 1)
    KeyedVectors.load(str(path), cache=True)
    stat = os.stat(path)
    replacement = save(path, 2)  # same size: only the modification time tells
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert_parsed_then_cached(path, replacement)


def test_an_edit_whose_modification_time_was_set_back_is_parsed_again(tmp_path):
    """Size and modification time were all the cache checked: the file's change time tells."""
    path = tmp_path / "v.bin"
    save(path, 1)
    KeyedVectors.load(str(path), cache=True)
    stat = os.stat(path)
    replacement = save(path, 2)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert_parsed_then_cached(path, replacement)


def test_a_file_with_a_repeated_word_gets_no_cache_as_a_limit_counts_its_rows(tmp_path):
    """A limit counts the file's rows (gensim's too); the cache kept the words left once repeats were dropped."""
    path = tmp_path / "v.txt"
    path.write_text("4 2\na 1 0\nb 0 1\na 1 1\nc 1 1\n")
    for _ in range(2):
        with pytest.warns(UserWarning, match="left out a row that repeats"):
            assert KeyedVectors.load(str(path), cache=True).index_to_key == ["a", "b", "c"]
        with pytest.warns(UserWarning, match="left out a row that repeats"):
            assert KeyedVectors.load(str(path), cache=True, limit=3).index_to_key == ["a", "b"]
    assert not os.path.exists(cache_path(str(path)))


def test_a_deeply_nested_header_is_a_damaged_cache(tmp_path):
    path = tmp_path / "v.bin"
    expected = save(path, 1)
    KeyedVectors.load(str(path), cache=True)
    lines = open(cache_path(str(path)), "rb").read().split(b"\n", 2)
    with open(cache_path(str(path)), "wb") as handle:  # was a RecursionError traceback
        handle.write(b"\n".join([lines[0], b"[" * 30000 + b"]" * 30000, lines[2]]))
    assert_parsed_then_cached(path, expected)


def test_a_forced_format_other_than_the_cached_one_parses(tmp_path):
    path = tmp_path / "v.txt"
    save(path, 1, binary=False)
    KeyedVectors.load(str(path), cache=True)
    with pytest.raises(W2VError):
        KeyedVectors.load(str(path), cache=True, binary=True)


def test_a_damaged_cache_is_ignored_and_replaced(tmp_path):
    path = tmp_path / "v.bin"
    expected = save(path, 1)
    KeyedVectors.load(str(path), cache=True)
    cache = cache_path(str(path))
    with open(cache, "r+b") as handle:
        handle.truncate(os.path.getsize(cache) - 3)
    assert_parsed_then_cached(path, expected)


def test_a_cache_that_cannot_be_written_is_skipped_silently(tmp_path):
    path = tmp_path / "v.bin"
    expected = save(path, 1)
    os.mkdir(cache_path(str(path)))  # something that is not a cache file is in the way
    for _ in range(2):
        vectors = KeyedVectors.load(str(path), cache=True)
        assert not came_from_cache(vectors)
        np.testing.assert_array_equal(vectors.vectors, expected)
    assert sorted(os.listdir(tmp_path)) == ["v.bin", "v.bin.w2vcache"]


def test_a_file_named_in_dev_gets_no_cache(tmp_path):
    """/dev/stdin, redirected from a file, is a regular file to stat: its cache went into /dev."""
    import subprocess
    import sys
    path = tmp_path / "v.bin"
    save(path, 1)
    load = "from w2vfast import KeyedVectors; print(len(KeyedVectors.load('/dev/stdin', cache=True)))"
    try:
        with open(path, "rb") as stdin:
            done = subprocess.run([sys.executable, "-c", load], stdin=stdin, capture_output=True, text=True)
        assert done.stdout == f"{len(WORDS)}\n" and not os.path.exists("/dev/stdin" + ".w2vcache")
    finally:
        if os.path.exists("/dev/stdin.w2vcache"):
            os.unlink("/dev/stdin.w2vcache")


def test_vectors_of_no_word_get_a_cache_and_a_one_line_answer(tmp_path):
    """Writing their cache was a traceback: a memoryview of no rows cannot be cast to bytes."""
    path = tmp_path / "none.txt"
    path.write_text("0 3\n")
    for _ in range(2):  # parsed, then mapped
        result = subprocess.run([sys.executable, "-m", "w2vfast", "similar", "a", "-v", str(path)],
                                capture_output=True, text=True)
        assert result.returncode == 1 and result.stderr.endswith("error: 'a' is not in the vocabulary\n")
    assert os.path.exists(cache_path(str(path))) and len(KeyedVectors.load(str(path), cache=True)) == 0


def test_a_forced_format_leaves_no_cache_for_loads_that_detect_it(tmp_path):
    """Text whose rows are 4 x dim bytes parses as binary when told to; its rows were then every load's."""
    path = tmp_path / "t.txt"
    path.write_text("2 3\nab 1.0 2.0 3.0\nb 4.0 5.0 6.0\n")
    KeyedVectors.load(str(path), binary=True, cache=True)
    assert not os.path.exists(cache_path(str(path)))
    np.testing.assert_array_equal(KeyedVectors.load(str(path), cache=True)["ab"], [1, 2, 3])


def test_a_fifo_in_the_cache_s_place_is_passed_over(tmp_path):
    """Opening it to read waited for a writer that never came."""
    path = tmp_path / "v.bin"
    expected = save(path, 1)
    os.mkfifo(cache_path(str(path)))
    code = f"from w2vfast import KeyedVectors; print(KeyedVectors.load({str(path)!r}, cache=True)['alpha'][0])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert float(result.stdout) == pytest.approx(expected[0, 0])
