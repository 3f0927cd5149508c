"""Time w2vfast's preprocessing alone: read, count and encode a corpus, as training does first.

Usage: ``python -m benchmarks.preprocess_runner CORPUS MIN_COUNT``. Like the console script, it
ends without the interpreter's teardown.
"""

import sys
import time

from benchmarks.jobs import print_result
from w2vfast import TrainConfig
from w2vfast.cli import exit_now
from w2vfast.corpus import read_corpus


def main(corpus: str, min_count: int) -> None:
    start = time.perf_counter()
    vocab, encoded = read_corpus(corpus, TrainConfig(min_count=min_count))
    print_result(seconds=time.perf_counter() - start, corpus_words=encoded.n_words, vocab_size=len(vocab))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
    exit_now(0)
