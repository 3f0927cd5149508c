"""Turn the raw figures of ``benchmark.json`` into Markdown tables and a PNG chart."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from benchmarks.jobs import COMBOS, failed

BASELINE = "w2vfast"


def seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"


def rate(value: float) -> str:
    return f"{value / 1e6:.2f}M" if value >= 1e6 else f"{value / 1e3:.0f}k"


def megabytes(value: float) -> str:
    return f"{value:.0f} MB"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def quality_text(summary: dict) -> str:
    quality = summary.get("quality")
    if quality is None:
        return f"judging failed: {summary['quality_error']}" if "quality_error" in summary else "not judged"
    spearman = quality["wordsim_spearman"]
    analogy = f"analogy {100 * quality['analogy']:.1f}%"
    return analogy + (f", WS {spearman:.3f}" if spearman is not None else ", WS n/a")


def compared(section: dict, columns: list[str], labels: dict, figure: Callable[[dict], str],
             value: Callable[[dict], float] | None = None) -> list[list[str]]:
    """One row per tool; with ``value``, each cell also gives the tool's value over w2vfast's."""
    rows = []
    for name, by_column in section.items():
        row = [labels.get(name, name)]
        for column in columns:
            summary = by_column.get(column)
            if summary is None:
                row.append("")
                continue
            if summary.get("failed"):
                row.append(f"failed, see {summary['runs'][-1]['log']}")
                continue
            cell = figure(summary)
            base = section.get(BASELINE, {}).get(column)
            if value is not None and name != BASELINE and base and not base.get("failed"):
                cell += f", {value(summary) / value(base):.2f}×"
            row.append(cell)
        rows.append(row)
    return rows


def wall_with_spread(summary: dict) -> str:
    if len(summary["runs"]) == 1:
        return seconds(summary["wall_median"])
    return f"{seconds(summary['wall_median'])} ({summary['wall_min']:.2f}–{summary['wall_max']:.2f})"


def corpus_name(results: dict) -> str:
    corpus = results["corpus"]
    name = f"`{Path(corpus['source']).name}`"
    return f"the first {corpus['slice_words']:,} words of {name}" if results["quick"] else name


def header_lines(results: dict) -> list[str]:
    settings, corpus, machine = results["settings"], results["corpus"], results["machine"]
    versions = ", ".join(f"{results['tools'].get(name, name)} {version}"
                         for name, version in results["versions"].items() if version)
    lines = [f"# Benchmark, {results['date']}{' (quick run)' if results['quick'] else ''}", "",
             f"- Corpus: {corpus_name(results)}, {corpus['bytes']:,} bytes, "
             f"{corpus['words_in_vocabulary']:,} words in a vocabulary of {corpus['vocabulary']:,}.",
             f"- Settings: dim {settings['dim']}, window {settings['window']}, negative 5 (NS) or "
             f"hierarchical softmax alone (HS), sample {settings['sample']:g}, min-count "
             f"{settings['min_count']}, {settings['threads']} threads, alpha 0.025 (SG) / 0.05 (CBOW).",
             f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; "
             f"{machine['system']}, Python {machine['python']}.",
             f"- Versions: {versions}."]
    if results["skipped"]:
        lines.append("- Skipped: " + "; ".join(f"{why['label']} ({why['reason']})"
                                               for why in results["skipped"].values()) + ".")
    evaluation = results["evaluation"]
    if evaluation:
        lines.append(f"- Quality, judged by w2vfast's evaluator for every tool: analogy = accuracy on "
                     f"`{Path(evaluation['questions']).name}` over the {evaluation['analogy_vocab']:,} most "
                     f"frequent words; WS = Spearman correlation on `{Path(evaluation['wordsim']).name}`.")
    lines.append("- Wall time is the whole process, reading and writing included; words/s = corpus words in "
                 "the vocabulary × epochs / wall time; × = the tool's figure divided by w2vfast's.")
    return lines + [""]


def one_epoch_lines(results: dict) -> list[str]:
    section, combos, labels = results["one_epoch"], results["settings"]["combos"], results["tools"]
    header = ["tool"] + [COMBOS[combo].label for combo in combos]
    repeats = results["settings"]["repeats"]
    spread = f"median of {repeats} runs (min–max)" if repeats > 1 else "one run"
    lines = ["## One epoch", "", f"Wall time, {spread}:", ""]
    lines += table(header, compared(section, combos, labels, wall_with_spread, lambda s: s["wall_median"]))
    lines += ["Words/s, end to end:", ""]
    lines += table(header, compared(section, combos, labels, lambda s: rate(s["words_per_second"]),
                                    lambda s: s["words_per_second"]))
    lines += ["Peak memory (RSS):", ""]
    lines += table(header, compared(section, combos, labels, lambda s: megabytes(s["peak_rss_mb"]),
                                    lambda s: s["peak_rss_mb"]))
    if results["evaluation"]:
        lines += ["Quality of the vectors of the last run:", ""]
        lines += table(header, compared(section, combos, labels, quality_text))
    return lines


def quality_run_lines(results: dict) -> list[str]:
    settings = results["settings"]
    combos = settings["quality_combos"]
    header = ["tool"] + [COMBOS[combo].label for combo in combos]

    def cell(summary: dict) -> str:
        text = f"{seconds(summary['wall_median'])}, {megabytes(summary['peak_rss_mb'])}"
        return text + (f", {quality_text(summary)}" if results["evaluation"] else "")

    lines = [f"## Quality run: {settings['quality_epochs']} epochs, one run each", ""]
    return lines + table(header, compared(results["quality_run"], combos, results["tools"], cell))


def scaling_lines(results: dict) -> list[str]:
    counts = [str(threads) for threads in results["settings"]["scaling_threads"]]
    header = ["tool"] + [f"{threads} thread{'s' if threads != '1' else ''}" for threads in counts]
    lines = ["## Thread scaling: SG+NS, one epoch, one run each; words/s per thread (end to end)", ""]
    return lines + table(header, compared(results["scaling"], counts, results["tools"],
                                          lambda s: rate(s["words_per_second_per_thread"]),
                                          lambda s: s["words_per_second_per_thread"]))


def preprocessing_lines(results: dict) -> list[str]:
    what = {"w2vfast": "w2vfast: read + count + encode (`read_corpus`)",
            "c": "word2vec C: vocabulary pass (`-save-vocab`, no `-output`)"}
    rows = []
    for name, summary in results["preprocessing"].items():
        if summary.get("failed"):
            rows.append([what[name], f"failed, see {summary['runs'][-1]['log']}", "", ""])
            continue
        inside = [run["seconds"] for run in summary["runs"] if "seconds" in run]
        rows.append([what[name], wall_with_spread(summary),
                     seconds(sorted(inside)[len(inside) // 2]) if inside else "",
                     megabytes(summary["peak_rss_mb"])])
    lines = ["## Preprocessing alone", ""]
    return lines + table(["", "process wall time", "in-process time", "peak RSS"], rows)


def jit_lines(results: dict) -> list[str]:
    jit = results["jit"]
    runs = [(f"cold (empty cache), {COMBOS[jit['cold']['combo']].label}", jit["cold"])]
    runs += [(f"warm, {COMBOS[combo].label}", run) for combo, run in jit["warm"].items()]
    rows = []
    for label, run in runs:
        if failed(run):
            rows.append([label, f"failed, see {run['log']}", "", ""])
        else:
            rows.append([label] + [seconds(run[key]) for key in ("jit_seconds", "read_seconds", "wall_seconds")])
    lines = ["## w2vfast compile time: one run with an empty Numba cache, then each combination warm, one epoch",
             ""]
    header = ["run", "JIT compilation (w2vfast's stats)", "corpus read", "process wall time"]
    return lines + table(header, rows)


def markdown(results: dict) -> str:
    parts = [header_lines, one_epoch_lines, quality_run_lines, scaling_lines, preprocessing_lines, jit_lines]
    return "\n".join(line for part in parts for line in part(results))


def write_markdown(results: dict, path: Path) -> None:
    path.write_text(markdown(results))


def write_chart(results: dict, path: Path) -> Path | None:
    """Wall time per tool and combination, and quality where judged; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    panels = [("wall time, one epoch (s)", lambda summary: summary["wall_median"], "one_epoch")]
    if results["evaluation"]:
        panels += [("analogy accuracy (%)", judged("analogy", 100), None),
                   ("WordSim-353 Spearman", judged("wordsim_spearman"), None)]
    groups = [("one_epoch", combo, COMBOS[combo].label) for combo in results["settings"]["combos"]]
    epochs = results["settings"]["quality_epochs"]
    groups += [("quality_run", combo, f"{COMBOS[combo].label}\n{epochs} epochs")
               for combo in results["settings"]["quality_combos"]]
    tools = list(results["tools"])
    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    width = 0.8 / max(len(tools), 1)
    for axis, (title, value, only) in zip(axes[0], panels):
        shown = [group for group in groups if only is None or group[0] == only]
        for index, name in enumerate(tools):
            heights = [bar_height(results[section][name].get(combo), value) for section, combo, _ in shown]
            positions = [group + index * width for group in range(len(shown))]
            axis.bar(positions, heights, width, label=results["tools"][name])
        axis.set_xticks([g + width * (len(tools) - 1) / 2 for g in range(len(shown))], [g[2] for g in shown])
        axis.set_title(title)
    axes[0][0].legend()
    figure.suptitle(f"{corpus_name(results)}, {results['settings']['threads']} threads, {results['date']}"
                    .replace("`", ""))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def judged(key: str, scale: float = 1.0) -> Callable[[dict], float | None]:
    """A quality figure of a summary, or None where it was not judged or is undefined."""
    def figure(summary: dict) -> float | None:
        value = summary.get("quality", {}).get(key)
        return None if value is None else scale * value
    return figure


def bar_height(summary: dict | None, figure: Callable[[dict], float | None]) -> float:
    """0 where the run failed or the figure is missing."""
    if summary is None or summary.get("failed"):
        return 0.0
    return figure(summary) or 0.0
