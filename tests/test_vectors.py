"""The word2vec text and binary formats, byte for byte, and atomic saving."""

import os
import shutil
import struct
import subprocess

import numpy as np
import pytest

from w2vfast import KeyedVectors
from w2vfast.errors import W2VError

WORDS = ["king", "queen", "caf\u00e9", b"\xff\xfeodd".decode("utf-8", "surrogateescape")]
VECTORS = np.array([[1, 0, 0.5], [0.9, 0.1, 0.5], [0, 1, -1], [-0.25, 0.125, 3]], dtype=np.float32)


def test_binary_layout_matches_the_c_tool(tmp_path):
    path = tmp_path / "v.bin"
    KeyedVectors(WORDS, VECTORS).save(str(path), binary=True)
    data = path.read_bytes()
    assert data.startswith(b"4 3\n")
    pos = 4
    for word, row in zip(WORDS, VECTORS):
        raw = word.encode("utf-8", "surrogateescape")
        assert data[pos:pos + len(raw) + 1] == raw + b" "
        pos += len(raw) + 1
        assert struct.unpack("<3f", data[pos:pos + 12]) == tuple(row.tolist())
        pos += 12
        assert data[pos:pos + 1] == b"\n"
        pos += 1
    assert pos == len(data)


def test_text_layout(tmp_path):
    path = tmp_path / "v.txt"
    KeyedVectors(WORDS, VECTORS).save(str(path), binary=False)
    lines = path.read_bytes().split(b"\n")
    assert lines[0] == b"4 3"
    assert lines[1] == b"king 1.000000 0.000000 0.500000"
    assert lines[4].split()[0] == b"\xff\xfeodd"
    assert lines[-1] == b""


@pytest.mark.parametrize("binary", [True, False])
def test_round_trip_keeps_words_and_values(tmp_path, binary):
    path = tmp_path / "v.out"
    KeyedVectors(WORDS, VECTORS).save(str(path), binary=binary)
    loaded = KeyedVectors.load(str(path))
    assert loaded.index_to_key == WORDS
    np.testing.assert_array_equal(loaded.vectors, VECTORS)
    assert KeyedVectors.load(str(path), limit=2).index_to_key == WORDS[:2]


def test_gensim_reads_our_binary_file_when_installed(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    path = tmp_path / "v.bin"
    KeyedVectors(WORDS[:3], VECTORS[:3]).save(str(path), binary=True)
    loaded = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=True)
    assert loaded.index_to_key == WORDS[:3]
    np.testing.assert_array_equal(loaded.vectors, VECTORS[:3])


def test_most_similar_and_similarity():
    kv = KeyedVectors(WORDS, VECTORS)
    assert kv.most_similar("king", topn=1)[0][0] == "queen"
    assert kv.similarity("king", "king") == pytest.approx(1.0)


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(b"previous")
    kv = KeyedVectors(WORDS, VECTORS)
    kv.index_to_key[2] = None  # fails after the header and two rows are written
    with pytest.raises(AttributeError):
        kv.save(str(path))
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["v.bin"]


def test_saving_into_a_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(W2VError, match="does not exist"):
        KeyedVectors(WORDS, VECTORS).save(str(tmp_path / "nowhere" / "v.bin"))


def test_the_c_tools_distance_reads_our_binary_file_when_installed(tmp_path):
    distance = shutil.which("word2vec-distance") or shutil.which("distance")
    if distance is None:
        pytest.skip("the C tool's distance program is not installed")
    path = tmp_path / "v.bin"
    KeyedVectors(WORDS[:3], VECTORS[:3]).save(str(path), binary=True)
    shown = subprocess.run([distance, str(path)], input=b"king\nEXIT\n", capture_output=True,
                           timeout=30).stdout.decode("utf-8", "replace")
    assert "Position in vocabulary: 0" in shown
    assert shown.index("queen") < shown.index("caf")  # nearest first, as our own query says
