"""How much speed a thread keeps when it shares the weights: w2vfast's sharing efficiency.

    python benchmarks/sharing.py [--rounds 3] [--combos sg-ns ...] [--corpus PATH]

In each round, for each model/loss pair, two independent 1-thread runs train the whole corpus at
the same moment, each on its own copy of the weights; then one 2-thread run trains it sharing one
copy. Both keep both cores busy at the same clock, so

    efficiency = shared 2-thread words/s / (sum of the two independent 1-thread words/s)

isolates what sharing costs, and stays robust when the host's speed drifts from hour to hour.
The rates are the training rates w2vfast reports (``TrainStats``: corpus words over training time,
warm JIT). It prints a table per round and a summary: the median efficiency, and the spread
(max / min) of the 1-thread and the 2-thread rates over the rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.jobs import COMBOS, Job, read_result  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--combos", nargs="+", default=list(COMBOS), choices=list(COMBOS))
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "data" / "wiki17m.txt"))
    return parser.parse_args(argv)


def start(job: Job, corpus: str, scratch: str, tag: str) -> subprocess.Popen:
    """A w2vfast run of ``job`` in a process of its own, through the benchmark's runner script."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    output = os.path.join(scratch, f"{tag}.bin")
    return subprocess.Popen([sys.executable, "-m", "benchmarks.w2vfast_runner", corpus, output, job.to_json()],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def rate(process: subprocess.Popen) -> float:
    """The training rate (corpus words per second of training) a finished run reports."""
    log, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"a w2vfast run failed (exit {process.returncode}):\n{log}")
    result = read_result(log)
    return result["words_trained"] / result["train_seconds"]


def measure_round(combo: str, corpus: str, scratch: str) -> dict:
    single = Job(combo=combo, threads=1)
    independent = [start(single, corpus, scratch, f"single-{n}") for n in range(2)]
    rates = [rate(process) for process in independent]
    shared = rate(start(Job(combo=combo, threads=2), corpus, scratch, "shared"))
    return {"independent": rates, "shared": shared, "efficiency": shared / sum(rates)}


def spread(values: list[float]) -> float:
    return max(values) / min(values)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    results = {combo: [] for combo in args.combos}
    with tempfile.TemporaryDirectory(prefix="w2vfast-sharing-") as scratch:
        for combo in args.combos:  # compile each pair's kernels once, outside the measured runs
            rate(start(Job(combo=combo, threads=2), args.corpus, scratch, "warm"))
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_}: pair, independent 1-thread words/s, shared 2-thread words/s, efficiency",
                  flush=True)
            for combo in args.combos:
                figures = measure_round(combo, args.corpus, scratch)
                results[combo].append(figures)
                a, b = figures["independent"]
                print(f"  {COMBOS[combo].label}: {a / 1e6:.2f}M + {b / 1e6:.2f}M, {figures['shared'] / 1e6:.2f}M, "
                      f"{figures['efficiency']:.0%}", flush=True)
    print("\n| pair | efficiency, median (rounds) | spread of 1-thread rates | spread of 2-thread rates |")
    print("| --- | --- | --- | --- |")
    for combo, rounds in results.items():
        efficiencies = [r["efficiency"] for r in rounds]
        singles = [x for r in rounds for x in r["independent"]]
        shared = [r["shared"] for r in rounds]
        listed = ", ".join(f"{e:.0%}" for e in efficiencies)
        print(f"| {COMBOS[combo].label} | {statistics.median(efficiencies):.0%} ({listed}) | "
              f"{spread(singles):.2f} | {spread(shared):.2f} |")
    return results


if __name__ == "__main__":
    main()
