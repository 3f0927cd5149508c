"""Train fastText word vectors with subwords off (minn = maxn = 0) and save them in word2vec format.

Usage: ``python -m benchmarks.fasttext_runner CORPUS OUTPUT JOB_JSON``. ``train_seconds`` covers
the whole ``train_unsupervised`` call, which reads the corpus for its vocabulary before training.
The vectors are written in the binary format, as the other tools' are: formatting them as text in
Python would add seconds to fastText's wall time that its own command-line tool does not spend.
"""

import sys
import time

import fasttext
import numpy as np

from benchmarks.jobs import Job, print_result


def main(corpus: str, output: str, job: Job) -> None:
    start = time.perf_counter()
    model = fasttext.train_unsupervised(
        corpus, model="skipgram" if job.model == "sg" else "cbow", loss="hs" if job.hs else "ns",
        dim=job.dim, ws=job.window, neg=job.negative, t=job.sample, minCount=job.min_count,
        lr=job.alpha, epoch=job.epochs, thread=job.threads, minn=0, maxn=0, wordNgrams=1, verbose=2)
    train_seconds = time.perf_counter() - start
    vectors = np.stack([model.get_word_vector(word) for word in model.words]).astype(np.float32)
    with open(output, "wb") as out:
        out.write(b"%d %d\n" % vectors.shape)
        for word, row in zip(model.words, vectors):
            out.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
    print_result(train_seconds=train_seconds)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Job.from_json(sys.argv[3]))
