"""How much speed a thread keeps when it shares the weights: w2vfast's sharing efficiency.

    python benchmarks/sharing.py [--rounds 5] [--seconds 4] [--combos sg-ns ...] [--corpus PATH]

Each round starts three fresh processes that read the corpus and load the kernels: two 1-thread
trainers, each with its own copy of the weights, and one 2-thread trainer sharing one copy. Then
it times them in turn, in segments of ``--seconds``: the two 1-thread trainers together, then the
2-thread one alone, in the order pair, shared, shared, pair (the reverse in every other round).
Both setups keep both cores busy at the same clock, so

    efficiency = shared 2-thread words/s / (sum of the two independent 1-thread words/s)

isolates what sharing costs. Taking the two setups in short turns, a few seconds apart and in
mirrored order, cancels the host's drift, which swings a whole 1-epoch run by 20-40% here; fresh
processes every round keep what a process start decides (where the host puts the two vCPUs, where
memory lands) in the figures. A segment is a run of w2vfast's own kernel calls from
``Trainer.run_epochs``, stopped at the first safe point after its time is up, and its rate is
corpus words over that time (1-epoch settings: sample 1e-4, the learning rate as at an epoch's
start). It prints a line per round and a summary: the median efficiency, the spread (max / min)
of the 1-thread and the 2-thread rates over the rounds, and the spread of the efficiency itself, in
which the host's drift cancels and what is left is the runs' own swing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.jobs import COMBOS, Job  # noqa: E402
from benchmarks.measure import existing_file, positive  # noqa: E402

SETUPS = {"pair": (0, 1), "shared": (2,)}  # which of a round's three trainers each setup times
SEGMENT_ORDER = ("pair", "shared", "shared", "pair")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=positive, default=5)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one timed segment")
    parser.add_argument("--combos", nargs="+", default=list(COMBOS), choices=list(COMBOS))
    parser.add_argument("--corpus", type=existing_file, default=str(REPO.parent / "shared" / "data" / "wiki17m.txt"))
    return parser.parse_args(argv)


class _TimeUp(Exception):
    """Raised at the safe point after a segment's last kernel call."""


def trainer_process(connection, corpus: str, job: Job) -> None:
    """Read the corpus, build a trainer for ``job`` and load its kernels, then train a segment of
    the given seconds each time it is asked, answering with (corpus words, seconds)."""
    from w2vfast.corpus import read_corpus
    from w2vfast.progress import Progress
    from w2vfast.trainer import Trainer

    # Epochs enough never to run out: the learning rate stays near its start, as in a 1-epoch run's first calls.
    config = job.train_config(epochs=10_000)
    vocab, encoded = read_corpus(corpus, config)
    trainer = Trainer(vocab, config, config.epochs * encoded.n_words)
    trainer.warm_up(encoded)
    position = (0, 0)
    connection.send("ready")
    while (seconds := _next_request(connection)) is not None:
        words_before = encoded.words_before(*position)
        start = time.perf_counter()

        def after_call(reached: tuple[int, int]) -> None:
            nonlocal position
            position = reached
            if time.perf_counter() - start >= seconds:
                raise _TimeUp

        try:
            trainer.run_epochs(encoded, Progress(0, quiet=True), position, after_call)
        except _TimeUp:
            pass
        connection.send((encoded.words_before(*position) - words_before, time.perf_counter() - start))


def _next_request(connection):
    """The seconds of the next segment, or None: the end of the round, or the measuring process gone."""
    try:
        return connection.recv()
    except EOFError:
        return None


def measure_round(combo: str, corpus: str, seconds: float, mirrored: bool) -> dict:
    """One round of one pair: three fresh trainers, four timed segments."""
    context = multiprocessing.get_context("spawn")
    connections, processes = [], []
    for threads in (1, 1, 2):
        ours, theirs = context.Pipe()
        process = context.Process(target=trainer_process, args=(theirs, corpus, Job(combo=combo, threads=threads)))
        process.start()
        connections.append(ours)
        processes.append(process)
    died = False
    try:
        for connection in connections:
            if connection.recv() != "ready":
                raise SystemExit("a trainer did not start")
        rates = {"pair": [], "shared": []}
        for setup in reversed(SEGMENT_ORDER) if mirrored else SEGMENT_ORDER:
            timed = [connections[i] for i in SETUPS[setup]]
            for connection in timed:
                connection.send(seconds)
            answers = [connection.recv() for connection in timed]
            rates[setup].append([words / elapsed for words, elapsed in answers])
        for connection in connections:
            connection.send(None)
    except EOFError:
        died = True
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    if died:  # said once they have ended, when their exit codes are known
        raise SystemExit(f"a {combo} trainer process died (exit codes {[p.exitcode for p in processes]})")
    independent = [statistics.fmean(segment[i] for segment in rates["pair"]) for i in range(2)]
    shared = statistics.fmean(segment[0] for segment in rates["shared"])
    return {"independent": independent, "shared": shared, "efficiency": shared / sum(independent)}


def spread(values: list[float]) -> float:
    return max(values) / min(values)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    results = {combo: [] for combo in args.combos}
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_}: pair, independent 1-thread words/s, shared 2-thread words/s, efficiency",
              flush=True)
        for combo in args.combos:
            figures = measure_round(combo, args.corpus, args.seconds, mirrored=round_ % 2 == 0)
            results[combo].append(figures)
            a, b = figures["independent"]
            print(f"  {COMBOS[combo].label}: {a / 1e6:.2f}M + {b / 1e6:.2f}M, {figures['shared'] / 1e6:.2f}M, "
                  f"{figures['efficiency']:.0%}", flush=True)
    print("\n| pair | efficiency, median (rounds) | spread of 1-thread rates | spread of 2-thread rates "
          "| spread of efficiency |")
    print("| --- | --- | --- | --- | --- |")
    for combo, rounds in results.items():
        efficiencies = [r["efficiency"] for r in rounds]
        singles = [x for r in rounds for x in r["independent"]]
        shared = [r["shared"] for r in rounds]
        listed = ", ".join(f"{e:.0%}" for e in efficiencies)
        print(f"| {COMBOS[combo].label} | {statistics.median(efficiencies):.0%} ({listed}) | "
              f"{spread(singles):.2f} | {spread(shared):.2f} | {spread(efficiencies):.2f} |")
    return results


if __name__ == "__main__":
    main()
