"""The query and evaluation commands: tables, JSON parsed back, the prompt, and one-line errors."""

import io
import json
import os
import signal

import numpy as np
import pytest
from click.testing import CliRunner

from w2vfast import KeyedVectors
from w2vfast.cli import main
from w2vfast.errors import Interrupted
from w2vfast.evaluate import evaluate_word_pairs
from conftest import ROYAL_VECTORS, ROYAL_WORDS

QUESTIONS = ": royal\nman king woman queen\nman king woman apple\nman king woman dragon\n: youth\nman woman boy girl\n"


@pytest.fixture
def vectors_file(tmp_path, royals):
    path = tmp_path / "royal.bin"
    royals.save(str(path))
    return str(path)


def run(*args, input=None, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, env=env)


def table_rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()[1:]]


def test_similar_prints_neighbours_best_first(vectors_file):
    result = run("similar", "king", "-v", vectors_file, "-n", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split() == ["word", "cosine"]
    assert [row[0] for row in table_rows(result.stdout)] == ["prince", "man"]
    assert float(table_rows(result.stdout)[0][1]) == pytest.approx(2 / 6 ** 0.5, abs=1e-4)


def test_similar_json_and_minus(vectors_file):
    result = run("similar", "king", "woman", "--minus", "man", "-n", "3", "-v", vectors_file, "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["positive"] == ["king", "woman"] and answer["negative"] == ["man"]
    expected = KeyedVectors(ROYAL_WORDS, ROYAL_VECTORS).most_similar(["king", "woman"], ["man"], topn=3)
    assert [(r["word"], r["score"]) for r in answer["results"]] == [(w, pytest.approx(s)) for w, s in expected]


@pytest.mark.parametrize("method", ["add", "mul"])
def test_analogy(vectors_file, method):
    result = run("analogy", "man", "king", "woman", "--method", method, "-n", "1", "-v", vectors_file, "--json")
    assert result.exit_code == 0, result.output
    assert [r["word"] for r in json.loads(result.stdout)["results"]] == ["queen"]


def test_the_table_escapes_control_characters_that_json_keeps(tmp_path):
    words = ["king", "\x1b[31mred", "bell\x07"]
    path = str(tmp_path / "control.txt")
    KeyedVectors(words, np.array([[1, 0], [1, 0.1], [1, 0.2]], dtype=np.float32)).save(path, binary=False)
    table = run("similar", "king", "-v", path, "--no-cache", "-n", "2")
    assert table.exit_code == 0, table.output
    assert [row[0] for row in table_rows(table.stdout)] == ["\\x1b[31mred", "bell\\x07"]
    answer = json.loads(run("similar", "king", "-v", path, "--no-cache", "-n", "2", "--json").stdout)
    assert [r["word"] for r in answer["results"]] == words[1:]


def test_vectors_come_from_the_environment_else_the_current_directory(vectors_file, tmp_path, monkeypatch):
    assert run("similar", "king", env={"W2VFAST_VECTORS": vectors_file}).exit_code == 0
    monkeypatch.chdir(tmp_path)
    missing = run("similar", "king", env={"W2VFAST_VECTORS": None})
    assert missing.exit_code == 1
    assert missing.stderr == "w2vfast: error: vectors file not found: vectors.bin (give -v FILE or set W2VFAST_VECTORS)\n"
    (tmp_path / "vectors.bin").write_bytes(open(vectors_file, "rb").read())
    assert run("similar", "king", env={"W2VFAST_VECTORS": None}).exit_code == 0


def test_the_cache_is_written_once_and_announced_once(vectors_file, tmp_path):
    assert run("similar", "king", "-v", vectors_file, "--no-cache").stderr == ""
    assert not os.path.exists(vectors_file + ".w2vcache")
    first = run("similar", "king", "-v", vectors_file)
    assert first.stderr == f"w2vfast: wrote {vectors_file}.w2vcache so that later runs load faster (--no-cache: don't)\n"
    second = run("similar", "king", "-v", vectors_file)
    assert second.stderr == "" and second.stdout == first.stdout


def test_unknown_word_is_one_line_that_suggests_spellings(vectors_file, tmp_path):
    result = run("similar", "kign", "-v", vectors_file, "--no-cache")
    assert result.exit_code == 1
    assert result.stderr.startswith("w2vfast: error: 'kign' is not in the vocabulary; did you mean king")
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert "'Woman' is not in the vocabulary; did you mean woman" in run("analogy", "man", "king", "Woman",
                                                                         "-v", vectors_file).stderr
    # bytes that are not UTF-8 as the bytes, not as the surrogates Python keeps them in ('\udcff')
    odd = os.fsdecode(b"caf\xe9's\n\xff")
    shown = "'caf\\xe9\\'s\\n\\xff'"
    assert run("similar", odd, "-v", vectors_file).stderr == f"w2vfast: error: {shown} is not in the vocabulary\n"
    KeyedVectors([os.fsdecode(b"caf\xe9"), "tea"], np.eye(2, dtype=np.float32)).save(str(tmp_path / "odd.bin"))
    assert run("similar", "caf", "-v", tmp_path / "odd.bin", "--no-cache").stderr == \
        "w2vfast: error: 'caf' is not in the vocabulary; did you mean caf\\xe9?\n"


def test_prompt_answers_line_by_line_until_exit(vectors_file):
    result = run("similar", "-v", vectors_file, "-n", "1", input="king\n\nkign\nqueen  princess\nEXIT\nqueen\n")
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["word", "prince", "word", "girl"]
    assert "'kign' is not in the vocabulary" in result.stderr
    assert run("similar", "-v", vectors_file, input="king\n").exit_code == 0  # end of input


class InterruptedInput(io.BytesIO):
    """Standard input on which the user presses Ctrl-C after the first line."""

    def readline(self, *args):
        if self.tell():
            raise KeyboardInterrupt
        return super().readline(*args)


def test_prompt_leaves_cleanly_on_ctrl_c(vectors_file):
    result = run("similar", "-v", vectors_file, "-n", "1", input=InterruptedInput(b"king\nqueen\n"))
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["word", "prince"]


class TerminatedInput(io.BytesIO):
    """Standard input during whose reading SIGTERM arrives, as the tool's handler reports it."""

    def readline(self, *args):
        raise Interrupted(signal.SIGTERM)


def test_prompt_ends_with_status_143_on_sigterm(vectors_file):
    result = run("similar", "-v", vectors_file, input=TerminatedInput(b"king\n"))
    assert result.exit_code == 143
    assert result.stderr.endswith("\nw2vfast: stopped by SIGTERM\n")


def test_words_that_are_not_utf8_print_as_their_bytes(tmp_path):
    path = tmp_path / "latin1.bin"
    odd = b"caf\xe9".decode("utf-8", "surrogateescape")
    KeyedVectors(["cafe", odd, "tea"], np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32)).save(str(path))
    result = run("similar", "cafe", "-n", "1", "-v", path)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.splitlines()[1].split()[0] == b"caf\xe9"
    assert json.loads(run("similar", "cafe", "-n", "1", "-v", path, "--json").stdout)["results"][0]["word"] == odd


def test_evaluate_analogy_table_and_json(vectors_file, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text(QUESTIONS)
    result = run("evaluate", "analogy", questions, "-v", vectors_file)
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows[0] == ["royal", "1", "2", "1", "50.0%"]
    assert rows[2] == ["Total", "accuracy", "2", "3", "1", "66.7%"]
    assert "4 questions: 3 answered, 1 skipped (a word outside the vocabulary)" in result.stdout
    # it named the first 30,000 words, of 9 (or of 6 loaded)
    assert "skipped (a word outside the first 5 words)" in run("evaluate", "analogy", questions, "-v", vectors_file,
                                                               "--restrict", "5").stdout
    assert "skipped (a word outside the 6 words loaded)" in run("evaluate", "analogy", questions, "-v", vectors_file,
                                                                "--limit", "6").stdout
    answer = json.loads(run("evaluate", "analogy", questions, "-v", vectors_file, "--json", "--restrict", "5").stdout)
    assert answer["restrict"] == 5
    assert [(s["section"], s["correct"], s["answered"], s["skipped"]) for s in answer["sections"]] == \
        [("royal", 1, 1, 2), ("youth", 0, 0, 1), ("Total accuracy", 1, 1, 3)]  # apple, girl are 9th, 6th
    assert answer["sections"][1]["accuracy"] is None


@pytest.mark.parametrize("text,unknown,not_questions", [("", 0, 0), ("king\tqueen\t8\n", 0, 1),
                                                        (": s\nman king woman dragon\n", 1, 0)],
                         ids=["empty", "pairs-file", "all-unknown"])
def test_evaluate_analogy_with_no_answerable_question_is_an_error(vectors_file, tmp_path, text, unknown,
                                                                  not_questions):
    """As evaluate similarity with no known pair: an accuracy over no question means the wrong file."""
    questions = tmp_path / "questions.txt"
    questions.write_text(text)
    result = run("evaluate", "analogy", questions, "-v", vectors_file, "--no-cache")
    assert (result.exit_code, result.stderr) == \
        (1, f"w2vfast: error: {questions}: no question of four known words (with a word outside the vocabulary: "
            f"{unknown}, lines that are not 4 words: {not_questions})\n")


def test_evaluate_similarity_over_several_files(vectors_file, tmp_path, royals):
    files = []
    for name, text in [("one.tsv", "king\tqueen\t8\nman\tboy\t6\napple\tking\t1\nnot a pair\n"),
                       ("two.tsv", "# pairs\nwoman\tgirl\t9\nprince\tapple\t1\nqueen\tunknown\t3\nman\tking\t4\n")]:
        (tmp_path / name).write_text(text)
        files.append(str(tmp_path / name))
    result = run("evaluate", "similarity", *files, "-v", vectors_file)
    assert result.exit_code == 0, result.output
    assert [row[:3] for row in table_rows(result.stdout)[:2]] == [[files[0], "3", "0.0%"], [files[1], "3", "25.0%"]]
    assert result.stdout.splitlines()[-1] == f"{files[0]}: 1 line not 'word1 TAB word2 TAB score' ignored"
    answer = json.loads(run("evaluate", "similarity", *files, "-v", vectors_file, "--json").stdout)
    for row, path in zip(answer, files):
        expected = evaluate_word_pairs(royals, path)
        assert (row["file"], row["spearman"], row["pearson"]) == (path, pytest.approx(expected.spearman),
                                                                  pytest.approx(expected.pearson))


@pytest.mark.parametrize("data,message", [
    (b"3 2\nking 0.1 0.2\nqueen 0.3\n", ":3: expected a word and 2 numbers, found fewer numbers"),
    # the first row's count wrong, in few dimensions: it was taken for a truncated binary file
    (b"2 3\na 1 0\nb 0 1\n", ":2: expected a word and 3 numbers, found fewer numbers"),
    (b"2 2\na 1 0 5\nb 0 1\n", ":2: expected a word and 2 numbers, found more numbers"),
    (b"99999999999 300\nking 0.1\n",
     ":1: 99,999,999,999 words of 300 dimensions cannot fit in the 9 bytes that follow"),
    (b"", ": the file is empty"),
    (b"king 0.1 0.2 0.3\n", ":1: the first line must be 'words dimensions', not 'king 0.1 0.2 0.3' (a file "
                            "without that line, like GloVe's, needs one added)"),
], ids=["short-row", "first-row-short", "first-row-long", "header-too-large", "empty", "glove"])
def test_a_bad_vectors_file_is_one_line(tmp_path, data, message):
    path = tmp_path / "broken.bin"
    path.write_bytes(data)
    result = run("similar", "king", "-v", path)
    assert (result.exit_code, result.stderr) == (1, f"w2vfast: error: {path}{message}\n")


def test_a_query_with_no_other_word_loaded_and_a_single_known_pair_are_errors(vectors_file, tmp_path):
    """Both printed a table and exit status 0: a header alone, and a correlation of NaN."""
    first = KeyedVectors.load(vectors_file).index_to_key[0]
    result = run("similar", first, "-v", vectors_file, "--limit", "1")
    assert (result.exit_code, result.output) == (1, "w2vfast: error: no word but the query's among the 1 word "
                                                    "loaded\n")
    one = tmp_path / "one.tsv"
    one.write_text("king\tqueen\t5\nman\tdragon\t5\n")
    result = run("evaluate", "similarity", one, "-v", vectors_file, "--no-cache")
    assert result.exit_code == 1 and result.output == (f"w2vfast: error: {one}: one pair of known words alone (out of "
                                                       "vocabulary: 1, lines not 'word1\\tword2\\tscore': 0)\n")


def test_demo_keeps_a_vectors_file_it_was_not_told_to_replace(tmp_path, monkeypatch):
    """vectors.bin, its default output, is also the query commands' default file: a user's own vectors."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vectors.bin").write_bytes(b"precious")
    result = run("demo", "-q")
    assert (result.exit_code, result.output) == (1, "w2vfast: error: demo would replace vectors.bin, which is "
                                                    "there: give -o another file, or -o vectors.bin to replace it\n")
    assert (tmp_path / "vectors.bin").read_bytes() == b"precious"


def test_undefined_correlations_are_null_in_json(vectors_file, tmp_path):
    flat = tmp_path / "flat.tsv"
    flat.write_text("king\tqueen\t5\nman\tboy\t5\n")  # equal scores: no correlation is defined
    answer = json.loads(run("evaluate", "similarity", flat, "-v", vectors_file, "--json").stdout)
    assert answer[0]["pearson"] is None and answer[0]["spearman"] is None


def test_a_warning_is_one_line_and_a_long_unknown_word_is_cut(tmp_path):
    """A vectors file that repeats a word loads as gensim loads it, with one line saying so, not
    Python's warning with its file, line and source."""
    import subprocess
    import sys
    path = tmp_path / "repeats.txt"
    path.write_text("3 2\na 1 0\nb 0 1\na 1 1\n")
    done = subprocess.run([sys.executable, "-m", "w2vfast", "similar", "a", "-v", str(path), "--no-cache"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.split() == ["word", "cosine", "b", "0.0000"]
    assert done.stderr.splitlines() == [f"w2vfast: warning: {path}: left out a row that repeats a word given "
                                        "before (the first: 'a'); each word keeps its first row, as gensim's "
                                        "reader does"]
    result = run("similar", "x" * 5000, "-v", str(path), "--no-cache")
    assert result.exit_code == 1
    assert result.output.splitlines() == [done.stderr.strip(),
                                          f"w2vfast: error: '{'x' * 60}'... is not in the vocabulary"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_standard_output_that_cannot_be_written_and_an_empty_pipe_are_one_line_errors(tmp_path, vectors_file):
    """A full disk under standard output, and vectors read from a pipe that held nothing, ended in a
    traceback (an OSError from the write; an UnboundLocalError)."""
    import subprocess
    import sys
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c a b c a b d\n" * 20)
    commands = [["similar", "king", "-v", vectors_file, "--no-cache"],
                ["similar", "king", "-v", vectors_file, "--no-cache", "--json"],
                ["train", str(corpus), "-o", "-", "--min-count", "1", "--threads", "1", "--epochs", "1", "-q"],
                ["phrases", str(corpus), "-o", "-", "--min-count", "1", "-q"]]
    for command in commands:
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "w2vfast", *command], stdout=full, stderr=subprocess.PIPE,
                                  text=True)
        assert (done.returncode, done.stderr) == (1, "w2vfast: error: cannot write to standard output: "
                                                     "No space left on device\n"), command
    done = subprocess.run([sys.executable, "-m", "w2vfast", "similar", "a", "-v", "/dev/stdin", "--no-cache"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (1, "w2vfast: error: /dev/stdin: the file is empty\n")


def test_a_query_whose_words_cancel_out_is_an_error(vectors_file):
    """It printed every word at cosine 0, in no meaningful order."""
    result = run("similar", "king", "--minus", "king", "-v", vectors_file, "--no-cache")
    assert result.exit_code == 1
    assert result.output == ("w2vfast: error: the query's words cancel out: their sum is the zero vector, "
                             "which has no nearest words\n")
    assert run("analogy", "king", "king", "king", "-v", vectors_file, "--no-cache").exit_code == 0


def test_a_word_whose_vector_is_zero_is_named(tmp_path):
    """It was said to cancel out with the other words of a query that had none."""
    path = str(tmp_path / "v.txt")
    KeyedVectors(["a", "b", "c"], np.array([[0, 0], [1, 0], [0, 1]], dtype=np.float32)).save(path, binary=False)
    result = run("similar", "a", "-v", path, "--no-cache")
    assert (result.exit_code, result.output) == (1, "w2vfast: error: 'a' has the zero vector, which has no "
                                                    "nearest words\n")
    assert run("similar", "a", "b", "-v", path, "--no-cache").exit_code == 0


def test_prompt_json_is_one_value_a_line(vectors_file):
    """Two indented documents back to back were no JSON a reader could take apart: JSON Lines are."""
    result = run("similar", "-v", vectors_file, "-n", "1", "--json", input="king\nqueen\n")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["positive"], a["results"][0]["word"]) for a in answers] == [(["king"], "prince"), (["queen"], "princess")]


def test_an_evaluation_file_read_twice_from_standard_input_is_refused(vectors_file):
    """The second - read nothing, and the error blamed it for holding no pair."""
    result = run("evaluate", "similarity", "-", "-", "-v", vectors_file, input="king\tqueen\t8\n")
    assert result.exit_code == 1
    assert result.stderr == "w2vfast: error: - is given twice: standard input can be read once\n"


def test_pairs_lines_may_end_in_a_carriage_return_alone(vectors_file, tmp_path):
    """gensim reads a pairs file as text, whose lines end at \\r too (an old Mac's); all was one line here."""
    (tmp_path / "cr.tsv").write_bytes(b"king\tqueen\t8\rman\tboy\t6\rapple\tking\t1\r")
    (tmp_path / "lf.tsv").write_bytes(b"king\tqueen\t8\nman\tboy\t6\napple\tking\t1\n")
    answers = [json.loads(run("evaluate", "similarity", tmp_path / name, "-v", vectors_file, "--json").stdout)[0]
               for name in ("cr.tsv", "lf.tsv")]
    assert answers[0]["pairs"] == 3 and answers[0]["spearman"] == answers[1]["spearman"]


def test_limit_0_loads_every_word_as_restrict_0_knows_every_word(vectors_file):
    """As gensim's limit=0; it loaded no word, and every query word was unknown."""
    result = run("similar", "king", "-v", vectors_file, "-n", "1", "--limit", "0")
    assert result.exit_code == 0, result.output
    assert table_rows(result.stdout)[0][0] == "prince"
    assert len(KeyedVectors.load(vectors_file, limit=0)) == len(ROYAL_WORDS)
