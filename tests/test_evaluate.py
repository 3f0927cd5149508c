"""Analogy accuracy and word-pair correlation: known answers by hand, and gensim's figures exactly."""

import math

import numpy as np
import pytest

from w2vfast import KeyedVectors
from w2vfast.errors import W2VError
from w2vfast.evaluate import average_ranks, evaluate_analogies, evaluate_word_pairs, pearson, spearman
from conftest import ROYAL_VECTORS, ROYAL_WORDS

QUESTIONS = """: royal
man king woman queen
MAN KING WOMAN QUEEN
man king woman apple
man king woman dragon
not four words

: youth
man woman boy girl
boy prince girl princess
"""


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text(QUESTIONS)
    return str(path)


def summary(result):
    return [(s.name, len(s.correct), len(s.incorrect), s.skipped) for s in result.sections + [result.total]]


def test_analogies_are_answered_skipped_and_counted_per_section(royals, questions):
    result = evaluate_analogies(royals, questions)
    assert summary(result) == [("royal", 2, 1, 1), ("youth", 2, 0, 0), ("Total accuracy", 4, 1, 1)]
    assert result.sections[0].incorrect == [("MAN", "KING", "WOMAN", "APPLE")]
    assert result.invalid_lines == 1
    assert result.total.accuracy == 0.8


@pytest.mark.parametrize("packed", ["gzip", "bz2", "lzma", "a byte order mark"])
def test_compressed_files_and_a_byte_order_mark_read_as_the_plain_file(royals, questions, tmp_path, packed):
    """Compressed files were read as text (gensim decompresses them), and a byte order mark hid the
    first section: each was 'a question comes before the first section'."""
    import bz2
    import codecs
    import gzip
    import lzma
    plain = open(questions, "rb").read()
    path = tmp_path / "packed"
    path.write_bytes(codecs.BOM_UTF8 + plain if packed == "a byte order mark" else
                     {"gzip": gzip, "bz2": bz2, "lzma": lzma}[packed].compress(plain))
    assert summary(evaluate_analogies(royals, str(path))) == summary(evaluate_analogies(royals, questions))
    path.write_bytes(gzip.compress(PAIRS.encode()))
    vectors = KeyedVectors(PAIR_WORDS, PAIR_VECTORS)
    assert evaluate_word_pairs(vectors, str(path)).spearman == pytest.approx(0.9 ** 0.5)


def test_restriction_and_case_sensitivity_skip_questions(royals, questions):
    restricted = evaluate_analogies(royals, questions, restrict_vocab=7)  # princess is 8th
    assert summary(restricted)[1] == ("youth", 1, 0, 1)
    sensitive = evaluate_analogies(royals, questions, case_insensitive=False)
    assert summary(sensitive)[0] == ("royal", 1, 1, 2)


def test_a_candidate_spelled_like_a_question_word_is_passed_over(royals, questions):
    # "WOMAN" points almost exactly at king - man + woman, so it ranks first; upper-cased it *is* the
    # question word, so (as in gensim) the next candidate, queen, is the answer.
    vectors = KeyedVectors(ROYAL_WORDS + ["WOMAN"],
                           np.vstack([ROYAL_VECTORS, [[-0.3, 1, 0.7, 0, 0]]]))
    assert vectors.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "WOMAN"
    assert summary(evaluate_analogies(vectors, questions))[0] == ("royal", 2, 1, 1)
    assert summary(evaluate_analogies(vectors, questions, case_insensitive=False))[0] == ("royal", 0, 2, 2)


def test_gensim_shaped_analogy_result(royals, questions):
    score, sections = royals.evaluate_word_analogies(questions, restrict_vocab=30000)
    assert score == 0.8
    assert [s["section"] for s in sections] == ["royal", "youth", "Total accuracy"]
    assert sections[-1]["correct"][0] == ("MAN", "KING", "WOMAN", "QUEEN")
    assert len(sections[-1]["incorrect"]) == 1


def test_questions_may_end_their_lines_in_a_carriage_return_alone(royals, questions, tmp_path):
    """Read as one ': section' line, the file had no question, and the error said 'lines that are not 4 words: 0'."""
    path = tmp_path / "cr.txt"
    path.write_bytes(open(questions, "rb").read().replace(b"\n", b"\r"))
    assert summary(evaluate_analogies(royals, str(path))) == summary(evaluate_analogies(royals, questions))


def test_a_question_before_any_section_is_an_error(royals, tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("man king woman queen\n")
    with pytest.raises(ValueError, match=":1: a question comes before the first ': section' line"):
        evaluate_analogies(royals, str(path))  # gensim's error too, so ported code catches it
    with pytest.raises(W2VError, match="cannot read"):
        evaluate_analogies(royals, str(tmp_path / "missing.txt"))


# Angles from the x axis: a 0, b 0, c 60, d 90 and e 180 degrees, so the cosines with a are 1, 1/2, 0, -1.
PAIR_WORDS = ["a", "b", "c", "d", "e"]
PAIR_VECTORS = np.array([[1, 0], [2, 0], [0.5, 0.75 ** 0.5], [0, 1], [-1, 0]], dtype=np.float32)
PAIRS = "# word1\tword2\tscore\na\tb\t10\nA\tc\t7\na\td\t7\na\te\t1\na\tzzz\t5\nbroken line\n\n"


def test_word_pairs_by_hand(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text(PAIRS)
    vectors = KeyedVectors(PAIR_WORDS, PAIR_VECTORS)
    result = evaluate_word_pairs(vectors, str(path))
    assert (result.pairs, result.out_of_vocabulary, result.invalid_lines) == (4, 1, 1)
    assert result.oov_percent == 20.0
    # Human ranks 4, 2.5, 2.5, 1 against model ranks 4, 3, 2, 1: deviations (1.5, 0, 0, -1.5) and
    # (1.5, .5, -.5, -1.5), so rho = 4.5 / sqrt(4.5 * 5).
    assert result.spearman == pytest.approx(0.9 ** 0.5)
    # Scores 10, 7, 7, 1 (mean 6.25) against cosines 1, .5, 0, -1 (mean .125).
    assert result.pearson == pytest.approx(9.375 / (42.75 * 2.1875) ** 0.5)
    (r, r_p), (rho, rho_p), oov = vectors.evaluate_word_pairs(str(path))
    assert (r, rho, oov) == (result.pearson, result.spearman, 20.0)
    assert math.isnan(r_p) and math.isnan(rho_p)
    assert evaluate_word_pairs(vectors, str(path), case_insensitive=False).pairs == 3


def test_gensims_encoding_and_other_options_of_the_evaluations(tmp_path, royals, questions):
    path = tmp_path / "pairs.tsv"
    path.write_bytes("caf\u00e9\tb\t10\ncaf\u00e9\tc\t7\na\td\t7\na\te\t1\n".encode("latin-1"))
    vectors = KeyedVectors(["caf\u00e9", "b", "c", "d", "a"], PAIR_VECTORS)
    assert vectors.evaluate_word_pairs(str(path), encoding="latin-1")[2] == 25.0  # only e is unknown
    assert vectors.evaluate_word_pairs(str(path), dummy4unknown=True)[2] == 75.0  # read as UTF-8, café is unknown
    with pytest.raises(ValueError, match="unknown encoding 'klingon'"):
        vectors.evaluate_word_pairs(str(path), encoding="klingon")
    with pytest.raises(ValueError, match="similarity_function='most_similar_cosmul' is not supported"):
        royals.evaluate_word_analogies(questions, similarity_function="most_similar_cosmul")


def test_a_score_that_is_not_a_finite_number_makes_its_line_invalid(tmp_path):
    """A NaN score was ranked above every other, which gave a definite but meaningless correlation."""
    path = tmp_path / "pairs.tsv"
    path.write_text(PAIRS + "a\tb\tnan\na\tc\tinf\n")
    result = evaluate_word_pairs(KeyedVectors(PAIR_WORDS, PAIR_VECTORS), str(path))
    assert (result.pairs, result.invalid_lines) == (4, 3)
    assert result.spearman == pytest.approx(0.9 ** 0.5)


@pytest.mark.parametrize("options,error,message", [
    (dict(restrict_vocab=-1), ValueError, "restrict_vocab must be 0 or more, not -1"),
    (dict(restrict_vocab=True), TypeError, "restrict_vocab must be a whole number or None, not True"),
    (dict(restrict_vocab=1.5), TypeError, "restrict_vocab must be a whole number or None, not 1.5"),
    (dict(delimiter=""), ValueError, "delimiter must not be empty"),
    (dict(delimiter=9), TypeError, "delimiter must be a string or None")])
def test_evaluation_options_that_make_no_sense_are_refused(tmp_path, royals, questions, options, error, message):
    """-1 evaluated on every word but the last, True on the first word alone, and '' or 1.5 failed
    deep inside with Python's own message."""
    path = tmp_path / "pairs.tsv"
    path.write_text(PAIRS)
    with pytest.raises(error, match=message):
        KeyedVectors(PAIR_WORDS, PAIR_VECTORS).evaluate_word_pairs(str(path), **options)
    if "restrict_vocab" in options:
        with pytest.raises(error, match=message):
            royals.evaluate_word_analogies(questions, **options)
    assert evaluate_word_pairs(KeyedVectors(PAIR_WORDS, PAIR_VECTORS), str(path), delimiter=None).pairs == 4


def test_word_pairs_with_fewer_than_two_to_correlate_is_gensim_s_value_error(tmp_path):
    """One known pair gave NaN, which the command printed with status 0; every pair unknown with
    dummy4unknown was an error where gensim scores them all at 0, NaN; and the errors were no ValueError."""
    vectors, path = KeyedVectors(PAIR_WORDS, PAIR_VECTORS), tmp_path / "pairs.tsv"
    path.write_text("x\ty\t1\nbroken\n")
    with pytest.raises(ValueError, match=r"no pair of known words \(out of vocabulary: 1, lines not "
                                         r"'word1\\tword2\\tscore': 1\)$"):
        evaluate_word_pairs(vectors, str(path))
    with pytest.raises(ValueError, match="lines not 'word1 word2 score'"):  # was 'word1Noneword2Nonescore'
        evaluate_word_pairs(vectors, str(path), delimiter=None)
    path.write_text("x\ty\t1\nu\tv\t3\n")
    result = evaluate_word_pairs(vectors, str(path), dummy4unknown=True)
    assert math.isnan(result.pearson) and math.isnan(result.spearman) and result.oov_percent == 100
    path.write_text("a\tb\t1\nu\tv\t3\n")
    with pytest.raises(ValueError, match="one pair of known words alone"):
        evaluate_word_pairs(vectors, str(path))
    assert evaluate_word_pairs(vectors, str(path), dummy4unknown=True).pearson == pytest.approx(-1)  # cosines 1, 0


def test_average_ranks_pearson_and_spearman_by_hand():
    assert average_ranks([3, 1, 3, 2, 3]).tolist() == [4, 1, 4, 2, 4]
    assert average_ranks([]).tolist() == []
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1)
    assert pearson([1, 2, 3], [5, 3, 1]) == pytest.approx(-1)
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))
    assert spearman([1, 2, 3, 4], [1, 10, 100, 1000]) == pytest.approx(1)


def test_correlations_match_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(5)
    for _ in range(20):
        x, y = rng.integers(0, 6, 30), rng.integers(0, 6, 30) + rng.random(30) * (rng.random() < 0.5)
        assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
        assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)


def structured_vectors(seed=0):
    """Pairs x_i, y_i that share an offset (so analogies are partly answerable), unrelated words, and
    near-copies spelled in capitals, placed before or after the word they fold onto."""
    rng = np.random.default_rng(seed)
    dim = 8
    offset = rng.standard_normal(dim)
    words, rows = [], []
    for i in range(20):
        base = rng.standard_normal(dim)
        words += [f"x{i}", f"y{i}"]
        rows += [base, base + offset + 0.6 * rng.standard_normal(dim)]
    words += [f"noise{i}" for i in range(20)]
    rows += list(rng.standard_normal((20, dim)))
    for copy in ["X1", "Y3", "X5", "X7"]:
        words.append(copy)
        rows.append(rows[words.index(copy.lower())] + 0.01 * rng.standard_normal(dim))
    words.insert(0, "X9")
    rows.insert(0, rows[words.index("x9") - 1] + 0.01 * rng.standard_normal(dim))
    unit = {w: r / np.linalg.norm(r) for w, r in zip(words, rows)}
    words.append("X2")  # not a copy of x2: the very answer to "x0 : y0 :: x4 : ?"
    rows.append(unit["y0"] - unit["x0"] + unit["x4"])
    return words, np.array(rows, dtype=np.float32)


def test_analogies_and_pairs_agree_with_gensim(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    words, rows = structured_vectors()
    path = tmp_path / "v.bin"
    KeyedVectors(words, rows).save(str(path))
    ours = KeyedVectors.load(str(path))
    theirs = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=True)
    rng = np.random.default_rng(1)
    lines = [": planted", "x0 y0 x4 y4"]
    for section in range(3):
        lines.append(f": section-{section}")
        for _ in range(60):
            i, j = rng.choice(20, 2, replace=False)
            second = "y%d" % j if rng.random() < 0.8 else rng.choice(["unknown", "Y%d" % j, "x%d" % i])
            lines.append(f"x{i} y{i} x{j} {second}")
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join(lines) + "\n")
    for restrict in (None, 30, words.index("X2") + 1):  # the last: a copy is the last word searched
        for case_insensitive in (True, False):
            for dummy4unknown in (False, True):
                ours_result = ours.evaluate_word_analogies(str(questions), restrict, case_insensitive, dummy4unknown)
                gensim_result = theirs.evaluate_word_analogies(str(questions), restrict, case_insensitive,
                                                               dummy4unknown)
                assert ours_result == gensim_result
    assert 0.2 < ours.evaluate_word_analogies(str(questions))[0] < 0.9  # neither trivial nor hopeless

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{rng.choice(words)}\t{rng.choice(words + ['unknown'])}\t{rng.integers(0, 5)}\n"
                             for _ in range(80)))
    for dummy4unknown in (False, True):
        (r, _), (rho, _), oov = ours.evaluate_word_pairs(str(pairs), dummy4unknown=dummy4unknown)
        (gensim_r, _), (gensim_rho, _), gensim_oov = theirs.evaluate_word_pairs(str(pairs), dummy4unknown=dummy4unknown)
        assert (r, rho, oov) == (pytest.approx(gensim_r, abs=1e-6), pytest.approx(gensim_rho, abs=1e-9),
                                 pytest.approx(gensim_oov))
    assert ours.evaluate_word_pairs(str(pairs))[1][0] != rho  # the unknown pairs counted
