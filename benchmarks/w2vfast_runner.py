"""Train w2vfast through its Python API, write binary vectors, and hand back its own statistics.

Usage: ``python -m benchmarks.w2vfast_runner CORPUS OUTPUT JOB_JSON``. This is what ``w2vfast
train`` does (``train`` with an output); going through the API gives the harness the fields of
``TrainStats`` rather than a summary line to parse, whose wording may change. It ends the way the
console script does (``w2vfast.cli.run``), without the interpreter's teardown.
"""

import sys

import w2vfast
from w2vfast.cli import exit_now
from benchmarks.jobs import Job, print_result


def main(corpus: str, output: str, job: Job) -> None:
    vectors = w2vfast.train(corpus, output=output, binary=True, model=job.model, dim=job.dim,
                            window=job.window, negative=job.negative, hs=job.hs, sample=job.sample,
                            min_count=job.min_count, alpha=job.alpha, epochs=job.epochs, threads=job.threads,
                            quiet=False)
    stats = vectors.stats
    print_result(words_trained=stats.words_trained, read_seconds=stats.read_seconds,
                 jit_seconds=stats.jit_seconds, train_seconds=stats.train_seconds)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Job.from_json(sys.argv[3]))
    exit_now(0)
