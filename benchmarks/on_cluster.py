"""Training on a Dask cluster against one process: quality by worker count, the averaging schedule, the
overhead and the traffic of synchronising.

    python benchmarks/on_cluster.py [--workers 1 2 4 8] [--epoch-averaging 4 8] [--epochs 5]
                                     [--overhead-repeats 8] [--overhead-epochs 5] [--words N]
                                     [--corpus PATH] [--out DIR]

Every cluster is a ``LocalCluster`` of one-thread worker processes on this machine, started afresh
for each run and not timed; SG+NS with the settings of ``jobs.Job`` (dim 100, window 5, negative 5,
sample 1e-4, min-count 5). It measures:

- quality by worker count: analogy accuracy (30,000 most frequent words) and WS-353 Spearman of a
  ``--epochs`` run on each of ``--workers`` workers, beside one process of 2 threads;
- the same runs with the replicas averaged once an epoch, as Spark's word2vec does, on
  ``--epoch-averaging`` workers;
- overhead: words/s of 2 workers x 1 thread against 1 process x 2 threads over ``--overhead-epochs``
  epochs (5, as the quality runs), in turn, ``--overhead-repeats`` times each (the median of each; on
  this host single turns spread from 58% to 106%, so 8 by default); and against a plain pair, two
  processes of 1 thread side by side, each on its own half of the corpus as a worker is and with the
  whole corpus's vocabulary: the words/s the cluster loses to its synchronising, which the host's CPU
  changes less than it changes one process's threads sharing their weights;
- traffic: the bytes the driver sent and received synchronising, per epoch and per corpus word, and
  from those the words/s at which a 10 Gbit/s link into the driver would be busy all the time.

Words/s count training only, not reading the corpus, in both setups. A machine with fewer cores than
workers trains them in turn: fine for quality (with one thread a worker the run is deterministic),
not for speed. ``--words N`` trains on the corpus's first N words, for a quick check that it works.
Results go to ``--out`` as ``distributed.json`` and ``distributed.md``, with the machine they ran on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.jobs import Job  # noqa: E402
from benchmarks.measure import analogy_and_wordsim, existing_file, machine, positive, write_slice  # noqa: E402

LINK_BYTES_PER_SECOND = 10e9 / 8  # 10 Gbit/s


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    data = REPO.parent / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=positive, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--epoch-averaging", type=positive, nargs="*", default=[4, 8])
    parser.add_argument("--epochs", type=positive, default=5)
    parser.add_argument("--overhead-repeats", type=positive, default=8)
    parser.add_argument("--overhead-epochs", type=positive, default=5)
    parser.add_argument("--words", type=positive, default=None, help="train on the corpus's first N words")
    parser.add_argument("--corpus", type=existing_file, default=str(data / "wiki17m.txt"))
    parser.add_argument("--questions", default=str(data / "questions-words.txt"))
    parser.add_argument("--wordsim", default=str(data / "wordsim353.tsv"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "distributed"))
    return parser.parse_args(argv)


def options(job: Job, threads: int) -> dict:
    return dict(model=job.model, dim=job.dim, window=job.window, negative=job.negative, hs=job.hs,
                sample=job.sample, min_count=job.min_count, alpha=job.alpha, epochs=job.epochs, threads=threads)


def one_process(corpus: str, job: Job, threads: int = 2) -> object:
    import w2vfast

    return w2vfast.train(corpus, **options(job, threads))


def on_cluster(corpus: str, job: Job, workers: int, every_epoch: bool = False) -> object:
    from w2vfast.cluster import connect, train_on_cluster

    with connect(f"local:{workers}") as client:
        return train_on_cluster(client, corpus, options(job, 1), every_epoch=every_epoch)


def figures(vectors, args: argparse.Namespace) -> dict:
    stats = vectors.stats
    found = {"train_seconds": stats.train_seconds, "words_per_second": stats.words_per_second}
    if hasattr(stats, "sync_bytes"):
        epochs = len(stats.epoch_words)
        found.update(rounds_per_epoch=stats.rounds_per_epoch, sync_bytes_per_epoch=stats.sync_bytes / epochs,
                     sync_bytes_per_word=stats.sync_bytes / stats.words_trained)
        found["link_bound_words_per_second"] = LINK_BYTES_PER_SECOND / found["sync_bytes_per_word"]
    return {**found, **analogy_and_wordsim(vectors, args.questions, args.wordsim)}


PLAIN_RUN = ("import json, sys, w2vfast; "
             "print(w2vfast.train(sys.argv[1], **json.loads(sys.argv[2])).stats.words_per_second)")


def halves(corpus: str, job: Job, scratch: str) -> tuple[list[str], str]:
    """The corpus cut in two as a 2-worker cluster cuts it into shards, each half written to a file (none
    when a half would be empty: one compressed file goes whole to one worker), and the whole corpus's
    vocabulary, which the cluster's workers train with, in a file."""
    from w2vfast.config import TrainConfig
    from w2vfast.corpus import read_corpus
    from w2vfast.shards import plan_shards, read_shard

    vocab = str(Path(scratch) / "vocab.txt")
    read_corpus(corpus, TrainConfig(**options(job, 1)))[0].save(vocab)
    paths = []
    for number, shard in enumerate(plan_shards([corpus], 2)):
        paths.append(str(Path(scratch) / f"half{number}.txt"))
        with open(paths[-1], "wb") as out:
            for block, ends_piece in read_shard(shard):
                out.write(b"\n" if ends_piece else block)
    return (paths if all(Path(path).stat().st_size > 0 for path in paths) else []), vocab


def plain_pair(corpus_halves: list[str], vocab: str, job: Job) -> float:
    """Words/s of two processes of one thread side by side, each training its half with the whole corpus's
    ``vocab``: what 2 workers would train if synchronising cost nothing."""
    settings = json.dumps(dict(options(job, 1), read_vocab=vocab))
    runs = [subprocess.Popen([sys.executable, "-c", PLAIN_RUN, half, settings], stdout=subprocess.PIPE, text=True)
            for half in corpus_halves]
    outputs = [run.communicate()[0] for run in runs]
    if any(run.returncode != 0 for run in runs):
        raise RuntimeError("a process of the plain pair failed")
    return sum(float(output.split()[-1]) for output in outputs)


def overhead(corpus: str, repeats: int, epochs: int, scratch: str) -> dict:
    """Words/s of 2 workers x 1 thread, of 1 process x 2 threads and of the plain pair over ``epochs``,
    taken in turn, the order rotating."""
    job = Job(epochs=epochs)
    corpus_halves, vocab = halves(corpus, job, scratch)
    setups = {"cluster": lambda: on_cluster(corpus, job, 2).stats.words_per_second,
              "process": lambda: one_process(corpus, job).stats.words_per_second}
    if corpus_halves:
        setups["pair"] = lambda: plain_pair(corpus_halves, vocab, job)
    rates: dict[str, list[float]] = {setup: [] for setup in setups}
    names = list(setups)
    for turn in range(repeats):
        for setup in names[turn % len(names):] + names[:turn % len(names)]:
            rates[setup].append(setups[setup]())
            print(f"  overhead, turn {turn + 1}: {setup} {rates[setup][-1] / 1e6:.3f}M words/s", flush=True)
    found = {setup: statistics.median(rates[setup]) for setup in setups}
    if corpus_halves:
        found["of_pair"] = found["cluster"] / found["pair"]
    return {"epochs": epochs, "rates": rates, **found, "ratio": found["cluster"] / found["process"]}


def table(results: dict) -> str:
    host = results["machine"]  # the sets of this host ran on different CPUs from session to session
    lines = [f"Machine: {host['cpu']}, {host['cores']} cores, {host['memory_gb']} GB; {host['system']}.\n",
             "| setup | analogy | WS-353 | words/s | train s | rounds/epoch | sync MiB/epoch | sync B/word "
             "| 10 Gbit/s bound, words/s |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, found in results["runs"].items():
        cluster = [f"{found['rounds_per_epoch']}", f"{found['sync_bytes_per_epoch'] / 2**20:,.1f}",
                   f"{found['sync_bytes_per_word']:.1f}", f"{found['link_bound_words_per_second'] / 1e6:,.1f}M"] \
            if "sync_bytes_per_word" in found else ["", "", "", ""]
        lines.append(f"| {name} | {found['analogy']:.2f}% | {found['ws353']:.3f} | "
                     f"{found['words_per_second'] / 1e6:.3f}M | {found['train_seconds']:.1f} | " + " | ".join(cluster)
                     + " |")
    if "overhead" in results:
        found = results["overhead"]
        lines.append(f"\nOverhead: 2 workers x 1 thread {found['cluster'] / 1e6:.3f}M words/s, 1 process x 2 threads "
                     f"{found['process'] / 1e6:.3f}M words/s: {found['ratio']:.0%} (medians of "
                     f"{len(found['rates']['cluster'])} runs of {found['epochs']} epochs).")
        if "pair" in found:
            lines.append(f"The plain pair (2 processes x 1 thread, a half each, the whole corpus's vocabulary) "
                         f"{found['pair'] / 1e6:.3f}M words/s: "
                         f"the cluster trains {found['of_pair']:.0%} of it, the pair "
                         f"{found['pair'] / found['process']:.0%} of one process.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    job = Job(epochs=args.epochs)
    results: dict = {"settings": {**vars(args), "job": json.loads(job.to_json())}, "machine": machine(), "runs": {}}
    with tempfile.TemporaryDirectory() as scratch:
        corpus = args.corpus
        if args.words is not None:
            corpus = str(Path(scratch) / "slice.txt")
            write_slice(args.corpus, corpus, args.words)
        runs = [("1 process x 2 threads", lambda: one_process(corpus, job))]
        runs += [(f"{n} worker{'s' if n > 1 else ''} x 1 thread", lambda n=n: on_cluster(corpus, job, n))
                 for n in args.workers]
        runs += [(f"{n} workers, averaged once an epoch", lambda n=n: on_cluster(corpus, job, n, every_epoch=True))
                 for n in args.epoch_averaging]
        for name, run in runs:
            results["runs"][name] = figures(run(), args)
            found = results["runs"][name]
            print(f"{name}: analogy {found['analogy']:.2f}%, WS-353 {found['ws353']:.3f}, "
                  f"{found['words_per_second'] / 1e6:.3f}M words/s", flush=True)
        if args.overhead_repeats > 0:
            results["overhead"] = overhead(corpus, args.overhead_repeats, args.overhead_epochs, scratch)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "distributed.json").write_text(json.dumps(results, indent=2))
    (out / "distributed.md").write_text(table(results))
    print("\n" + table(results))
    return results


if __name__ == "__main__":
    main()
