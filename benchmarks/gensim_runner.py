"""Train gensim's Word2Vec on a corpus file and save word2vec-format vectors, timing its two phases.

Usage: ``python -m benchmarks.gensim_runner CORPUS OUTPUT JOB_JSON``. A corpus without line breaks
(one line, like ``text8``) is streamed by ``Text8Corpus`` in 10,000-word sentences; a corpus with
lines by ``LineSentence``, which cuts longer lines into 10,000-word pieces. Either way every word is
trained on, as in the other tools.
"""

import sys
import time

from gensim.models.word2vec import LineSentence, Text8Corpus, Word2Vec

from benchmarks.jobs import Job, print_result

PROBE_BYTES = 1 << 20


def has_line_breaks(path: str) -> bool:
    """True when a newline other than the file's last byte appears in its first MiB."""
    with open(path, "rb") as handle:
        head = handle.read(PROBE_BYTES)
    return b"\n" in head.rstrip(b"\n")


def main(corpus: str, output: str, job: Job) -> None:
    sentences = LineSentence(corpus) if has_line_breaks(corpus) else Text8Corpus(corpus)
    model = Word2Vec(vector_size=job.dim, window=job.window, sg=int(job.model == "sg"), hs=int(job.hs),
                     negative=job.negative, sample=job.sample, min_count=job.min_count,
                     alpha=job.alpha, min_alpha=job.alpha * 1e-4, workers=job.threads, epochs=job.epochs)
    start = time.perf_counter()
    model.build_vocab(sentences)
    vocab_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=job.epochs)
    train_seconds = time.perf_counter() - start
    model.wv.save_word2vec_format(output, binary=True)
    print_result(vocab_seconds=vocab_seconds, train_seconds=train_seconds)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Job.from_json(sys.argv[3]))
