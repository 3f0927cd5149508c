"""A billion words on one machine: build the corpus, train one epoch of SG+NS on it from disk, kill
the run with SIGKILL halfway and resume it, and compare the training rate with the small corpus's.

    python benchmarks/billion.py --workdir DIR [--corpus PATH] [--copies 60] [--junk-every 20]
                                 [--vocab-memory 1G] [--threads N] [--kill-after 300] [--checkpoint-every 1]
                                 [--keep]

The corpus is ``--corpus`` (wiki17m.txt) cut into lines of 1,000 words, written ``--copies`` times,
each copy's lines in another random order, with a random 12-hex-digit token (seen once) after
every ``--junk-every``-th word. It is written into DIR and deleted at the end unless ``--keep``.
Runs, each its own process measured whole (wall time, peak RSS):
1. one epoch on ``--corpus`` itself, for the rate to compare with;
2. one epoch on the big corpus, ``--disk-corpus DIR`` and ``--vocab-memory``, to its end;
3. the same run again with a checkpoint every ``--checkpoint-every`` minutes, killed with SIGKILL after ``--kill-after``
   seconds, then ``--resume``: it must finish, and its vocabulary must equal run 2's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.measure import existing_file, positive, run_measured, usable_cores  # noqa: E402

LINE_WORDS = 1000
SEED = 23
TRAIN = ["--model", "sg", "--epochs", "1", "--sample", "1e-4", "--min-count", "5"]
RATE = re.compile(r"trained ([\d,]+) words in ([\d.]+) s \(([\d.]+)M words/s")
READ = re.compile(r"corpus: ([\d,]+) words, vocabulary ([\d,]+) words, read in ([\d.]+) s")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="room for the corpus (about 7 GB) and the ids (4 GB)")
    parser.add_argument("--corpus", type=existing_file, default=str(REPO.parent / "shared" / "data" / "wiki17m.txt"))
    parser.add_argument("--copies", type=positive, default=60)
    parser.add_argument("--junk-every", type=positive, default=20)
    parser.add_argument("--vocab-memory", default="1G")
    parser.add_argument("--threads", type=positive, default=usable_cores())
    parser.add_argument("--kill-after", type=float, default=300.0)
    parser.add_argument("--checkpoint-every", default="1", help="minutes, in the killed run")
    parser.add_argument("--keep", action="store_true", help="keep the big corpus afterwards")
    return parser.parse_args(argv)


def write_big_corpus(corpus: str, path: Path, copies: int, junk_every: int) -> dict:
    """``copies`` shuffled copies of ``corpus``'s 1,000-word lines, junk tokens mixed in."""
    import numpy as np

    words = Path(corpus).read_bytes().split()
    lines = [words[i:i + LINE_WORDS] for i in range(0, len(words), LINE_WORDS)]
    rng = np.random.default_rng(SEED)
    junk_tokens = 0
    with open(path, "wb") as out:
        for _ in range(copies):
            for index in rng.permutation(len(lines)).tolist():
                line = list(lines[index])
                n_junk = len(line) // junk_every
                at = np.sort(rng.choice(len(line), size=n_junk, replace=False)).tolist()
                junk = [b"%012x" % j for j in rng.integers(0, 16**12, size=n_junk, dtype=np.int64).tolist()]
                for offset, (position, token) in enumerate(zip(at, junk)):
                    line.insert(position + offset + 1, token)
                out.write(b" ".join(line) + b"\n")
                junk_tokens += n_junk
    return {"bytes": path.stat().st_size, "words": copies * len(words) + junk_tokens, "junk_tokens": junk_tokens}


def command(*args: str) -> list[str]:
    # The console script's entry point: it ends without the interpreter's teardown, as `w2vfast` does.
    return [sys.executable, "-c", "from w2vfast.cli import run; run()", *args]


def environment() -> dict:
    python_path = [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
    return dict(os.environ, PYTHONPATH=os.pathsep.join(python_path))


def figures_of(log: Path) -> dict:
    text = log.read_text(errors="replace")
    figures = {}
    if (found := READ.search(text)) is not None:
        figures.update(corpus_words=int(found[1].replace(",", "")), vocab=int(found[2].replace(",", "")),
                       read_seconds=float(found[3]))
    if (found := RATE.search(text)) is not None:
        figures.update(train_seconds=float(found[2]), rate_m=float(found[3]))
    figures["notes"] = [line for line in text.splitlines() if line.startswith("counting:")]
    return figures


def measured(argv: list[str], log: Path) -> dict:
    result = run_measured(argv, environment(), str(log))
    if result.exit_code != 0:
        sys.exit(f"{log.stem} failed (exit {result.exit_code}); the end of {log}:\n{log.read_text()[-2000:]}")
    figures = figures_of(log)
    figures.update(wall_seconds=result.wall_seconds, peak_rss_mb=result.peak_rss_mb)
    print(f"  {log.stem}: {json.dumps(figures)}", flush=True)
    return figures


def killed_and_resumed(args: argparse.Namespace, big: Path, workdir: Path) -> dict:
    """Run 3: start, SIGKILL after ``--kill-after`` seconds, resume from the last checkpoint."""
    checkpoint, output = workdir / "killed.ckpt", workdir / "killed.bin"
    for stale in (checkpoint, output):
        stale.unlink(missing_ok=True)
    argv = command("train", str(big), "-o", str(output), *TRAIN, "--threads", str(args.threads),
                   "--disk-corpus", str(workdir), "--vocab-memory", args.vocab_memory,
                   "--checkpoint", str(checkpoint), "--checkpoint-every", args.checkpoint_every)
    with open(workdir / "killed.log", "wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=environment())
        time.sleep(args.kill_after)
        if process.poll() is not None:
            sys.exit("the run ended before it could be killed: give a smaller --kill-after")
        process.send_signal(signal.SIGKILL)
        process.wait()
    if not checkpoint.exists():
        sys.exit("no checkpoint was written before the kill: give a larger --kill-after")
    resumed = measured(command("train", "--resume", str(checkpoint), "--disk-corpus", str(workdir),
                               "--vocab-memory", args.vocab_memory), workdir / "resumed.log")
    resumed.update(killed_after_seconds=args.kill_after,
                   words_trained_before_the_kill=resumed["corpus_words"] - int(RATE.search(
                       (workdir / "resumed.log").read_text(errors="replace"))[1].replace(",", "")))
    from w2vfast import KeyedVectors

    vocab_lines = (workdir / "big.vocab").read_text(errors="surrogateescape").splitlines()
    words = [line.rsplit(" ", 1)[0] for line in vocab_lines]
    resumed["same_vocabulary_as_run_2"] = KeyedVectors.load(str(output)).index_to_key == words
    return resumed


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    big = workdir / "billion.txt"
    results = {}
    try:
        start = time.perf_counter()
        print(f"writing {big} ...", flush=True)
        results["corpus"] = write_big_corpus(args.corpus, big, args.copies, args.junk_every)
        results["corpus"]["write_seconds"] = time.perf_counter() - start
        print(f"  {json.dumps(results['corpus'])}", flush=True)
        common = [*TRAIN, "--threads", str(args.threads)]
        measured(command("train", args.corpus, "-o", str(workdir / "warm-up.bin"), *common), workdir / "warm-up.log")
        results["small"] = measured(command("train", args.corpus, "-o", str(workdir / "small.bin"), *common),
                                    workdir / "small.log")
        results["big"] = measured(command("train", str(big), "-o", str(workdir / "big.bin"), *common,
                                          "--disk-corpus", str(workdir), "--vocab-memory", args.vocab_memory,
                                          "--save-vocab", str(workdir / "big.vocab")), workdir / "big.log")
        results["resumed"] = killed_and_resumed(args, big, workdir)
    finally:
        if not args.keep:
            big.unlink(missing_ok=True)
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
