"""Spark MLlib's Word2Vec in local mode beside w2vfast: wall time, peak memory and quality, SG+HS.

    python benchmarks/spark.py [--partitions 1 2 4] [--iterations 5] [--bytes N] [--corpus PATH]
                               [--driver-memory 8g] [--w2vfast-python PATH] [--out DIR]

Spark is the word2vec most often met on a cluster, so users ask how w2vfast compares with it. Spark
is never a dependency of w2vfast, not even an optional one: install it beside, in its own venv:

    apt-get install -y openjdk-17-jre-headless     # Spark 4 needs Java 17 or later
    python -m venv /work/venvspark
    /work/venvspark/bin/pip install pyspark numpy psutil
    /work/venvspark/bin/pip install -e .           # w2vfast's evaluator and runner, from this checkout
    /work/venvspark/bin/python benchmarks/spark.py

Why ``pyspark.ml.feature.Word2Vec``: it sets partitions, seed, window, min count, vector size,
iterations, step size and maxSentenceLength, as ``pyspark.mllib``'s does, but it is the maintained
API (``mllib`` is in maintenance mode) and hands the vectors back as a DataFrame, not as a dict
built through Py4J.

What runs: for each ``--partitions`` P, a fresh process starts Spark with master ``local[P]`` and
trains with ``numPartitions=P``; then w2vfast trains SG+HS with ``jobs.Job``'s settings through
``w2vfast_runner.py``, as ``run.py`` does. Both: vector size 100, window 5, min count 5, step size
(alpha) 0.025, ``--iterations`` passes (w2vfast's epochs). What cannot be matched:

- Spark trains skip-gram with hierarchical softmax only, and has no subsampling: w2vfast runs with
  sample 1e-4, as in every benchmark here, so Spark trains on about twice as many windows.
- Spark cuts sentences into pieces of maxSentenceLength (1000) words after dropping the words under
  min count, as the C tool counts its 1000; w2vfast caps them at 10,000. The corpus is one line: as
  one row it would be a single 17M-word array that no partition count could split, so it is handed
  to Spark as rows of 10,000 words (as gensim's ``Text8Corpus`` reads it), which Spark itself cuts
  into 1000-word sentences; w2vfast reads the file as it is.
- With P partitions Spark trains P copies of the model on a P-th of the corpus each, and averages
  each row over the copies that changed it once per iteration: more partitions, lower quality.
- Spark's seed is fixed (1); w2vfast's runs are seeded by w2vfast's default.

What it reports, per run: the fit (Spark: ``Word2Vec.fit``, its vocabulary pass included, the rows
already read and cached; w2vfast: its training loop), the whole process (Spark: the JVM's start-up,
reading, fitting, exporting the vectors; w2vfast: reading, compiling or loading its cached code,
training, writing), the peak resident memory of the process tree (the Python process and its JVM,
polled by psutil), and analogy accuracy over the 30,000 most frequent words and WordSim-353 Spearman
by w2vfast's evaluator. Spark's vectors are exported from ``getVectors()`` to a word2vec text file in
the corpus's frequency order (Spark's own order is a hash map's), so the 30,000 words judged are the
same for both tools. ``local[P]`` with P above the cores (4 on a 2-core host) shares the cores: its
time says nothing about scaling there. ``--bytes N`` trains on the corpus's first N bytes for a quick
check. Results go to ``--out`` as ``spark.json`` and ``spark.md``, logs to ``--out``/logs.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.jobs import Job, print_result, read_result  # noqa: E402
from benchmarks.measure import analogy_and_wordsim, existing_file, positive  # noqa: E402

SPARK_ROW_WORDS = 10_000  # words per row handed to Spark; it cuts them into maxSentenceLength pieces
SPARK_MAX_SENTENCE = 1000
SPARK_SEED = 1
READ_BLOCK = 1 << 23
POLL_SECONDS = 0.2
WORKER_FLAG = "--spark-worker"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    data = REPO.parent / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=existing_file, default=str(data / "wiki17m.txt"))
    parser.add_argument("--partitions", type=positive, nargs="+", default=[1, 2, 4])
    parser.add_argument("--iterations", type=positive, default=5, help="Spark's maxIter and w2vfast's epochs")
    parser.add_argument("--bytes", type=positive, default=None, help="train on the corpus's first N bytes")
    parser.add_argument("--driver-memory", default="8g", help="spark.driver.memory (local mode: all of Spark)")
    parser.add_argument("--w2vfast-python", default=sys.executable,
                        help="the interpreter that runs w2vfast (one with w2vfast and its Numba cache)")
    parser.add_argument("--questions", default=str(data / "questions-words.txt"))
    parser.add_argument("--wordsim", default=str(data / "wordsim353.tsv"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "spark"))
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# The corpus, as each tool reads it
# ---------------------------------------------------------------------------------------------

def text_blocks(corpus: str, limit_bytes: int | None):
    """The corpus in blocks that end at whitespace; with ``limit_bytes``, only its first bytes, cut after
    the last whitespace among them (a word cut in two is left out)."""
    left = limit_bytes if limit_bytes is not None else os.path.getsize(corpus)
    carry = b""
    with open(corpus, "rb") as source:
        while True:
            block = source.read(min(READ_BLOCK, left))
            left -= len(block)
            if not block:
                if limit_bytes is None and carry:
                    yield carry
                return
            text = carry + block
            cut = max(text.rfind(b" "), text.rfind(b"\n")) + 1
            carry = text[cut:]
            yield text[:cut]


def prepare_corpus(corpus: str, limit_bytes: int | None, scratch: Path) -> dict:
    """One streamed pass: the slice for w2vfast (where ``limit_bytes`` asks for one), Spark's rows of
    ``SPARK_ROW_WORDS`` words, and every word's count in w2vfast's vocabulary order (descending count,
    ties in order of first appearance), by which Spark's exported vectors are sorted."""
    sliced = scratch / "slice.txt" if limit_bytes is not None else None
    rows_path, order_path = scratch / "spark_rows.txt", scratch / "word_order.txt"
    counts: collections.Counter = collections.Counter()
    pending: list[bytes] = []
    with open(rows_path, "wb") as rows, open(sliced or os.devnull, "wb") as slice_out:
        for text in text_blocks(corpus, limit_bytes):
            slice_out.write(text)
            words = text.split()
            counts.update(words)
            pending.extend(words)
            whole_rows = len(pending) - len(pending) % SPARK_ROW_WORDS
            for at in range(0, whole_rows, SPARK_ROW_WORDS):
                rows.write(b" ".join(pending[at:at + SPARK_ROW_WORDS]) + b"\n")
            del pending[:whole_rows]
        if pending:
            rows.write(b" ".join(pending) + b"\n")
    by_count = sorted(counts.items(), key=lambda item: -item[1])  # a stable sort: ties keep first appearance
    order_path.write_bytes(b"".join(b"%s %d\n" % item for item in by_count))
    return {"w2vfast_corpus": str(sliced or corpus), "spark_rows": str(rows_path), "word_order": str(order_path),
            "corpus_words": sum(counts.values()), "corpus_bytes": os.path.getsize(sliced or corpus)}


# ---------------------------------------------------------------------------------------------
# One Spark run, in a process of its own (so that each has a fresh JVM and its own peak memory)
# ---------------------------------------------------------------------------------------------

def spark_worker(request: dict) -> None:
    """Start Spark at ``local[P]``, read and cache the rows, fit, and export the vectors."""
    import numpy as np
    from pyspark.ml.feature import Word2Vec
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import col, split

    from w2vfast import KeyedVectors

    partitions = request["partitions"]
    start = time.perf_counter()
    spark = (SparkSession.builder.master(f"local[{partitions}]").appName("w2vfast-spark-benchmark")
             .config("spark.driver.memory", request["driver_memory"])
             .config("spark.ui.enabled", "false")
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.local.dir", request["scratch"])
             .config("spark.sql.shuffle.partitions", str(partitions))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter()
    rows = (spark.read.text(request["rows"]).select(split(col("value"), " ").alias("words"))
            .repartition(partitions).cache())
    rows.count()  # read now, so that the fit's time is the fit's
    loaded = time.perf_counter()
    word2vec = Word2Vec(vectorSize=request["dim"], windowSize=request["window"], minCount=request["min_count"],
                        stepSize=request["alpha"], maxIter=request["iterations"], numPartitions=partitions,
                        seed=SPARK_SEED, maxSentenceLength=SPARK_MAX_SENTENCE, inputCol="words")
    model = word2vec.fit(rows)
    fitted = time.perf_counter()
    found = {row["word"]: row["vector"].toArray() for row in model.getVectors().collect()}
    with open(request["word_order"], "rb") as order:
        ordered = [word for word in (line.split(b" ")[0].decode() for line in order) if word in found]
    unordered = sorted(set(found) - set(ordered))  # none where both tools count words alike
    words = ordered + unordered
    KeyedVectors(words, np.array([found[word] for word in words], dtype=np.float32)).save(
        request["output"], binary=False)
    exported = time.perf_counter()
    version = spark.version
    spark.stop()
    print_result(session_seconds=started - start, load_seconds=loaded - started, fit_seconds=fitted - loaded,
                 export_seconds=exported - fitted, vocabulary=len(words), unordered_words=len(unordered),
                 spark_version=version)


# ---------------------------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------------------------

def tree_rss(process) -> int:
    """Resident bytes of a process and all its descendants (a JVM under a Python process)."""
    import psutil

    total = 0
    for member in [process] + process.children(recursive=True):
        try:
            total += member.memory_info().rss
        except psutil.Error:  # it ended between the listing and the reading
            pass
    return total


def run_measured(argv: list[str], log_path: Path, env: dict | None = None) -> dict:
    """Run ``argv``, its output into ``log_path``; its wall time, the peak RSS of its process tree polled
    every ``POLL_SECONDS``, and the figures it printed with ``print_result``."""
    import psutil

    peak = [0]
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env)
        watched = psutil.Process(child.pid)

        def poll() -> None:
            while child.poll() is None:
                try:
                    peak[0] = max(peak[0], tree_rss(watched))
                except psutil.Error:
                    return
                time.sleep(POLL_SECONDS)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        code = child.wait()
        wall = time.perf_counter() - start
        poller.join()
    text = log_path.read_text(errors="replace")
    figures = dict(read_result(text), wall_seconds=wall, peak_rss_mb=peak[0] / 2**20)
    if code != 0:
        figures["failed"] = text.strip().splitlines()[-1] if text.strip() else f"exit {code}"
    return figures


def judge(vectors_path: str, args: argparse.Namespace) -> dict:
    """The quality of the vectors file at ``vectors_path`` (``measure.analogy_and_wordsim``)."""
    from w2vfast import KeyedVectors

    return analogy_and_wordsim(KeyedVectors.load(vectors_path), args.questions, args.wordsim)


def run_spark(partitions: int, job: Job, prepared: dict, args: argparse.Namespace, scratch: Path,
              logs: Path) -> dict:
    output = scratch / f"spark_{partitions}.txt"
    request = dict(partitions=partitions, driver_memory=args.driver_memory, rows=prepared["spark_rows"],
                   word_order=prepared["word_order"], output=str(output), scratch=str(scratch), dim=job.dim,
                   window=job.window, min_count=job.min_count, alpha=job.alpha, iterations=job.epochs)
    argv = [sys.executable, str(Path(__file__).resolve()), WORKER_FLAG, json.dumps(request)]
    figures = run_measured(argv, logs / f"spark_{partitions}.log")
    if "failed" not in figures:
        figures.update(judge(str(output), args))
        figures["train_seconds"] = figures["fit_seconds"]
    return figures


def run_w2vfast(job: Job, prepared: dict, args: argparse.Namespace, scratch: Path, logs: Path) -> dict:
    output = scratch / "w2vfast.bin"
    python_path = os.pathsep.join([str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
    argv = [args.w2vfast_python, "-m", "benchmarks.w2vfast_runner", prepared["w2vfast_corpus"], str(output),
            job.to_json()]
    figures = run_measured(argv, logs / "w2vfast.log", env=dict(os.environ, PYTHONPATH=python_path))
    if "failed" not in figures:
        figures.update(judge(str(output), args))
    return figures


def table(results: dict) -> str:
    words = results["corpus"]["corpus_words"] * results["settings"]["iterations"]
    lines = ["| run | fit s | words/s (fit) | whole run s | peak RSS MB | analogy | WS-353 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, found in results["runs"].items():
        if "failed" in found:
            lines.append(f"| {name} | failed: {found['failed']} | | | | | |")
            continue
        lines.append(f"| {name} | {found['train_seconds']:.1f} | {words / found['train_seconds'] / 1e6:.3f}M | "
                     f"{found['wall_seconds']:.1f} | {found['peak_rss_mb']:,.0f} | {found['analogy']:.2f}% | "
                     f"{found['ws353']:.3f} |")
    corpus = results["corpus"]
    lines.append(f"\nCorpus: {corpus['corpus_bytes']:,} bytes, {corpus['corpus_words']:,} words; "
                 f"{results['settings']['iterations']} iterations; words/s count corpus words x iterations. "
                 "Fit: Spark's `Word2Vec.fit` (vocabulary pass included, rows cached), w2vfast's training loop.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    job = Job(combo="sg-hs", epochs=args.iterations, threads=2)
    out = Path(args.out)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results: dict = {"settings": {**vars(args), "job": json.loads(job.to_json()), "spark_seed": SPARK_SEED,
                                  "spark_max_sentence": SPARK_MAX_SENTENCE, "spark_row_words": SPARK_ROW_WORDS},
                     "runs": {}}
    with tempfile.TemporaryDirectory(prefix="spark-bench-") as scratch_name:
        scratch = Path(scratch_name)
        prepared = prepare_corpus(args.corpus, args.bytes, scratch)
        results["corpus"] = {key: prepared[key] for key in ("corpus_words", "corpus_bytes")}
        print(f"corpus: {prepared['corpus_bytes']:,} bytes, {prepared['corpus_words']:,} words", flush=True)
        runs = [(f"Spark local[{p}], {p} partition{'s' if p > 1 else ''}",
                 lambda p=p: run_spark(p, job, prepared, args, scratch, logs)) for p in args.partitions]
        runs.append(("w2vfast SG+HS, 2 threads", lambda: run_w2vfast(job, prepared, args, scratch, logs)))
        for name, run in runs:
            found = results["runs"][name] = run()
            summary = found.get("failed") or (
                f"fit {found['train_seconds']:.1f} s, whole {found['wall_seconds']:.1f} s, "
                f"{found['peak_rss_mb']:,.0f} MB, analogy {found['analogy']:.2f}%, WS-353 {found['ws353']:.3f}")
            print(f"{name}: {summary}", flush=True)
    (out / "spark.json").write_text(json.dumps(results, indent=2))
    (out / "spark.md").write_text(table(results))
    print("\n" + table(results))
    return results


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == WORKER_FLAG:
        spark_worker(json.loads(sys.argv[2]))
    else:
        main()
