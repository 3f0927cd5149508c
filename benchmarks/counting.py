"""Counting web-like text: w2vfast's reading, unbounded and within --vocab-memory, beside the C tool's
vocabulary pass and gensim's ``build_vocab``, on one file full of tokens seen once.

    python benchmarks/counting.py [--corpus PATH] [--junk-every 1] [--budgets none,1G,256M]
                                  [--min-count 5] [--threads N] [--skip-gensim] [--workdir DIR]

The file is the corpus with a random 12-hex-digit token after every ``--junk-every``-th word (the
issue's test file, by default): made in the work folder, deleted at the end unless ``--workdir``
is given. Each run is its own process, measured whole (wall time, peak RSS):
- w2vfast reading the file (count, choose the vocabulary, encode: what ``train`` does before
  training), once untimed first to fill Numba's cache, then at each budget, and once from standard
  input (pruning) at the smallest;
- the C tool with ``-save-vocab`` and no ``-output``, which stops after its vocabulary pass;
- gensim's ``Word2Vec.build_vocab`` on ``LineSentence``/``Text8Corpus``, with and without
  ``max_vocab_size``.
Every vocabulary is then compared with the unbounded w2vfast one: the words kept and their counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.jobs import print_result, read_result  # noqa: E402
from benchmarks.measure import existing_file, positive, run_measured, usable_cores  # noqa: E402
from benchmarks.tools import WordC  # noqa: E402

OURS_CHILD, GENSIM_CHILD = "--ours-child", "--gensim-child"
GENSIM_MAX_VOCAB = 2_000_000  # the max_vocab_size tried: about what the C tool's table holds over 10
SEED = 17


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=existing_file, default=str(REPO.parent / "shared" / "data" / "wiki17m.txt"))
    parser.add_argument("--junk-every", type=positive, default=1, help="a junk token after every N-th word")
    parser.add_argument("--budgets", default="none,1G,256M", help="w2vfast's --vocab-memory values; none: unbounded")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--threads", type=positive, default=usable_cores())
    parser.add_argument("--skip-gensim", action="store_true")
    parser.add_argument("--workdir", help="keep the file, vocabularies and logs here [default: a temporary folder]")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.corpus):
        parser.error(f"file not found: {args.corpus}")
    return args


def write_junk_corpus(corpus: str, path: Path, every: int) -> dict:
    """The corpus's words with a random token after every ``every``-th; one line, as the corpus is."""
    import numpy as np

    words = Path(corpus).read_bytes().split()
    rng = np.random.default_rng(SEED)
    junk = [b"%012x" % j for j in rng.integers(0, 16**12, size=-(-len(words) // every), dtype=np.int64).tolist()]
    tokens = []
    for i, word in enumerate(words):
        tokens.append(word)
        if i % every == 0:
            tokens.append(junk[i // every])
    path.write_bytes(b" ".join(tokens) + b"\n")
    return {"bytes": path.stat().st_size, "tokens": len(tokens), "junk_tokens": len(junk)}


def ours_child(corpus: str, budget: str, threads: int, min_count: int, vocab_path: str) -> None:
    """Read ``corpus`` (``-``: standard input) as ``train`` does, save the vocabulary, report."""
    from w2vfast.config import TrainConfig
    from w2vfast.corpus import read_corpus
    from w2vfast.memory import parse_size

    notes = []
    start = time.perf_counter()
    vocab, encoded = read_corpus(corpus, TrainConfig(min_count=min_count, threads=threads),
                                 vocab_memory=None if budget == "none" else parse_size(budget), say=notes.append)
    seconds = time.perf_counter() - start
    vocab.save(vocab_path)
    print_result(seconds=seconds, vocab_size=len(vocab), corpus_words=encoded.n_words, notes=notes)


def gensim_child(corpus: str, max_vocab: str, min_count: int, vocab_path: str) -> None:
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence, Text8Corpus

    from benchmarks.gensim_runner import has_line_breaks

    sentences = LineSentence(corpus) if has_line_breaks(corpus) else Text8Corpus(corpus)
    model = Word2Vec(min_count=min_count, max_vocab_size=None if max_vocab == "none" else int(max_vocab))
    start = time.perf_counter()
    model.build_vocab(sentences)
    seconds = time.perf_counter() - start
    with open(vocab_path, "w", encoding="utf-8") as out:
        for word in model.wv.index_to_key:
            out.write(f"{word} {model.wv.get_vecattr(word, 'count')}\n")
    print_result(seconds=seconds, vocab_size=len(model.wv))


def measured(argv: list[str], log: Path, stdin_path: str | None = None) -> dict:
    python_path = [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(python_path))
    if stdin_path is not None:  # the launcher's child reads the file as its standard input
        argv = ["sh", "-c", 'exec "$@" < "$0"', stdin_path, *argv]
    result = run_measured(argv, env, str(log))
    if result.exit_code != 0:
        sys.exit(f"{log.stem} failed (exit {result.exit_code}); the end of {log}:\n{log.read_text()[-2000:]}")
    print(f"  {log.stem}: {result.wall_seconds:.2f} s, {result.peak_rss_mb:.0f} MB", flush=True)
    figures = read_result(log.read_text(errors="replace"))
    figures.update(wall_seconds=result.wall_seconds, peak_rss_mb=result.peak_rss_mb)
    return figures


def read_vocab(path: Path) -> dict:
    """``word count`` lines as {word bytes: count}; the C tool's ``</s>`` left out."""
    counts = {}
    for line in path.read_bytes().split(b"\n"):
        parts = line.rsplit(b" ", 1)
        if len(parts) == 2 and parts[0] != b"</s>":
            counts[parts[0]] = int(parts[1])
    return counts


def compared(reference: dict, other: dict) -> str:
    """How ``other`` differs from the unbounded w2vfast vocabulary."""
    if other == reference:
        return "identical"
    missing = len(reference.keys() - other.keys())
    extra = len(other.keys() - reference.keys())
    differ = sum(1 for word in reference.keys() & other.keys() if reference[word] != other[word])
    return f"{missing:,} words missing, {extra:,} extra, {differ:,} counts differ"


def run_all(args: argparse.Namespace, workdir: Path) -> dict:
    junk = workdir / "junk.txt"
    print(f"writing {junk} ...", flush=True)
    results = {"file": write_junk_corpus(args.corpus, junk, args.junk_every), "runs": []}
    this = str(Path(__file__).resolve())
    budgets = args.budgets.split(",")

    def ours(budget: str, source: str, name: str) -> dict:
        vocab = workdir / f"{name}.vocab"
        figures = measured([sys.executable, this, OURS_CHILD, "-" if source == "stdin" else str(junk), budget,
                            str(args.threads), str(args.min_count), str(vocab)], workdir / f"{name}.log",
                           stdin_path=str(junk) if source == "stdin" else None)
        figures.update(tool="w2vfast", setting=f"--vocab-memory {budget}" if budget != "none" else "unbounded",
                       source=source, vocab_file=str(vocab))
        return figures

    print("runs:", flush=True)
    measured([sys.executable, this, OURS_CHILD, str(junk), budgets[-1], str(args.threads), str(args.min_count),
              str(workdir / "warm-up.vocab")], workdir / "w2vfast-warm-up.log")
    for budget in budgets:
        results["runs"].append(ours(budget, "file", f"w2vfast-{budget}"))
    smallest = [b for b in budgets if b != "none"]
    if smallest:
        results["runs"].append(ours(smallest[-1], "stdin", f"w2vfast-stdin-{smallest[-1]}"))
    c_tool = WordC()
    if c_tool.missing() is None:
        vocab = workdir / "c.vocab"
        figures = measured(c_tool.vocabulary_pass(str(junk), str(vocab), args.min_count), workdir / "c.log")
        figures.update(tool="word2vec C", setting="-save-vocab (prunes past 21M words)", source="file",
                       vocab_file=str(vocab))
        results["runs"].append(figures)
    if not args.skip_gensim:
        for max_vocab in ("none", str(GENSIM_MAX_VOCAB)):
            vocab = workdir / f"gensim-{max_vocab}.vocab"
            figures = measured([sys.executable, this, GENSIM_CHILD, str(junk), max_vocab, str(args.min_count),
                                str(vocab)], workdir / f"gensim-{max_vocab}.log")
            setting = "max_vocab_size=None" if max_vocab == "none" else f"max_vocab_size={int(max_vocab):,}"
            figures.update(tool="gensim", setting=setting, source="file", vocab_file=str(vocab))
            results["runs"].append(figures)
    reference_run = next(run for run in results["runs"] if run["setting"] == "unbounded") \
        if "none" in budgets else None
    reference = read_vocab(Path(reference_run["vocab_file"])) if reference_run else None
    for run in results["runs"]:
        run["vocabulary"] = compared(reference, read_vocab(Path(run["vocab_file"]))) if reference else "?"
    return results


def print_report(args: argparse.Namespace, results: dict) -> None:
    file = results["file"]
    distinct_junk = file["junk_tokens"]
    print(f"\n{Path(args.corpus).name} with a junk token after every {args.junk_every} word(s): "
          f"{file['bytes'] / 2**20:,.0f} MiB, {file['tokens']:,} tokens, {distinct_junk:,} of them junk "
          f"seen once; --min-count {args.min_count}, {args.threads} threads\n")
    print("| tool | setting | input | wall s | peak RSS MB | peak bytes per junk token | vocabulary vs unbounded |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for run in results["runs"]:
        per_token = run["peak_rss_mb"] * 2**20 / distinct_junk
        print(f"| {run['tool']} | {run['setting']} | {run['source']} | {run['wall_seconds']:.2f} | "
              f"{run['peak_rss_mb']:,.0f} | {per_token:.0f} | {run['vocabulary']} |")
    for run in results["runs"]:
        for note in run.get("notes", []):
            print(f"\n{run['tool']} {run['setting']} ({run['source']}): {note}")


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="w2vfast-counting-bench-") as scratch:
        workdir = Path(args.workdir or scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run_all(args, workdir)
    print_report(args, results)
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == OURS_CHILD:
        ours_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif len(sys.argv) > 1 and sys.argv[1] == GENSIM_CHILD:
        gensim_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        main()
