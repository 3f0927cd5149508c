"""w2vfast phrases side by side with word2phrase and gensim's Phrases, on one corpus, in one command.

    python benchmarks/phrases.py [--corpus PATH] [--min-count 5] [--threshold 100] [--threads N]
                                 [--skip-gensim] [--repeats 1] [--workdir DIR]

Each tool runs in a process of its own, measured whole (wall time, peak RSS): w2vfast (once untimed
first, to fill Numba's cache), word2phrase, and gensim (``Phrases``, ``freeze()``, then the corpus
written phrased); with ``--repeats N`` each N times, its wall time the median. Then it checks that
word2phrase wrote the same tokens as w2vfast, once its two known quirks are applied to ours, and it
accounts for every difference between gensim's phrases and ours. It prints a markdown table and
returns the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.jobs import print_result, read_result  # noqa: E402
from benchmarks.measure import Measurement, plain_text_file, positive, run_measured, usable_cores  # noqa: E402
from benchmarks.tools import W2vfast, package_version  # noqa: E402

GENSIM_CHILD = "--gensim-child"
DELIMITER = "_"
WORD2PHRASE_WORD_BYTES = 58  # word2phrase keeps a word's first MAX_STRING - 2 bytes
SENTENCE_TOKENS = 10_000  # gensim's sentences: Text8Corpus's and LineSentence's max_sentence_length
SHOWN = 5
# argv[1] becomes the working folder, then argv[2:] replaces the process (so it is what is measured).
CHANGE_FOLDER_AND_RUN = "import os, sys; os.chdir(sys.argv[1]); os.execv(sys.argv[2], sys.argv[2:])"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=plain_text_file, default=str(REPO.parent / "shared" / "data" / "wiki17m.txt"))
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=100.0)
    parser.add_argument("--threads", type=positive, default=usable_cores(), help="w2vfast's [default: all cores]")
    parser.add_argument("--skip-gensim", action="store_true", help="w2vfast and word2phrase only")
    parser.add_argument("--repeats", type=positive, default=1,
                        help="runs of each tool; its wall time is their median, its peak RSS their largest")
    parser.add_argument("--workdir", help="keep the outputs and logs here [default: a temporary folder]")
    return parser.parse_args(argv)


def word2phrase_binary() -> str:
    """The word2phrase that ``pip install word2vec`` builds beside this Python, else PATH's."""
    found = shutil.which("word2phrase", path=sysconfig.get_path("scripts")) or shutil.which("word2phrase")
    if found is None:
        sys.exit("word2phrase is not installed (pip install word2vec)")
    return found


def measured(argv: list[str], log: Path) -> Measurement:
    """``argv`` measured whole (``measure.run_measured``), this checkout first on PYTHONPATH; a
    failure ends the benchmark with the end of its log."""
    python_path = [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
    result = run_measured(argv, dict(os.environ, PYTHONPATH=os.pathsep.join(python_path)), str(log))
    if result.exit_code != 0:
        sys.exit(f"{log.stem} failed (exit {result.exit_code}); the end of {log}:\n{log.read_text()[-2000:]}")
    print(f"  {log.stem}: {result.wall_seconds:.2f} s, {result.peak_rss_mb:.0f} MB", flush=True)
    return result


# ---------------------------------------------------------------------------------------------
# word2phrase's output against ours
# ---------------------------------------------------------------------------------------------

def token_lines(path: Path) -> list[list[bytes]]:
    """The whitespace-separated tokens of each line, without the empty lines at the end."""
    lines = [line.split() for line in path.read_bytes().split(b"\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def ends_in_whitespace(path: str) -> bool:
    """Whether the file's last byte is whitespace (or it is empty)."""
    with open(path, "rb") as handle:
        if handle.seek(0, os.SEEK_END) == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1).isspace()


def as_word2phrase_writes(lines: list[list[bytes]], splits: dict[bytes, int], corpus_ends_in_whitespace: bool):
    """Our output's tokens as word2phrase would write them: without the corpus's last word where
    the corpus does not end in whitespace (word2phrase reads that word together with the end of the
    file and drops it), and every word cut to its first 58 bytes (the words of a phrase each on its
    own, as word2phrase cuts words as it reads them). ``splits``: each phrase's left-word bytes.

    Not applied: word2phrase also cuts the pair it counts, ``a_b``, to 59 bytes, so that pairs of long
    words which agree in those bytes share one count. On wiki17m no pair that long joins two words of
    --min-count occurrences."""
    delimiter = DELIMITER.encode()
    if not corpus_ends_in_whitespace and lines:
        last = lines[-1].pop()
        if last in splits:
            lines[-1].append(last[:splits[last]])
        while lines and not lines[-1]:
            lines.pop()

    def cut(token: bytes) -> bytes:
        if token not in splits:
            return token[:WORD2PHRASE_WORD_BYTES]
        left, right = token[:splits[token]], token[splits[token] + len(delimiter):]
        return left[:WORD2PHRASE_WORD_BYTES] + delimiter + right[:WORD2PHRASE_WORD_BYTES]

    for number, line in enumerate(lines):
        if max(map(len, line), default=0) > WORD2PHRASE_WORD_BYTES:
            lines[number] = [cut(token) if len(token) > WORD2PHRASE_WORD_BYTES else token for token in line]
    return lines


def compare_outputs(corpus: str, ours_output: Path, theirs_output: Path, ours: dict[str, tuple]) -> dict:
    """word2phrase's output against ours, word2phrase's quirks applied to ours; with the distinct
    phrases each output holds."""
    splits = {phrase.encode("utf-8", "surrogateescape"): len(left.encode("utf-8", "surrogateescape"))
              for phrase, (left, _, _, _) in ours.items()}
    our_lines, their_lines = token_lines(ours_output), token_lines(theirs_output)
    phrases_in_output = {"w2vfast": distinct_phrases(our_lines), "word2phrase": distinct_phrases(their_lines)}
    corpus_ends_in_whitespace = ends_in_whitespace(corpus)
    compared = compare_tokens(as_word2phrase_writes(our_lines, splits, corpus_ends_in_whitespace), their_lines)
    return dict(compared, corpus_ends_in_whitespace=corpus_ends_in_whitespace, phrases_in_output=phrases_in_output)


def compare_tokens(ours: list[list[bytes]], theirs: list[list[bytes]]) -> dict:
    """Token by token, line by line: how many tokens each has, how many differ, the first few that do.
    Position by position: a token more or fewer in a line makes all after it in that line differ."""
    differing, first = 0, []
    for number, (mine, other) in enumerate(itertools.zip_longest(ours, theirs, fillvalue=[]), 1):
        if mine == other:
            continue
        for position, (a, b) in enumerate(itertools.zip_longest(mine, other), 1):
            if a != b:
                differing += 1
                if len(first) < SHOWN:
                    first.append({"line": number, "token": position, "ours": show(a), "word2phrase": show(b)})
    return {"tokens_ours": sum(map(len, ours)), "tokens_word2phrase": sum(map(len, theirs)),
            "differing": differing, "first_differences": first}


def show(token: bytes | None) -> str:
    return "(none)" if token is None else token.decode("utf-8", "backslashreplace")


def distinct_phrases(lines: list[list[bytes]]) -> int:
    """Distinct tokens holding the delimiter: the phrases a tool wrote (the corpus's own words
    holding it would count too; wiki17m has none)."""
    delimiter = DELIMITER.encode()
    return len({token for line in lines for token in line if delimiter in token})


# ---------------------------------------------------------------------------------------------
# gensim, in a process of its own
# ---------------------------------------------------------------------------------------------

def gensim_child(request_path: str) -> None:
    """Count with ``Phrases``, freeze, write the corpus phrased; hand back the times, gensim's
    phrases and the counts behind every score (``print_result``). The pairs of ``request_path``
    are looked up in gensim's vocabulary too, for the comparison with ours."""
    from gensim.models.phrases import Phrases
    from gensim.models.word2vec import LineSentence, Text8Corpus

    from benchmarks.gensim_runner import has_line_breaks

    with open(request_path) as handle:
        request = json.load(handle)
    one_line = not has_line_breaks(request["corpus"])
    sentences = Text8Corpus(request["corpus"]) if one_line else LineSentence(request["corpus"])
    start = time.perf_counter()
    phrases = Phrases(sentences, min_count=request["min_count"], threshold=request["threshold"],
                      delimiter=DELIMITER)
    count_seconds = time.perf_counter() - start
    start = time.perf_counter()
    frozen = phrases.freeze()
    n_sentences = 0
    with open(request["output"], "w", encoding="utf-8") as out:
        for sentence in sentences:
            out.write(" ".join(frozen[sentence]) + "\n")
            n_sentences += 1
    apply_seconds = time.perf_counter() - start
    vocab = phrases.vocab

    def counts(left: str, right: str) -> list[int]:
        return [vocab.get(left, 0), vocab.get(right, 0), vocab.get(left + DELIMITER + right, 0)]

    found = {}
    for phrase, score in frozen.phrasegrams.items():
        words = phrase.split(DELIMITER)
        found[phrase] = counts(words[0], words[-1]) + [score]
    print_result(count_seconds=count_seconds, apply_seconds=apply_seconds, one_line=one_line,
                 sentences=n_sentences, len_vocab=len(vocab), corpus_words=phrases.corpus_word_count,
                 phrases=found, our_pair_counts=[counts(left, right) for left, right in request["pairs"]])


def repeated(run, repeats: int) -> dict:
    """``run(k)`` for k = 1 .. ``repeats``, each a dict of figures: the last one's, with the median
    wall time, the largest peak RSS and every run's wall time (``wall_runs``)."""
    runs = [run(k) for k in range(1, repeats + 1)]
    walls = [figures["wall_seconds"] for figures in runs]
    return dict(runs[-1], wall_seconds=statistics.median(walls), wall_runs=walls,
                peak_rss_mb=max(figures["peak_rss_mb"] for figures in runs))


def run_gensim(args: argparse.Namespace, workdir: Path, ours: dict[str, tuple], run: int) -> dict:
    """``gensim_child`` measured whole; what it handed back, with its wall time and peak RSS."""
    request = workdir / "gensim-request.json"
    pairs = [[left, right] for left, right, _, _ in ours.values()]
    request.write_text(json.dumps({"corpus": args.corpus, "output": str(workdir / "gensim.txt"),
                                   "min_count": args.min_count, "threshold": args.threshold, "pairs": pairs}))
    log = workdir / f"gensim-{run}.log"
    result = measured([sys.executable, str(Path(__file__).resolve()), GENSIM_CHILD, str(request)], log)
    figures = read_result(log.read_text(errors="replace"))
    figures.update(wall_seconds=result.wall_seconds, peak_rss_mb=result.peak_rss_mb)
    return figures


def scored(pair_count: int, left_count: int, right_count: int, min_count: int, factor: int) -> float:
    """word2phrase's and gensim's default score, differing only in ``factor``: (count(ab) -
    min_count) / (count(a) * count(b)) * factor, as gensim's ``original_scorer`` computes it."""
    denominator = left_count * right_count
    return (pair_count - min_count) / float(denominator) * factor if denominator else float("-inf")


def compare_phrase_sets(ours: dict[str, tuple], gensim: dict, min_count: int, threshold: float) -> dict:
    """Our phrases (pass 1) against gensim's, each difference accounted for.

    gensim's score multiplies by ``len(phrases.vocab)`` (its unigrams and bigrams), word2phrase's and
    ours by the words of the corpus. ``predicted``: our phrases that pass with gensim's factor, from
    our pair counts and gensim's unigram counts. A difference is explained by the factor when our
    phrase is not predicted, or when gensim's phrase, rescored from gensim's counts with our factor,
    does not pass. The rest are explained by the counts where gensim's own pair count, with its
    factor, gives gensim's verdict (its sentence cuts lose a few occurrences); else unexplained.
    """
    factor, words = gensim["len_vocab"], gensim["corpus_words"]
    theirs = {phrase: tuple(counts) for phrase, counts in gensim["phrases"].items()}
    gensim_counts = {phrase: tuple(counts) for phrase, counts in zip(ours, gensim["our_pair_counts"])}
    predicted, recounted, fewer = set(), [], 0
    for phrase, (_, _, count, _) in ours.items():
        left_count, right_count, gensim_count = gensim_counts[phrase]
        if scored(count, left_count, right_count, min_count, factor) > threshold:
            predicted.add(phrase)
        if gensim_count != count:
            recounted.append(phrase)
            fewer += count - gensim_count
    by_factor, by_counts, unexplained = 0, [], []
    for phrase in sorted((predicted ^ theirs.keys()) | (ours.keys() ^ theirs.keys())):
        in_gensim = phrase in theirs
        left_count, right_count, gensim_count = (theirs if in_gensim else gensim_counts)[phrase][:3]
        passes_with_gensims_counts = scored(gensim_count, left_count, right_count, min_count, factor) > threshold
        if phrase in ours and not in_gensim and phrase not in predicted:
            by_factor += 1
        elif phrase not in ours and scored(gensim_count, left_count, right_count, min_count, words) <= threshold:
            by_factor += 1
        elif phrase in ours and passes_with_gensims_counts == in_gensim:
            by_counts.append(phrase_detail(phrase, ours, theirs, gensim_counts, min_count, factor))
        else:
            unexplained.append(phrase_detail(phrase, ours, theirs, gensim_counts, min_count, factor))
    both = len(ours.keys() & theirs.keys())
    return {"ours": len(ours), "gensim": len(theirs), "both": both, "ours_only": len(ours) - both,
            "gensim_only": len(theirs) - both, "predicted": len(predicted),
            "predicted_differences": len(predicted ^ theirs.keys()), "explained_by_factor": by_factor,
            "explained_by_counts": by_counts, "unexplained": unexplained, "len_vocab": factor,
            "corpus_words": words, "recounted": len(recounted), "recounted_examples": recounted[:SHOWN],
            "occurrences_fewer_in_gensim": fewer}


def phrase_detail(phrase: str, ours: dict[str, tuple], theirs: dict[str, tuple], gensim_counts: dict[str, tuple],
                  min_count: int, factor: int) -> dict:
    """The counts and scores behind one difference not explained by the factor, on both sides."""
    left_count, right_count, gensim_count, *score = theirs.get(phrase) or gensim_counts[phrase]
    detail = {"phrase": phrase, "ours": phrase in ours, "gensim": phrase in theirs, "count_a": left_count,
              "count_b": right_count, "gensim_count": gensim_count,
              "gensim_score": score[0] if score else scored(gensim_count, left_count, right_count, min_count, factor)}
    if phrase in ours:
        detail.update(our_count=ours[phrase][2], our_score=ours[phrase][3])
    return detail


# ---------------------------------------------------------------------------------------------
# The run and its report
# ---------------------------------------------------------------------------------------------

def our_phrases(table_path: Path) -> dict[str, tuple]:
    """The first pass of our saved table: phrase -> (left word, right word, count, score), as text
    like gensim's (bytes that are not UTF-8 kept as surrogates)."""
    from w2vfast.phrases import PhraseTable  # here, not above: gensim's process imports this file too

    def text(word: bytes) -> str:
        return word.decode("utf-8", "surrogateescape")

    return {text(left + DELIMITER.encode() + right): (text(left), text(right), count, score)
            for left, right, count, score in PhraseTable.load(str(table_path)).passes[0]}


def main(argv: list[str] | None = None) -> dict:
    """Run and compare the tools, print the report; returns its figures."""
    args = parse_args(argv)
    word2phrase = word2phrase_binary()
    with tempfile.TemporaryDirectory(prefix="w2vfast-phrases-bench-") as scratch:
        workdir = Path(args.workdir or scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run_all(args, word2phrase, workdir)
    print_report(args, results)
    return results


def run_all(args: argparse.Namespace, word2phrase: str, workdir: Path) -> dict:
    """Every run and comparison, their outputs and logs in ``workdir``."""
    ours_output, table = workdir / "w2vfast.txt", workdir / "w2vfast-phrases.tsv"
    theirs_output = workdir / "word2phrase.txt"
    counting = ["--min-count", str(args.min_count), "--threshold", repr(args.threshold)]
    # The console script's entry point: it ends without the interpreter's teardown, as `w2vfast` does.
    w2vfast = [sys.executable, "-c", "from w2vfast.cli import run; run()", "phrases", args.corpus,
               "-o", str(ours_output), "--save-phrases", str(table), "--threads", str(args.threads), *counting]
    print("runs:", flush=True)
    measured(w2vfast, workdir / "w2vfast-warm-up.log")
    results = {"w2vfast": repeated(lambda k: dataclasses.asdict(measured(w2vfast, workdir / f"w2vfast-{k}.log")),
                                   args.repeats)}
    # word2phrase copies its paths into 60-byte buffers, which a longer path overflows: it runs in
    # the work folder, on short relative names.
    corpus_link = workdir / "corpus.txt"
    corpus_link.unlink(missing_ok=True)
    corpus_link.symlink_to(Path(args.corpus).resolve())
    results["word2phrase"] = repeated(lambda k: dataclasses.asdict(measured(
        [sys.executable, "-c", CHANGE_FOLDER_AND_RUN, str(workdir), word2phrase, "-train", corpus_link.name,
         "-output", theirs_output.name, "-min-count", str(args.min_count), "-threshold", repr(args.threshold),
         "-debug", "0"], workdir / f"word2phrase-{k}.log")), args.repeats)
    ours = our_phrases(table)
    results["w2vfast"]["phrases"] = len(ours)
    results["tokens"] = compare_outputs(args.corpus, ours_output, theirs_output, ours)
    if not args.skip_gensim:
        gensim = repeated(lambda k: run_gensim(args, workdir, ours, k), args.repeats)
        results["phrase_sets"] = compare_phrase_sets(ours, gensim, args.min_count, args.threshold)
        kept = ("wall_seconds", "wall_runs", "peak_rss_mb", "count_seconds", "apply_seconds", "one_line", "sentences")
        results["gensim"] = {key: gensim[key] for key in kept}
        results["gensim"].update(phrases=len(gensim["phrases"]),
                                 phrases_in_output=distinct_phrases(token_lines(workdir / "gensim.txt")))
    return results


def print_report(args: argparse.Namespace, results: dict) -> None:
    w2vfast, word2phrase, gensim = results["w2vfast"], results["word2phrase"], results.get("gensim")
    in_output = results["tokens"]["phrases_in_output"]
    print(f"\n## Phrases: {Path(args.corpus).name} ({os.path.getsize(args.corpus):,} bytes), "
          f"min-count {args.min_count}, threshold {args.threshold:g}\n")
    print("| tool | wall s | peak RSS MB | phrases found | distinct phrases in its output |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| w2vfast {W2vfast().version()}, {args.threads} threads | {w2vfast['wall_seconds']:.2f} | "
          f"{w2vfast['peak_rss_mb']:.0f} | {w2vfast['phrases']:,} | {in_output['w2vfast']:,} |")
    print(f"| word2phrase | {word2phrase['wall_seconds']:.2f} | {word2phrase['peak_rss_mb']:.0f} | "
          f"(saves no table) | {in_output['word2phrase']:,} |")
    if gensim:
        print(f"| gensim {package_version('gensim')} (count {gensim['count_seconds']:.1f} s, freeze and apply "
              f"{gensim['apply_seconds']:.1f} s) | {gensim['wall_seconds']:.2f} | {gensim['peak_rss_mb']:.0f} | "
              f"{gensim['phrases']:,} | {gensim['phrases_in_output']:,} |")
    speed = f"word2phrase / w2vfast {word2phrase['wall_seconds'] / w2vfast['wall_seconds']:.2f}x"
    if gensim:
        speed += f", gensim / w2vfast {gensim['wall_seconds'] / w2vfast['wall_seconds']:.2f}x"
    print(f"\nWall time ratios: {speed}.")
    if args.repeats > 1:
        runs = {name: results[name]["wall_runs"] for name in ("w2vfast", "word2phrase", "gensim") if name in results}
        print("Medians of " + str(args.repeats) + " runs each; the runs: " + "; ".join(
            f"{name} {', '.join(f'{wall:.2f}' for wall in walls)} s" for name, walls in runs.items()) + ".")
    tokens = results["tokens"]
    last_word = ("" if tokens["corpus_ends_in_whitespace"] else
                 "; its last word dropped, as the corpus does not end in whitespace")
    print(f"\n**Against word2phrase**, token for token and line by line, after word2phrase's quirks were applied "
          f"to our output (every word cut to its first {WORD2PHRASE_WORD_BYTES} bytes{last_word}): "
          f"{tokens['tokens_ours']:,} tokens ours, {tokens['tokens_word2phrase']:,} word2phrase's, "
          f"**{tokens['differing']:,} differ**.")
    for difference in tokens["first_differences"]:
        print(f"- line {difference['line']}, token {difference['token']:,}: ours {difference['ours']!r}, "
              f"word2phrase {difference['word2phrase']!r}")
    if gensim:
        print_phrase_sets(results["phrase_sets"], gensim)


def print_phrase_sets(sets: dict, gensim: dict) -> None:
    if gensim["one_line"]:
        reading = (f"the corpus has no line breaks, so gensim read it as sentences of {SENTENCE_TOKENS:,} tokens "
                   f"(`Text8Corpus`, {gensim['sentences']:,} sentences), which splits the "
                   f"{gensim['sentences'] - 1:,} pairs across the cuts; w2vfast and word2phrase read the "
                   f"corpus unchanged.")
    else:
        reading = (f"gensim read the corpus's lines as sentences (`LineSentence`, lines over "
                   f"{SENTENCE_TOKENS:,} tokens cut; {gensim['sentences']:,} sentences).")
    print(f"\n**Against gensim**: {reading}\n")
    print("| phrases | ours (pass 1) | gensim's | both | ours only | gensim's only |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| count | {sets['ours']:,} | {sets['gensim']:,} | {sets['both']:,} | {sets['ours_only']:,} | "
          f"{sets['gensim_only']:,} |")
    equal = (f"differs from gensim's in {sets['predicted_differences']:,} phrases, accounted for below"
             if sets["predicted_differences"] else "equals gensim's")
    print(f"\ngensim's default score multiplies by `len(phrases.vocab)`, its unigrams and bigrams "
          f"({sets['len_vocab']:,}), where word2phrase and w2vfast multiply by the corpus's words "
          f"({sets['corpus_words']:,}). Rescored with gensim's factor from our counts, "
          f"{sets['predicted']:,} of our phrases pass: a set that {equal}.")
    by_counts = sets["explained_by_counts"]
    print(f"\nOf the {sets['ours_only'] + sets['gensim_only']:,} differences, the factor explains "
          f"{sets['explained_by_factor']:,}, gensim's own pair counts {len(by_counts):,}, and "
          f"**{len(sets['unexplained']):,} are unexplained**.")
    if sets["recounted"]:
        print(f"gensim's pair count differs for {sets['recounted']:,} of our phrases "
              f"({sets['occurrences_fewer_in_gensim']:,} occurrences fewer in all; e.g. "
              f"{', '.join(sets['recounted_examples'])}).")
    if by_counts:
        print("Those the counts explain, each of which comes out as gensim decided when rescored from "
              "gensim's counts with its factor:")
    for detail in by_counts:
        print(f"- {described(detail)}")
    if sets["unexplained"]:
        print("Unexplained:")
    for detail in sets["unexplained"]:
        print(f"- {described(detail)}")


def described(detail: dict) -> str:
    """One difference's counts and scores, in a line."""
    ours = (f"ours: count {detail['our_count']:,}, score {detail['our_score']:.2f}" if detail["ours"]
            else "not ours")
    verdict = "one of gensim's" if detail["gensim"] else "not gensim's"
    return (f"`{detail['phrase']}` ({ours}; {verdict}: count {detail['gensim_count']:,}, score "
            f"{detail['gensim_score']:.2f}; count(a) {detail['count_a']:,}, count(b) {detail['count_b']:,})")


if __name__ == "__main__":
    if sys.argv[1:2] == [GENSIM_CHILD]:
        gensim_child(sys.argv[2])
    else:
        main()
