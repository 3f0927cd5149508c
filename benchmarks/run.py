"""Run w2vfast and the reference tools side by side on one corpus, on this machine, in one command.

    python benchmarks/run.py           # the full benchmark on ../shared/data/wiki17m.txt
    python benchmarks/run.py --quick   # a smoke run on the corpus's first 500,000 words

Writes ``benchmark.md``, ``benchmark.json`` (every raw figure), ``benchmark.png`` and one log per
run under ``--out``. See benchmarks/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run and judge this checkout's w2vfast, whether or not one is installed

from benchmarks.jobs import COMBOS, Job, failed, read_result  # noqa: E402
from benchmarks.measure import (machine, plain_text_file, positive, run_measured, usable_cores,  # noqa: E402
                                write_slice)
from benchmarks.report import write_chart, write_markdown  # noqa: E402
from benchmarks.tools import Tool, W2vfast, WordC, package_version, reference_tools  # noqa: E402
from w2vfast import KeyedVectors, W2VError  # noqa: E402

DATA = REPO.parent / "shared" / "data"
ANALOGY_VOCAB = 30_000


def default_thread_counts() -> list[int]:
    """1 and 2 threads, then doubling while under the usable cores, and the core count itself."""
    cores = usable_cores()
    counts, threads = {1, 2, cores}, 4
    while threads < cores:
        counts.add(threads)
        threads *= 2
    return sorted(counts)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    reference_names = [tool.name for tool in reference_tools()]
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: a slice of the corpus (--quick-words), one run each")
    parser.add_argument("--quick-words", type=positive, default=500_000, help="words in the --quick slice")
    parser.add_argument("--tools", nargs="*", choices=reference_names, default=reference_names,
                        help="reference tools to run beside w2vfast; any not installed is skipped; "
                             "none given: w2vfast alone")
    parser.add_argument("--combos", nargs="+", choices=list(COMBOS), default=list(COMBOS),
                        help="model/loss combinations of the one-epoch runs")
    parser.add_argument("--repeats", type=positive, default=None,
                        help="runs of each one-epoch timing [default: 3, --quick 1]")
    parser.add_argument("--threads", type=positive, default=2, help="threads of the timing and quality runs")
    parser.add_argument("--scaling-threads", nargs="+", type=positive, default=default_thread_counts(),
                        help="thread counts of the scaling runs [default: 1, 2, 4, ... up to the cores]")
    parser.add_argument("--quality-epochs", type=positive, default=5, help="epochs of the quality run")
    parser.add_argument("--quality-combos", nargs="+", choices=list(COMBOS), default=["sg-ns"],
                        help="combinations of the quality run")
    parser.add_argument("--no-eval", action="store_true",
                        help="skip judging the vectors (analogies, WordSim-353)")
    parser.add_argument("--corpus", type=plain_text_file, default=str(DATA / "wiki17m.txt"),
                        help="training corpus, uncompressed")
    parser.add_argument("--questions", default=str(DATA / "questions-words.txt"),
                        help="word-analogy questions (questions-words.txt format)")
    parser.add_argument("--wordsim", default=str(DATA / "wordsim353.tsv"),
                        help="word pairs with human scores, tab-separated")
    parser.add_argument("--c-binary", help="the word2vec C tool to run [default: pip's, else PATH's]")
    parser.add_argument("--out", help="results folder [default: benchmarks/results/full or /quick]")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.out is None:
        args.out = str(REPO / "benchmarks" / "results" / ("quick" if args.quick else "full"))
    for path in [] if args.no_eval else [args.questions, args.wordsim]:
        if not os.path.isfile(path):
            parser.error(f"file not found: {path}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        parser.error(f"--out {args.out} is a file, not a folder")
    return args


class Bench:
    """One session: the children's environment, a scratch folder for vectors and the Numba cache,
    one log per run, and the judge of the vectors."""

    def __init__(self, out: Path, scratch: Path, corpus: str, args: argparse.Namespace) -> None:
        self.out, self.scratch, self.corpus, self.args = out, scratch, corpus, args
        self.logs = out / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        python_path = [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(python_path))

    def measure(self, argv: list[str], tag: str) -> dict:
        """One measured process; its figures plus those its runner script reported in its log.

        w2vfast's compiled code is cached in a folder that starts empty, so that the first run
        measures a cold JIT and every later run a warm one.
        """
        log = self.logs / f"{tag}.log"
        env = dict(self.env, NUMBA_CACHE_DIR=str(self.scratch / "numba-cache"))
        measured = run_measured(argv, env, str(log))
        record = {"wall_seconds": measured.wall_seconds, "peak_rss_mb": measured.peak_rss_mb,
                  "exit_code": measured.exit_code, "log": str(log.relative_to(self.out))}
        record.update(read_result(log.read_text(errors="replace")))
        outcome = "" if measured.exit_code == 0 else f"  FAILED (exit {measured.exit_code}), see {log}"
        print(f"  {tag}: {measured.wall_seconds:.2f} s, {measured.peak_rss_mb:.0f} MB{outcome}", flush=True)
        return record

    def train(self, tool: Tool, job: Job, tag: str, judge: bool = False) -> dict:
        """One training run; ``judge`` adds the quality of the vectors it wrote."""
        vectors = self.scratch / f"{tool.name}.vectors"
        record = self.measure(tool.command(job, self.corpus, str(vectors)), tag)
        if record["exit_code"] == 0 and not vectors.exists():  # a tool that ended well having trained nothing
            record["failure"] = "it exited 0 but wrote no vectors"
            print(f"  {tag}: FAILED: {record['failure']}", flush=True)
        if judge and not failed(record) and not self.args.no_eval:
            try:
                record["quality"] = self.judge(str(vectors))
            except W2VError as exc:  # vectors w2vfast cannot read: a finding to report, not a crash
                record["quality_error"] = str(exc)
        vectors.unlink(missing_ok=True)
        return record

    def judge(self, vectors: str) -> dict:
        """Quality by w2vfast's own evaluator, the same for every tool's output."""
        keyed = KeyedVectors.load(vectors)
        analogy, _ = keyed.evaluate_word_analogies(self.args.questions, restrict_vocab=ANALOGY_VOCAB)
        (pearson, _), (spearman, _), oov_percent = keyed.evaluate_word_pairs(self.args.wordsim)
        return {"analogy": finite(analogy), "wordsim_spearman": finite(spearman),
                "wordsim_pearson": finite(pearson), "wordsim_oov_percent": finite(oov_percent)}


def finite(value) -> float | None:
    """A float for JSON, or None where the figure is undefined (NaN, e.g. no pair in vocabulary)."""
    value = float(value)
    return value if math.isfinite(value) else None


def summarise(runs: list[dict], words: int) -> dict:
    """Median and spread of the wall time, the highest peak RSS, words/s end to end."""
    summary = {"runs": runs}
    if any(map(failed, runs)):
        summary["failed"] = True
        return summary
    walls = [run["wall_seconds"] for run in runs]
    median = statistics.median(walls)
    summary.update(wall_median=median, wall_min=min(walls), wall_max=max(walls),
                   peak_rss_mb=max(run["peak_rss_mb"] for run in runs), words_per_second=words / median)
    return summary


def measure_jit(bench: Bench, w2vfast: Tool, combos: list[str]) -> dict:
    """w2vfast with an empty Numba cache, then each combination with the cache that run filled.

    Every combination runs the same compiled kernels (tests/test_compiled.py checks it), so one
    cold run measures the compile that all of them pay; a warm run that still compiles shows it.
    """
    print("w2vfast JIT, cold then warm cache:", flush=True)
    cold = bench.train(w2vfast, Job(combos[0], threads=bench.args.threads), f"w2vfast-{combos[0]}-jit-cold")
    warm = {combo: bench.train(w2vfast, Job(combo, threads=bench.args.threads), f"w2vfast-{combo}-jit-warm")
            for combo in combos}
    return {"cold": dict(cold, combo=combos[0]), "warm": warm}


def measure_preprocessing(bench: Bench, c_tool: WordC | None) -> dict:
    """w2vfast's read + count + encode alone, next to the C tool's vocabulary pass."""
    print("preprocessing:", flush=True)
    min_count = Job().min_count
    reader = [sys.executable, "-m", "benchmarks.preprocess_runner", bench.corpus, str(min_count)]
    results = {"w2vfast": [bench.measure(reader, f"preprocess-w2vfast-run{i + 1}")
                           for i in range(bench.args.repeats)]}
    if c_tool is not None:
        vocab_pass = c_tool.vocabulary_pass(bench.corpus, str(bench.scratch / "c-vocab.txt"), min_count)
        results["c"] = [bench.measure(vocab_pass, f"preprocess-c-run{i + 1}")
                        for i in range(bench.args.repeats)]
    return results


def measure_one_epoch(bench: Bench, tools: list[Tool], words: int) -> dict:
    """Every tool on every combination, repeated in rounds so that a slow spell hits all tools alike;
    the last round's vectors are judged."""
    args = bench.args
    runs = {tool.name: {combo: [] for combo in args.combos} for tool in tools}
    for repeat in range(args.repeats):
        print(f"one epoch, round {repeat + 1} of {args.repeats}:", flush=True)
        for combo in args.combos:
            for tool in tools:
                record = bench.train(tool, Job(combo, threads=args.threads),
                                     f"{tool.name}-{combo}-run{repeat + 1}", judge=repeat == args.repeats - 1)
                runs[tool.name][combo].append(record)
    return {name: {combo: with_quality(summarise(combo_runs, words))
                   for combo, combo_runs in by_combo.items()} for name, by_combo in runs.items()}


def with_quality(summary: dict) -> dict:
    """Lift the judged run's quality, or why it could not be judged, to the summary."""
    for run in summary["runs"]:
        if "quality" in run:
            summary["quality"] = run["quality"]
        if "quality_error" in run:
            summary["quality_error"] = run["quality_error"]
    return summary


def measure_quality_run(bench: Bench, tools: list[Tool], words: int) -> dict:
    """More epochs, one run each, judged."""
    args = bench.args
    print(f"quality run, {args.quality_epochs} epochs:", flush=True)
    results = {tool.name: {} for tool in tools}
    for combo in args.quality_combos:
        for tool in tools:
            record = bench.train(tool, Job(combo, epochs=args.quality_epochs, threads=args.threads),
                                 f"{tool.name}-{combo}-{args.quality_epochs}epochs", judge=True)
            results[tool.name][combo] = with_quality(summarise([record], words * args.quality_epochs))
    return results


def measure_scaling(bench: Bench, tools: list[Tool], words: int) -> dict:
    """SG+NS for one epoch at each thread count, one run each: words/s and words/s per thread."""
    print("thread scaling:", flush=True)
    results = {tool.name: {} for tool in tools}
    for threads in bench.args.scaling_threads:
        for tool in tools:
            record = bench.train(tool, Job("sg-ns", threads=threads), f"{tool.name}-sg-ns-{threads}threads")
            summary = summarise([record], words)
            if not summary.get("failed"):
                summary["words_per_second_per_thread"] = summary["words_per_second"] / threads
            results[tool.name][str(threads)] = summary
    return results


def versions(tools: list[Tool]) -> dict:
    found = {tool.name: tool.version() for tool in tools}
    found.update(numba=package_version("numba"), numpy=package_version("numpy"))
    return found


def main(argv: list[str] | None = None) -> dict:
    """Run every part of the benchmark and write the results; returns what benchmark.json holds."""
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    w2vfast = W2vfast()
    tools, skipped = [w2vfast], {}
    for tool in reference_tools(args.c_binary):
        reason = tool.missing() if tool.name in args.tools else "not chosen with --tools"
        if reason is None:
            tools.append(tool)
        else:
            skipped[tool.name] = {"label": tool.label, "reason": reason}
            print(f"skipping {tool.label}: {reason}", flush=True)
    c_tool = next((tool for tool in tools if isinstance(tool, WordC)), None)
    # Every combination a w2vfast run will use: the scaling runs train SG+NS.
    w2vfast_combos = list(dict.fromkeys(args.combos + args.quality_combos + ["sg-ns"]))
    settings = dataclasses.asdict(Job(threads=args.threads))
    del settings["combo"]
    corpus, slice_words = args.corpus, None
    if args.quick:
        corpus = str(out / "quick-corpus.txt")
        slice_words = write_slice(args.corpus, corpus, args.quick_words)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "corpus": {"path": corpus, "source": args.corpus, "bytes": os.path.getsize(corpus),
                   "slice_words": slice_words},
        "evaluation": None if args.no_eval else {
            "questions": args.questions, "wordsim": args.wordsim, "analogy_vocab": ANALOGY_VOCAB},
        "settings": dict(settings, combos=args.combos, repeats=args.repeats,
                         quality_epochs=args.quality_epochs, quality_combos=args.quality_combos,
                         scaling_threads=args.scaling_threads),
        "machine": machine(),
        "tools": {tool.name: tool.label for tool in tools},
        "versions": versions(tools),
        "skipped": skipped,
    }
    with tempfile.TemporaryDirectory(prefix="w2vfast-bench-") as scratch:
        bench = Bench(out, Path(scratch), corpus, args)
        results["jit"] = measure_jit(bench, w2vfast, w2vfast_combos)
        preprocessing = measure_preprocessing(bench, c_tool)
        first = preprocessing["w2vfast"][0]
        if failed(first):
            sys.exit(f"w2vfast could not read the corpus; see {out / first['log']}")
        words = first["corpus_words"]
        results["corpus"].update(words_in_vocabulary=words, vocabulary=first["vocab_size"])
        results["preprocessing"] = {name: summarise(runs, words) for name, runs in preprocessing.items()}
        results["one_epoch"] = measure_one_epoch(bench, tools, words)
        results["quality_run"] = measure_quality_run(bench, tools, words)
        results["scaling"] = measure_scaling(bench, tools, words)
    with open(out / "benchmark.json", "w") as handle:
        json.dump(results, handle, indent=1, allow_nan=False)
    write_markdown(results, out / "benchmark.md")
    chart = write_chart(results, out / "benchmark.png")
    print(f"wrote {out / 'benchmark.md'}, {out / 'benchmark.json'}" + (f", {chart}" if chart else ""))
    return results


if __name__ == "__main__":
    main()
