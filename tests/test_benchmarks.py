"""The benchmark harness end to end, in its quick mode on a tiny corpus, with only w2vfast present.

It checks that every table and every figure is there and well-formed, never how fast anything ran.
Run from the repository root (``python -m pytest``): the harness lives in ``benchmarks/``, not in
the package.
"""

import importlib.util
import json
import random
import shutil
import sysconfig

import pytest
from conftest import ROOT, planted_sentences, write_corpus

from benchmarks import phrases, run, tools

COMBOS = ["sg-ns", "sg-hs"]
THREADS = ["1", "2"]
OTHER_TOOLS = (tools.Gensim, tools.WordC, tools.FastText)
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick run, the other tools reported as not installed; returns its folder and results."""
    folder = tmp_path_factory.mktemp("bench")
    corpus = write_corpus(folder / "corpus.txt", planted_sentences(n_sentences=400))
    questions = folder / "questions.txt"
    questions.write_text(": planted\nc0_w0 c0_w1 c1_w0 c1_w1\nc2_w0 c2_w3 c3_w0 c3_w3\n")
    wordsim = folder / "wordsim.tsv"
    wordsim.write_text("c0_w0\tc0_w1\t9.0\nc0_w0\tc1_w0\t1.0\nc2_w2\tc2_w5\t8.0\nc3_w1\tc4_w1\t2.5\n")
    argv = ["--quick", "--corpus", corpus, "--out", str(folder / "results"), "--combos", *COMBOS,
            "--scaling-threads", *THREADS, "--quality-epochs", "2", "--questions", str(questions),
            "--wordsim", str(wordsim)]
    with pytest.MonkeyPatch.context() as patch:
        for tool in OTHER_TOOLS:
            patch.setattr(tool, "missing", lambda self: "not installed")
        run.main(argv)
    return folder / "results"


def strict_json(path):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


def test_json_holds_every_figure(quick_run):
    results = strict_json(quick_run / "benchmark.json")
    assert results["quick"] is True
    assert results["machine"]["cores"] >= 1 and results["machine"]["cpu"]
    assert results["versions"]["w2vfast"] and results["versions"]["numba"]
    assert results["tools"] == {"w2vfast": "w2vfast"}
    assert set(results["skipped"]) == {"gensim", "c", "fasttext"}
    assert results["corpus"]["slice_words"] == results["corpus"]["words_in_vocabulary"] == 400 * 12
    for combo in COMBOS:
        summary = results["one_epoch"]["w2vfast"][combo]
        assert [run["exit_code"] for run in summary["runs"]] == [0]
        assert summary["wall_min"] <= summary["wall_median"] <= summary["wall_max"]
        assert summary["peak_rss_mb"] > 0 and summary["words_per_second"] > 0
        assert summary["runs"][0]["words_trained"] == 400 * 12
        assert results["jit"]["warm"][combo]["jit_seconds"] >= 0
    assert results["jit"]["cold"]["combo"] == COMBOS[0] and results["jit"]["cold"]["jit_seconds"] > 0
    assert results["quality_run"]["w2vfast"]["sg-ns"]["runs"][0]["words_trained"] == 2 * 400 * 12
    for threads in THREADS:
        assert results["scaling"]["w2vfast"][threads]["words_per_second_per_thread"] > 0
    preprocessing = results["preprocessing"]["w2vfast"]
    assert preprocessing["runs"][0]["corpus_words"] == 400 * 12 and preprocessing["wall_median"] > 0
    runs = [run for summary in results["one_epoch"]["w2vfast"].values() for run in summary["runs"]]
    assert all((quick_run / run["log"]).is_file() for run in runs)


def test_markdown_has_every_table_and_a_chart_is_drawn(quick_run):
    text = (quick_run / "benchmark.md").read_text()
    for heading in ("## One epoch", "## Quality run", "## Thread scaling", "## Preprocessing alone",
                    "## w2vfast compile time"):
        assert heading in text
    assert "failed" not in text
    assert "Skipped: gensim (not installed); word2vec C (not installed); fastText (not installed)." in text
    rows = [line for line in text.splitlines() if line.startswith("| w2vfast |")]
    # Wall time, words/s, memory, quality, quality run, thread scaling.
    assert len(rows) == 6
    assert all(line.count("|") == len(COMBOS) + 2 for line in rows[:3])
    assert all(cell.strip() for row in rows for cell in row.strip("|").split("|"))
    chart = quick_run / "benchmark.png"
    assert chart.read_bytes().startswith(b"\x89PNG") if HAS_MATPLOTLIB else not chart.exists()


def test_every_output_is_judged(quick_run):
    results = strict_json(quick_run / "benchmark.json")
    judged = list(results["one_epoch"]["w2vfast"].values()) + [results["quality_run"]["w2vfast"]["sg-ns"]]
    for summary in judged:
        assert "quality" in summary, summary["runs"]  # a run's quality_error or exit code says why
        quality = summary["quality"]
        assert 0 <= quality["analogy"] <= 1
        assert -1 <= quality["wordsim_spearman"] <= 1
    assert "analogy" in (quick_run / "benchmark.md").read_text()


def test_sharing_efficiency_is_measured_for_each_pair(tmp_path, capsys):
    from benchmarks import sharing

    corpus = write_corpus(tmp_path / "corpus.txt", planted_sentences(n_sentences=400))
    results = sharing.main(["--rounds", "2", "--seconds", "0.2", "--combos", "sg-ns", "cbow-hs", "--corpus", corpus])
    assert set(results) == {"sg-ns", "cbow-hs"}
    for rounds in results.values():
        assert len(rounds) == 2
        for figures in rounds:
            assert len(figures["independent"]) == 2 and min(figures["independent"]) > 0
            assert figures["efficiency"] == pytest.approx(figures["shared"] / sum(figures["independent"]))
    table = capsys.readouterr().out
    assert "| SG+NS |" in table and "| CBOW+HS |" in table and "round 2:" in table


def test_loss_cost_is_measured_for_each_pair_and_thread_count(tmp_path, capsys):
    from benchmarks import loss_cost

    corpus = write_corpus(tmp_path / "corpus.txt", planted_sentences(n_sentences=400))
    results = loss_cost.main(["--rounds", "2", "--combos", "sg-ns", "cbow-hs", "--threads", "1", "2",
                              "--corpus", corpus])
    assert set(results) == {("sg-ns", 1), ("sg-ns", 2), ("cbow-hs", 1), ("cbow-hs", 2)}
    assert all(-1 < cost < 10 for cost in results.values())
    table = capsys.readouterr().out
    assert "| SG+NS | 1 |" in table and "| CBOW+HS | 2 |" in table


def test_phrases_benchmark_finds_word2phrase_token_for_token_equal(tmp_path, capsys):
    """One line (word2phrase counts pairs across line breaks, w2vfast does not), a word longer than
    word2phrase keeps and a planted pair at the very end with no whitespace after it: both quirks."""
    if (shutil.which("word2phrase", path=sysconfig.get_path("scripts")) or shutil.which("word2phrase")) is None:
        pytest.skip("word2phrase is not installed (the test extra's word2vec package builds it)")
    draw = random.Random(0)
    tokens = []
    for _ in range(3000):
        tokens += ["new", "york"] if draw.random() < 0.05 else [f"w{draw.randrange(30)}"]
    tokens[100] = "x" * 70
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(" ".join(tokens + ["new", "york"]))
    results = phrases.main(["--corpus", str(corpus), "--threshold", "1", "--skip-gensim",
                            "--workdir", str(tmp_path / "work")])
    assert results["tokens"]["differing"] == 0
    assert results["tokens"]["tokens_ours"] == results["tokens"]["tokens_word2phrase"] > 2000
    assert "new_york" in phrases.our_phrases(tmp_path / "work" / "w2vfast-phrases.tsv")
    assert "**0 differ**" in capsys.readouterr().out


def test_phrase_benchmark_repeats_give_the_median_wall_and_the_largest_peak():
    runs = iter([dict(wall_seconds=3.0, peak_rss_mb=10.0, phrases=1),
                 dict(wall_seconds=1.0, peak_rss_mb=30.0, phrases=2),
                 dict(wall_seconds=2.0, peak_rss_mb=20.0, phrases=3)])
    figures = phrases.repeated(lambda k: next(runs), 3)
    assert figures == dict(wall_seconds=2.0, wall_runs=[3.0, 1.0, 2.0], peak_rss_mb=30.0, phrases=3)


def test_gensim_api_benchmark_runs_every_part(tmp_path, capsys):
    """The facade's benchmark on a tiny corpus, w2vfast alone: every run, judged, and the tables."""
    from benchmarks import gensim_api

    corpus = write_corpus(tmp_path / "corpus.txt", planted_sentences(n_sentences=400))
    questions = tmp_path / "questions.txt"
    questions.write_text(": planted\nc0_w0 c0_w1 c1_w0 c1_w1\n")
    wordsim = tmp_path / "wordsim.tsv"
    wordsim.write_text("c0_w0\tc0_w1\t9.0\nc0_w0\tc1_w0\t1.0\nc2_w2\tc2_w5\t8.0\n")
    results = gensim_api.main(["--corpus", corpus, "--questions", str(questions), "--wordsim", str(wordsim),
                               "--skip-gensim", "--parts", "speed", "continued", "loss", "--continued-epochs", "1",
                               "--threads", "2", "--workdir", str(tmp_path / "work")])
    assert results["words"] == 400 * 12 and set(results["speed"]) == {"w2vfast-list", "w2vfast-file"}
    for runs in results["speed"].values():
        assert runs[0]["seconds"] > 0 and runs[0]["vocabulary"] == 40 and 0 <= runs[0]["analogy"] <= 1
    continued = results["continued"]
    assert list(continued) == ["A first half", "B update=True", "C --init", "W whole"]
    assert all("failed" not in run and run["vocabulary"] == 40 for run in continued.values())
    assert all(0 <= continued[name]["overlap@10"] <= 1 for name in ("B update=True", "C --init", "W whole"))
    assert "failed" not in results["loss"] and results["loss"]["median"] > 0
    report = capsys.readouterr().out
    assert "| w2vfast | list of lists |" in report and "| C --init | 40 |" in report
    assert (tmp_path / "work" / "gensim_api.json").is_file()


def test_a_tool_that_ends_well_having_written_no_vectors_failed(tmp_path):
    """It was tabulated as a fast success (a C tool that is /bin/true: 118x w2vfast's words/s)."""
    class WritesNothing(tools.Tool):
        name = label = "nothing"

        def command(self, job, corpus, output):
            return [shutil.which("true")]

    corpus = write_corpus(tmp_path / "corpus.txt", planted_sentences(n_sentences=20))
    args = run.parse_args(["--no-eval", "--corpus", corpus, "--out", str(tmp_path / "out")])
    (tmp_path / "scratch").mkdir()
    record = run.Bench(tmp_path / "out", tmp_path / "scratch", corpus, args).train(
        WritesNothing(), run.Job("sg-ns"), "nothing-sg-ns")
    assert record["exit_code"] == 0 and record["failure"] == "it exited 0 but wrote no vectors"
    assert run.summarise([record], 1000) == {"runs": [record], "failed": True}


@pytest.mark.parametrize("argv, message", [
    (["--threads", "0"], "argument --threads: must be at least 1, not 0"),
    (["--scaling-threads", "1", "0"], "argument --scaling-threads: must be at least 1, not 0"),
    (["--quick-words", "0"], "argument --quick-words: must be at least 1, not 0"),
    (["--corpus", "{gz}"], "argument --corpus: {gz} is compressed, which the reference tools read as text: "
                           "give it unpacked"),
    (["--out", "{gz}"], "--out {gz} is a file, not a folder"),
])
def test_arguments_that_would_time_nothing_are_refused_before_any_run(tmp_path, capsys, argv, message):
    """0 threads were timed as fast runs of tools that trained nothing; 0 scaling threads divided by
    zero once every run was done; a gzip corpus was timed as the C tool's run on its bytes."""
    gz = tmp_path / "corpus.txt.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00" + bytes(20))
    corpus = write_corpus(tmp_path / "corpus.txt", planted_sentences(n_sentences=20))
    with pytest.raises(SystemExit):
        run.parse_args(["--no-eval", "--corpus", corpus] + [a.format(gz=gz) for a in argv])
    assert capsys.readouterr().err.strip().endswith(f"error: {message.format(gz=gz)}")


def test_a_stopped_harness_leaves_no_measured_command_running(tmp_path):
    """Ctrl-C or SIGTERM to the harness alone killed the launcher, and the tool it measured ran on."""
    import signal
    import subprocess
    import sys
    import time

    unique = f"{random.randint(10**6, 10**7)}.5"  # names the measured command among this host's processes
    code = (f"from benchmarks.measure import run_measured\n"
            f"run_measured(['sleep', '{unique}'], {{}}, {str(tmp_path / 'log')!r})\n")
    harness = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not subprocess.run(["pgrep", "-f", f"sleep {unique}"], capture_output=True).stdout:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        harness.send_signal(signal.SIGINT)
        harness.wait(timeout=30)
        time.sleep(0.5)
        assert subprocess.run(["pgrep", "-f", f"sleep {unique}"], capture_output=True).stdout == b""
    finally:
        harness.kill()
        subprocess.run(["pkill", "-f", f"sleep {unique}"])
