"""What ``--report-loss`` costs: the kernels with and without the loss, in one process, call by call.

    python benchmarks/loss_cost.py [--combos sg-ns cbow-ns sg-hs cbow-hs] [--threads 1 2] [--rounds 3]
                                   [--corpus PATH]

Whole runs on this host drift by more than the few percent to be measured, so both runs share one
process: two trainers with the same vocabulary, settings and seed, one with the loss and one without,
take the kernel calls of an epoch in turn (the first call of each pair alternating between them),
and each trainer's time is the sum of its calls. The two trainers' arrays are allocated in the other
order every round, because the trainer whose arrays came first ran up to 5% faster whatever it did.
The cost of a round is the time with the loss over the time without, less 1; the figure is the
geometric mean over the rounds. Settings as ``benchmarks/jobs.py``: dim 100, window 5, sample 1e-4,
min_count 5, 5 negatives or hierarchical softmax.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numba

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.jobs import COMBOS, Job  # noqa: E402
from benchmarks.measure import existing_file, positive  # noqa: E402
from w2vfast.config import TrainConfig  # noqa: E402
from w2vfast.corpus import read_corpus  # noqa: E402
from w2vfast.trainer import Trainer, _blocks  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--combos", nargs="+", choices=list(COMBOS), default=list(COMBOS))
    parser.add_argument("--threads", nargs="+", type=positive, default=[1, 2])
    parser.add_argument("--rounds", type=positive, default=3, help="epochs of paired calls per combination")
    parser.add_argument("--corpus", type=existing_file, default=str(REPO.parent / "shared" / "data" / "wiki17m.txt"))
    return parser.parse_args(argv)


def paired_round(vocab, encoded, config: TrainConfig, loss_first: bool) -> tuple[float, float]:
    """One epoch trained by both trainers in turn; returns their seconds (without the loss, with it)."""
    made = {}
    for with_loss in ((True, False) if loss_first else (False, True)):
        made[with_loss] = Trainer(vocab, config, encoded.n_words, report_loss=with_loss)
    for trainer in made.values():
        trainer.warm_up(encoded)
    seconds = {False: 0.0, True: 0.0}
    blocks = _blocks(encoded, config.threads, made[False].block_words)
    per_call = config.threads * made[False].blocks_per_thread
    for n, first in enumerate(range(0, len(blocks) - 1, per_call)):
        call_blocks = blocks[first:first + per_call + 1]
        words_before = encoded.words_before(0, int(call_blocks[0]))
        for with_loss in ((False, True) if n % 2 == 0 else (True, False)):
            start = time.perf_counter()
            made[with_loss]._call(encoded, call_blocks, words_before)
            seconds[with_loss] += time.perf_counter() - start
    return seconds[False], seconds[True]


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    print(f"numba {numba.__version__}, {args.rounds} rounds, corpus {args.corpus}", flush=True)
    print("| combination | threads | words/s without | words/s with | cost by round | cost (geometric mean) |")
    print("| --- | --- | --- | --- | --- | --- |")
    results = {}
    vocab = encoded = None
    for combo in args.combos:
        for threads in args.threads:
            config = Job(combo=combo, threads=threads, epochs=1).train_config()
            if encoded is None:
                vocab, encoded = read_corpus(args.corpus, config)
            numba.set_num_threads(threads)
            rounds = [paired_round(vocab, encoded, config, loss_first=r % 2 == 1) for r in range(args.rounds)]
            costs = [with_loss / without - 1 for without, with_loss in rounds]
            mean = math.exp(sum(math.log1p(c) for c in costs) / len(costs)) - 1
            without = encoded.n_words * len(rounds) / sum(r[0] for r in rounds)
            with_loss = encoded.n_words * len(rounds) / sum(r[1] for r in rounds)
            results[(combo, threads)] = mean
            print(f"| {COMBOS[combo].label} | {threads} | {without / 1e6:.3f}M | {with_loss / 1e6:.3f}M | "
                  f"{', '.join(f'{100 * c:+.1f}%' for c in costs)} | **{100 * mean:+.1f}%** |", flush=True)
    return results


if __name__ == "__main__":
    main()
