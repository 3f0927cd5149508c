"""The word2vec text and binary formats, byte for byte, atomic saving, and the queries under gensim's names."""

import os
import shutil
import struct
import subprocess
import sysconfig

import numpy as np
import pytest

from w2vfast import KeyedVectors
from w2vfast.errors import InvalidArgument, W2VError
from conftest import ROYAL_VECTORS, ROYAL_WORDS

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


def test_cosines_hold_for_rows_of_any_length_float32_holds():
    """Norms taken in float32 overflowed past 1.8e19 and vanished below 1e-19: big/x had cosine 0,
    small/x 425,352,960, and a query of 'big' said its words cancel out."""
    vectors = KeyedVectors(["big", "small", "x", "y"],
                           np.array([[3e20, 4e20, 0], [3e-30, 4e-30, 0], [3, 4, 0], [1, 0, 0]], dtype=np.float32))
    assert vectors.similarity("big", "x") == pytest.approx(1.0)
    assert vectors.most_similar("x", topn=2) == [("big", pytest.approx(1.0)), ("small", pytest.approx(1.0))]
    assert vectors.most_similar("small", topn=1) == [("big", pytest.approx(1.0))]


def test_subnormal_rows_have_cosines_and_rows_too_long_for_float32_are_named():
    """Rows shorter than float32's smallest normal number were divided by that number, not their length
    (a row's cosine with itself was 0.036); a row whose length float32 cannot hold had cosine 0 with
    its own direction, and the CLI then said that the query's words cancel out."""
    tiny = KeyedVectors(["a", "b", "c"], np.array([[1e-39, 2e-39, 0], [2e-39, 1e-39, 0], [1, 2, 0]], np.float32))
    assert tiny.similarity("a", "a") == pytest.approx(1.0, abs=1e-5)
    assert tiny.most_similar("a") == [("c", pytest.approx(1.0, abs=1e-5)), ("b", pytest.approx(0.8, abs=1e-5))]
    assert tiny.distances("a", ["c"]) == pytest.approx([0.0], abs=1e-5)
    huge = KeyedVectors(["a", "b"], np.array([[3e38, 3e38, 0], [1, 1, 0]], np.float32))
    with pytest.raises(InvalidArgument, match=r"^the vector of 'a' is 4.24e\+38 long, more than float32 holds "
                                              r"\(3.4e\+38\): no cosine can be taken of it; scale the vectors down$"):
        huge.most_similar("b")


def test_most_similar_ranks_by_cosine_and_leaves_out_the_query(royals):
    # cos(king, prince) = 2/sqrt(6), cos(king, man) = 1/sqrt(2); queen and boy tie at 1/2 after them.
    found = royals.most_similar("king", topn=2)
    assert [w for w, _ in found] == ["prince", "man"]
    assert [s for _, s in found] == pytest.approx([2 / 6 ** 0.5, 2 ** -0.5])
    assert "king" not in [w for w, _ in royals.most_similar("king", topn=8)]
    assert len(royals.most_similar("king", topn=100)) == 8
    assert [w for w, _ in royals.most_similar("king", restrict_vocab=3)] == ["man", "woman"]


def test_the_rows_searched_are_chosen_as_in_gensim(royals):
    """restrict_vocab=0 searched nothing, where gensim searches everything; clip_start, clip_end and
    indexer=None were refused as unknown arguments."""
    assert royals.most_similar("king", restrict_vocab=0) == royals.most_similar("king")
    everyone = dict(royals.most_similar("king", topn=100))
    clipped = dict(royals.most_similar("king", topn=100, clip_start=2, clip_end=6, indexer=None))
    assert clipped == pytest.approx({w: s for w, s in everyone.items() if 2 <= royals.get_index(w) < 6})
    assert royals.most_similar("king", topn=None, clip_start=2, clip_end=6).shape == (4,)
    assert royals.most_similar_cosmul("king", restrict_vocab=0) == royals.most_similar_cosmul("king")
    with pytest.raises(ValueError, match="indexer=.* is not supported"):
        royals.most_similar("king", indexer=object())
    with pytest.raises(ValueError, match="clip_start must be 0 or more"):
        royals.most_similar("king", clip_start=-1)


def test_analogy_by_3cosadd_and_3cosmul(royals):
    for a, b, c, d in [("man", "king", "woman", "queen"), ("man", "woman", "boy", "girl"),
                       ("boy", "prince", "girl", "princess")]:
        assert royals.most_similar(positive=[b, c], negative=[a], topn=1)[0][0] == d
        assert royals.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0] == d
    # queen: cos with king 1/2, with woman 1/sqrt(2), with man 0, each shifted to (1 + cos) / 2.
    score = dict(royals.most_similar_cosmul(positive=["king", "woman"], negative=["man"]))["queen"]
    assert score == pytest.approx((1.5 / 2) * ((1 + 2 ** -0.5) / 2) / (0.5 + 1e-6), rel=1e-6)


def test_similarity_doesnt_match_and_unknown_words(royals):
    assert royals.similarity("king", "queen") == pytest.approx(0.5)
    assert royals.similarity("apple", "man") == 0.0
    assert royals.doesnt_match(["man", "king", "boy", "apple"]) == "apple"
    assert royals.doesnt_match(["queen", "princess", "girl", "man"]) == "man"
    with pytest.raises(KeyError, match="'kign' not in vocabulary"):
        royals.most_similar("kign")


def test_vectors_changed_by_hand_are_compared_as_they_are_now(royals):
    """similarity took the lengths kept for searches, which a vector changed in place outdates (gensim
    takes them afresh); and gensim's wv[word] = vector replaces a known word's vector."""
    royals = KeyedVectors(royals.index_to_key, royals.vectors.copy())  # the fixture's rows are shared
    royals.most_similar("king")  # the lengths are kept
    royals.vectors[royals.get_index("king")] *= 3
    assert royals.similarity("king", "queen") == pytest.approx(0.5) and royals.distance("king", "queen") == \
        pytest.approx(0.5)
    royals["king"] = royals["queen"]
    assert royals.similarity("king", "queen") == pytest.approx(1.0)
    assert royals.most_similar("queen", topn=1)[0] == ("king", pytest.approx(1.0))  # the kept lengths are renewed
    royals[["man", "woman"]] = np.eye(2, royals.vector_size, dtype=np.float32)
    assert royals.similarity("man", "woman") == 0.0
    with pytest.raises(ValueError, match="1 vector"):
        royals["king"] = np.ones(3)


def test_vectors_are_built_and_added_to_as_in_gensim():
    """gensim's KeyedVectors(vector_size), add_vectors and wv[new word] = vector: each refused before."""
    gensim_models = pytest.importorskip("gensim.models")
    ours, theirs = KeyedVectors(4), gensim_models.KeyedVectors(4)
    for vectors in (ours, theirs):
        vectors.add_vectors(["a", "b"], np.eye(2, 4, dtype=np.float32))
        vectors["c"] = np.array([1, 1, 0, 0], dtype=np.float32)
        vectors.add_vectors("a", np.ones(4, dtype=np.float32))  # a word there keeps its vector
        vectors.add_vectors(["a", "d"], np.full((2, 4), 2, dtype=np.float32), replace=True)
        vectors[["b", "e"]] = np.array([[0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float32)
    assert ours.index_to_key == theirs.index_to_key == ["a", "b", "c", "d", "e"]
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    assert [word for word, _ in ours.most_similar("a", topn=2)] == [word for word, _ in theirs.most_similar("a", topn=2)]
    counted = KeyedVectors(["x"], np.ones((1, 4), dtype=np.float32), counts=[5])
    counted.add_vectors(["y", "x"], np.zeros((2, 4)), extras={"count": [3, 9]})
    assert (counted.get_vecattr("y", "count"), counted.get_vecattr("x", "count")) == (3, 5)
    with pytest.raises(InvalidArgument, match="a word is given twice"):
        ours.add_vectors(["q", "q"], np.zeros((2, 4)))
    with pytest.raises(InvalidArgument, match="count=3 is not supported"):
        KeyedVectors(4, 3)


def test_a_vocabularys_vectors_find_their_words_and_take_a_word_to_row_dict_as_gensims_do():
    """The vectors a run returns make ``key_to_index`` when first asked for, from words given as bytes (one
    not UTF-8); gensim's is a plain attribute, and code that sets it is obeyed."""
    vectors = KeyedVectors.from_bytes_words([b"k\xc3\xb6nig", b"queen", b"\xff"], np.eye(3, dtype=np.float32))
    assert vectors.key_to_index == {"k\u00f6nig": 0, "queen": 1, "\udcff": 2}
    assert vectors.most_similar("queen", topn=1)[0][0] in ("k\u00f6nig", "\udcff")
    vectors.key_to_index = {"k\u00f6nig": 1, "queen": 0, "\udcff": 2}
    assert vectors["queen"].tolist() == [1, 0, 0]


def test_similar_spellings_offer_case_then_edits_then_close_words(royals):
    assert royals.similar_spellings("King")[0] == "king"
    assert royals.similar_spellings("kign")[0] == "king"
    assert royals.similar_spellings("princes")[:2] == ["prince", "princess"]
    assert royals.similar_spellings("prinses")[0] == "princess"  # two edits away: difflib finds it
    assert royals.similar_spellings("zzzzzz") == []


def test_a_long_unknown_word_is_not_spelled_out_edit_by_edit(royals, monkeypatch):
    """Its one-edit variants grow with its length squared: a pasted 2,000-character word took 85 s and
    24 GB. Case variants and the bounded difflib search still run."""
    from w2vfast import vectors as module
    edited = []
    monkeypatch.setattr(module, "_one_edit_away", lambda word: edited.append(word) or set())
    assert royals.similar_spellings("x" * 2000) == []
    assert royals.similar_spellings("KING" + "x" * 60) == []
    assert edited == []
    assert royals.similar_spellings("kign") and edited == ["kign"]


def test_weighted_terms_and_vectors_are_queried_as_gensim_queries_them(royals):
    """A pair's weight is the weight, in ``negative`` too (``("man", -1.0)`` is ``"man"``; it was turned
    into +1), and a vector is taken as given (it was scaled to length 1), in 3CosMul too (refused)."""
    gensim_models = pytest.importorskip("gensim.models")
    theirs = gensim_models.KeyedVectors(ROYAL_VECTORS.shape[1])
    theirs.add_vectors(ROYAL_WORDS, ROYAL_VECTORS)
    vector = 3 * royals["queen"] - royals["man"]
    queries = [dict(positive=[("king", 2.0), "woman"], negative=[("man", -0.5)]),
               dict(positive=["king"], negative=[("man", -1.0), ("woman", 0.5)]),
               dict(positive=[vector, "woman"]), dict(positive=["king"], negative=[vector])]
    for query in queries:
        ours, expected = royals.most_similar(**query, topn=4), theirs.most_similar(**query, topn=4)
        assert [word for word, _ in ours] == [word for word, _ in expected], query
        assert [score for _, score in ours] == pytest.approx([score for _, score in expected], abs=1e-5)
    for query in queries[2:]:
        ours, expected = royals.most_similar_cosmul(**query, topn=4), theirs.most_similar_cosmul(**query, topn=4)
        assert [word for word, _ in ours] == [word for word, _ in expected], query
        assert [score for _, score in ours] == pytest.approx([score for _, score in expected], abs=1e-5)
    with pytest.raises(ValueError, match="weight must be a number"):
        royals.most_similar([("king", [1])])
    with pytest.raises(ValueError, match=f"^a query vector must have {royals.vector_size} values, not shape"):
        royals.most_similar([np.ones(3)])


def test_3cosmul_with_topn_none_gives_every_score(royals):
    scores = royals.most_similar_cosmul(["king"], topn=None)
    assert scores.shape == (len(royals),)
    best = royals.most_similar_cosmul(["king"], topn=1)[0]
    assert best[1] == pytest.approx(np.max(np.delete(scores, royals.get_index("king"))))


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
    distance = shutil.which("word2vec-distance", path=sysconfig.get_path("scripts")) or shutil.which("distance")
    if distance is None:
        pytest.skip("the C tool's distance program is not installed (the test extra installs it)")
    path = tmp_path / "v.bin"
    KeyedVectors(WORDS[:3], VECTORS[:3]).save(str(path), binary=True)
    shown = subprocess.run([distance, str(path)], input=b"king\nEXIT\n", capture_output=True,
                           timeout=30).stdout.decode("utf-8", "replace")
    assert "Position in vocabulary: 0" in shown
    assert shown.index("queen") < shown.index("caf")  # nearest first, as our own query says


def test_gensim_query_names_on_known_geometry(royals):
    assert royals.has_index_for("king") and not royals.has_index_for("emperor")
    assert royals.distance("man", "king") == pytest.approx(1 - 1 / np.sqrt(2))
    assert royals.n_similarity(["man", "king"], ["woman", "queen"]) == pytest.approx(0.2)
    np.testing.assert_allclose(royals.distances("man", ["woman", "king"]), [1.0, 1 - 1 / np.sqrt(2)], atol=1e-6)
    assert royals.distances(np.array([0, 0, 0, 0, 1.0], np.float32)).argmin() == royals.get_index("apple")
    np.testing.assert_allclose(np.linalg.norm(royals.get_vector("apple", norm=True)), 1.0)
    assert royals[["man", "woman"]].shape == (2, 5)
    assert royals.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert royals.similar_by_vector(royals["queen"], topn=1)[0][0] == "queen"
    assert royals.most_similar(positive=[royals["king"], "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert royals.most_similar("man", topn=None).shape == (9,)
    with pytest.raises(ZeroDivisionError):
        royals.n_similarity([], ["man"])


def test_gensim_query_terms_in_other_forms(royals):
    """Each of these was refused or failed inside numpy, where gensim answers."""
    np.testing.assert_allclose(royals.distances(royals.get_index("man"), ["woman", "king"]),
                               royals.distances("man", ["woman", "king"]))
    assert royals.most_similar(positive=[["king", 1.0], "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert royals.doesnt_match(np.array(["man", "king", "boy", "apple"])) == "apple"
    # gensim leaves out unknown words, and a list of none known gives 0
    assert royals.n_similarity(["man", "king", "emperor"], ["woman", "queen"]) == pytest.approx(0.2)
    assert royals.n_similarity(["emperor"], ["woman"]) == 0.0
    with pytest.raises(KeyError, match="no 'count': these vectors were read from a word2vec file"):
        royals.get_vecattr("man", "count")  # it said "w2vfast keeps only 'count'"
    with pytest.raises(NotImplementedError, match="cannot freeze vectors"):  # was taken, and ignored in training
        royals.vectors_lockf = np.zeros(len(royals), dtype=np.float32)


def test_unknown_words_are_left_out_of_doesnt_match_and_centrality_as_in_gensim(royals):
    """doesnt_match failed with a KeyError on any unknown word, where gensim leaves it out."""
    with pytest.warns(UserWarning, match="left out words not in the vocabulary: 'emperor'"):
        assert royals.doesnt_match(["man", "king", "emperor", "apple"]) == "apple"
    ranked = royals.rank_by_centrality(["man", "king", "boy", "apple"])
    assert [word for _, word in ranked] == ["man", "king", "boy", "apple"]
    # Unit vectors (1,0,0,0,0), (1,0,1,0,0)/√2, (1,0,0,1,0)/√2, (0,0,0,0,1): their sum is
    # (1+√2, 0, 1/√2, 1/√2, 1), and man's cosine with it (1+√2)/√((1+√2)² + 2).
    assert ranked[0][0] == pytest.approx((1 + 2 ** 0.5) / ((1 + 2 ** 0.5) ** 2 + 2) ** 0.5)
    by_length = royals.rank_by_centrality(["man", "apple"], use_norm=False)
    assert by_length == [(pytest.approx(9 / 10 ** 0.5), "apple"), (pytest.approx(1 / 10 ** 0.5), "man")]
    with pytest.raises(ValueError, match="cannot select a word from an empty list"), pytest.warns(UserWarning):
        royals.doesnt_match(["emperor"])


def test_more_gensim_names_for_queries_and_rows(royals, tmp_path):
    """similar_by_vector refused a row number, and words_closer_than, rank_by_centrality and
    unit_normalize_all were missing."""
    assert royals.similar_by_vector(royals.get_index("king"), topn=1) == royals.similar_by_key("king", topn=1)
    assert royals.words_closer_than("man", "queen") == royals.closer_than("man", "queen") == \
        ["king", "boy", "prince"]
    royals.unit_normalize_all()
    np.testing.assert_allclose(np.linalg.norm(royals.vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(royals.norms, 1.0)
    assert royals["apple"].tolist() == [0, 0, 0, 0, 1] and royals.most_similar("king", topn=1)[0][0] == "prince"
    path = tmp_path / "pairs.tsv"
    path.write_text("man\tking\t5\n")
    with pytest.raises(TypeError, match="encoding must be the name of one"):
        royals.evaluate_word_pairs(str(path), encoding=None)
    with pytest.raises(ValueError, match="encoding: w2vfast reads UTF-8 words only, not None"):
        KeyedVectors.load_word2vec_format(str(path), encoding=None)


def test_vectors_file_arguments_that_are_not_implemented_are_refused(royals, tmp_path):
    path = str(tmp_path / "v.txt")
    with pytest.raises(ValueError, match="write_header=False is not supported"):
        royals.save_word2vec_format(path, write_header=False)
    with pytest.raises(ValueError, match="fvocab: these vectors have no counts"):
        royals.save_word2vec_format(path, fvocab=str(tmp_path / "vocab.txt"))
    royals.save_word2vec_format(path)
    with pytest.raises(ValueError, match="no_header=True is not supported"):
        KeyedVectors.load_word2vec_format(path, no_header=True)
    with pytest.raises(ValueError, match="encoding: w2vfast reads UTF-8 words only"):
        KeyedVectors.load_word2vec_format(path, encoding="latin-1")


def test_words_that_are_not_utf8_follow_unicode_errors(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 2\ncaf\xe9 1 0\nok 0 1\n")
    with pytest.raises(W2VError, match="is not UTF-8"):
        KeyedVectors.load_word2vec_format(str(path))
    assert KeyedVectors.load_word2vec_format(str(path), unicode_errors="replace").index_to_key == ["caf\ufffd", "ok"]
    assert KeyedVectors.load_word2vec_format(str(path), unicode_errors="ignore").index_to_key == ["caf", "ok"]


def test_unicode_errors_as_gensim_users_meet_them(tmp_path):
    """'strict' raised a plain W2VError, which gensim code catching UnicodeDecodeError missed; counts
    from fvocab were looked up by the mended words and not found; two words mended alike were refused."""
    path, vocab = tmp_path / "v.txt", tmp_path / "v.voc"
    path.write_bytes(b"3 2\ncaf\xe9 1 0\nok 0 1\ncaf\xe8 1 1\n")
    vocab.write_bytes(b"caf\xe9 10\nok 5\ncaf\xe8 2\n")
    with pytest.raises(UnicodeDecodeError, match="is not UTF-8"):
        KeyedVectors.load_word2vec_format(path)
    with pytest.warns(UserWarning, match="keeps its first row"):  # both are caf\ufffd
        mended = KeyedVectors.load_word2vec_format(path, fvocab=vocab, unicode_errors="replace")
    assert mended.index_to_key == ["caf\ufffd", "ok"] and mended.counts.tolist() == [10, 5]
    with pytest.warns(UserWarning, match="keeps its first row"):
        ignored = KeyedVectors.load_word2vec_format(path, fvocab=vocab, unicode_errors="ignore")
    assert ignored.index_to_key == ["caf", "ok"] and ignored.counts.tolist() == [10, 5]
    np.testing.assert_array_equal(ignored["caf"], [1, 0])


def test_paths_may_be_pathlib_paths_and_gensim_defaults_spelt_out_are_taken(tmp_path):
    """A pathlib.Path output failed with an AttributeError; limit=0 loaded no words (gensim: all);
    total_vec equal to the words written was refused."""
    vectors = KeyedVectors(["a", "b"], VECTORS[:2], counts=np.array([3, 2]))
    vectors.save_word2vec_format(tmp_path / "v.txt", fvocab=tmp_path / "v.voc", total_vec=2)
    vectors.save(tmp_path / "v.bin")
    loaded = KeyedVectors.load_word2vec_format(tmp_path / "v.txt", fvocab=tmp_path / "v.voc", limit=0)
    assert loaded.index_to_key == ["a", "b"] and loaded.counts.tolist() == [3, 2]
    assert KeyedVectors.load(tmp_path / "v.bin").index_to_key == ["a", "b"]


def test_whole_numbers_are_rows_and_other_keys_a_type_error_as_in_gensim(royals):
    assert royals.get_index(3) == 3 and 3 in royals and np.array_equal(royals[0], royals[royals.index_to_key[0]])
    assert len(royals) not in royals and -1 not in royals and True not in royals
    with pytest.raises(TypeError, match="^a word must be a string, not list$"):  # was 'unhashable type'
        royals.similarity(["king"], ["queen"])
    with pytest.raises(TypeError, match="^a query is words \\(str\\), row numbers or vectors, not bytes b'king'$"):
        royals.most_similar(b"king")  # was read as rows 107, 105, 110, 103
    np.testing.assert_array_equal(royals.distances("king", None), royals.distances("king"))  # gensim's "all"
    assert royals.similar_by_vector("king", topn=3) == royals.most_similar("king", topn=3)  # gensim's too; was
    # "could not convert string to float"


def test_a_file_argument_that_is_not_a_path_is_a_type_error(tmp_path):
    """A whole number was opened as a file descriptor, read, and closed (0: standard input)."""
    path = tmp_path / "v.txt"
    KeyedVectors(WORDS, VECTORS).save(str(path), binary=False)
    for wrong in (0, None, 2.5):
        with pytest.raises(TypeError, match="^path must be a path"):
            KeyedVectors.load(wrong)
    for limit in (1.5, "3", True):
        with pytest.raises(TypeError, match="^limit must be a whole number or None"):
            KeyedVectors.load(str(path), limit=limit)
    assert os.fstat(0) is not None and len(KeyedVectors.load(path)) == len(WORDS)  # a PathLike is a path
    vectors = KeyedVectors(WORDS, VECTORS)
    with pytest.raises(TypeError, match="^analogies must be a path, not 0$"):  # standard input was read, and closed
        vectors.evaluate_word_analogies(0)
    with pytest.raises(TypeError, match="^pairs must be a path, not 0$"):
        vectors.evaluate_word_pairs(0)
    assert os.fstat(0) is not None


def test_an_unwritable_fvocab_leaves_the_vectors_file_as_it_was(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("precious\n")
    kv = KeyedVectors(WORDS, VECTORS, counts=np.arange(len(WORDS))[::-1] + 1)
    with pytest.raises(W2VError, match="output directory does not exist"):
        kv.save_word2vec_format(str(path), fvocab=str(tmp_path / "nowhere" / "vocab.txt"))
    assert path.read_text() == "precious\n"


def test_errors_name_the_output_as_it_was_given(tmp_path, monkeypatch):
    """They named its absolute path, with links resolved."""
    monkeypatch.chdir(tmp_path)
    os.mkdir("taken")
    os.symlink("taken", "link")
    for given in ("taken", "link"):
        with pytest.raises(W2VError, match=f"^cannot write {given}: it is a directory$"):
            KeyedVectors(WORDS, VECTORS).save(given)


def test_a_row_number_alone_is_a_query_and_a_topn_that_is_no_whole_number_a_type_error(royals):
    """most_similar(5) and topn=1.5 ended in Python's and numpy's own TypeErrors."""
    assert royals.most_similar(2, topn=3) == royals.most_similar("king", topn=3)
    for wrong in (1.5, "3"):
        with pytest.raises(TypeError, match="^topn must be a whole number or None"):
            royals.most_similar("king", topn=wrong)
    with pytest.raises(TypeError, match="^a query is words, row numbers or vectors, not float$"):
        royals.most_similar(2.5)


def test_gensims_other_query_names_answer_as_gensim_does(royals):
    gensim_models = pytest.importorskip("gensim.models")
    theirs = gensim_models.KeyedVectors(ROYAL_VECTORS.shape[1])
    theirs.add_vectors(ROYAL_WORDS, ROYAL_VECTORS)
    assert royals.closer_than("king", "girl") == theirs.closer_than("king", "girl")
    assert [royals.rank("king", w) for w in ROYAL_WORDS] == [theirs.rank("king", w) for w in ROYAL_WORDS]
    assert royals.most_similar_to_given("king", ["apple", "queen", "boy"]) == \
        theirs.most_similar_to_given("king", ["apple", "queen", "boy"])
    royals.fill_norms(force=True)
    np.testing.assert_allclose(royals.get_normed_vectors(), theirs.get_normed_vectors(), rtol=1e-6)
    for arguments in (dict(keys=["king", "woman", "nowhere"]), dict(keys=["king", ROYAL_VECTORS[4]], weights=[2, -1]),
                      dict(keys=["king", "woman"], pre_normalize=False, post_normalize=True)):
        np.testing.assert_allclose(royals.get_mean_vector(**arguments), theirs.get_mean_vector(**arguments),
                                   rtol=1e-6, atol=1e-7)
    with pytest.raises(KeyError):
        royals.get_mean_vector(["nowhere"], ignore_missing=False)


def test_gensims_smaller_keyed_vectors_calls_give_its_answers(royals):
    """vectors_for_all, set_vecattr, cosine_similarities and init_sims were AttributeErrors."""
    gensim_models = pytest.importorskip("gensim.models")
    theirs = gensim_models.KeyedVectors(royals.vector_size)
    theirs.add_vectors(royals.index_to_key, royals.vectors)
    ours = KeyedVectors(royals.index_to_key, royals.vectors.copy())
    picked = ["queen", "nowhere", "king", "queen"]
    assert ours.vectors_for_all(picked).index_to_key == theirs.vectors_for_all(picked).index_to_key == ["queen", "king"]
    np.testing.assert_array_equal(ours.vectors_for_all(picked).vectors, theirs.vectors_for_all(picked).vectors)
    np.testing.assert_allclose(ours.cosine_similarities(ours["king"], ours.vectors),
                               theirs.cosine_similarities(theirs["king"], theirs.vectors), rtol=1e-6)
    ours.set_vecattr("king", "count", 7)
    assert ours.get_vecattr("king", "count") == 7 and ours.get_vecattr("queen", "count") == 0
    ours.init_sims(replace=True)
    np.testing.assert_allclose(np.linalg.norm(ours.vectors, axis=1), 1.0, rtol=1e-6)
