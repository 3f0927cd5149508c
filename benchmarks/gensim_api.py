"""gensim's ``Word2Vec`` code run by gensim and by w2vfast (the import changed), and continued training.

    python benchmarks/gensim_api.py [--parts speed continued loss] [--words N] [--epochs 1]
                                    [--continued-epochs 5] [--threads 2] [--repeats 1] [--skip-gensim]
                                    [--corpus PATH] [--questions PATH] [--wordsim PATH] [--workdir DIR]

Every run is a process of its own, measured whole (wall time, peak RSS, through ``launch.py``), and
the same child code serves both tools: only ``from ... import Word2Vec`` differs. Settings: SG+NS,
dim 100, window 5, negative 5, sample 1e-4, min_count 5, alpha 0.025 to gensim's min_alpha 1e-4.

- speed: ``Word2Vec(sentences=...)`` on the corpus as a list of 10,000-word lists of str, which each
  process builds before the clock starts (the words interned, so the list costs both tools the same
  memory), then ``Word2Vec(corpus_file=...)``. The figure compared is the time of the ``Word2Vec``
  call, vocabulary and training together; w2vfast first runs once untimed, so that its compiled code
  is cached. Each run's vectors are judged.
- continued: w2vfast trains on the first half of the corpus (A, saved with ``save``), goes on with the
  second half by ``build_vocab(update=True)`` and ``train`` (B) and by ``w2vfast train --init A``
  (C), and trains on the whole (W), each half and the whole for ``--continued-epochs``. Each is
  judged by analogy accuracy (the 30,000 most frequent words) and WordSim-353, and overlap@10 says,
  for each of A's 10,000 most frequent words, how many of its 10 nearest neighbours in A are still
  among its 10 nearest after the update (averaged, as a share).
- loss: paired runs of w2vfast with and without ``compute_loss=True``, in alternating order; the
  ratio of their training times (``TrainStats``).

``--words N`` takes the corpus's first N words, for a quick check. It prints markdown tables and
writes every figure to ``gensim_api.json`` in the work folder (kept with ``--workdir``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.jobs import print_result, read_result  # noqa: E402
from benchmarks.measure import existing_file, positive, run_measured, usable_cores, write_slice  # noqa: E402

CHILD = "--child"
DATA = REPO.parent / "shared" / "data"
SENTENCE_WORDS = 10_000
SETTINGS = dict(sg=1, hs=0, negative=5, vector_size=100, window=5, sample=1e-4, min_count=5, alpha=0.025,
                min_alpha=0.0001)
ANALOGY_VOCAB = 30_000
OVERLAP_WORDS, OVERLAP_TOPN = 10_000, 10


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", choices=["speed", "continued", "loss"], default=["speed", "continued"])
    parser.add_argument("--words", type=positive, help="the corpus's first N words only [default: all]")
    parser.add_argument("--epochs", type=positive, default=1, help="epochs of the speed and loss runs")
    parser.add_argument("--continued-epochs", type=positive, default=5, help="epochs of each continued-training run")
    parser.add_argument("--threads", type=positive, default=usable_cores(), help="workers= of every run")
    parser.add_argument("--repeats", type=positive, default=1, help="runs of each speed figure; pairs of the loss A/B")
    parser.add_argument("--skip-gensim", action="store_true", help="w2vfast alone")
    parser.add_argument("--corpus", type=existing_file, default=str(DATA / "wiki17m.txt"))
    parser.add_argument("--questions", type=existing_file, default=str(DATA / "questions-words.txt"))
    parser.add_argument("--wordsim", type=existing_file, default=str(DATA / "wordsim353.tsv"))
    parser.add_argument("--workdir", help="keep the vectors, models, logs and JSON here [default: a temporary folder]")
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# The children: one run each, in a process of its own
# ---------------------------------------------------------------------------------------------

def word2vec_class(tool: str):
    """The only line that differs between the tools."""
    if tool == "gensim":
        from gensim.models import Word2Vec
    else:
        from w2vfast import Word2Vec
    return Word2Vec


def sentence_lists(corpus: str) -> list[list[str]]:
    """The corpus as gensim's ``Text8Corpus`` gives it: lists of 10,000 words (str), line breaks
    ignored. Read a block at a time and interned, so that no second copy of every word is held."""
    words, carry = [], ""
    with open(corpus, encoding="utf-8") as text:
        while block := text.read(1 << 22):
            block = carry + block
            cut = max(block.rfind(" "), block.rfind("\n")) + 1
            words += map(sys.intern, block[:cut].split())
            carry = block[cut:]
    words += map(sys.intern, carry.split())
    return [words[i:i + SENTENCE_WORDS] for i in range(0, len(words), SENTENCE_WORDS)]


def word_count(path: str) -> int:
    """The whitespace-separated words of a file, counted without making them."""
    import numpy as np

    spaces = np.isin(np.fromfile(path, dtype=np.uint8), list(b" \t\n\r\x0b\x0c"))
    return int(np.count_nonzero(~spaces[1:] & spaces[:-1]) + (len(spaces) > 0 and not spaces[0]))


def train_child(request: dict) -> None:
    """``Word2Vec(...)`` on a list or a file; writes the vectors, and the model when asked."""
    Word2Vec = word2vec_class(request["tool"])
    start = time.perf_counter()
    corpus = {"sentences": sentence_lists(request["corpus"])} if request["source"] == "list" \
        else {"corpus_file": request["corpus"]}
    prepare_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model = Word2Vec(**corpus, **request["options"])
    seconds = time.perf_counter() - start
    model.wv.save_word2vec_format(request["output"], binary=True)
    if request.get("model"):
        model.save(request["model"])
    stats = getattr(model, "stats", None)
    print_result(prepare_seconds=prepare_seconds, seconds=seconds, vocabulary=len(model.wv),
                 train_seconds=stats.train_seconds if stats else None, jit_seconds=stats.jit_seconds if stats else None)


def update_child(request: dict) -> None:
    """gensim's online update: load, ``build_vocab(update=True)``, ``train``; writes the vectors."""
    Word2Vec = word2vec_class(request["tool"])
    start = time.perf_counter()
    model = Word2Vec.load(request["model"])
    model.build_vocab(corpus_file=request["corpus"], update=True)
    model.train(corpus_file=request["corpus"], total_words=model.corpus_total_words, epochs=request["epochs"])
    seconds = time.perf_counter() - start
    model.wv.save_word2vec_format(request["output"], binary=True)
    print_result(seconds=seconds, vocabulary=len(model.wv))


# ---------------------------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------------------------

class Bench:
    """The work folder, the children's environment, and each run's figures."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args, self.workdir = args, workdir
        python_path = [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(python_path))
        self.options = dict(SETTINGS, workers=args.threads)

    def run(self, tag: str, argv: list[str]) -> dict:
        """One measured process; its own figures, and whether it failed (with the end of its log)."""
        log = self.workdir / f"{tag}.log"
        measured = run_measured(argv, self.env, str(log))
        text = log.read_text(errors="replace")
        figures = dict(read_result(text), wall_seconds=measured.wall_seconds, peak_rss_mb=measured.peak_rss_mb)
        if measured.exit_code != 0:
            figures["failed"] = text.strip().splitlines()[-1] if text.strip() else f"exit {measured.exit_code}"
        print(f"  {tag}: {measured.wall_seconds:.2f} s, {measured.peak_rss_mb:.0f} MB"
              + (f", FAILED: {figures['failed']}" if "failed" in figures else ""), flush=True)
        return figures

    def child(self, tag: str, kind: str, **request) -> dict:
        return self.run(tag, [sys.executable, str(Path(__file__).resolve()), CHILD, kind, json.dumps(request)])

    def train(self, tag: str, tool: str, source: str, corpus: str, epochs: int, judge: bool = True, **extra) -> dict:
        output = str(self.workdir / f"{tag}.bin")
        figures = self.child(tag, "train", tool=tool, source=source, corpus=corpus, output=output,
                             options=dict(self.options, epochs=epochs, **extra.pop("options", {})), **extra)
        if judge and "failed" not in figures:
            figures.update(judged(output, self.args))
        return figures


def judged(vectors_path: str, args: argparse.Namespace) -> dict:
    """Analogy accuracy over the 30,000 most frequent words and WordSim-353's Spearman, by w2vfast's evaluator."""
    from w2vfast import KeyedVectors

    vectors = KeyedVectors.load(vectors_path)
    analogy, _ = vectors.evaluate_word_analogies(args.questions, restrict_vocab=ANALOGY_VOCAB)
    (_, _), (spearman, _), _ = vectors.evaluate_word_pairs(args.wordsim)
    return {"analogy": analogy, "wordsim": spearman if spearman == spearman else None, "vocabulary": len(vectors)}


def nearest(vectors, words: list[str], topn: int) -> list[set[str]]:
    """Each word's ``topn`` nearest neighbours by cosine, itself left out, a block of words at a time."""
    import numpy as np

    units = vectors.vectors / np.maximum(vectors.norms, np.finfo(np.float32).tiny)[:, None]
    found = []
    for start in range(0, len(words), 1024):
        rows = np.array([vectors.get_index(w) for w in words[start:start + 1024]])
        scores = units[rows] @ units.T
        scores[np.arange(len(rows)), rows] = -np.inf
        best = np.argpartition(-scores, topn, axis=1)[:, :topn]
        found += [{vectors.index_to_key[i] for i in row} for row in best.tolist()]
    return found


def overlap(before_path: str, after_path: str) -> float:
    """The share of the ``OVERLAP_TOPN`` nearest neighbours of the first file's ``OVERLAP_WORDS`` most
    frequent words that are still theirs in the second file."""
    from w2vfast import KeyedVectors

    before, after = KeyedVectors.load(before_path), KeyedVectors.load(after_path)
    words = [w for w in before.index_to_key[:OVERLAP_WORDS] if w in after]
    kept = [len(a & b) for a, b in zip(nearest(before, words, OVERLAP_TOPN), nearest(after, words, OVERLAP_TOPN))]
    return sum(kept) / (OVERLAP_TOPN * len(words)) if words else 0.0


def measure_speed(bench: Bench, corpus: str) -> dict:
    args = bench.args
    tools = ["w2vfast"] + ([] if args.skip_gensim else ["gensim"])
    print("speed:", flush=True)
    warm_up = str(bench.workdir / "warm-up.txt")
    write_slice(corpus, warm_up, 100_000)
    bench.train("w2vfast-warm-up", "w2vfast", "file", warm_up, 1, judge=False)
    results = {}
    for source in ("list", "file"):
        for repeat in range(args.repeats):
            for tool in tools:
                run = bench.train(f"{tool}-{source}-run{repeat + 1}", tool, source, corpus, args.epochs,
                                  judge=repeat == args.repeats - 1)
                results.setdefault(f"{tool}-{source}", []).append(run)
    return results


def measure_continued(bench: Bench, corpus: str) -> dict:
    args, folder = bench.args, bench.workdir
    epochs = args.continued_epochs
    text = Path(corpus).read_bytes()
    middle = text.index(b" ", len(text) // 2)  # the halves are cut at a space near the middle byte
    halves = [folder / "first-half.txt", folder / "second-half.txt"]
    halves[0].write_bytes(text[:middle] + b"\n")
    halves[1].write_bytes(text[middle + 1:])
    print(f"continued training, {epochs} epochs a run:", flush=True)
    model = str(folder / "first-half.model")
    results = {"A first half": bench.train("first-half", "w2vfast", "file", str(halves[0]), epochs, model=model)}
    updated = bench.child("update", "update", tool="w2vfast", model=model, corpus=str(halves[1]),
                          output=str(folder / "update.bin"), epochs=epochs)
    results["B update=True"] = updated if "failed" in updated else dict(updated, **judged(str(folder / "update.bin"),
                                                                                          args))
    init = bench.run("init", [sys.executable, "-c", "from w2vfast.cli import run; run()", "train", str(halves[1]),
                              "--init", model, "--epochs", str(epochs), "-o", str(folder / "init.bin"), "--quiet"])
    results["C --init"] = init if "failed" in init else dict(init, **judged(str(folder / "init.bin"), args))
    results["W whole"] = bench.train("whole", "w2vfast", "file", corpus, epochs)
    for name, tag in (("B update=True", "update"), ("C --init", "init"), ("W whole", "whole")):
        if "failed" not in results[name]:
            results[name]["overlap@10"] = overlap(str(folder / "first-half.bin"), str(folder / f"{tag}.bin"))
    return results


def measure_loss(bench: Bench, corpus: str) -> dict:
    print("loss on and off, in pairs:", flush=True)
    pairs = []
    for repeat in range(bench.args.repeats):
        order = (True, False) if repeat % 2 == 0 else (False, True)
        runs = {}
        for on in order:
            runs[on] = bench.train(f"loss-{'on' if on else 'off'}-pair{repeat + 1}", "w2vfast", "list", corpus,
                                   bench.args.epochs, judge=False, options={"compute_loss": on})
            if "failed" in runs[on]:
                return {"failed": runs[on]["failed"]}
        pairs.append(runs[True]["train_seconds"] / runs[False]["train_seconds"])
    return {"ratios": pairs, "median": statistics.median(pairs)}


def print_report(results: dict) -> None:
    speed = results.get("speed")
    if speed:
        print(f"\n{results['words']:,} words, SG+NS, {results['threads']} workers, {results['epochs']} epoch(s); "
              "seconds of the Word2Vec(...) call (vocabulary and training), median of the runs\n")
        print("| tool | corpus | Word2Vec(...) s | × w2vfast's | wall s | peak RSS MB | analogy | WS-353 |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, runs in speed.items():
            tool, source = name.split("-")
            shown = "list of lists" if source == "list" else "corpus_file"
            failed = next((run["failed"] for run in runs if "failed" in run), None)
            if failed is not None:
                print(f"| {tool} | {shown} | failed: {failed} | | | | | |")
                continue
            ours = speed[f"w2vfast-{source}"]
            ratio = "" if any("failed" in run for run in ours) else \
                f"{median(runs, 'seconds') / median(ours, 'seconds'):.2f}"
            print(f"| {tool} | {shown} | {median(runs, 'seconds'):.2f} | {ratio} | "
                  f"{median(runs, 'wall_seconds'):.2f} | {max(run['peak_rss_mb'] for run in runs):,.0f} | "
                  f"{quality(runs[-1])} |")
    continued = results.get("continued")
    if continued:
        print(f"\ncontinued training, {results['continued_epochs']} epochs a run; overlap@10 against A, over its "
              f"{OVERLAP_WORDS:,} most frequent words\n")
        print("| run | vocabulary | analogy | WS-353 | overlap@10 |")
        print("| --- | --- | --- | --- | --- |")
        for name, run in continued.items():
            share = run.get("overlap@10")
            print(f"| {name} | {run.get('vocabulary', '')} | {quality(run)} | "
                  f"{'' if share is None else f'{100 * share:.1f}%'} |")
    loss = results.get("loss")
    if loss:
        print("\nloss: " + (f"not measured: {loss['failed']}" if "failed" in loss else
                            f"training time with / without, median {loss['median']:.3f} "
                            f"(pairs: {', '.join(f'{r:.3f}' for r in loss['ratios'])})"))


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def quality(run: dict) -> str:
    """The analogy and WS-353 cells of a judged run."""
    if "failed" in run:
        return f"failed: {run['failed']} |"
    if "analogy" not in run:
        return "| "
    wordsim = run["wordsim"]
    return f"{100 * run['analogy']:.1f}% | " + ("-" if wordsim is None else f"{wordsim:.3f}")


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="w2vfast-gensim-api-") as scratch:
        workdir = Path(args.workdir or scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        corpus = args.corpus
        if args.words is not None:
            corpus = str(workdir / "corpus.txt")
            write_slice(args.corpus, corpus, args.words)
        bench = Bench(args, workdir)
        results = {"corpus": corpus, "words": word_count(corpus), "threads": args.threads,
                   "epochs": args.epochs, "continued_epochs": args.continued_epochs}
        for part, measure in (("speed", measure_speed), ("continued", measure_continued), ("loss", measure_loss)):
            if part in args.parts:
                results[part] = measure(bench, corpus)
        (workdir / "gensim_api.json").write_text(json.dumps(results, indent=1))
    print_report(results)
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == CHILD:
        {"train": train_child, "update": update_child}[sys.argv[2]](json.loads(sys.argv[3]))
    else:
        main()
