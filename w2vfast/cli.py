"""The ``w2vfast`` command line: a thin layer over the library that turns errors into one line."""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import shlex
import signal
import sys
import warnings
from importlib import resources

import click
from click.core import ParameterSource

from .config import (CHECKPOINT_MINUTES, DEFAULT_ALPHA, DEFAULTS, MIN_ALPHA_FRACTION, MODELS, PHRASE_DELIMITER,
                     PHRASE_MIN_COUNT, PHRASE_SCORINGS, PHRASE_THRESHOLD, RESTRICT_VOCAB)
from .errors import Interrupted, OutputFailed, W2VError, WorkerLost
from .interrupt import stop_at_once
from .io import STANDARD_OUTPUT, check_read_once, output_name, standard_output_failed
from .progress import forgiving_stderr
from .sources import standard_input

DEMO_WORDS = ("king", "france", "computer", "music", "war")
DEFAULT_OUTPUT = "vectors.bin"
# The analogy command knows fewer words than gensim by default: the C tool's compute-accuracy uses 30,000.
ANALOGY_RESTRICT_VOCAB = 30_000
_SHOWN_WORD = 60  # characters of an unknown word an error quotes


def _fail(message: str, code: int = 1):
    click.echo(f"w2vfast: error: {message}", err=True)
    sys.exit(code)


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line, like the errors, without Python's file, line and source."""
    click.echo(f"w2vfast: warning: {message}", err=True)


_TRAINING_MEMORY = "try a larger --min-count, a smaller --max-vocab or a smaller --dim"
_PHRASES_MEMORY = "--disk-corpus DIR keeps the text's ids and marks on disk"
_QUERY_MEMORY = "--limit N loads only the first N words"


def friendly_errors(memory_hint: str):
    """A command that reports ``W2VError``, Ctrl-C and SIGTERM as one line with a non-zero exit status,
    never a traceback, and warnings as one line too; running out of memory says ``memory_hint``.

    Output still buffered is flushed inside, so that a closed pipe (``| head``) is met where click
    ends the command quietly, not while Python shuts down.
    """
    return functools.partial(_friendly_errors, memory_hint=memory_hint)


def _friendly_errors(command, memory_hint: str):
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        with forgiving_stderr():
            try:
                with stop_at_once(), warnings.catch_warnings():
                    warnings.showwarning = _warning_line
                    result = command(*args, **kwargs)
                    if sys.stdout is not None:  # None when the process was started with it closed (>&-)
                        _to_standard_output(sys.stdout.flush)
                return result
            except W2VError as exc:
                _fail(str(exc))
            except Interrupted as exc:
                click.echo(f"w2vfast: {exc}", err=True)
                sys.exit(exc.exit_status)
            except KeyboardInterrupt:
                _fail("interrupted", 130)
            except MemoryError:
                _fail(f"out of memory: {memory_hint}")
    return wrapper


# The word2vec C tool's flags whose w2vfast spelling is not ``--`` and the same name, or that it lacks.
_C_TOOL_FLAGS = {"train": "the corpus as an argument", "cbow": "--model cbow (or --model sg)", "hs": "--hs or --no-hs",
                 "binary": "--binary or --text", "iter": "--epochs (or --iter)", "size": "--dim (or --size)"}
_C_TOOL_ONLY = {"classes": "it writes no word classes", "debug": "-q quiets it"}
_SWITCHES = {"--hs": "--hs or --no-hs", "--no-hs": "--hs or --no-hs", "--binary": "--binary or --text",
             "--text": "--binary or --text"}


class _Command(click.Command):
    """A command that refuses the C tool's spelling of options, which click would take apart silently:
    ``-output F`` is ``-o utput`` with F a corpus file, and the ``1`` of ``--hs 1`` is a file to train on."""

    def parse_args(self, ctx, args):
        for arg, following in zip(args, [*args[1:], None]):
            if arg == "--":
                break
            flag = re.fullmatch(r"-([A-Za-z][\w-]{2,})", arg)
            if flag is not None and flag.group(1) in _C_TOOL_ONLY:
                raise click.UsageError(f"{arg} is an option of the word2vec C tool that w2vfast does not have: "
                                       f"{_C_TOOL_ONLY[flag.group(1)]}", ctx)
            if flag is not None:
                raise click.UsageError(f"{arg} is the word2vec C tool's spelling: w2vfast's is "
                                       f"{_C_TOOL_FLAGS.get(flag.group(1), '--' + flag.group(1))}", ctx)
            if arg in _SWITCHES and following in ("0", "1"):
                raise click.UsageError(f"{arg} takes no value ({following} would be read as a corpus file): "
                                       f"{_SWITCHES[arg]} says which", ctx)
        return super().parse_args(ctx, args)


class _OneLineErrors(click.Group):
    """click's own errors in one line as well, as the tool's are (``w2vfast: error: ...``; exit 2 for
    a usage error): click prints them after the command's usage and a hint, in four."""

    command_class = _Command
    group_class = type  # ``evaluate``'s commands are ``_Command``s too

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            done = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # the help, not an error
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = " ".join(["w2vfast", *(exc.ctx.command_path.split()[1:] if exc.ctx is not None else [])])
            _fail(f"{exc.format_message().removesuffix('.')}; see {where} --help", exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort as exc:  # Ctrl-C, or SIGTERM, while click reads the arguments
            if not isinstance(exc.__cause__, KeyboardInterrupt):
                _fail("aborted")
            signum = getattr(exc.__cause__, "signum", signal.SIGINT)
            click.echo(f"w2vfast: stopped by {signal.Signals(signum).name}", err=True)
            sys.exit(128 + signum)
        sys.exit(done if isinstance(done, int) else 0)  # an exit status (--help, --version), or a command's end


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="w2vfast")
def main() -> None:
    """Train word2vec embeddings fast on CPUs, and query and evaluate them."""


def run() -> None:
    """The console script: ``main``, then leave at once instead of through the interpreter's teardown.

    When a command has finished and its output is flushed there is nothing left to do, but stopping
    Numba's thread pool and freeing the corpus and weights object by object cost 0.2-0.4 s a run.

    Numba's first compiled call in a process imports SciPy's BLAS bindings, when SciPy is installed,
    to back its ``np.dot``: 0.3-0.45 s of every command's start, for code that w2vfast's kernels never
    use. This process is w2vfast's own, so it tells Numba there is none.
    """
    sys.modules.setdefault("scipy.linalg.cython_blas", None)
    try:
        main(prog_name="w2vfast")
        code = 0
    except SystemExit as exc:
        code = exc.code
    if not isinstance(code, int):
        if code is not None and sys.stderr is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    exit_now(code)


def exit_now(code: int) -> None:
    """Flush standard output and error, then end the process with ``code`` and no teardown."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # closed when the process started
            continue
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what it would have taken is not wanted
            pass
    os._exit(code)


def _default(name: str, shown: str | None = None) -> dict:
    """Click settings that show ``TrainConfig``'s default for option ``name``, or ``shown`` for one
    that depends on other options."""
    return {"default": DEFAULTS[name], "show_default": True if shown is None else shown}


def training_options(command):
    """The options shared by ``train`` and ``demo``, named as in the C tool where it has one; their
    defaults are ``TrainConfig``'s."""
    alphas = ", ".join(f"{alpha} for {model}" for model, alpha in DEFAULT_ALPHA.items())
    options = [
        click.option("-o", "--output", default=DEFAULT_OUTPUT,
                     show_default=f"{DEFAULT_OUTPUT}, or with train --resume the run's own",
                     help="Vectors file to write (.bin: binary format, else text); - for standard output."),
        click.option("--binary/--text", "binary", default=None,
                     help="Output format; default from the output file's extension."),
        click.option("--model", type=click.Choice(MODELS), **_default("model"),
                     help="Skip-gram or continuous bag of words."),
        click.option("--size", "--dim", "dim", type=int, **_default("dim"),
                     help="Dimension of the word vectors."),
        click.option("--window", type=int, **_default("window"),
                     help="Largest distance between the centre and a context word."),
        click.option("--negative", type=int, **_default("negative"),
                     help="Negative samples per window; 0 turns negative sampling off."),
        click.option("--hs/--no-hs", **_default("hs"), help="Use hierarchical softmax."),
        click.option("--sample", type=float, **_default("sample"),
                     help="Threshold for subsampling frequent words; 0 turns it off."),
        click.option("--min-count", type=int, **_default("min_count"), help="Drop words seen fewer times."),
        click.option("--max-vocab", type=int, **_default("max_vocab", "no limit"),
                     help="Keep only the most frequent words."),
        click.option("--alpha", type=float, **_default("alpha", alphas), help="Starting learning rate."),
        click.option("--min-alpha", type=float, **_default("min_alpha", f"alpha * {MIN_ALPHA_FRACTION:g}"),
                     help="Final learning rate, reached linearly."),
        click.option("--epochs", "--iter", "epochs", type=int, **_default("epochs"),
                     help="Passes over the corpus."),
        click.option("--threads", type=int, **_default("threads", "all cores"), help="Worker threads."),
        click.option("--cbow-mean/--cbow-sum", **_default("cbow_mean"),
                     help="CBOW input: mean or sum of the context vectors."),
        click.option("--seed", type=int, **_default("seed"), help="Random seed."),
        click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr."),
        click.option("--checkpoint", type=click.Path(dir_okay=False),
                     help="Keep the run in this file: periodically, at the end, and on Ctrl-C, SIGTERM or SIGHUP."),
        click.option("--checkpoint-every", type=float, default=CHECKPOINT_MINUTES, show_default=True,
                     help="Minutes between checkpoints; 0 saves after every step."),
        click.option("--force", is_flag=True, help="Train even if the run does not seem to fit in memory."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _given(options: dict) -> dict:
    """The options given on the command line. The others are left to ``train``: ``TrainConfig``'s
    defaults, or with --resume the checkpoint's. The command line has two defaults of its own: it
    writes vectors.bin, or with --resume the run's output, and it reports progress; train() alone is quiet."""
    from .checkpoint import read_header, resumed_output

    context = click.get_current_context()
    given = {name: value for name, value in options.items()
             if context.get_parameter_source(name) is not ParameterSource.DEFAULT}
    given["quiet"] = options["quiet"]
    if "output" not in given:
        header = read_header(given["resume"]) if given.get("resume") else {}
        output, given["binary"] = resumed_output(header, None, options["binary"])
        given["output"] = output or DEFAULT_OUTPUT
    return given


def _resume_command(checkpoint: str, corpus: list[str] | None, given: dict) -> str:
    """The command that goes on with the run kept in ``checkpoint``: the checkpoint keeps the rest,
    but for the corpus when it is read from standard input, the options it does not keep, and an
    output other than its own (a finished run resumed to write its vectors elsewhere keeps the first)."""
    from .checkpoint import NOT_KEPT, read_header
    from .trainer import binary_by_name

    words = ["w2vfast", "train", *(corpus if corpus and "-" in corpus else []), "--resume", checkpoint]
    output = given["output"] if given["output"] == STANDARD_OUTPUT else os.path.abspath(given["output"])
    binary = binary_by_name(output, given.get("binary"))  # not output_format: an output that cannot be
    # written (what stopped an OutputFailed run) would raise here, in place of the stop's own message
    with contextlib.suppress(OSError, W2VError):  # a checkpoint that cannot be read is said so by --resume
        if read_header(checkpoint).get("output") != {"path": output, "binary": binary}:
            words += ["--output", output, "--binary" if binary else "--text"]
    flags = {param.name: max(param.opts, key=len) for param in click.get_current_context().command.params}
    for name in (*NOT_KEPT, "dask"):
        value = given.get(name)
        if value is True:
            words.append(flags[name])
        elif value not in (None, False):
            words += [flags[name], str(value)]
    return shlex.join(words)


def _run_training(corpus: list[str] | None, options: dict):
    from .trainer import train

    given = _given(options)
    dask = given.pop("dask", None)
    finished = None
    try:
        if dask is None:
            return train(corpus, **given)
        from .checkpoint import read_header
        from .cluster import check_cluster_run, connect

        # Asked before a local cluster starts, of the checkpoint's own corpus where none is given.
        resumed = None if given.get("resume") is None else (given["resume"], read_header(given["resume"]))
        refused = {f"--{name.replace('_', '-')}": given.get(name) for name in ("read_vocab", "phrases", "init")}
        check_cluster_run(list(corpus or []), refused, resumed)
        with connect(dask, quiet=given.get("quiet", False)) as client:
            finished = train(corpus, client=client, **given)
        return finished
    except (Interrupted, OutputFailed, WorkerLost) as stopped:
        if finished is not None:  # a stop while the cluster closed, after the output was written
            stopped.written = output_name(given["output"])
        elif stopped.checkpoint is not None:
            stopped.resume_command = _resume_command(stopped.checkpoint, corpus, dict(given, dask=dask))
        raise


@main.command("train")
@click.argument("corpus", nargs=-1)
@training_options
@click.option("--save-vocab", type=click.Path(dir_okay=False),
              help="Write 'word count' lines here; - for standard output.")
@click.option("--read-vocab", type=click.Path(dir_okay=False),
              help="Take the vocabulary (and counts) from this 'word count' file.")
@click.option("--disk-corpus", metavar="DIR",
              help="Keep the encoded corpus in a memory-mapped file in DIR, not in RAM.")
@click.option("--vocab-memory", metavar="SIZE", help="Most memory counting the words may take (e.g. 2G); "
              "more distinct words make it read the text twice.  [default: half the memory available]")
@click.option("--resume", type=click.Path(dir_okay=False),
              help="Go on with the run kept in this checkpoint; training options not given are the run's.")
@click.option("--phrases", type=click.Path(dir_okay=False),
              help="Join the phrases of this table (from 'w2vfast phrases --save-phrases') while reading.")
@click.option("--init", type=click.Path(dir_okay=False),
              help="Start from an earlier run: a vectors file (the input vectors of the words it shares) or the "
                   "checkpoint of a finished run (its vocabulary, counts and weights; options not given are its).")
@click.option("--report-loss", is_flag=True, help="Report each epoch's training loss.")
@click.option("--dask", metavar="ADDRESS", help="Train on the Dask cluster whose scheduler is at ADDRESS "
              "(tcp://host:8786) or in the scheduler file ADDRESS, or on local:N, N worker processes started for "
              "the run; --threads is per worker.")
@friendly_errors(_TRAINING_MEMORY)
def train_command(corpus, **options):
    """Train vectors on CORPUS: files, directories, or - for standard input (.gz/.bz2/.xz allowed)."""
    if not corpus and options["resume"] is None:
        raise click.UsageError("Missing argument 'CORPUS...'.")
    _run_training(list(corpus) or None, options)


@main.command()
@training_options
@friendly_errors(_TRAINING_MEMORY)
def demo(**options):
    """Train on the bundled Wikipedia sample and show the nearest neighbours of a few words."""
    if options["output"] == STANDARD_OUTPUT:
        raise W2VError("demo shows the neighbours on standard output: give -o a file")
    given = click.get_current_context().get_parameter_source("output") is not click.core.ParameterSource.DEFAULT
    if not given and os.path.lexists(options["output"]):  # the query commands' default file: a user's vectors
        raise W2VError(f"demo would replace {options['output']}, which is there: give -o another file, or "
                       f"-o {options['output']} to replace it")
    source = resources.files("w2vfast") / "data" / "wiki-slice.txt.xz"
    with resources.as_file(source) as path:
        vectors = _run_training([str(path)], options)
    for word in DEMO_WORDS:
        if word in vectors:
            neighbours = ", ".join(w for w, _ in vectors.most_similar(word, topn=6))
            _to_standard_output(click.echo, f"{word}: {neighbours}")


@main.command("phrases")
@click.argument("corpus", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Phrased text to write; - for standard output.")
@click.option("--min-count", type=int, default=PHRASE_MIN_COUNT, show_default=True,
              help="Fewest occurrences of a word, and of a pair, that may form a phrase.")
@click.option("--threshold", type=float, default=None,
              show_default=" and ".join(f"{t:g} for {s}" for s, t in PHRASE_THRESHOLD.items()),
              help="Score a pair must beat, in the last pass (see --passes).")
@click.option("--scoring", type=click.Choice(PHRASE_SCORINGS), default="default", show_default=True,
              help="word2phrase's score, or gensim's normalised PMI (in [-1, 1]).")
@click.option("--passes", type=int, default=1, show_default=True,
              help="Passes over the text; each can extend phrases by one more word. With the default "
                   "scoring the threshold halves from pass to pass, ending at --threshold.")
@click.option("--delimiter", default=PHRASE_DELIMITER.decode(), show_default=True,
              help="What joins the words of a phrase.")
@click.option("--save-phrases", type=click.Path(dir_okay=False),
              help="Write the phrases found (phrase, count, score, pass, left-bytes) to this file.")
@click.option("--apply", "apply_table", type=click.Path(dir_okay=False),
              help="Join the phrases of a table saved by --save-phrases instead of counting.")
@click.option("--threads", type=int, default=None, show_default="all cores", help="Worker threads.")
@click.option("--disk-corpus", metavar="DIR",
              help="Keep the text's ids in a memory-mapped file in DIR, not in RAM.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr.")
@click.option("--force", is_flag=True, help="Go on even if the text does not seem to fit in memory.")
@friendly_errors(_PHRASES_MEMORY)
def phrases_command(corpus, output, min_count, threshold, scoring, passes, delimiter, save_phrases,
                    apply_table, threads, disk_corpus, quiet, force):
    """Join the frequent pairs of words of CORPUS into phrases (new york -> new_york), as word2phrase
    does: files, directories, or - for standard input (.gz/.bz2/.xz allowed)."""
    from .phrases import PhraseConfig, phrase_corpus

    if apply_table is not None:
        context = click.get_current_context()
        names = ("min_count", "threshold", "scoring", "passes", "delimiter")
        counting = [f"--{name.replace('_', '-')}" for name in names
                    if context.get_parameter_source(name) is not ParameterSource.DEFAULT]
        if counting:
            raise W2VError(f"{', '.join(counting)} cannot be given with --apply: the saved table decides")
    config = PhraseConfig(min_count, threshold, scoring, passes, os.fsencode(delimiter),
                          threads if threads is not None else os.cpu_count() or 1)
    phrase_corpus(list(corpus), output, config, save_phrases=save_phrases, apply=apply_table,
                  disk_dir=disk_corpus, quiet=quiet, force=force)


def vectors_options(command):
    """How the query and evaluation commands find and load their vectors."""
    options = [
        click.option("-v", "--vectors", "vectors_path", envvar="W2VFAST_VECTORS", default="vectors.bin",
                     help="Word2vec file, text or binary [default: $W2VFAST_VECTORS, else vectors.bin]."),
        click.option("--limit", type=click.IntRange(min=0), default=None,
                     help="Load only the first N words (0: all)."),
        click.option("--cache/--no-cache", default=True,
                     help="Keep a memory-mapped copy beside the file (FILE.w2vcache) so later runs "
                          "skip parsing [default: cache]."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(command)


def _load_vectors(vectors_path: str, limit: int | None, cache: bool):
    """Load the vectors, saying so on stderr when that wrote a new cache beside them."""
    from .cache import cache_path
    from .vectors import KeyedVectors

    if not os.path.exists(vectors_path):
        raise W2VError(f"vectors file not found: {vectors_path} (give -v FILE or set W2VFAST_VECTORS)")
    had_cache = os.path.exists(cache_path(vectors_path))
    vectors = KeyedVectors.load(vectors_path, limit=limit, cache=cache)
    if cache and not had_cache and os.path.exists(cache_path(vectors_path)):
        click.echo(f"w2vfast: wrote {cache_path(vectors_path)} so that later runs load faster "
                   f"(--no-cache: don't)", err=True)
    return vectors


def _say(text: str = "") -> None:
    """Print words as the bytes they came from, even those that are not UTF-8."""
    _to_standard_output(click.echo, text.encode("utf-8", "surrogateescape"))


def _print_json(value, one_line: bool = False) -> None:
    """``value`` as indented JSON, or on ``one_line``: the queries read from standard input give JSON
    Lines, one value each, which a reader can take apart."""
    _to_standard_output(click.echo, json.dumps(value, indent=None if one_line else 2))


def _to_standard_output(write, *text) -> None:
    """``write(*text)`` to standard output; a write that fails (a full disk) is one line. A closed pipe
    (``| head``) is left to click, which ends the command quietly."""
    try:
        write(*text)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise standard_output_failed(exc) from None


def _number_or_none(value: float) -> float | None:
    """JSON has no NaN: a correlation that is undefined (constant scores) becomes null."""
    return None if math.isnan(value) else value


def _table(headers: list[str], rows: list[list]) -> None:
    """Columns padded to their widest cell: the first left-aligned, the others right-aligned. Control
    characters in a word are shown escaped (``\\x1b``), so that a word cannot move the cursor or recolour
    the terminal; ``--json`` gives the words as they are."""
    cells = [headers] + [[_CONTROL_CHARACTER.sub(_escaped, str(c)) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        _say("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def _escaped(control: re.Match) -> str:
    return f"\\x{ord(control.group()):02x}"


def _check_known(vectors, words) -> None:
    for word in words:
        if word not in vectors:
            close = vectors.similar_spellings(word)
            hint = f"; did you mean {', '.join(_quoted(spelling)[1:-1] for spelling in close)}?" if close else ""
            cut = "..." if len(word) > _SHOWN_WORD else ""
            raise W2VError(f"{_quoted(word[:_SHOWN_WORD])}{cut} is not in the vocabulary{hint}")


def _quoted(word: str) -> str:
    """``word`` quoted as ``repr`` quotes it, but for a byte that is not UTF-8, which Python keeps as a
    surrogate (U+DC80 to U+DCFF) and ``repr`` would show as one: shown as the byte, ``\\xff``."""
    return "'" + "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else
                         "\\'" if c == "'" else repr(c)[1:-1] for c in word) + "'"


def _counted(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _show_neighbours(vectors, positive, negative, topn: int, as_json: bool, method: str = "add",
                     one_line: bool = False) -> None:
    _check_known(vectors, [*positive, *negative])
    if method == "add":
        terms = [vectors.get_index(w) for w in [*positive, *negative]]
        zero = [w for w, i in zip([*positive, *negative], terms) if not vectors.norms[i] > 0]
        if len(zero) == len(terms):
            have = "has" if len(zero) == 1 else "have"
            raise W2VError(f"{', '.join(map(_quoted, zero))} {have} the zero vector, which has no nearest words")
        if not vectors.unit_mean(terms, [1.0] * len(positive) + [-1.0] * len(negative)).any():
            raise W2VError("the query's words cancel out: their sum is the zero vector, which has no nearest words")
    query = vectors.most_similar if method == "add" else vectors.most_similar_cosmul
    found = query(positive=list(positive), negative=list(negative), topn=topn)
    if not found and topn > 0:  # an empty table said nothing of why
        raise W2VError(f"no word but the query's among the {_counted(len(vectors), 'word')} loaded")
    if as_json:
        _print_json({"positive": list(positive), "negative": list(negative), "method": method,
                     "results": [{"word": w, "score": s} for w, s in found]}, one_line)
    else:
        _table(["word", "cosine" if method == "add" else "3CosMul"], [[w, f"{s:.4f}"] for w, s in found])


def _prompt(vectors, topn: int, as_json: bool) -> None:
    """The C tool's ``distance`` loop: one query per line until EXIT, end of input or Ctrl-C."""
    stdin = standard_input()
    interactive = stdin.isatty()
    try:
        while True:
            if interactive:
                click.echo("Enter word or sentence (EXIT to break): ", nl=False, err=True)
            line = stdin.readline()
            words = line.decode("utf-8", "surrogateescape").split()
            if not line or words == ["EXIT"]:
                break
            try:
                if words:
                    _show_neighbours(vectors, words, [], topn, as_json, one_line=True)
            except W2VError as exc:
                click.echo(f"w2vfast: {exc}", err=True)
    except KeyboardInterrupt as stopped:
        if isinstance(stopped, Interrupted) and stopped.signum != signal.SIGINT:
            raise  # SIGTERM or SIGHUP is not a user leaving the prompt: exit 143 or 129 like every other command
    if interactive:
        click.echo(err=True)


@main.command()
@click.argument("words", nargs=-1)
@click.option("--minus", multiple=True, metavar="WORD", help="Subtract this word (repeat for more).")
@click.option("-n", "--topn", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many neighbours.")
@vectors_options
@json_option
@friendly_errors(_QUERY_MEMORY)
def similar(words, minus, topn, vectors_path, limit, cache, as_json):
    """Nearest neighbours of the sum of WORDs minus the --minus words, by cosine.

    With no WORD, reads queries line by line like the C tool's distance (EXIT, Ctrl-D or Ctrl-C
    to leave)."""
    vectors = _load_vectors(vectors_path, limit, cache)
    if words or minus:
        _show_neighbours(vectors, words, minus, topn, as_json)
    else:
        _prompt(vectors, topn, as_json)


@main.command()
@click.argument("a")
@click.argument("b")
@click.argument("c")
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True,
              help="3CosAdd (nearest to B - A + C) or 3CosMul.")
@click.option("-n", "--topn", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many answers.")
@vectors_options
@json_option
@friendly_errors(_QUERY_MEMORY)
def analogy(a, b, c, method, topn, vectors_path, limit, cache, as_json):
    """The D in "A is to B as C is to D", best first."""
    vectors = _load_vectors(vectors_path, limit, cache)
    _show_neighbours(vectors, [b, c], [a], topn, as_json, method)


@main.group()
def evaluate() -> None:
    """Measure vectors: analogy accuracy or correlation with human similarity scores."""


def _restrict(value: int) -> int | None:
    return value or None


def evaluation_options(default_restrict: int, items: str):
    """The options shared by the ``evaluate`` commands; ``items`` names what gets skipped."""
    def decorate(command):
        command = json_option(command)
        command = click.option("--case-sensitive", is_flag=True,
                               help="Compare words as written, not upper-cased "
                                    "(gensim's case_insensitive=False).")(command)
        command = click.option("--restrict", type=click.IntRange(min=0), default=default_restrict,
                               show_default=True, help=f"Only the first N words are known; {items} "
                                                       f"with others are skipped (0: all).")(command)
        return vectors_options(command)
    return decorate


@evaluate.command("analogy")
@click.argument("questions")
@evaluation_options(ANALOGY_RESTRICT_VOCAB, "questions")
@friendly_errors(_QUERY_MEMORY)
def evaluate_analogy(questions, vectors_path, limit, cache, restrict, case_sensitive, as_json):
    """Accuracy on QUESTIONS (questions-words.txt format), per section and in total, counted as
    gensim's evaluate_word_analogies counts it."""
    from .evaluate import evaluate_analogies

    check_read_once([("the vectors", vectors_path), ("the questions", questions)])
    vectors = _load_vectors(vectors_path, limit, cache)
    result = evaluate_analogies(vectors, questions, _restrict(restrict), not case_sensitive)
    total = result.total
    known = f"the first {_counted(restrict, 'word')}" if restrict and restrict < len(vectors) else \
        f"the {_counted(len(vectors), 'word')} loaded" if limit is not None else "the vocabulary"
    if total.answered == 0:  # as evaluate similarity: an accuracy of no question is the wrong file or vectors
        raise W2VError(f"{questions}: no question of four known words (with a word outside {known}: "
                       f"{total.skipped:,}, lines that are not 4 words: {result.invalid_lines:,})")
    sections = result.sections + [total]
    if as_json:
        _print_json({"vectors": vectors_path, "questions": questions, "restrict": _restrict(restrict),
                     "case_sensitive": case_sensitive, "invalid_lines": result.invalid_lines,
                     "sections": [{"section": s.name, "correct": len(s.correct), "answered": s.answered,
                                   "skipped": s.skipped, "accuracy": s.accuracy} for s in sections]})
        return
    _table(["section", "correct", "answered", "skipped", "accuracy"],
           [[s.name, len(s.correct), s.answered, s.skipped,
             "-" if s.accuracy is None else f"{100 * s.accuracy:.1f}%"] for s in sections])
    _say(f"{total.answered + total.skipped:,} questions: {total.answered:,} answered, {total.skipped:,} "
         f"skipped (a word outside {known})"
         + (f"; {_counted(result.invalid_lines, 'line')} not of 4 words ignored" if result.invalid_lines else ""))


@evaluate.command("similarity")
@click.argument("pairs", nargs=-1, required=True)
@evaluation_options(RESTRICT_VOCAB, "pairs")
@friendly_errors(_QUERY_MEMORY)
def evaluate_similarity(pairs, vectors_path, limit, cache, restrict, case_sensitive, as_json):
    """Pearson and Spearman correlation between cosines and the human scores of PAIRS files
    ('word1 TAB word2 TAB score' lines, '#' comments), and the share of pairs out of vocabulary."""
    from .evaluate import evaluate_word_pairs

    check_read_once([("the vectors", vectors_path)] + [("a pairs file", path) for path in pairs])
    vectors = _load_vectors(vectors_path, limit, cache)
    results = [evaluate_word_pairs(vectors, path, "\t", _restrict(restrict), not case_sensitive)
               for path in pairs]
    if as_json:
        _print_json([{"file": path, "pairs": r.pairs, "out_of_vocabulary": r.out_of_vocabulary,
                      "oov_percent": r.oov_percent, "invalid_lines": r.invalid_lines,
                      "pearson": _number_or_none(r.pearson), "spearman": _number_or_none(r.spearman)}
                     for path, r in zip(pairs, results)])
        return
    _table(["file", "pairs", "oov", "pearson", "spearman"],
           [[path, r.pairs, f"{r.oov_percent:.1f}%", f"{r.pearson:.4f}", f"{r.spearman:.4f}"]
            for path, r in zip(pairs, results)])
    for path, r in zip(pairs, results):
        if r.invalid_lines:
            _say(f"{path}: {_counted(r.invalid_lines, 'line')} not 'word1 TAB word2 TAB score' ignored")


if __name__ == "__main__":
    main()
